package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

// Secrets used by the worker_settings tests; none may appear in any output or file.
const (
	wsKeyID     = "4c1d9e0a7b6f5e3d2c1b0a9f8e7d6c5b"
	wsSecret    = "9f8e7d6c5b4a39281706f5e4d3c2b1a0ffeeddccbbaa99887766554433221100"
	wsNewSecret = "0011223344556677889900aabbccddeeff00112233445566778899aabbccddee"
)

// settingsConfig is a worker_settings block on Worker gateway whose R2 credentials come
// from sensitive variables (set in the environment, as a CI job would).
func settingsConfig(deployedBy string) string {
	return `variable "r2_access_key_id" {
  type      = string
  sensitive = true
}

variable "r2_secret_access_key" {
  type      = string
  sensitive = true
}

worker_settings "gateway" {
  script      = "gateway"
  deployed_by = "` + deployedBy + `"
  cpu_ms      = 50

  observability {
    enabled            = true
    head_sampling_rate = 0.1
    logs {
      invocation_logs = false
    }
  }

  logpush {
    bucket            = "monotask-logs"
    path              = "workers/gateway"
    access_key_id     = var.r2_access_key_id
    secret_access_key = var.r2_secret_access_key
  }
}
`
}

func withSecrets(env map[string]string, secret string) map[string]string {
	out := map[string]string{"FLAREOPS_VAR_r2_access_key_id": wsKeyID, "FLAREOPS_VAR_r2_secret_access_key": secret}
	for k, v := range env {
		out[k] = v
	}
	return out
}

