package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	tfconfig "github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler"
	"github.com/monotask/flareops/reconciler/cloudflare"
	"github.com/monotask/flareops/reconciler/config"
	"github.com/monotask/flareops/reconciler/opsdoc"
)

// Every example under examples/ (the ones on the registry pages, and the monotask
// platform) is applied here with OpenTofu against the emulator.

func readExample(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var importLine = regexp.MustCompile(`(?m)^terraform import (\S+) <queue_id>$`)

// TestDocExamples applies the provider, resource and data source examples, and imports as
// import.sh says.
func TestDocExamples(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	tg.setEnv(t)
	providerTF := readExample(t, "provider/provider.tf")
	resourceTF := readExample(t, "resources/flareops_queue/resource.tf")
	dataTF := readExample(t, "data-sources/flareops_queue/data-source.tf")
	m := importLine.FindStringSubmatch(readExample(t, "resources/flareops_queue/import.sh"))
	if m == nil {
		t.Fatalf("import.sh has no line matching %s", importLine)
	}
	importAddr := m[1]
	var sharedID string
	const shared = "data.flareops_queue.shared_dlq"

	tg.run(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: providerTF + resourceTF,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("flareops_queue.agent_jobs_dlq", consumerPath("batch_size"), knownvalue.Int64Exact(5)),
					statecheck.ExpectKnownValue("flareops_queue.agent_jobs_dlq", consumerPath("visibility_timeout"), knownvalue.StringExact("30s")),
				},
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				ResourceName:      importAddr,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				PreConfig: func() {
					q, err := tg.client(t).CreateQueue(context.Background(), "monotask-production-shared-dlq")
					if err != nil {
						t.Fatal(err)
					}
					sharedID = q.ID
				},
				Config: providerTF + resourceTF + dataTF,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(shared, tfjsonpath.New("message_retention"), knownvalue.StringExact("4d")),
					statecheck.ExpectKnownValue(shared, tfjsonpath.New("consumer"), knownvalue.ListSizeExact(0)),
					statecheck.ExpectKnownOutputValue("shared_dlq_retention", knownvalue.StringExact("4d")),
					statecheck.CompareValuePairs(shared, tfjsonpath.New("name"), "flareops_queue.reports", consumerPath("dead_letter_queue"), compare.ValuesSame()),
				},
				Check: func(s *terraform.State) error {
					if got := s.RootModule().Resources[shared].Primary.ID; got != sharedID {
						return fmt.Errorf("data source id %q, want %q", got, sharedID)
					}
					return nil
				},
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

// TestDocImportBlockExample applies the resource example with its import block example
// (import-by-string-id.tf), over a queue made outside Terraform: the queue is imported,
// not created, and then set as the example declares.
func TestDocImportBlockExample(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	tg.setEnv(t)
	const addr = "flareops_queue.agent_jobs"
	id := tg.createQueue(t, "monotask-production-agent-jobs")
	cfg := readExample(t, "provider/provider.tf") + readExample(t, "resources/flareops_queue/resource.tf") +
		readExample(t, "resources/flareops_queue/import-by-string-id.tf")
	tg.run(t, resource.TestCase{
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(id)),
				statecheck.ExpectKnownValue(addr, consumerPath("max_retries"), knownvalue.Int64Exact(3)),
			},
		}},
	})
}

// TestQueueDataSourceNotFound checks the error for a queue that does not exist.
func TestQueueDataSourceNotFound(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	tg.run(t, resource.TestCase{
		Steps: []resource.TestStep{{
			Config:      tg.providerBlock() + `data "flareops_queue" "x" { name = "nope" }`,
			ExpectError: regexp.MustCompile(`(?s)No queue named "nope".*Check the name`),
		}},
	})
}

