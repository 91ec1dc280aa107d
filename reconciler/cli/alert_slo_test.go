package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

const sloSource = `flareops {
  ops_kv_namespace = "monotask-ops"
}

analytics_dataset "api" {
  dataset = "monotask_api"
  columns {
    index   = "route"
    blobs   = ["method", "route_name"]
    doubles = ["status", "latency_ms"]
  }
}

alert_destination "oncall" {
  pagerduty = "monotask-oncall"
}

alert_destination "ops" {
  email = "ops@example.com"
}

slo "api_errors" {
  objective = 99.9
  window    = "30d"
  dataset_ratio {
    dataset = analytics_dataset.api
    good    = "status < 500"
    total   = "route != '/health'"
  }
  page_to   = [alert_destination.oncall]
  ticket_to = [alert_destination.ops]
  runbook   = "https://runbooks.example/api-errors"
}
`

// rulesKeys lists the keys under flareops/rules/ in the ops namespace.
func rulesKeys(t *testing.T, c *cloudflare.Client) []string {
	t.Helper()
	ctx := context.Background()
	nss, err := c.ListKVNamespaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range nss {
		if ns.Title == "monotask-ops" {
			keys, err := c.ListKVKeys(ctx, ns.ID, "flareops/rules/")
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, k := range keys {
				out = append(out, k.Name)
			}
			return out
		}
	}
	return nil
}

// TestSLOPublishesBurnRateRules: the plan shows the generated rules with their thresholds
// as numbers; apply publishes one document per rule; a second plan is empty; a document
// deleted outside flareops is drift that apply repairs; a filter naming an unknown column
// fails at its file:line:col.
func TestSLOPublishesBurnRateRules(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(sloSource), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := mustRun(t, 0, a.env, "plan", "-dir", dir)
	for _, want := range []string{`slo "api_errors"`, `"page-1h"`, "burn_rate", "= 14.4", "= 0.0144", "error_ratio_above", `"page-6h"`, "= 0.006", `"ticket-3d"`, "= 0.001",
		"page rule page-1h fires when the error ratio over 1h and 5m is above 0.0144 (burn rate 14.4, 2% of the budget)"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	c := a.client(t)
	keys := rulesKeys(t, c)
	want := []string{"flareops/rules/slo/api_errors/page-1h", "flareops/rules/slo/api_errors/page-6h", "flareops/rules/slo/api_errors/ticket-3d"}
	if strings.Join(keys, ",") != strings.Join(want, ",") {
		t.Errorf("rule documents %q, want %q", keys, want)
	}
	mustRun(t, 0, a.env, "plan", "-detailed-exitcode", "-dir", dir)

	// Out of band: a rule document is deleted.
	ctx := context.Background()
	nss, _ := c.ListKVNamespaces(ctx)
	for _, ns := range nss {
		if ns.Title == "monotask-ops" {
			if err := c.DeleteKV(ctx, ns.ID, want[0]); err != nil {
				t.Fatal(err)
			}
		}
	}
	out := mustRun(t, ExitChanges, a.env, "drift", "-dir", dir)
	if !strings.Contains(out, "page-1h") {
		t.Errorf("drift lacks the deleted rule:\n%s", out)
	}
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	mustRun(t, 0, a.env, "plan", "-detailed-exitcode", "-dir", dir)

	// Import: forgotten, the SLO's documents are someone else's until imported by name;
	// then the plan is empty and no document was rewritten.
	mustRun(t, 0, a.env, "state", "rm", "-dir", dir, "slo.api_errors")
	if _, _, errOut := run(t, a.env, "plan", "-dir", dir); !strings.Contains(errOut, "flareops import -dir "+dir+" slo.api_errors api_errors") {
		t.Errorf("plan of a forgotten SLO does not say how to import it:\n%s", errOut)
	}
	a.srv.ResetCounts()
	mustRun(t, 0, a.env, "import", "-dir", dir, "slo.api_errors", "api_errors")
	mustRun(t, 0, a.env, "plan", "-detailed-exitcode", "-dir", dir)
	for route, n := range a.srv.Counts().ByRoute {
		if !strings.HasPrefix(route, "GET ") {
			t.Errorf("import and plan wrote: %s (%d)", route, n)
		}
	}

	// An unknown column in a filter: file:line:col of the column inside the string.
	bad := strings.Replace(sloSource, `good    = "status < 500"`, `good    = "stauts < 500"`, 1)
	if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"validate", "plan"} {
		code, _, errOut := run(t, a.env, cmd, "-dir", dir)
		if code != 1 || !strings.Contains(errOut, "main.flareops.hcl:27:16") || !strings.Contains(errOut, `unknown column "stauts"`) || !strings.Contains(errOut, `Did you mean "status"?`) {
			t.Errorf("%s: exit %d, want 1 at main.flareops.hcl:27:16 naming the column:\n%s", cmd, code, errOut)
		}
	}
}