// settingsAccount is a test account with Worker gateway (six bindings and two crons
// flareops does not own) and the R2 bucket the settings push to.
func settingsAccount(t *testing.T) (*account, *cloudflare.Client) {
	t.Helper()
	acct := newAccount(t, emulator.Options{})
	c := acct.client(t)
	ctx := context.Background()
	if err := c.UploadScript(ctx, "gateway", "export default {};\n"); err != nil {
		t.Fatal(err)
	}
	var st cloudflare.WorkerSettings
	for _, b := range []string{
		`{"type":"kv_namespace","name":"CACHE","namespace_id":"0123456789abcdef0123456789abcdef"}`,
		`{"type":"d1","name":"DB","id":"7b1c2d3e-0000-4000-8000-000000000001"}`,
		`{"type":"r2_bucket","name":"FILES","bucket_name":"files"}`,
		`{"type":"service","name":"AUTH","service":"auth-worker","environment":"production"}`,
		`{"type":"secret_text","name":"API_KEY","text":"hunter2"}`,
		`{"type":"plain_text","name":"MODE","text":"prod"}`,
	} {
		st.Bindings = append(st.Bindings, json.RawMessage(b))
	}
	if err := c.SetWorkerSettings(ctx, "gateway", st); err != nil {
		t.Fatal(err)
	}
	if err := c.SetWorkerCrons(ctx, "gateway", []string{"0 * * * *", "30 2 * * *"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Raw().Do(ctx, "POST", "/accounts/"+LocalAccountID+"/r2/buckets", nil, map[string]string{"name": "monotask-logs"}, nil); err != nil {
		t.Fatal(err)
	}
	acct.srv.ResetCounts()
	return acct, c
}

// foreignOf is the Worker's bindings, each as its fields, and its crons.
func foreignOf(t *testing.T, acct *account, c *cloudflare.Client) ([]map[string]any, []string) {
	t.Helper()
	ctx := context.Background()
	st, err := c.WorkerSettings(ctx, "gateway")
	if err != nil {
		t.Fatal(err)
	}
	var bs []map[string]any
	for _, raw := range st.Bindings {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		bs = append(bs, m)
	}
	if secret, _ := acct.srv.SecretText(LocalAccountID, "gateway", "API_KEY"); secret != "hunter2" {
		t.Fatalf("the Worker's secret is now %q", secret)
	}
	crons, err := c.WorkerCrons(ctx, "gateway")
	if err != nil {
		t.Fatal(err)
	}
	return bs, crons
}

// The Worker's six bindings and two crons are kept, field by field, after an apply that
// sets its cpu_ms, observability and logpush, and after destroy, which hands the settings
// back; the plan says what each change does, and a second plan is empty.
func TestWorkerSettingsKeepTheWorkersBindingsAndCrons(t *testing.T) {
	acct, c := settingsAccount(t)
	ctx := context.Background()
	wantBindings, wantCrons := foreignOf(t, acct, c)
	dir := t.TempDir()
	writeFile(t, dir, "main.flareops.hcl", settingsConfig("flareops"))
	env := withSecrets(acct.env, wsSecret)
	out := mustRun(t, 0, env, "plan", "-dir", dir)
	for _, want := range []string{
		"cpu_ms limit 30,000 ms (the platform default) -> 50 ms on gateway: requests using more CPU fail",
		"trace events of gateway are pushed to R2 bucket monotask-logs under workers/gateway/ (Logpush job flareops-gateway)",
		"observability of gateway is on: 10% of requests are observed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	mustRun(t, 0, env, "apply", "-auto-approve", "-dir", dir)
	st, err := c.WorkerSettings(ctx, "gateway")
	if err != nil {
		t.Fatal(err)
	}
	if st.CPUMs != 50 || !st.Logpush || st.Observability == nil || !st.Observability.Enabled || st.Observability.HeadSamplingRate != 0.1 ||
		st.Observability.Logs == nil || st.Observability.Logs.InvocationLogs {
		t.Fatalf("settings after apply: %+v", st)
	}
	jobs, err := c.ListLogpushJobs(ctx)
	if err != nil || len(jobs) != 1 || jobs[0].Name != "flareops-gateway" || jobs[0].Dataset != "workers_trace_events" {
		t.Fatalf("Logpush jobs after apply: %v %v", jobs, err)
	}
	gotBindings, gotCrons := foreignOf(t, acct, c)
	if diff := cmp.Diff(wantBindings, gotBindings); diff != "" {
		t.Fatalf("bindings after apply differ, field by field (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(wantCrons, gotCrons); diff != "" {
		t.Fatalf("crons after apply (-before +after):\n%s", diff)
	}
	mustRun(t, 0, env, "plan", "-detailed-exitcode", "-dir", dir)
	mustRun(t, 0, env, "destroy", "-auto-approve", "-dir", dir)
	st, err = c.WorkerSettings(ctx, "gateway")
	if err != nil {
		t.Fatal(err)
	}
	if st.CPUMs != 0 || st.Logpush || st.Observability == nil || st.Observability.Enabled {
		t.Fatalf("settings after destroy: %+v", st)
	}
	if jobs, _ := c.ListLogpushJobs(ctx); len(jobs) != 0 {
		t.Fatalf("Logpush jobs after destroy: %v", jobs)
	}
	gotBindings, gotCrons = foreignOf(t, acct, c)
	if diff := cmp.Diff(wantBindings, gotBindings); diff != "" {
		t.Fatalf("bindings after destroy differ, field by field (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(wantCrons, gotCrons); diff != "" {
		t.Fatalf("crons after destroy (-before +after):\n%s", diff)
	}
}

// The R2 credentials never appear: not in plans (text, JSON, Markdown), drift reports,
// saved plans or the state. A changed secret is an update that does not show it; the
// same secret again is no change.
func TestWorkerSettingsSecretsNeverShown(t *testing.T) {
	acct, _ := settingsAccount(t)
	dir := t.TempDir()
	writeFile(t, dir, "main.flareops.hcl", settingsConfig("flareops"))
	env := withSecrets(acct.env, wsSecret)
	planFile := filepath.Join(dir, "saved.plan")
	var shown []string
	for _, f := range []string{"text", "json", "markdown"} {
		shown = append(shown, mustRun(t, 0, env, "plan", "-format", f, "-out", planFile, "-dir", dir))
	}
	mustRun(t, 0, env, "apply", planFile)
	newEnv := withSecrets(acct.env, wsNewSecret)
	code, out, errOut := run(t, newEnv, "plan", "-detailed-exitcode", "-out", planFile, "-dir", dir)
	if code != ExitChanges || !strings.Contains(out, "~ logpush.secret_access_key = (sensitive)") ||
		!strings.Contains(out, "the Logpush job of gateway writes to R2 with new credentials") || !strings.Contains(out, "1 to update") {
		t.Fatalf("plan of a new secret: exit %d\n%s\n%s", code, out, errOut)
	}
	shown = append(shown, out, errOut)
	for _, f := range []string{"text", "json", "markdown"} {
		shown = append(shown, mustRun(t, ExitPending, newEnv, "drift", "-format", f, "-dir", dir))
	}
	saved, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	shown = append(shown, string(saved))
	shown = append(shown, mustRun(t, 0, newEnv, "apply", planFile))
	shown = append(shown, mustRun(t, 0, newEnv, "state", "show", "-dir", dir, "worker_settings.gateway"))
	state, err := os.ReadFile(filepath.Join(dir, ".flareops", "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	shown = append(shown, string(state))
	for _, s := range shown {
		for _, secret := range []string{wsKeyID, wsSecret, wsNewSecret} {
			if strings.Contains(s, secret) {
				t.Fatalf("a credential appears in:\n%s", s)
			}
		}
	}
	if !strings.Contains(string(state), `"Credentials": "`) {
		t.Fatalf("the state keeps no hash of the credentials:\n%s", state)
	}
	if conf, _ := acct.srv.LogpushDestination(LocalAccountID, "flareops-gateway"); !strings.Contains(conf, "secret-access-key="+wsNewSecret) {
		t.Fatal("the Logpush job was not given the new secret")
	}
	mustRun(t, 0, newEnv, "plan", "-detailed-exitcode", "-dir", dir)
}

// deployed_by = "wrangler": flareops writes nothing to the Worker; plan and drift show
// what it lacks with the wrangler.toml and wrangler.jsonc lines to add, in text, JSON and
// Markdown, until a deploy carries them. The Logpush job is flareops's either way.
func TestWorkerSettingsDeployedByWrangler(t *testing.T) {
	acct, c := settingsAccount(t)
	ctx := context.Background()
	before, err := c.WorkerSettings(ctx, "gateway")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, dir, "main.flareops.hcl", settingsConfig("wrangler"))
	env := withSecrets(acct.env, wsSecret)
	text := mustRun(t, 0, env, "plan", "-dir", dir)
	for _, want := range []string{
		"Left to wrangler",
		"Worker gateway is deployed by wrangler, so flareops writes nothing to it",
		"- cpu_ms is 30,000 ms (the platform default), not 50",
		"Add to wrangler.toml:\n      logpush = true\n\n      [limits]\n      cpu_ms = 50\n\n      [observability]\n      enabled = true\n      head_sampling_rate = 0.1\n\n      [observability.logs]\n      enabled = true\n      invocation_logs = false\n      head_sampling_rate = 1\n",
		"or to wrangler.jsonc:\n      {\n        \"logpush\": true,\n        \"limits\": {\n          \"cpu_ms\": 50\n        },",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text plan lacks %q:\n%s", want, text)
		}
	}
	js := mustRun(t, 0, env, "plan", "-format", "json", "-dir", dir)
	var plan struct {
		Manual []struct {
			Address   string
			Tool      string
			Fragments []struct{ File, Text string }
		}
	}
	if err := json.Unmarshal([]byte(js), &plan); err != nil || len(plan.Manual) != 1 || plan.Manual[0].Tool != "wrangler" ||
		len(plan.Manual[0].Fragments) != 2 || !strings.HasPrefix(plan.Manual[0].Fragments[0].Text, "logpush = true\n\n[limits]\ncpu_ms = 50\n") {
		t.Fatalf("JSON plan's manual steps: %v\n%s", err, js)
	}
	md := mustRun(t, 0, env, "plan", "-format", "markdown", "-dir", dir)
	if !strings.Contains(md, "### Left to wrangler") || !strings.Contains(md, "```toml\n  logpush = true") {
		t.Errorf("Markdown plan lacks the fragment:\n%s", md)
	}
	mustRun(t, 0, env, "apply", "-auto-approve", "-dir", dir)
	after, err := c.WorkerSettings(ctx, "gateway")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Fatalf("apply wrote to a Worker wrangler deploys (-before +after):\n%s", diff)
	}
	if jobs, _ := c.ListLogpushJobs(ctx); len(jobs) != 1 {
		t.Fatalf("the Logpush job: %v", jobs)
	}
	mustRun(t, 0, env, "plan", "-detailed-exitcode", "-dir", dir) // nothing for flareops to do
	drift := mustRun(t, ExitChanges, env, "drift", "-dir", dir)
	if !strings.Contains(drift, "Drift detected: 1 declaration needs changes that only wrangler can deploy") || !strings.Contains(drift, "[limits]") {
		t.Fatalf("drift report:\n%s", drift)
	}
	// The team deploys with the settings in its wrangler.toml (its secret kept).
	for i, raw := range after.Bindings {
		if strings.Contains(string(raw), `"secret_text"`) {
			after.Bindings[i] = json.RawMessage(`{"type":"inherit","name":"API_KEY"}`)
		}
	}
	after.CPUMs, after.Logpush = 50, true
	after.Observability = &cloudflare.Observability{Enabled: true, HeadSamplingRate: 0.1, Logs: &cloudflare.ObservabilityLogs{Enabled: true, HeadSamplingRate: 1}}
	if err := c.SetWorkerSettings(ctx, "gateway", after); err != nil {
		t.Fatal(err)
	}
	mustRun(t, 0, env, "drift", "-dir", dir)
	if out := mustRun(t, 0, env, "plan", "-dir", dir); !strings.Contains(out, "No changes. The account matches the configuration.") {
		t.Fatalf("plan after the deploy:\n%s", out)
	}
}

// A Worker flareops does not find is a plan error naming it, against an account; on the
// built-in local Cloudflare a placeholder stands in for it.
func TestWorkerSettingsMissingWorker(t *testing.T) {
	acct, _ := settingsAccount(t)
	dir := t.TempDir()
	writeFile(t, dir, "main.flareops.hcl", strings.Replace(settingsConfig("flareops"), `script      = "gateway"`, `script      = "gatewya"`, 1))
	code, _, errOut := run(t, withSecrets(acct.env, wsSecret), "plan", "-dir", dir)
	if code != 1 || !strings.Contains(errOut, "worker_settings.gateway") || !strings.Contains(errOut, "Worker gatewya does not exist in the account") {
		t.Fatalf("plan of a missing Worker: exit %d\n%s", code, errOut)
	}
	// A Logpush destination bucket that does not exist fails the plan, before any change.
	writeFile(t, dir, "main.flareops.hcl", strings.Replace(settingsConfig("flareops"), `"monotask-logs"`, `"monotask-lgos"`, 1))
	code, _, errOut = run(t, withSecrets(acct.env, wsSecret), "plan", "-dir", dir)
	if code != 1 || !strings.Contains(errOut, "R2 bucket monotask-lgos, the destination of the Logpush job of Worker gateway, does not exist") || strings.Contains(errOut, wsSecret) {
		t.Fatalf("plan with a missing Logpush bucket: exit %d\n%s", code, errOut)
	}
	writeFile(t, dir, "main.flareops.hcl", "worker_settings \"w\" {\n  script = \"nowhere\"\n  cpu_ms = 100\n}\n")
	local := map[string]string{}
	out := mustRun(t, 0, local, "plan", "-dir", dir)
	if !strings.Contains(out, "the local Cloudflare stands in for Worker nowhere") {
		t.Fatalf("local plan:\n%s", out)
	}
	mustRun(t, 0, local, "apply", "-auto-approve", "-dir", dir)
	mustRun(t, 0, local, "plan", "-detailed-exitcode", "-dir", dir)
}

// Bad input exits 1 with the place in the file, in validate and in plan.
func TestWorkerSettingsInvalidInput(t *testing.T) {
	block := func(body string) string { return "worker_settings \"w\" {\n" + body + "}\n" }
	cases := map[string]string{
		"cpu_ms too low":        block("  script = \"w\"\n  cpu_ms = 0\n"),
		"cpu_ms too high":       block("  script = \"w\"\n  cpu_ms = 300001\n"),
		"sampling above 1":      block("  script = \"w\"\n  observability {\n    head_sampling_rate = 1.5\n  }\n"),
		"sampling below 0":      block("  script = \"w\"\n  observability {\n    logs {\n      head_sampling_rate = -0.1\n    }\n  }\n"),
		"missing script":        block("  cpu_ms = 50\n"),
		"bad bucket name":       block("  script = \"w\"\n  logpush {\n    bucket = \"Monotask_Logs\"\n    access_key_id = \"k\"\n    secret_access_key = \"s\"\n  }\n"),
		"missing secret":        block("  script = \"w\"\n  logpush {\n    bucket = \"logs\"\n    access_key_id = \"k\"\n  }\n"),
		"filter not JSON":       block("  script = \"w\"\n  logpush {\n    bucket = \"logs\"\n    access_key_id = \"k\"\n    secret_access_key = \"s\"\n    filter = \"Outcome = ok\"\n  }\n"),
		"nothing declared":      block("  script = \"w\"\n"),
		"deployed_by unknown":   block("  script = \"w\"\n  deployed_by = \"terraform\"\n  cpu_ms = 50\n"),
		"two observability":     block("  script = \"w\"\n  observability {}\n  observability {}\n"),
		"cpu_ms claimed twice":  block("  script = \"w\"\n  cpu_ms = 50\n") + "worker_settings \"v\" {\n  script = \"w\"\n  cpu_ms = 60\n}\n",
		"upload interval short": block("  script = \"w\"\n  logpush {\n    bucket = \"logs\"\n    access_key_id = \"k\"\n    secret_access_key = \"s\"\n    max_upload_interval = \"10s\"\n  }\n"),
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "main.flareops.hcl", src)
			for _, cmd := range []string{"validate", "plan"} {
				code, _, errOut := run(t, map[string]string{}, cmd, "-dir", dir)
				if code != 1 {
					t.Fatalf("%s: exit %d, want 1\n%s", cmd, code, errOut)
				}
				if !fileLineCol.MatchString(errOut) {
					t.Fatalf("%s: no file:line,col in:\n%s", cmd, errOut)
				}
			}
		})
	}
}

// The Logpush job of another state is never taken over by name: the plan says to import
// it; after the import the secret, which Cloudflare never returns, is written once, and
// the next plan is empty. A setting changed outside flareops is drift, set back by apply.
func TestWorkerSettingsImportAndDrift(t *testing.T) {
	acct, c := settingsAccount(t)
	ctx := context.Background()
	dir := t.TempDir()
	writeFile(t, dir, "main.flareops.hcl", settingsConfig("flareops"))
	env := withSecrets(acct.env, wsSecret)
	mustRun(t, 0, env, "apply", "-auto-approve", "-dir", dir)
	if err := os.Remove(filepath.Join(dir, ".flareops", "state.json")); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, env, "plan", "-dir", dir)
	if code != 1 || !strings.Contains(errOut, `worker_settings "gateway" already exists in the account (id gateway) and flareops does not manage it; to manage it, run: flareops import`) {
		t.Fatalf("plan over the job of a lost state: exit %d\n%s", code, errOut)
	}
	mustRun(t, 0, env, "import", "-dir", dir, "worker_settings.gateway", "gateway")
	out := mustRun(t, ExitChanges, env, "plan", "-detailed-exitcode", "-dir", dir)
	if !strings.Contains(out, "~ logpush.secret_access_key = (sensitive)") || strings.Contains(out, "cpu_ms") {
		t.Fatalf("plan after import:\n%s", out)
	}
	mustRun(t, 0, env, "apply", "-auto-approve", "-dir", dir)
	mustRun(t, 0, env, "plan", "-detailed-exitcode", "-dir", dir)
	if jobs, _ := c.ListLogpushJobs(ctx); len(jobs) != 1 {
		t.Fatalf("%d Logpush jobs, want 1", len(jobs))
	}

	st, err := c.WorkerSettings(ctx, "gateway")
	if err != nil {
		t.Fatal(err)
	}
	for i, raw := range st.Bindings {
		if strings.Contains(string(raw), `"secret_text"`) {
			st.Bindings[i] = json.RawMessage(`{"type":"inherit","name":"API_KEY"}`)
		}
	}
	st.CPUMs = 200
	if err := c.SetWorkerSettings(ctx, "gateway", st); err != nil {
		t.Fatal(err)
	}
	drift := mustRun(t, ExitChanges, env, "drift", "-dir", dir)
	if !strings.Contains(drift, "cpu_ms: 50 -> 200 (changed outside flareops); apply sets it back to 50") {
		t.Fatalf("drift report:\n%s", drift)
	}
	mustRun(t, 0, env, "apply", "-auto-approve", "-dir", dir)
	mustRun(t, 0, env, "drift", "-dir", dir)
}

