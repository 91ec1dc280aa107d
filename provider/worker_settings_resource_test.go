package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	tfconfig "github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

const settingsAddr = "flareops_worker_settings.gateway"

// settingsConfig declares the settings of Worker gateway: cpu_ms, observability and, with
// a secret, the Logpush job to bucket monotask-logs.
func settingsConfig(tg *target, cpu int, rate, secret, deployedBy string) string {
	cfg := tg.providerBlock() + fmt.Sprintf(`
resource "flareops_worker_settings" "gateway" {
  script      = "gateway"
  deployed_by = %q
  cpu_ms      = %d

  observability {
    head_sampling_rate = %s
  }
`, deployedBy, cpu, rate)
	if secret != "" {
		cfg += fmt.Sprintf(`
  logpush {
    bucket            = "monotask-logs"
    path              = "workers/gateway"
    access_key_id     = "AKIDGATEWAY"
    secret_access_key = %q
  }
`, secret)
	}
	return cfg + "}\n"
}

// settingsOf reads the Worker's settings and its Logpush job.
func (tg *target) settingsOf(t *testing.T, worker string) (cloudflare.WorkerSettings, []cloudflare.LogpushJob) {
	t.Helper()
	c := tg.client(t)
	st, err := c.WorkerSettings(context.Background(), worker)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := c.ListLogpushJobs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st, jobs
}

// expectSettings checks cpu_ms, the sampling rate, the logpush setting and the number of
// Logpush jobs (and, when there is one, that it writes to the bucket with secret).
func (tg *target) expectSettings(t *testing.T, cpu int64, rate float64, logpush bool, jobs int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		st, js := tg.settingsOf(t, "gateway")
		obsRate := -1.0
		if st.Observability != nil && st.Observability.Enabled {
			obsRate = st.Observability.HeadSamplingRate
		}
		if st.CPUMs != cpu || obsRate != rate || st.Logpush != logpush || len(js) != jobs {
			return fmt.Errorf("Worker gateway: cpu_ms %d, observed rate %v, logpush %v, %d jobs; want %d, %v, %v, %d jobs", st.CPUMs, obsRate, st.Logpush, len(js), cpu, rate, logpush, jobs)
		}
		if len(st.Bindings) != 1 {
			return fmt.Errorf("Worker gateway has %d bindings, want its own KV binding only", len(st.Bindings))
		}
		return nil
	}
}

// TestWorkerSettingsResource: create, update (a new secret is an update; the old one no
// change), out-of-band drift repaired, import by script name, removal of the Logpush
// block, and an empty second plan; the Worker's own binding is kept throughout.
func TestWorkerSettingsResource(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	tg.deployWorker(t, "gateway", "export default {}", map[string]any{"bindings": []map[string]any{{"type": "kv_namespace", "name": "CACHE", "namespace_id": "0123456789abcdef0123456789abcdef"}}})
	if _, err := tg.client(t).Raw().Do(context.Background(), "POST", "/accounts/"+tg.account+"/r2/buckets", nil, map[string]string{"name": "monotask-logs"}, nil); err != nil {
		t.Fatal(err)
	}
	v1 := settingsConfig(tg, 50, "0.1", "first-secret", "flareops")
	v2 := settingsConfig(tg, 100, "0.5", "second-secret", "flareops")
	noLogpush := settingsConfig(tg, 100, "0.5", "", "flareops")
	tg.run(t, resource.TestCase{Steps: []resource.TestStep{
		{Config: v1, Check: resource.ComposeTestCheckFunc(
			tg.expectSettings(t, 50, 0.1, true, 1),
			resource.TestCheckResourceAttr(settingsAddr, "id", "gateway"),
			tg.expectJobSecret(t, "first-secret"),
		)},
		{Config: v1, PlanOnly: true},
		{Config: v2, ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(settingsAddr, plancheck.ResourceActionUpdate)}},
			Check: resource.ComposeTestCheckFunc(tg.expectSettings(t, 100, 0.5, true, 1), tg.expectJobSecret(t, "second-secret"))},
		{
			// Someone lowers cpu_ms and turns logpush off: the plan sets both back.
			PreConfig: func() {
				c := tg.client(t)
				st, _ := tg.settingsOf(t, "gateway")
				st.CPUMs, st.Logpush = 20, false
				if err := c.SetWorkerSettings(context.Background(), "gateway", st); err != nil {
					t.Fatal(err)
				}
			},
			Config:           v2,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(settingsAddr, plancheck.ResourceActionUpdate)}},
			Check:            tg.expectSettings(t, 100, 0.5, true, 1),
		},
		{ResourceName: settingsAddr, ImportState: true, ImportStateId: "gateway", ImportStateVerify: true,
			// Cloudflare never returns the secret.
			ImportStateVerifyIgnore: []string{"logpush.0.secret_access_key"}},
		{Config: noLogpush, Check: tg.expectSettings(t, 100, 0.5, false, 0)},
		{Config: noLogpush, PlanOnly: true},
	}})
	// Destroyed: cpu_ms back to the default, observability off, no job; the KV binding kept.
	st, jobs := tg.settingsOf(t, "gateway")
	if st.CPUMs != 0 || st.Observability == nil || st.Observability.Enabled || st.Logpush || len(jobs) != 0 || len(st.Bindings) != 1 {
		t.Fatalf("after destroy: %+v, %d jobs", st, len(jobs))
	}
}