const metricSource = `flareops {
  ops_kv_namespace = "monotask-ops"
}

analytics_dataset "api" {
  dataset = "monotask_api"
  columns {
    index   = "route"
    blobs   = ["method", "route_name"]
    doubles = ["status", "latency_ms"]
  }
}

queue "agent_jobs" {
  name = "agent-jobs"
}

alert_destination "slack" {
  email = "slack-bridge@example.com"
}

alert_rule "agent_backlog" {
  queue_backlog {
    queue = queue.agent_jobs
  }
  above    = 1000
  for      = "10m"
  severity = "ticket"
  dedup    = "1h"
  runbook  = "https://runbooks.example/agent-backlog"
  to       = [alert_destination.slack]
}

alert_rule "slow_api" {
  dataset_query {
    dataset = analytics_dataset.api
    value   = "p95(latency_ms)"
    where   = "route_name != 'it''s; -- \\\\ x'"
  }
  above    = 200
  for      = "5m"
  severity = "page"
  runbook  = "https://runbooks.example/slow-api"
  to       = [alert_destination.slack]
}
`

// TestMetricRulesArePublished: metric rules plan with their threshold, publish one
// document each under flareops/rules/metric/, plan empty afterwards; a changed threshold
// is an update of the document; a misspelt column fails at its place.
func TestMetricRulesArePublished(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	dir := t.TempDir()
	write := func(src string) {
		if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(metricSource)
	plan := mustRun(t, 0, a.env, "plan", "-dir", dir)
	for _, want := range []string{`alert_rule "agent_backlog"`, `"above 1000"`, `"queue backlog of queue agent-jobs"`, `"p95(latency_ms) of monotask_api where`} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	keys := rulesKeys(t, a.client(t))
	if strings.Join(keys, ",") != "flareops/rules/metric/agent_backlog,flareops/rules/metric/slow_api" {
		t.Errorf("rule documents %q", keys)
	}
	mustRun(t, 0, a.env, "plan", "-detailed-exitcode", "-dir", dir)
	write(strings.Replace(metricSource, "above    = 1000", "above    = 2000", 1))
	out := mustRun(t, ExitChanges, a.env, "plan", "-detailed-exitcode", "-dir", dir)
	if !strings.Contains(out, `"above 1000" -> "above 2000"`) {
		t.Errorf("update plan lacks the threshold change:\n%s", out)
	}
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	mustRun(t, 0, a.env, "plan", "-detailed-exitcode", "-dir", dir)

	// Import of a metric rule, by its name and by its id.
	for _, id := range []string{"agent_backlog", "metric/agent_backlog"} {
		mustRun(t, 0, a.env, "state", "rm", "-dir", dir, "alert_rule.agent_backlog")
		mustRun(t, 1, a.env, "plan", "-dir", dir)
		mustRun(t, 0, a.env, "import", "-dir", dir, "alert_rule.agent_backlog", id)
		mustRun(t, 0, a.env, "plan", "-detailed-exitcode", "-dir", dir)
	}

	write(strings.Replace(metricSource, `value   = "p95(latency_ms)"`, `value   = "p95(latency)"`, 1))
	code, _, errOut := run(t, a.env, "validate", "-dir", dir)
	if code != 1 || !strings.Contains(errOut, "main.flareops.hcl:37") || !strings.Contains(errOut, "latency") {
		t.Errorf("validate: exit %d, want 1 at the value:\n%s", code, errOut)
	}
}
