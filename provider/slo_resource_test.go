package provider

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler"
	"github.com/monotask/flareops/reconciler/alerting"
	"github.com/monotask/flareops/reconciler/opsdoc"
)

const (
	sloAddr        = "flareops_slo.api_errors"
	metricRuleAddr = "flareops_alert_rule.latency"
)

// sloConfig declares a dataset, a destination, an SLO over the dataset (its columns
// passed from the dataset resource by a dynamic block), two SLOs over Workers analytics
// (availability; a P99 wall time in milliseconds over 7 days), a metric alert rule over
// the dataset (its columns written from the dataset's list) and one on a queue's backlog
// (its "for" spelled in seconds, which the state keeps as written).
func (tg *target) sloConfig(objective, above string) string {
	return tg.sandboxProvider() + fmt.Sprintf(`
resource "flareops_analytics_dataset" "api" {
  dataset = "api_metrics"
  columns {
    index   = "tenant"
    blobs   = ["route", "outcome"]
    doubles = ["status", "latency_ms"]
  }
  binding {
    worker = "api"
    name   = "API_METRICS"
  }
}

resource "flareops_alert_destination" "ops" {
  name  = "ops"
  email = "ops@example.com"
}

resource "flareops_slo" "api_errors" {
  name      = "api_errors"
  objective = %s
  window    = "30d"
  dataset_ratio {
    dataset = flareops_analytics_dataset.api.dataset
    good    = "status < 500"
    total   = "route != '/health'"
    dynamic "columns" {
      for_each = flareops_analytics_dataset.api.columns
      content {
        index   = columns.value.index
        blobs   = columns.value.blobs
        doubles = columns.value.doubles
      }
    }
  }
  page_to   = [flareops_alert_destination.ops.id]
  ticket_to = [flareops_alert_destination.ops.id]
  runbook   = "https://runbooks.example/api-errors"
}

resource "flareops_slo" "gateway" {
  name      = "gateway"
  objective = 99.9
  worker_availability {
    script = "api"
  }
  page_to = [flareops_alert_destination.ops.id]
}

resource "flareops_slo" "worker_p99" {
  name      = "worker_p99"
  objective = 99
  window    = "7d"
  worker_latency {
    script    = "api"
    quantile  = "P99"
    threshold = "500ms"
  }
  ticket_to = [flareops_alert_destination.ops.id]
}

resource "flareops_alert_rule" "backlog" {
  name = "backlog"
  queue_backlog {
    queue = "agent-jobs"
  }
  above    = 1000
  for      = "600s"
  severity = "page"
  to       = [flareops_alert_destination.ops.id]
}

resource "flareops_alert_rule" "latency" {
  name = "latency"
  dataset_query {
    dataset = flareops_analytics_dataset.api.dataset
    value   = "p95(latency_ms)"
    where   = "route != '/health'"
    columns {
      doubles = flareops_analytics_dataset.api.columns[0].doubles
      blobs   = flareops_analytics_dataset.api.columns[0].blobs
    }
  }
  above    = %s
  for      = "10m"
  severity = "ticket"
  dedup    = "1h"
  runbook  = "https://runbooks.example/latency"
  to       = [flareops_alert_destination.ops.id]
}
`, objective, above)
}

// ruleDocs lists the published rule documents' keys, and returns the store.
func ruleDocs(t *testing.T, tg *target) (*opsdoc.Store, []string) {
	t.Helper()
	k, _ := reconciler.KindsWith(tg.client(t), reconciler.Settings{OpsKVNamespace: sandboxOpsKV}).Kind("slo")
	store := k.(reconciler.SLOKind).Docs
	docs, err := store.Observe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for key := range docs {
		if strings.HasPrefix(key, alerting.RulesPrefix) {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	return store, keys
}

func expectRuleDocs(t *testing.T, tg *target, want ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		_, keys := ruleDocs(t, tg)
		if strings.Join(keys, " ") != strings.Join(want, " ") {
			return fmt.Errorf("rule documents %v, want %v", keys, want)
		}
		return nil
	}
}

// expectDocContains checks that a published document holds s (a compiled threshold).
func expectDocContains(t *testing.T, tg *target, key, s string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		store, _ := ruleDocs(t, tg)
		b, found, err := store.Get(context.Background(), key)
		if err != nil || !found {
			return fmt.Errorf("document %s: found %v, %v", key, found, err)
		}
		if !strings.Contains(string(b), s) {
			return fmt.Errorf("document %s lacks %q:\n%s", key, s, b)
		}
		return nil
	}
}