// expectJobSecret checks the secret the Logpush job writes with, through the emulator
// (the API masks it).
func (tg *target) expectJobSecret(t *testing.T, secret string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		conf, ok := tg.srv.LogpushDestination(testAccount, "flareops-gateway")
		if !ok || !strings.Contains(conf, "secret-access-key="+secret) {
			return fmt.Errorf("the job's destination does not carry the configured secret")
		}
		return nil
	}
}

// With deployed_by = "wrangler", the provider writes nothing to the Worker and warns with
// the wrangler fragment; a missing Worker fails the plan.
func TestWorkerSettingsResourceWrangler(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	tg.deployWorker(t, "gateway", "export default {}", map[string]any{"bindings": []map[string]any{{"type": "kv_namespace", "name": "CACHE", "namespace_id": "0123456789abcdef0123456789abcdef"}}})
	cfg := settingsConfig(tg, 50, "0.1", "", "wrangler")
	tg.run(t, resource.TestCase{Steps: []resource.TestStep{
		{Config: cfg, Check: tg.expectSettings(t, 0, -1, false, 0)},
		{Config: cfg, PlanOnly: true},
		{Config: strings.Replace(cfg, `script      = "gateway"`, `script      = "gateway-typo"`, 1), PlanOnly: true,
			ExpectError: regexp.MustCompile(`Worker gateway-typo does not exist in the account`)},
	}})
}

// Bad input is refused by tofu's validation with the engine's words, at its line in the
// configuration, before any API request.
func TestWorkerSettingsValidatedByTofu(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	cfg := func(body string) string {
		return tg.providerBlock() + "resource \"flareops_worker_settings\" \"w\" {\n" + body + "}\n"
	}
	logpush := func(bucket string) string {
		return fmt.Sprintf("  script = \"w\"\n  logpush {\n    bucket = %q\n    access_key_id = \"k\"\n    secret_access_key = \"s\"\n  }\n", bucket)
	}
	tests := []struct{ body, want string }{
		{"  script = \"w\"\n  cpu_ms = 0\n", `(?s)terraform_plugin_test.tf line \d+.*cpu_ms must be between 10 and 300000; got 0`},
		{"  script = \"w\"\n  cpu_ms = 300001\n", `(?s)terraform_plugin_test.tf line \d+.*cpu_ms must be between 10 and 300000; got 300001`},
		{"  script = \"w\"\n  observability {\n    head_sampling_rate = 1.5\n  }\n", `(?s)terraform_plugin_test.tf line \d+.*head_sampling_rate must be between 0 and 1; got 1.5`},
		{"  script = \"w\"\n  observability {\n    logs {\n      head_sampling_rate = -0.5\n    }\n  }\n", `(?s)terraform_plugin_test.tf line \d+.*head_sampling_rate must be between 0 and 1; got -0.5`},
		{"  cpu_ms = 50\n", `(?s)terraform_plugin_test.tf line \d+.*The argument "script" is required`},
		{logpush("Monotask_Logs"), `(?s)terraform_plugin_test.tf line \d+.*bucket must be an R2 bucket name: 3 to 63 lowercase letters, digits\s+and\s+` + "`-`"},
		{"  script = \"w\"\n", `(?s)terraform_plugin_test.tf line \d+.*declares no setting: set cpu_ms, or add an observability\s+or logpush block`},
	}
	var steps []resource.TestStep
	for _, tt := range tests {
		steps = append(steps, resource.TestStep{Config: cfg(tt.body), PlanOnly: true, ExpectError: regexp.MustCompile(tt.want)})
	}
	tg.run(t, resource.TestCase{Steps: steps})
	if n := tg.srv.Counts().Total; n != 0 {
		t.Errorf("invalid configurations made %d API requests, want none", n)
	}
}

