package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/monotask/flareops/emulator"
)

const datasetAddr = "flareops_analytics_dataset.tasks"

func datasetConfig(tg *target, bindings ...[2]string) string {
	cfg := tg.providerBlock() + `
resource "flareops_analytics_dataset" "tasks" {
  dataset = "task_metrics"
  columns {
    index   = "tenant"
    blobs   = ["service", "outcome"]
    doubles = ["status", "latency_ms"]
  }
`
	for _, b := range bindings {
		cfg += fmt.Sprintf("  binding {\n    worker = %q\n    name   = %q\n  }\n", b[0], b[1])
	}
	return cfg + "}\n"
}

// datasetBindings is the analytics_engine bindings of a Worker, as "NAME=dataset".
func (tg *target) datasetBindings(t *testing.T, worker string) map[string]string {
	t.Helper()
	st, err := tg.client(t).WorkerSettings(context.Background(), worker)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, raw := range st.Bindings {
		var b map[string]any
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Fatal(err)
		}
		name, _ := b["name"].(string)
		if b["type"] == "analytics_engine" {
			out[name], _ = b["dataset"].(string)
		} else {
			out[name] = b["type"].(string)
		}
	}
	return out
}

func (tg *target) expectBindings(t *testing.T, worker string, want map[string]string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got := tg.datasetBindings(t, worker)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("Worker %s bindings = %v, want %v", worker, got, want)
		}
		return nil
	}
}

// TestDatasetResource: create, move a binding to another Worker, out-of-band removal of a
// binding detected and repaired, import by dataset name, destroy; the Worker's own KV
// binding is kept throughout.
func TestDatasetResource(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{RequireConsumerScripts: true})
	tg.deployWorker(t, "api", "export default {}", map[string]any{"bindings": []map[string]any{{"type": "kv_namespace", "name": "CACHE", "namespace_id": "0123456789abcdef0123456789abcdef"}}})
	tg.deployWorker(t, "tasks", "export default {}", nil)
	one := datasetConfig(tg, [2]string{"api", "TASK_METRICS"})
	two := datasetConfig(tg, [2]string{"api", "TASK_METRICS"}, [2]string{"tasks", "METRICS"})
	tg.run(t, resource.TestCase{Steps: []resource.TestStep{
		{Config: one, Check: tg.expectBindings(t, "api", map[string]string{"CACHE": "kv_namespace", "TASK_METRICS": "task_metrics"})},
		{Config: two, Check: resource.ComposeTestCheckFunc(
			tg.expectBindings(t, "api", map[string]string{"CACHE": "kv_namespace", "TASK_METRICS": "task_metrics"}),
			tg.expectBindings(t, "tasks", map[string]string{"METRICS": "task_metrics"}),
		)},
		{
			// Someone removes the binding from tasks: the plan adds it back.
			PreConfig: func() {
				c := tg.client(t)
				st, err := c.WorkerSettings(context.Background(), "tasks")
				if err != nil {
					t.Fatal(err)
				}
				st.Bindings = nil
				if err := c.SetWorkerSettings(context.Background(), "tasks", st); err != nil {
					t.Fatal(err)
				}
			},
			Config:           two,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(datasetAddr, plancheck.ResourceActionUpdate)}},
			Check:            tg.expectBindings(t, "tasks", map[string]string{"METRICS": "task_metrics"}),
		},
		{ResourceName: datasetAddr, ImportState: true, ImportStateId: "task_metrics", ImportStateVerify: true, ImportStateVerifyIgnore: []string{"columns", "binding"}},
		{Config: one, Check: tg.expectBindings(t, "tasks", map[string]string{})},
		{Config: one, PlanOnly: true},
	}})
	if got := tg.datasetBindings(t, "api"); fmt.Sprint(got) != fmt.Sprint(map[string]string{"CACHE": "kv_namespace"}) {
		t.Fatalf("after destroy, api bindings = %v", got)
	}
}
