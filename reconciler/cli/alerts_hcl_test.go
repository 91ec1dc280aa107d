package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/monotask/flareops/emulator"
)

// alertingConfig is a configuration with the api dataset, an SLO of 99.9 % over its
// errors and a metric rule on the queue's backlog.
const alertingConfig = `flareops {
  ops_kv_namespace = "monotask-ops"
}

analytics_dataset "api" {
  dataset = "monotask_api"
  columns {
    index   = "tenant"
    blobs   = ["worker", "route", "method", "outcome"]
    doubles = ["status", "latency_ms", "cpu_ms"]
  }
  binding {
    worker = "api-gateway-prod"
    name   = "API_METRICS"
  }
}

alert_destination "oncall" {
  name  = "oncall"
  email = "oncall@example.com"
}

alert_destination "slack" {
  name  = "slack"
  email = "slack@example.com"
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
  ticket_to = [alert_destination.slack]
  runbook   = "https://runbooks.example/api-errors"
}

queue "jobs" {
  name = "agent-jobs"
}

alert_rule "backlog" {
  queue_backlog {
    queue = queue.jobs
  }
  above    = 1000
  for      = "10m"
  severity = "ticket"
  dedup    = "1h"
  runbook  = "https://runbooks.example/agent-backlog"
  to       = [alert_destination.slack]
}

slo "gateway" {
  objective = 99.9
  window    = "30d"
  worker_availability {
    script = "api-gateway-prod"
  }
  page_to   = [alert_destination.oncall]
  ticket_to = [alert_destination.slack]
  runbook   = "https://runbooks.example/gateway"
}
`

// TestAlertsCheckAndSLOStatusFromConfiguration is issue 9's "done when", through the
// commands: the configuration is loaded as plan loads it, data points go over HTTP to the
// emulator, a healthy hour exits 0, 2 % errors over the last hour exits 3 naming the
// 1h/5m page rule and the burn rate 20.0, and slo status prints the budget left worked
// out by hand.
func TestAlertsCheckAndSLOStatusFromConfiguration(t *testing.T) {
	saved := alertingNow
	alertingNow = fixedClock()
	t.Cleanup(func() { alertingNow = saved })
	for _, tc := range []struct {
		name            string
		outage, backlog bool
	}{{"healthy", false, false}, {"backlog only", false, true}, {"outage", true, true}} {
		outage := tc.outage
		t.Run(tc.name, func(t *testing.T) {
			a := newAccount(t, emulator.Options{Now: fixedClock()})
			c := a.client(t)
			writePoints(t, c, outage, false)
			writeInvocations(t, a, outage)
			// The queue's backlog over the last 10 minutes: 300 and 500 (mean 400), or
			// with a backlog 900 and 1,500 (mean 1,200 > 1,000).
			q, err := c.CreateQueue(context.Background(), "agent-jobs")
			if err != nil {
				t.Fatal(err)
			}
			first, second := 300, 500
			if tc.backlog {
				first, second = 900, 1500
			}
			postAdmin(t, a, "queues", map[string]any{"backlog": []map[string]any{
				{"datetime": alertNow.Add(-9 * time.Minute).Format(time.RFC3339), "queueId": q.ID, "messages": first},
				{"datetime": alertNow.Add(-2 * time.Minute).Format(time.RFC3339), "queueId": q.ID, "messages": second},
			}})
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(alertingConfig), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := run(t, a.env, "alerts", "check", "-dir", dir)
			switch {
			case !tc.backlog:
				if code != ExitOK || !strings.Contains(out, "Quiet: none of 7 rules fires (exit 0: quiet).") {
					t.Fatalf("healthy hour: exit %d\n%s%s", code, out, errOut)
				}
				return
			case !outage:
				if code != ExitTicket || out != "TICKET alert_rule.backlog: 1200 over the last 10m, above 1000\n  runbook: https://runbooks.example/agent-backlog\n  to: email:slack@example.com\n\n1 of 7 rules fires (exit 4: tickets only).\n" {
					t.Fatalf("backlog only: exit %d, want 4\n%s%s", code, out, errOut)
				}
				return
			}
			if code != ExitPage || !strings.Contains(out, "PAGE slo.api_errors page-1h: burn rate 20.0 over 1h and 20.0 over 5m, above 14.4\n  runbook: https://runbooks.example/api-errors\n") ||
				!strings.Contains(out, "PAGE slo.gateway page-1h: burn rate 20.0 over 1h and 20.0 over 5m, above 14.4\n  runbook: https://runbooks.example/gateway\n") {
				t.Fatalf("outage: exit %d, want 3 naming page-1h at 20.0\n%s%s", code, out, errOut)
			}
			code, out, errOut = run(t, a.env, "alerts", "check", "-format", "json", "-dir", dir)
			var report checkJSON
			if err := json.Unmarshal([]byte(out), &report); code != ExitPage || err != nil || report.Exit != ExitPage {
				t.Fatalf("json: exit %d, %v\n%s%s", code, err, out, errOut)
			}
			found := false
			for _, r := range report.Rules {
				if r.ID == "slo/api_errors/page-1h" {
					found = r.Firing && r.LongBurn != nil && *r.LongBurn == 20 && *r.ShortBurn == 20
				}
			}
			if !found {
				t.Fatalf("json: slo/api_errors/page-1h not firing at burn rate 20:\n%s", out)
			}
			// 9,988 good events 10 days ago, 6,000 in the last hour of which 120 bad:
			// 120 / 15,988 against a budget of 0.001 leaves 1 − 7.5056... of it.
			left := 1 - (120.0/15988)/0.001
			code, out, errOut = run(t, a.env, "slo", "status", "-dir", dir)
			want := fmt.Sprintf("budget left: %.3f %%", math.Round(left*100*1000)/1000)
			// The gateway: 6,000 invocations in the last hour, 120 exceptions, and 500
			// successes a day ago: 120 / 6,500 of 0.001 leaves 1 − 18.4615... of it.
			gwLeft := 1 - (120.0/6500)/0.001
			wantGW := fmt.Sprintf("budget left: %.3f %%", math.Round(gwLeft*100*1000)/1000)
			if code != ExitOK || !strings.Contains(out, want) || !strings.Contains(out, wantGW) {
				t.Fatalf("slo status: exit %d, want 0, %q and %q\n%s%s", code, want, wantGW, out, errOut)
			}
			html := filepath.Join(t.TempDir(), "slo.html")
			if code, _, errOut := run(t, a.env, "slo", "status", "-format", "html", "-out", html, "-dir", dir); code != ExitOK {
				t.Fatalf("slo status -format html: exit %d\n%s", code, errOut)
			}
			if b, err := os.ReadFile(html); err != nil || !strings.Contains(string(b), "<svg") {
				t.Fatalf("html: %v", err)
			}
		})
	}
}

