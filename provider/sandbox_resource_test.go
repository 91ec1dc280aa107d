package provider

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

const (
	sandboxAddr   = "flareops_sandbox.agent"
	sandboxOpsKV  = "monotask-ops"
	sandboxWorker = "monotask-sandbox"
	sandboxApp    = "monotask-sandbox"
)

var sandboxForeignCrons = []string{"0 * * * *", "30 2 * * *"}

// sandboxProvider is the provider block with the ops KV namespace.
func (tg *target) sandboxProvider() string {
	return fmt.Sprintf("provider \"flareops\" {\n  base_url         = %q\n  api_token        = %q\n  account_id       = %q\n  ops_kv_namespace = %q\n}\n",
		tg.baseURL, tg.token, tg.account, sandboxOpsKV)
}

func (tg *target) sandboxConfig(worker, every string, maxInstances int) string {
	return tg.sandboxProvider() + fmt.Sprintf(`
resource "flareops_sandbox" "agent" {
  worker            = %q
  cpu_ms            = 300000
  cleanup_every     = %q
  execution_timeout = "30m"
  idle_timeout      = "10m"

  container {
    application   = %q
    instance_type = "standard-1"
    max_instances = %d
  }
}
`, worker, every, sandboxApp, maxInstances)
}

// newSandboxTarget is an emulator with the sandbox's Worker (with crons of its own),
// another Worker, and the containers application.
func newSandboxTarget(t *testing.T) (*target, *cloudflare.Client, string) {
	tg := newEmulatorTarget(t, emulator.Options{RequireConsumerScripts: true})
	tg.deployWorker(t, sandboxWorker, "export default { async scheduled() {} }", nil)
	tg.deployWorker(t, "monotask-sandbox-v2", "export default { async scheduled() {} }", nil)
	c := tg.client(t)
	ctx := context.Background()
	if err := c.SetWorkerCrons(ctx, sandboxWorker, sandboxForeignCrons); err != nil {
		t.Fatal(err)
	}
	app, err := c.Raw().CreateApplication(ctx, tg.account, cloudflare.ContainerApplicationSpec{
		Name: sandboxApp, SchedulingPolicy: "default", MaxInstances: 5,
		Configuration: cloudflare.ContainerConfiguration{Image: "registry.cloudflare.com/monotask/sandbox:1", InstanceType: "basic"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tg, c, app.ID
}

func expectCrons(t *testing.T, c *cloudflare.Client, worker string, want ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got, err := c.WorkerCrons(context.Background(), worker)
		if err != nil {
			return err
		}
		// Order is not meaningful, and two resources on one Worker apply in either order.
		g, w := slices.Clone(got), slices.Clone(want)
		slices.Sort(g)
		slices.Sort(w)
		if !slices.Equal(g, w) {
			return fmt.Errorf("Worker %s crons = %q, want %q (in any order)", worker, got, want)
		}
		return nil
	}
}

func expectApp(c *cloudflare.Client, account, id string, maxInstances int, instanceType string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		app, err := c.Raw().GetApplication(context.Background(), account, id)
		if err != nil {
			return err
		}
		if app.MaxInstances != maxInstances || app.Configuration.InstanceType != instanceType {
			return fmt.Errorf("application max_instances %d, instance_type %q; want %d, %q", app.MaxInstances, app.Configuration.InstanceType, maxInstances, instanceType)
		}
		return nil
	}
}

// expectCPU checks the Worker's CPU limit (0: the platform default).
func expectCPU(c *cloudflare.Client, worker string, want int64) resource.TestCheckFunc {
	return func(*terraform.State) error {
		st, err := c.WorkerSettings(context.Background(), worker)
		if err != nil {
			return err
		}
		if st.CPUMs != want {
			return fmt.Errorf("Worker %s cpu_ms = %d, want %d", worker, st.CPUMs, want)
		}
		return nil
	}
}

// TestSandboxResource runs a sandbox through its life with a real OpenTofu: create,
// update in place, import, out-of-band drift (the cron removed, max_instances changed)
// detected and repaired, a move to another Worker (which renames it: a replacement), an
// empty plan at the end, and destroy; the Workers' own crons are kept throughout.
func TestSandboxResource(t *testing.T) {
	tg, c, appID := newSandboxTarget(t)
	empty := resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}
	tg.run(t, resource.TestCase{
		CheckDestroy: resource.ComposeTestCheckFunc(
			expectCrons(t, c, sandboxWorker, sandboxForeignCrons...),
			expectCrons(t, c, "monotask-sandbox-v2"),
			expectCPU(c, "monotask-sandbox-v2", 0),
			expectApp(c, tg.account, appID, 20, "standard-1"), // left as it is
		),
		Steps: []resource.TestStep{
			{ // create
				Config: tg.sandboxConfig(sandboxWorker, "5m", 20),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(sandboxAddr, plancheck.ResourceActionCreate),
						plancheck.ExpectKnownValue(sandboxAddr, tfjsonpath.New("name"), knownvalue.StringExact(sandboxWorker)),
					},
					PostApplyPostRefresh: empty.PostApplyPostRefresh,
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(sandboxAddr, tfjsonpath.New("id"), knownvalue.StringExact(sandboxWorker)),
				},
				Check: resource.ComposeTestCheckFunc(
					expectCrons(t, c, sandboxWorker, append(slices.Clone(sandboxForeignCrons), "*/5 * * * *")...),
					expectCPU(c, sandboxWorker, 300000),
					expectApp(c, tg.account, appID, 20, "standard-1"),
				),
			},
			{ // update in place: another interval replaces the cron; more instances
				Config: tg.sandboxConfig(sandboxWorker, "10m", 30),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(sandboxAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: empty.PostApplyPostRefresh,
				},
				Check: resource.ComposeTestCheckFunc(
					expectCrons(t, c, sandboxWorker, append(slices.Clone(sandboxForeignCrons), "*/10 * * * *")...),
					expectApp(c, tg.account, appID, 30, "standard-1"),
				),
			},
			{ // import by name
				ResourceName: sandboxAddr, ImportState: true, ImportStateId: sandboxWorker, ImportStateVerify: true,
			},
			{ // drift: the cron removed and max_instances changed outside Terraform
				PreConfig: func() {
					ctx := context.Background()
					if err := c.SetWorkerCrons(ctx, sandboxWorker, sandboxForeignCrons); err != nil {
						t.Fatal(err)
					}
					if err := c.ResizeContainerApplication(ctx, appID, cloudflare.ContainerSize{MaxInstances: 7}); err != nil {
						t.Fatal(err)
					}
				},
				Config: tg.sandboxConfig(sandboxWorker, "10m", 30),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(sandboxAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(sandboxAddr, tfjsonpath.New("cleanup_every"), knownvalue.StringExact("10m")),
					},
					PostApplyPostRefresh: empty.PostApplyPostRefresh,
				},
				Check: resource.ComposeTestCheckFunc(
					expectCrons(t, c, sandboxWorker, append(slices.Clone(sandboxForeignCrons), "*/10 * * * *")...),
					expectApp(c, tg.account, appID, 30, "standard-1"),
				),
			},
			{ // another Worker: the sandbox is named after it, so it is replaced
				Config: tg.sandboxConfig("monotask-sandbox-v2", "10m", 20),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(sandboxAddr, plancheck.ResourceActionDestroyBeforeCreate),
						plancheck.ExpectKnownValue(sandboxAddr, tfjsonpath.New("name"), knownvalue.StringExact("monotask-sandbox-v2")),
					},
					PostApplyPostRefresh: empty.PostApplyPostRefresh,
				},
				Check: resource.ComposeTestCheckFunc(
					expectCrons(t, c, sandboxWorker, sandboxForeignCrons...),
					expectCPU(c, sandboxWorker, 0),
					expectCrons(t, c, "monotask-sandbox-v2", "*/10 * * * *"),
					expectCPU(c, "monotask-sandbox-v2", 300000),
				),
			},
			{Config: tg.sandboxConfig("monotask-sandbox-v2", "10m", 20), PlanOnly: true},
		},
	})
}