// TestSLOAndMetricRuleResources runs SLOs and a metric alert rule through their life with
// a real OpenTofu: create (every rule document published), an empty second plan although
// the documents hold compiled queries only, update (objective, threshold), import of
// both, documents overwritten or deleted outside flareops published again, and an empty
// plan at the end.
func TestSLOAndMetricRuleResources(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	tg.deployWorker(t, "api", "export default {}", nil)
	empty := []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}
	p := alerting.RulesPrefix
	all := []string{p + "metric/backlog", p + "metric/latency",
		p + "slo/api_errors/page-1h", p + "slo/api_errors/page-6h", p + "slo/api_errors/ticket-3d",
		p + "slo/gateway/page-1h", p + "slo/gateway/page-6h", p + "slo/gateway/ticket-3d",
		p + "slo/worker_p99/ticket-14m", p + "slo/worker_p99/ticket-16h48m", p + "slo/worker_p99/ticket-1h24m"} // 7d: the windows scaled; no page_to, all tickets
	tg.run(t, resource.TestCase{
		CheckDestroy: func(*terraform.State) error {
			if _, keys := ruleDocs(t, tg); len(keys) != 0 {
				return fmt.Errorf("after destroy: rule documents %v", keys)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{ // create
				Config: tg.sloConfig("99", "200"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(sloAddr, plancheck.ResourceActionCreate),
						plancheck.ExpectResourceAction(metricRuleAddr, plancheck.ResourceActionCreate),
					},
					PostApplyPostRefresh: empty,
				},
				Check: resource.ComposeTestCheckFunc(
					expectRuleDocs(t, tg, all...),
					resource.TestCheckResourceAttr(sloAddr, "id", "api_errors"),
					resource.TestCheckResourceAttr(metricRuleAddr, "id", "metric/latency"),
					expectDocContains(t, tg, p+"metric/latency", "200"),
				),
			},
			{Config: tg.sloConfig("99", "200"), PlanOnly: true},
			{ // update: a new objective and a new threshold
				Config: tg.sloConfig("99.5", "350"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(sloAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction(metricRuleAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("flareops_slo.gateway", plancheck.ResourceActionNoop),
					},
					PostApplyPostRefresh: empty,
				},
				Check: resource.ComposeTestCheckFunc(
					expectRuleDocs(t, tg, all...),
					expectDocContains(t, tg, p+"metric/latency", "350"),
				),
			},
			// Import: the documents hold the compiled rules, not the blocks as written, so
			// an import reads back the name (and the id) only; the next plan fills in the rest.
			{ResourceName: sloAddr, ImportState: true, ImportStateId: "api_errors", ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"objective", "window", "dataset_ratio", "page_to", "ticket_to", "runbook"}},
			{ResourceName: metricRuleAddr, ImportState: true, ImportStateId: "metric/latency", ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"dataset_query", "above", "for", "dedup", "severity", "runbook", "to"}},
			{ // drift: the metric rule's document and a ticket rule's overwritten outside flareops (no hash), published again
				PreConfig: func() {
					ctx := context.Background()
					ns, err := tg.client(t).FindKVNamespace(ctx, sandboxOpsKV)
					if err != nil {
						t.Fatal(err)
					}
					for _, key := range []string{p + "metric/latency", p + "slo/api_errors/ticket-3d"} {
						if err := tg.client(t).PutKV(ctx, ns.ID, key, []byte(`{"edited":true}`), nil); err != nil {
							t.Fatal(err)
						}
					}
				},
				Config: tg.sloConfig("99.5", "350"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(sloAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction(metricRuleAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("flareops_slo.gateway", plancheck.ResourceActionNoop),
					},
					PostApplyPostRefresh: empty,
				},
				Check: resource.ComposeTestCheckFunc(
					expectRuleDocs(t, tg, all...),
					expectDocContains(t, tg, p+"metric/latency", "350"),
					expectDocContains(t, tg, p+"slo/api_errors/ticket-3d", "flareops.rule/v1"),
				),
			},
			{ // drift: a page rule's document and the metric rule's deleted outside Terraform, published again
				PreConfig: func() {
					store, _ := ruleDocs(t, tg)
					if err := store.Delete(context.Background(), p+"slo/api_errors/page-1h"); err != nil {
						t.Fatal(err)
					}
					if err := store.Delete(context.Background(), p+"metric/latency"); err != nil {
						t.Fatal(err)
					}
				},
				Config: tg.sloConfig("99.5", "350"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(sloAddr, plancheck.ResourceActionUpdate),
						// Its only document gone, the rule is gone: created again.
						plancheck.ExpectResourceAction(metricRuleAddr, plancheck.ResourceActionCreate),
						plancheck.ExpectResourceAction("flareops_slo.gateway", plancheck.ResourceActionNoop),
					},
					PostApplyPostRefresh: empty,
				},
				Check: expectRuleDocs(t, tg, all...),
			},
			{Config: tg.sloConfig("99.5", "350"), PlanOnly: true},
		},
	})
}

