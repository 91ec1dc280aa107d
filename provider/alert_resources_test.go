package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

const (
	ruleAddr  = "flareops_alert_rule.usage"
	slackAddr = "flareops_alert_destination.slack"
)

// alertConfig declares the three kinds of destination and a native rule that sends to
// them, with the given usage limit and webhook secret.
func (tg *target) alertConfig(limit, secret string) string {
	return tg.providerBlock() + fmt.Sprintf(`
resource "flareops_alert_destination" "ops" {
  name  = "ops"
  email = "ops@example.com"
}

resource "flareops_alert_destination" "oncall" {
  name      = "oncall"
  pagerduty = "monotask-oncall"
}

resource "flareops_alert_destination" "slack" {
  name = "slack"
  webhook {
    url    = "https://hooks.slack.com/services/T000/B000/XXXX"
    secret = %q
  }
}

resource "flareops_alert_rule" "usage" {
  name = "usage"
  native {
    alert_type = "billing_usage_alert"
    filters    = { product = ["worker_requests"], limit = [%q] }
  }
  to = [flareops_alert_destination.ops.id, flareops_alert_destination.oncall.id, flareops_alert_destination.slack.id]
}
`, secret, limit)
}

func livePolicy(t *testing.T, c *cloudflare.Client) cloudflare.AlertPolicy {
	t.Helper()
	ps, err := c.ListAlertPolicies(context.Background())
	if err != nil || len(ps) != 1 {
		t.Fatalf("policies: %+v, %v", ps, err)
	}
	return ps[0]
}

func expectPolicyLimit(c *cloudflare.Client, limit string, destinations int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		ps, err := c.ListAlertPolicies(context.Background())
		if err != nil {
			return err
		}
		if len(ps) != 1 || len(ps[0].Filters["limit"]) != 1 || ps[0].Filters["limit"][0] != limit {
			return fmt.Errorf("policies %+v, want one with limit %s", ps, limit)
		}
		if n := len(ps[0].Email) + len(ps[0].Webhooks) + len(ps[0].PagerDuty); n != destinations {
			return fmt.Errorf("policy has %d destinations, want %d", n, destinations)
		}
		return nil
	}
}

// TestAlertResources runs destinations and a native rule through their life with a real
// OpenTofu: create; a second plan empty also after the API answers the filters in another
// order and case with a value twice; update (filters, a new secret); import of the rule
// and the webhook; out-of-band drift (a destination taken off the policy) repaired; an
// empty plan at the end.
func TestAlertResources(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	tg.srv.SeedPagerDuty("monotask-oncall")
	c := tg.client(t)
	empty := []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}
	tg.run(t, resource.TestCase{
		CheckDestroy: func(*terraform.State) error {
			ps, err := c.ListAlertPolicies(context.Background())
			if err != nil || len(ps) != 0 {
				return fmt.Errorf("after destroy: policies %+v, %v", ps, err)
			}
			hs, err := c.ListAlertWebhooks(context.Background())
			if err != nil || len(hs) != 0 {
				return fmt.Errorf("after destroy: webhooks %+v, %v", hs, err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{ // create
				Config: tg.alertConfig("100000", "first-secret"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(ruleAddr, plancheck.ResourceActionCreate)},
					PostApplyPostRefresh: empty,
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(slackAddr, tfjsonpath.New("id"), knownvalue.StringExact("webhook:slack")),
					statecheck.ExpectKnownValue("flareops_alert_destination.ops", tfjsonpath.New("id"), knownvalue.StringExact("email:ops@example.com")),
				},
				Check: expectPolicyLimit(c, "100000", 3),
			},
			{ // the API answers the filters otherwise: no change
				PreConfig: func() {
					p := livePolicy(t, c)
					p.Filters = map[string][]string{"product": {"WORKER_REQUESTS", "worker_requests"}, "limit": {"100000", "100000"}}
					if err := c.UpdateAlertPolicy(context.Background(), p.ID, p); err != nil {
						t.Fatal(err)
					}
				},
				Config:   tg.alertConfig("100000", "first-secret"),
				PlanOnly: true,
			},
			{ // update: a new limit and a new secret
				Config: tg.alertConfig("200000", "second-secret"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(ruleAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction(slackAddr, plancheck.ResourceActionUpdate),
					},
					PostApplyPostRefresh: empty,
				},
				Check: expectPolicyLimit(c, "200000", 3),
			},
			{ResourceName: ruleAddr, ImportState: true, ImportStateIdFunc: func(s *terraform.State) (string, error) { return "usage", nil }, ImportStateVerify: true},
			{ResourceName: slackAddr, ImportState: true, ImportStateId: "webhook:slack", ImportStateVerify: true, ImportStateVerifyIgnore: []string{"webhook.0.secret"}},
			{ // drift: the webhook taken off the policy outside Terraform, repaired
				PreConfig: func() {
					p := livePolicy(t, c)
					p.Webhooks = nil
					if err := c.UpdateAlertPolicy(context.Background(), p.ID, p); err != nil {
						t.Fatal(err)
					}
				},
				Config: tg.alertConfig("200000", "second-secret"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(ruleAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: empty,
				},
				Check: expectPolicyLimit(c, "200000", 3),
			},
			{Config: tg.alertConfig("200000", "second-secret"), PlanOnly: true},
		},
	})
}

// TestAlertResourceValidation: what the CLI refuses, Terraform refuses too.
func TestAlertResourceValidation(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	tg.run(t, resource.TestCase{Steps: []resource.TestStep{
		{
			Config:      tg.providerBlock() + "resource \"flareops_alert_destination\" \"x\" {\n  name = \"x\"\n  email = \"a@example.com\"\n  pagerduty = \"p\"\n}\n",
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)` + `set exactly one of email, webhook and pagerduty`),
		},
		{
			Config:      tg.providerBlock() + "resource \"flareops_alert_rule\" \"r\" {\n  name = \"r\"\n  native {\n    alert_type = \"billing_usage_alrt\"\n  }\n  to = [\"email:a@example.com\"]\n}\n",
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)` + `billing_usage_alert`),
		},
	}})
}