// TestMonotaskExample applies examples/monotask/terraform and checks that it makes exactly
// the live queues that the CLI's examples/monotask/*.flareops.hcl declares; then that a
// second plan is empty.
func TestMonotaskExample(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{RequireConsumerScripts: true})
	tg.setEnv(t)
	t.Setenv("FLAREOPS_OPS_KV_NAMESPACE", "monotask-staging-ops") // the example's provider block
	tg.srv.SeedPagerDuty("monotask-oncall")                       // the example's PagerDuty destination
	for _, w := range []string{"agent-worker-staging", "task-worker-staging", "github-worker-staging", "api-gateway-staging"} {
		tg.deployWorker(t, w, "export default {}", nil)
	}
	if _, err := tg.client(t).Raw().CreateApplication(context.Background(), tg.account, cloudflare.ContainerApplicationSpec{
		Name: "monotask-staging-sandbox", SchedulingPolicy: "default", MaxInstances: 5,
		Configuration: cloudflare.ContainerConfiguration{Image: "registry.cloudflare.com/monotask/sandbox:1", InstanceType: "basic"},
	}); err != nil {
		t.Fatal(err)
	}
	// The backups' sources (the destination bucket is created by the apply).
	ctx := context.Background()
	if _, err := tg.client(t).CreateD1Database(ctx, "monotask-staging-db"); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.client(t).CreateKVNamespace(ctx, "monotask-staging-kv"); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.client(t).CreateR2Bucket(ctx, "monotask-staging-logs"); err != nil { // the gateway's Logpush destination
		t.Fatal(err)
	}
	if _, err := tg.client(t).CreateR2Bucket(ctx, "monotask-staging-artifacts"); err != nil {
		t.Fatal(err)
	}
	dir := copyWithoutPreventDestroy(t, filepath.Join("..", "examples", "monotask", "terraform"))
	want := monotaskFromHCL(t)

	tg.run(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				ConfigDirectory: tfconfig.StaticDirectory(dir),
				Check: func(s *terraform.State) error {
					var addrs, wantAddrs []string
					for addr := range s.RootModule().Resources {
						addrs = append(addrs, addr)
					}
					for addr := range want {
						if kind, _, _ := strings.Cut(addr, "."); cliOnly[kind] != "" {
							continue // no Terraform resource yet (schema_test.go's cliOnly)
						}
						wantAddrs = append(wantAddrs, "flareops_"+addr)
					}
					sort.Strings(addrs)
					sort.Strings(wantAddrs)
					if diff := cmp.Diff(wantAddrs, addrs); diff != "" {
						return fmt.Errorf("Terraform resources differ from the HCL blocks (-hcl +tf):\n%s", diff)
					}
					live, err := reconciler.QueueKind{API: tg.client(t)}.Observe(context.Background())
					if err != nil {
						return err
					}
					got := map[string]any{}
					for _, o := range live {
						got[o.Key] = o.Spec
					}
					wantByName := map[string]any{}
					for addr, o := range want {
						if strings.HasPrefix(addr, "queue.") {
							wantByName[o.Key] = o.Spec
						}
					}
					if diff := cmp.Diff(wantByName, got); diff != "" {
						return fmt.Errorf("live queues differ from what the CLI's HCL declares (-hcl +live):\n%s", diff)
					}
					// The SLOs' published rule documents are exactly those the CLI's
					// blocks compile to (a live rule reads as the declared one only when
					// its document's hash is that rule's).
					var scope reconciler.Scope
					wantSLOs := map[string]any{}
					for addr, o := range want {
						if strings.HasPrefix(addr, "slo.") {
							scope.Desired = append(scope.Desired, o)
							wantSLOs[o.Key] = o.Spec
						}
					}
					sloKind := reconciler.SLOKind{Docs: opsdoc.New(tg.client(t), "monotask-staging-ops")}
					liveSLOs, err := sloKind.ObserveScoped(context.Background(), scope)
					if err != nil {
						return err
					}
					gotSLOs := map[string]any{}
					for _, o := range liveSLOs {
						gotSLOs[o.Key] = o.Spec
					}
					if len(wantSLOs) != 6 {
						return fmt.Errorf("the CLI's HCL declares %d SLOs, want 6", len(wantSLOs))
					}
					if diff := cmp.Diff(wantSLOs, gotSLOs); diff != "" {
						return fmt.Errorf("published SLO rules differ from what the CLI's HCL compiles to (-hcl +live):\n%s", diff)
					}
					return nil
				},
			},
			{
				ConfigDirectory:  tfconfig.StaticDirectory(dir),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

// monotaskFromHCL loads examples/monotask with the CLI's loader and builds every block.
func monotaskFromHCL(t *testing.T) map[string]reconciler.Object {
	t.Helper()
	reg := reconciler.Kinds(nil)
	var kinds []config.KindSchema
	for _, k := range reg.Kinds() {
		ks := config.KindSchema{Name: k.Name(), Schema: k.Schema(), KeyAttr: k.KeyAttr()}
		if rn, ok := k.(reconciler.RefNamer); ok {
			ks.RefName = rn.RefName
		}
		kinds = append(kinds, ks)
	}
	cfg, diags := config.Load(filepath.Join("..", "examples", "monotask"), config.Options{Kinds: kinds})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	reg = reconciler.KindsWith(nil, cfg.Settings.Engine())
	out := map[string]reconciler.Object{}
	for _, b := range cfg.Blocks {
		k, _ := reg.Kind(b.Kind)
		obj, err := k.Build(b.Values)
		if err != nil {
			t.Fatalf("%s: %v", b.Address(), err)
		}
		out[b.Address()] = obj
	}
	if len(out) != 29 {
		t.Fatalf("examples/monotask declares %d blocks, want the platform's 6 queues, 4 datasets, 1 sandbox, 2 Worker settings, 3 alert destinations, 4 alert rules (3 native, 1 metric), 6 SLOs and 3 backups", len(out))
	}
	return out
}

// copyWithoutPreventDestroy copies a configuration so the test can destroy what it made:
// the example protects its dead-letter queues with prevent_destroy, as production should.
var providerBlockRE = regexp.MustCompile(`(?s)provider "flareops" \{.*?\n\}\n`)

func copyWithoutPreventDestroy(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	protected := 0
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".tf") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		protected += strings.Count(s, "prevent_destroy = true")
		s = strings.ReplaceAll(s, "prevent_destroy = true", "prevent_destroy = false")
		// The test framework configures the provider itself and refuses a provider block;
		// the example's only setting there, the ops KV namespace, comes from the
		// environment instead (the test sets FLAREOPS_OPS_KV_NAMESPACE).
		s = providerBlockRE.ReplaceAllString(s, "")
		if err := os.WriteFile(filepath.Join(dst, e.Name()), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if protected != 3 {
		t.Fatalf("%s protects %d queues with prevent_destroy, want the 3 DLQs (as the HCL does)", src, protected)
	}
	return dst
}