// TestSLOResourceValidation: a filter on a column the block's columns do not name, and
// a latency column that is not a double, are plan errors as in the CLI.
func TestSLOResourceValidation(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	slo := func(sli string) string {
		return tg.sandboxProvider() + "resource \"flareops_slo\" \"s\" {\n  name = \"s\"\n  objective = 99\n" + sli + "\n  page_to = [\"email:a@example.com\"]\n}\n"
	}
	tg.run(t, resource.TestCase{Steps: []resource.TestStep{
		{
			Config:      slo("dataset_ratio {\n dataset = \"d\"\n good = \"stauts < 500\"\n columns {\n doubles = [\"status\"]\n }\n}"),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)unknown column "stauts"`),
		},
		{
			Config:      slo("dataset_latency {\n dataset = \"d\"\n latency = \"latency_ms\"\n threshold = 200\n}"),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)unknown column "latency_ms".*columns block`),
		},
	}})
}

// TestSLOImportBlock: an SLO the flareops CLI's engine published is imported by an import
// block, not created again; the plan fills in the declaration (an update), the apply
// rewrites no document (they are already the ones it compiles to), and the next plan is
// empty.
func TestSLOImportBlock(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	c := tg.client(t)
	e := &reconciler.Engine{Registry: reconciler.KindsWith(c, reconciler.Settings{OpsKVNamespace: sandboxOpsKV}), State: reconciler.NewMemoryState()}
	d := reconciler.Desired{Addr: reconciler.Address{Kind: "slo", Name: "gateway"}, Source: "x.flareops.hcl:1", Values: reconciler.Values{
		"name": "gateway", "objective": 99.9, "window": int64(30 * 86400),
		"worker_availability": []reconciler.Values{{"script": "api"}},
		"page_to":             []reconciler.RefValue{{Name: "email:oncall@example.com"}}}}
	plan, err := e.Plan(context.Background(), []reconciler.Desired{d})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Apply(context.Background(), plan, reconciler.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	hashes := func() map[string]string {
		store, _ := ruleDocs(t, tg)
		docs, err := store.Observe(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for k, d := range docs {
			out[k] = d.Hash
		}
		return out
	}
	before := hashes()
	if len(before) != 3 {
		t.Fatalf("the engine published %d documents, want 3: %v", len(before), before)
	}
	cfg := tg.sandboxProvider() + `
import {
  to = flareops_slo.gateway
  id = "gateway"
}

resource "flareops_slo" "gateway" {
  name      = "gateway"
  objective = 99.9
  worker_availability {
    script = "api"
  }
  page_to = ["email:oncall@example.com"]
}
`
	tg.run(t, resource.TestCase{Steps: []resource.TestStep{{
		Config: cfg,
		ConfigPlanChecks: resource.ConfigPlanChecks{
			PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction("flareops_slo.gateway", plancheck.ResourceActionUpdate)},
			PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
		},
		Check: func(*terraform.State) error {
			after := hashes()
			if fmt.Sprint(after) != fmt.Sprint(before) {
				return fmt.Errorf("documents changed by the import's apply:\nbefore %v\nafter  %v", before, after)
			}
			return nil
		},
	}}})
}

// TestSLODocExample applies the registry page's example (with the dataset and destination
// examples it refers to), checks that a second plan is empty, and imports as import.sh says.
func TestSLODocExample(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	tg.srv.SeedPagerDuty("monotask-oncall")
	tg.setEnv(t)
	t.Setenv("FLAREOPS_OPS_KV_NAMESPACE", sandboxOpsKV)
	t.Setenv("TF_VAR_slack_webhook_secret", "doc-example-secret")
	for _, w := range []string{"monotask-api-gateway", "monotask-task-worker"} {
		tg.deployWorker(t, w, "export default {}", nil)
	}
	cfg := readExample(t, "provider/provider.tf") + readExample(t, "resources/flareops_analytics_dataset/resource.tf") +
		readExample(t, "resources/flareops_alert_destination/resource.tf") + readExample(t, "resources/flareops_slo/resource.tf")
	m := regexp.MustCompile(`(?m)^terraform import (\S+) (\S+)$`).FindStringSubmatch(readExample(t, "resources/flareops_slo/import.sh"))
	if m == nil {
		t.Fatal("import.sh has no terraform import line")
	}
	tg.run(t, resource.TestCase{Steps: []resource.TestStep{
		{Config: cfg, ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			Check: expectRuleDocs(t, tg, alerting.RulesPrefix+"slo/api_errors/page-1h", alerting.RulesPrefix+"slo/api_errors/page-6h", alerting.RulesPrefix+"slo/api_errors/ticket-3d",
				alerting.RulesPrefix+"slo/gateway_availability/page-1h", alerting.RulesPrefix+"slo/gateway_availability/page-6h", alerting.RulesPrefix+"slo/gateway_availability/ticket-3d")},
		{ResourceName: m[1], ImportState: true, ImportStateId: m[2], ImportStateVerify: true,
			ImportStateVerifyIgnore: []string{"objective", "window", "dataset_ratio", "page_to", "ticket_to", "runbook"}},
	}})
}