// TestAlertDocExamples applies the registry pages' examples, then imports as their
// import.sh say.
func TestAlertDocExamples(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	tg.srv.SeedPagerDuty("monotask-oncall")
	tg.setEnv(t)
	t.Setenv("TF_VAR_slack_webhook_secret", "doc-example-secret")
	cfg := readExample(t, "provider/provider.tf") + readExample(t, "resources/flareops_alert_destination/resource.tf") +
		readExample(t, "resources/flareops_alert_rule/resource.tf")
	line := regexp.MustCompile(`(?m)^terraform import (\S+) (\S+)$`)
	dest := line.FindStringSubmatch(readExample(t, "resources/flareops_alert_destination/import.sh"))
	rule := line.FindStringSubmatch(readExample(t, "resources/flareops_alert_rule/import.sh"))
	if dest == nil || rule == nil {
		t.Fatal("an import.sh has no terraform import line")
	}
	tg.run(t, resource.TestCase{Steps: []resource.TestStep{
		{Config: cfg, ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
		{ResourceName: dest[1], ImportState: true, ImportStateId: dest[2], ImportStateVerify: true, ImportStateVerifyIgnore: []string{"webhook.0.secret"}},
		{ResourceName: rule[1], ImportState: true, ImportStateId: rule[2], ImportStateVerify: true},
	}})
}

// TestWebhookDestinationReplacedOutside: a webhook destination's id is its name
// ("webhook:slack", which rules refer to), so the resource keeps Cloudflare's own id of the
// webhook in its private state. A webhook deleted outside Terraform and made again under the
// same name by someone else is then neither updated back to the configuration nor deleted:
// the plan fails once, saying so, and removing the resource only forgets the one that is
// gone.
func TestWebhookDestinationReplacedOutside(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	c := tg.client(t)
	ctx := context.Background()
	cfg := tg.providerBlock() + `
resource "flareops_alert_destination" "slack" {
  name = "slack"
  webhook {
    url = "https://hooks.example.com/ours"
  }
}
`
	var theirID string
	replace := func() {
		hooks, err := c.ListAlertWebhooks(ctx)
		if err != nil || len(hooks) != 1 {
			t.Fatalf("webhooks: %+v %v", hooks, err)
		}
		if err := c.DeleteAlertWebhook(ctx, hooks[0].ID); err != nil {
			t.Fatal(err)
		}
		if theirID, err = c.CreateAlertWebhook(ctx, "slack", "https://hooks.example.com/theirs", "their-secret"); err != nil {
			t.Fatal(err)
		}
	}
	theirsIntact := func() error {
		hooks, err := c.ListAlertWebhooks(ctx)
		if err != nil {
			return err
		}
		if len(hooks) != 1 || hooks[0].ID != theirID || hooks[0].URL != "https://hooks.example.com/theirs" {
			return fmt.Errorf("the other webhook was taken over or deleted: %+v", hooks)
		}
		return nil
	}
	var oe oneError
	tg.run(t, resource.TestCase{
		ErrorCheck:   oe.check,
		CheckDestroy: func(*terraform.State) error { return theirsIntact() },
		Steps: []resource.TestStep{
			{Config: cfg},
			oe.failStep(resource.TestStep{PreConfig: replace, Config: cfg, PlanOnly: true}, func() string {
				return `Error: The alert_destination "slack" was replaced outside Terraform.*` +
					`another alert_destination \(with the same id, webhook:slack, but another in Cloudflare\)`
			}),
			{ // removing the resource forgets the webhook that is gone; theirs stays
				Config: tg.providerBlock(),
				Check:  func(*terraform.State) error { return theirsIntact() },
			},
		},
	})
	if oe.hits != 1 {
		t.Errorf("%d steps failed as expected, want 1", oe.hits)
	}
}