// writeInvocations feeds the emulator's Workers analytics: per minute of the last hour 49
// invocations of api-gateway-prod standing for 2 each, and one more that (with outage)
// threw; a day ago 500 successes.
func writeInvocations(t *testing.T, a *account, outage bool) {
	t.Helper()
	status := "success"
	if outage {
		status = "scriptThrewException"
	}
	var inv []map[string]any
	for m := 0; m < 60; m++ {
		at := alertNow.Add(-time.Hour + time.Duration(m)*time.Minute + 5*time.Second).Format(time.RFC3339)
		for i := 0; i < 49; i++ {
			inv = append(inv, map[string]any{"datetime": at, "scriptName": "api-gateway-prod", "status": "success", "sampleInterval": 2})
		}
		inv = append(inv, map[string]any{"datetime": at, "scriptName": "api-gateway-prod", "status": status, "sampleInterval": 2})
	}
	inv = append(inv, map[string]any{"datetime": alertNow.Add(-24 * time.Hour).Format(time.RFC3339), "scriptName": "api-gateway-prod", "status": "success", "sampleInterval": 500})
	postAdmin(t, a, "workers", inv)
}

// TestAlertsOnTheExample: examples/monotask, applied to an account that has no analytics
// yet, evaluates every SLO and metric rule without error: nothing fires (no data never
// fires), every budget is whole, and the Slack webhook's secret appears in no output.
func TestAlertsOnTheExample(t *testing.T) {
	saved := alertingNow
	alertingNow = fixedClock()
	t.Cleanup(func() { alertingNow = saved })
	a := newAccount(t, emulator.Options{Now: fixedClock()})
	dir := copyExample(t)
	mustRun(t, ExitOK, a.env, "apply", "-auto-approve", "-dir", dir)
	const secret = "local-demo-only-change-me"
	code, out, errOut := run(t, a.env, "alerts", "check", "-dir", dir)
	if code != ExitOK || !strings.Contains(out, "Quiet: none of") || !strings.Contains(out, "without data (no data never fires)") {
		t.Fatalf("alerts check: exit %d\n%s%s", code, out, errOut)
	}
	all := out + errOut
	for _, args := range [][]string{{"alerts", "check", "-format", "json"}, {"slo", "status"}, {"slo", "status", "-format", "json"}, {"slo", "status", "-format", "html"}} {
		code, out, errOut := run(t, a.env, append(args, "-dir", dir)...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
		all += out + errOut
	}
	if strings.Count(all, "budget left: 100 % of") < 6 {
		t.Errorf("slo status does not show every SLO's budget whole:\n%s", all)
	}
	if strings.Contains(all, secret) {
		t.Errorf("the webhook secret appears in the output")
	}
}
