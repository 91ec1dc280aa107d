package cli

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/monotask/flareops/emulator"
)

// alertSecret is the webhook secret of the tests: it must appear nowhere flareops writes.
const alertSecret = "whsec-3d9f1b7a2c8e4f60"

const alertSource = `variable "slack_url" {
  type    = string
  default = "https://hooks.slack.com/services/T000/B000/XXXX"
}

variable "slack_secret" {
  type      = string
  sensitive = true
}

alert_destination "ops" {
  email = "ops@example.com"
}

alert_destination "oncall" {
  pagerduty = "monotask-oncall"
}

alert_destination "slack" {
  webhook {
    url    = var.slack_url
    secret = var.slack_secret
  }
}

alert_rule "usage" {
  native {
    alert_type = "billing_usage_alert"
    filters    = { product = ["worker_requests"], limit = ["100000"] }
  }
  to = [alert_destination.ops, alert_destination.slack, alert_destination.oncall]
}
`

func writeAlerts(t *testing.T, dir, src string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "alerts.flareops.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAlertKindsLifecycle: create, a second plan empty, out-of-band drift of the policy's
// filters in another order, case and with a duplicate (no change) and of its destinations
// (a change, repaired), an update of the filters and of the secret, import of a forgotten
// webhook and policy; the webhook secret appears in no output, plan file, state or log.
func TestAlertKindsLifecycle(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	pdID := a.srv.SeedPagerDuty("monotask-oncall")
	env := map[string]string{"FLAREOPS_VAR_slack_secret": alertSecret}
	for k, v := range a.env {
		env[k] = v
	}
	dir := t.TempDir()
	writeAlerts(t, dir, alertSource)
	var outputs strings.Builder
	runAll := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := run(t, env, args...)
		outputs.WriteString(out + errOut)
		if code != want {
			t.Fatalf("flareops %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out
	}

	plan := runAll(0, "plan", "-out", filepath.Join(dir, "first.plan"), "-dir", dir)
	for _, want := range []string{"alert_destination.slack", "alert_rule.usage", "secret", "(sensitive)"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	runAll(0, "plan", "-format", "json", "-dir", dir)
	runAll(0, "plan", "-format", "markdown", "-dir", dir)
	runAll(0, "apply", filepath.Join(dir, "first.plan"))
	runAll(0, "plan", "-detailed-exitcode", "-dir", dir)

	c := a.client(t)
	ctx := context.Background()
	hooks, err := c.ListAlertWebhooks(ctx)
	if err != nil || len(hooks) != 1 || hooks[0].Name != "slack" {
		t.Fatalf("webhooks after apply: %+v, %v", hooks, err)
	}
	policies, err := c.ListAlertPolicies(ctx)
	if err != nil || len(policies) != 1 {
		t.Fatalf("policies after apply: %+v, %v", policies, err)
	}
	p := policies[0]
	if p.Name != "usage" || len(p.Email) != 1 || p.Email[0] != "ops@example.com" || len(p.Webhooks) != 1 || p.Webhooks[0] != hooks[0].ID || len(p.PagerDuty) != 1 || p.PagerDuty[0] != pdID {
		t.Errorf("policy: %+v", p)
	}

	// The API answers the same filters in another order and case, with a value twice:
	// nothing to change (the official provider's perpetual diff, #7342).
	p.Filters = map[string][]string{"product": {"WORKER_REQUESTS", "worker_requests"}, "limit": {"100000", "100000"}}
	if err := c.UpdateAlertPolicy(ctx, p.ID, p); err != nil {
		t.Fatal(err)
	}
	runAll(0, "drift", "-dir", dir)
	runAll(0, "plan", "-detailed-exitcode", "-dir", dir)

	// Out of band: the webhook is taken off the policy. Drift reports it; apply repairs it.
	p.Webhooks = nil
	if err := c.UpdateAlertPolicy(ctx, p.ID, p); err != nil {
		t.Fatal(err)
	}
	out := runAll(ExitChanges, "drift", "-dir", dir)
	if !strings.Contains(out, "alert_rule.usage") || !strings.Contains(out, "webhook:slack") {
		t.Errorf("drift lacks the removed destination:\n%s", out)
	}
	runAll(0, "apply", "-auto-approve", "-dir", dir)
	runAll(0, "drift", "-dir", dir)

	// Update: another filter value and a new secret.
	writeAlerts(t, dir, strings.Replace(alertSource, `limit = ["100000"]`, `limit = ["200000"]`, 1))
	env["FLAREOPS_VAR_slack_secret"] = alertSecret + "-rotated"
	plan = runAll(2, "plan", "-detailed-exitcode", "-dir", dir)
	for _, want := range []string{"alert_rule.usage", `200000`, "alert_destination.slack", "webhook.secret = (sensitive)"} {
		if !strings.Contains(plan, want) {
			t.Errorf("update plan lacks %q:\n%s", want, plan)
		}
	}
	runAll(0, "apply", "-auto-approve", "-dir", dir)
	runAll(0, "plan", "-detailed-exitcode", "-dir", dir)

	// Import: forget the webhook and the rule, then bring them back by name.
	runAll(0, "state", "rm", "-dir", dir, "alert_rule.usage")
	runAll(0, "state", "rm", "-dir", dir, "alert_destination.slack")
	runAll(1, "plan", "-dir", dir) // names someone else holds: import them
	runAll(0, "import", "-dir", dir, "alert_destination.slack", "slack")
	runAll(0, "import", "-dir", dir, "alert_rule.usage", "usage")
	// The imported webhook's secret is unknown to flareops: one update sets it.
	runAll(0, "apply", "-auto-approve", "-dir", dir)
	runAll(0, "plan", "-detailed-exitcode", "-dir", dir)

	// The secret, old or new, is nowhere: not in any output, nor in any file flareops wrote.
	for _, s := range []string{alertSecret} {
		if strings.Contains(outputs.String(), s) {
			t.Errorf("the webhook secret appears in flareops's output")
		}
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if strings.Contains(string(b), s) {
				t.Errorf("the webhook secret appears in %s", path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestAlertKindsBadInput: mistakes exit 1 with the place.
func TestAlertKindsBadInput(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	env := map[string]string{"FLAREOPS_VAR_slack_secret": alertSecret}
	for k, v := range a.env {
		env[k] = v
	}
	cases := []struct{ name, src, want string }{
		{"two forms", `alert_destination "x" {
  email     = "ops@example.com"
  pagerduty = "p"
}
`, "alerts.flareops.hcl:1:1"},
		{"unknown alert type", `alert_destination "ops" {
  email = "ops@example.com"
}
alert_rule "r" {
  native { alert_type = "billing_usage_alrt" }
  to = [alert_destination.ops]
}
`, `Did you mean "billing_usage_alert"?`},
		{"missing PagerDuty service", `alert_destination "oncall" {
  pagerduty = "nobody"
}
`, `no PagerDuty service named "nobody"`},
		{"destination twice", `alert_destination "ops" {
  email = "ops@example.com"
}
alert_rule "r" {
  native { alert_type = "incident_alert" }
  to = [alert_destination.ops, alert_destination.ops]
}
`, "alerts.flareops.hcl:6:32"},
		{"filters not lists", `alert_destination "ops" {
  email = "ops@example.com"
}
alert_rule "r" {
  native {
    alert_type = "billing_usage_alert"
    filters    = { product = "worker_requests" }
  }
  to = [alert_destination.ops]
}
`, "alerts.flareops.hcl:7:18"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeAlerts(t, dir, tc.src)
			code, _, errOut := run(t, env, "plan", "-dir", dir)
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("plan: exit %d, want 1 with %q:\n%s", code, tc.want, errOut)
			}
		})
	}
}