// A dataset binding and the settings of one Worker, applied together at any parallelism,
// both land: the Worker merge serializes their writes.
func TestWorkerSettingsAndADatasetOnOneWorker(t *testing.T) {
	acct, c := settingsAccount(t)
	dir := t.TempDir()
	writeFile(t, dir, "main.flareops.hcl", settingsConfig("flareops")+`
analytics_dataset "api" {
  dataset = "api_metrics"
  binding {
    worker = "gateway"
    name   = "API_METRICS"
  }
}
`)
	env := withSecrets(acct.env, wsSecret)
	mustRun(t, 0, env, "apply", "-auto-approve", "-parallelism", "10", "-dir", dir)
	bindings, crons := foreignOf(t, acct, c)
	st, err := c.WorkerSettings(context.Background(), "gateway")
	if err != nil {
		t.Fatal(err)
	}
	if len(bindings) != 7 || len(crons) != 2 || st.CPUMs != 50 || !st.Logpush {
		t.Fatalf("after apply: %d bindings, %d crons, settings %+v", len(bindings), len(crons), st)
	}
	mustRun(t, 0, env, "plan", "-detailed-exitcode", "-dir", dir)
	mustRun(t, 0, env, "destroy", "-auto-approve", "-dir", dir)
	if bindings, crons := foreignOf(t, acct, c); len(bindings) != 6 || len(crons) != 2 {
		t.Fatalf("after destroy: %d bindings, %d crons", len(bindings), len(crons))
	}
}

// A sandbox and worker_settings both setting cpu_ms on one Worker are refused, naming both.
func TestWorkerSettingsAndASandboxClaimCPUOnce(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.flareops.hcl", opsBlock+sandboxSource("agent", nil)+"\nworker_settings \"w\" {\n  script = \"w\"\n  cpu_ms = 50\n}\n")
	for _, cmd := range []string{"validate", "plan"} {
		code, _, errOut := run(t, map[string]string{}, cmd, "-dir", dir)
		if code != 1 || !strings.Contains(errOut, "sandbox.agent") || !strings.Contains(errOut, "worker_settings") || !strings.Contains(errOut, "cpu_ms") || !strings.Contains(errOut, "Worker w") {
			t.Fatalf("%s: exit %d\n%s", cmd, code, errOut)
		}
	}
}