// TestSandboxResourceValidation: `terraform validate` and plan reject what `flareops
// validate` rejects, with the engine's words, without a request to the account.
func TestSandboxResourceValidation(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	cfg := func(body string) string {
		return tg.sandboxProvider() + "resource \"flareops_sandbox\" \"s\" {\n  worker = \"w\"\n  execution_timeout = \"30m\"\n" + body + "\n}\n"
	}
	tests := []struct {
		name, body, want string
	}{
		{"cleanup_every 7m", `cleanup_every = "7m"`, `cleanup_every must be one of "1m", "2m", "3m", "4m", "5m", "6m", "10m",\s+"12m", "15m", "20m", "30m", "1h", "2h", "3h", "4h", "6h", "8h", "12h", "1d";\s+got "7m"`},
		{"cpu_ms 0", `cpu_ms = 0`, `cpu_ms must be between 1 and 300000; got 0`},
		{"bad instance type", "container {\n  application = \"a\"\n  instance_type = \"standard-9\"\n}", `instance_type must be one of "lite", "basic", "standard-1", "standard-2",\s+"standard-3", "standard-4"; got "standard-9"`},
		{"vcpu without memory_mib", "container {\n  application = \"a\"\n  vcpu = 2\n}", `a custom instance size needs both vcpu and\s+memory_mib`},
		{"too little memory", "container {\n  application = \"a\"\n  vcpu = 2\n  memory_mib = 4096\n}", `memory_mib must be at least 3 GiB per vCPU`},
		{"vcpu out of range", "container {\n  application = \"a\"\n  vcpu = 8\n  memory_mib = 12288\n}", `vcpu must be between 1 and 4; got 8`},
	}
	var steps []resource.TestStep
	for _, tt := range tests {
		steps = append(steps, resource.TestStep{Config: cfg(tt.body), PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)line \d+.*` + tt.want)})
	}
	tg.run(t, resource.TestCase{Steps: steps})
	if n := tg.srv.Counts().Total; n != 0 {
		t.Errorf("invalid configurations made %d API requests, want none", n)
	}
}

// TestSandboxResourceNeedsOpsKV: without an ops KV namespace (provider block or
// environment), the plan says to set one.
func TestSandboxResourceNeedsOpsKV(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	t.Setenv("FLAREOPS_OPS_KV_NAMESPACE", "")
	cfg := tg.providerBlock() + "resource \"flareops_sandbox\" \"s\" {\n  worker = \"w\"\n  execution_timeout = \"30m\"\n}\n"
	tg.run(t, resource.TestCase{Steps: []resource.TestStep{{
		Config: cfg, PlanOnly: true,
		ExpectError: regexp.MustCompile(`(?s)no\s+ops\s+KV\s+namespace\s+is\s+set.*ops_kv_namespace`),
	}}})
}

var sandboxImportLine = regexp.MustCompile(`(?m)^terraform import (\S+) (\S+)$`)

// sandboxExampleTarget is an emulator with what examples/resources/flareops_sandbox names:
// the Worker (with crons of its own) and both applications; the provider's settings come
// from the environment, as the example expects.
func sandboxExampleTarget(t *testing.T) (*target, *cloudflare.Client) {
	tg, c, _ := newSandboxTarget(t)
	if _, err := c.Raw().CreateApplication(context.Background(), tg.account, cloudflare.ContainerApplicationSpec{
		Name: "monotask-builds", SchedulingPolicy: "default", MaxInstances: 1,
		Configuration: cloudflare.ContainerConfiguration{Image: "registry.cloudflare.com/monotask/builds:1", InstanceType: "basic"},
	}); err != nil {
		t.Fatal(err)
	}
	tg.setEnv(t)
	t.Setenv("FLAREOPS_OPS_KV_NAMESPACE", sandboxOpsKV)
	return tg, c
}

// TestSandboxDocExample applies the registry page's example, then imports as import.sh says.
func TestSandboxDocExample(t *testing.T) {
	tg, c := sandboxExampleTarget(t)
	cfg := readExample(t, "provider/provider.tf") + readExample(t, "resources/flareops_sandbox/resource.tf")
	m := sandboxImportLine.FindStringSubmatch(readExample(t, "resources/flareops_sandbox/import.sh"))
	if m == nil {
		t.Fatalf("import.sh has no line matching %s", sandboxImportLine)
	}
	tg.run(t, resource.TestCase{Steps: []resource.TestStep{
		{
			Config:           cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			Check: resource.ComposeTestCheckFunc(
				expectCrons(t, c, sandboxWorker, append(slices.Clone(sandboxForeignCrons), "*/5 * * * *", "0 */2 * * *")...),
				expectCPU(c, sandboxWorker, 300000),
			),
		},
		{ResourceName: m[1], ImportState: true, ImportStateId: m[2], ImportStateVerify: true},
	}})
}

// TestSandboxDocImportBlockExample: a sandbox the flareops CLI published is imported by the
// import block example, not created again, and then set as the example declares.
func TestSandboxDocImportBlockExample(t *testing.T) {
	tg, c := sandboxExampleTarget(t)
	// Published outside this configuration, by the CLI's engine, with a shorter timeout.
	e := &reconciler.Engine{Registry: reconciler.KindsWith(c, reconciler.Settings{OpsKVNamespace: sandboxOpsKV}), State: reconciler.NewMemoryState()}
	d := reconciler.Desired{Addr: reconciler.Address{Kind: "sandbox", Name: "agent"}, Source: "x.flareops.hcl:1", Values: reconciler.Values{
		"worker": sandboxWorker, "cleanup_every": "5m", "execution_timeout": int64(600), "idle_timeout": int64(600)}}
	p, err := e.Plan(context.Background(), []reconciler.Desired{d})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Apply(context.Background(), p, reconciler.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := readExample(t, "provider/provider.tf") + readExample(t, "resources/flareops_sandbox/resource.tf") +
		readExample(t, "resources/flareops_sandbox/import-by-string-id.tf")
	tg.run(t, resource.TestCase{Steps: []resource.TestStep{{
		Config: cfg,
		ConfigPlanChecks: resource.ConfigPlanChecks{
			PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(sandboxAddr, plancheck.ResourceActionUpdate)},
			PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
		},
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownValue(sandboxAddr, tfjsonpath.New("execution_timeout"), knownvalue.StringExact("30m")),
		},
		Check: expectCrons(t, c, sandboxWorker, append(slices.Clone(sandboxForeignCrons), "*/5 * * * *", "0 */2 * * *")...),
	}}})
}