// TestWorkerSettingsDocExample applies the registry page's example, imports as its
// import.sh says, and plans again: empty.
func TestWorkerSettingsDocExample(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	tg.setEnv(t)
	tg.deployWorker(t, "monotask-api-gateway", "export default {}", nil)
	tg.deployWorker(t, "monotask-sandbox", "export default {}", nil)
	if _, err := tg.client(t).Raw().Do(context.Background(), "POST", "/accounts/"+tg.account+"/r2/buckets", nil, map[string]string{"name": "monotask-logs"}, nil); err != nil {
		t.Fatal(err)
	}
	cfg := readExample(t, "provider/provider.tf") + readExample(t, "resources/flareops_worker_settings/resource.tf")
	m := regexp.MustCompile(`(?m)^terraform import (\S+) (\S+)$`).FindStringSubmatch(readExample(t, "resources/flareops_worker_settings/import.sh"))
	if m == nil {
		t.Fatal("import.sh has no terraform import line")
	}
	vars := tfconfig.Variables{"r2_access_key_id": tfconfig.StringVariable("AKIDEXAMPLE"), "r2_secret_access_key": tfconfig.StringVariable("example-secret")}
	tg.run(t, resource.TestCase{Steps: []resource.TestStep{
		{Config: cfg, ConfigVariables: vars,
			ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			Check: func(*terraform.State) error {
				gw, jobs := tg.settingsOf(t, "monotask-api-gateway")
				sb, _ := tg.settingsOf(t, "monotask-sandbox")
				if gw.CPUMs != 50 || !gw.Logpush || len(jobs) != 1 || sb.CPUMs != 0 {
					return fmt.Errorf("gateway %+v with %d jobs, sandbox %+v: want the gateway set, one job, the sandbox untouched", gw, len(jobs), sb)
				}
				return nil
			}},
		{Config: cfg, ConfigVariables: vars, ResourceName: m[1], ImportState: true, ImportStateId: m[2], ImportStateVerify: true,
			ImportStateVerifyIgnore: []string{"logpush.0.secret_access_key"}},
	}})
}

// A Logpush job named like this resource's, made by another state, is never taken over:
// the plan fails on the script, saying to import.
func TestWorkerSettingsResourceJobOfAnotherState(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	tg.deployWorker(t, "gateway", "export default {}", nil)
	c := tg.client(t)
	if _, err := c.Raw().Do(context.Background(), "POST", "/accounts/"+tg.account+"/r2/buckets", nil, map[string]string{"name": "monotask-logs"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateLogpushJob(context.Background(), cloudflare.LogpushJob{Name: "flareops-gateway", Dataset: "workers_trace_events", Enabled: true,
		DestinationConf: "r2://monotask-logs/{DATE}?account-id=" + tg.account + "&access-key-id=k&secret-access-key=s"}); err != nil {
		t.Fatal(err)
	}
	tg.run(t, resource.TestCase{Steps: []resource.TestStep{
		{Config: settingsConfig(tg, 50, "0.1", "first-secret", "flareops"), PlanOnly: true,
			ExpectError: regexp.MustCompile(`(?s)already exists.*import`)},
	}})
}
