package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

// run executes the CLI with env as the whole environment and returns exit code and output.
func run(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	io := IO{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string { return env[k] },
		Environ: func() []string {
			var kv []string
			for k, v := range env {
				kv = append(kv, k+"="+v)
			}
			return kv
		},
	}
	code := Main(args, io)
	return code, out.String(), errOut.String()
}

// account is an emulator served over HTTP, and the environment that points the CLI at it.
type account struct {
	srv *emulator.Server
	url string
	env map[string]string
}

// testWorkers are the Workers deployed in every test account: those the example and the
// tests name. The account is as strict as Cloudflare: a consumer's Worker must exist.
var testWorkers = []string{
	"agent-worker-staging", "task-worker-staging", "github-worker-staging", "api-gateway-staging",
	"agent-worker-prod", "task-worker-prod", "github-worker-prod", "api-gateway-prod",
	"our-worker", "their-worker", "w",
}

func newAccount(t testing.TB, opts emulator.Options) *account {
	t.Helper()
	opts.RequireConsumerScripts = true
	srv, err := emulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	srv.SetBaseURL(hs.URL)
	a := &account{srv: srv, url: hs.URL, env: map[string]string{
		"CLOUDFLARE_API_TOKEN":  "test-token",
		"CLOUDFLARE_ACCOUNT_ID": LocalAccountID,
		"CLOUDFLARE_BASE_URL":   hs.URL + emulator.APIPrefix,
	}}
	// Deploy the Workers with another token (its own rate budget), then count afresh.
	c, err := cloudflare.New(cloudflare.Config{BaseURL: hs.URL + emulator.APIPrefix, Token: "deploy-token", AccountID: LocalAccountID})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range testWorkers {
		if err := c.UploadScript(context.Background(), w, "export default {};\n"); err != nil {
			t.Fatalf("deploy Worker %s: %v", w, err)
		}
	}
	for _, app := range []string{"monotask-staging-sandbox", "monotask-prod-sandbox"} {
		if _, err := c.Raw().CreateApplication(context.Background(), LocalAccountID, cloudflare.ContainerApplicationSpec{
			Name: app, SchedulingPolicy: "default", MaxInstances: 5,
			Configuration: cloudflare.ContainerConfiguration{Image: "registry.cloudflare.com/monotask/sandbox:1", InstanceType: "basic"},
		}); err != nil {
			t.Fatalf("deploy containers application %s: %v", app, err)
		}
	}
	srv.SeedPagerDuty("monotask-oncall") // the example's PagerDuty destination: linking is interactive on Cloudflare
	// The sources of the example's backups.
	for _, env := range []string{"staging", "prod"} {
		ctx := context.Background()
		if _, err := c.CreateD1Database(ctx, "monotask-"+env+"-db"); err != nil {
			t.Fatalf("create the D1 database: %v", err)
		}
		if _, err := c.CreateKVNamespace(ctx, "monotask-"+env+"-kv"); err != nil {
			t.Fatalf("create the KV namespace: %v", err)
		}
		if _, err := c.CreateR2Bucket(ctx, "monotask-"+env+"-artifacts"); err != nil {
			t.Fatalf("create the artifacts bucket: %v", err)
		}
		if _, err := c.CreateR2Bucket(ctx, "monotask-"+env+"-logs"); err != nil { // the gateway's Logpush destination
			t.Fatalf("create the logs bucket: %v", err)
		}
	}
	srv.ResetCounts()
	return a
}

func (a *account) client(t *testing.T) *cloudflare.Client {
	t.Helper()
	c, err := cloudflare.New(cloudflare.Config{BaseURL: a.url + emulator.APIPrefix, Token: "test-token", AccountID: LocalAccountID, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// copyExample copies examples/monotask into a fresh directory.
func copyExample(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("..", "..", "examples", "monotask")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func mustRun(t *testing.T, want int, env map[string]string, args ...string) string {
	t.Helper()
	code, out, errOut := run(t, env, args...)
	if code != want {
		t.Fatalf("flareops %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errOut)
	}
	return out
}

// The main job: plan and apply the example on the built-in local Cloudflare, then a
// second plan shows no changes (no perpetual diff), also after a restart of the store.
func TestMonotaskOnLocalCloudflare(t *testing.T) {
	dir := copyExample(t)
	env := map[string]string{}
	code, out, errOut := run(t, env, "plan", "-dir", dir)
	if code != 0 || !strings.Contains(out, "Plan: 29 to create, 0 to update, 0 to replace, 0 to delete.") {
		t.Fatalf("plan: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "built-in local Cloudflare") {
		t.Errorf("plan did not announce the local Cloudflare: %q", errOut)
	}
	mustRun(t, 0, env, "apply", "-auto-approve", "-dir", dir)
	mustRun(t, 0, env, "plan", "-detailed-exitcode", "-dir", dir)
	list := mustRun(t, 0, env, "state", "list", "-dir", dir)
	if n := strings.Count(list, "queue."); n != 6 {
		t.Fatalf("state list shows %d queues, want 6:\n%s", n, list)
	}
}

func TestDriftIsReportedAndRepaired(t *testing.T) {
	acct := newAccount(t, emulator.Options{})
	dir := copyExample(t)
	mustRun(t, 0, acct.env, "apply", "-auto-approve", "-dir", dir)
	mustRun(t, 0, acct.env, "drift", "-dir", dir)

	// Out of band: someone sets max_retries of the agent consumer to 0 through the API.
	c := acct.client(t)
	ctx := context.Background()
	qs, err := c.ListQueues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	changed := false
	for _, q := range qs {
		if q.Name == "monotask-staging-agent-jobs" {
			con := q.Consumers[0]
			con.MaxRetries = 0
			if err := c.UpdateConsumer(ctx, q.ID, con); err != nil {
				t.Fatal(err)
			}
			changed = true
		}
	}
	if !changed {
		t.Fatal("agent jobs queue not found")
	}
	out := mustRun(t, ExitChanges, acct.env, "drift", "-dir", dir)
	for _, want := range []string{"queue.agent_jobs", `consumer (worker = "agent-worker-staging")`, "max_retries: 3 -> 0 (changed outside flareops); apply sets it back to 3"} {
		if !strings.Contains(out, want) {
			t.Errorf("drift report lacks %q:\n%s", want, out)
		}
	}
	js := mustRun(t, ExitChanges, acct.env, "drift", "-format", "json", "-dir", dir)
	if !strings.Contains(js, `"address": "queue.agent_jobs"`) {
		t.Errorf("JSON drift report lacks the address:\n%s", js)
	}
	mustRun(t, 0, acct.env, "apply", "-auto-approve", "-dir", dir)
	mustRun(t, 0, acct.env, "drift", "-dir", dir)
}

func TestRemovedBlockIsDeletedUnlessProtected(t *testing.T) {
	acct := newAccount(t, emulator.Options{})
	dir := copyExample(t)
	mustRun(t, 0, acct.env, "apply", "-auto-approve", "-dir", dir)

	src, err := os.ReadFile(filepath.Join(dir, "queues.flareops.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	// Remove the GitHub queue and its DLQ (which has prevent_destroy).
	cut := strings.Index(string(src), "# GitHub webhook events")
	if cut < 0 {
		t.Fatal("example changed: GitHub section not found")
	}
	if err := os.WriteFile(filepath.Join(dir, "queues.flareops.hcl"), src[:cut], 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, acct.env, "plan", "-dir", dir)
	if code != 1 || !strings.Contains(errOut, "queue.github_webhooks_dlq") || !strings.Contains(errOut, "prevent_destroy") {
		t.Fatalf("plan: exit %d, want 1 with a prevent_destroy refusal:\n%s", code, errOut)
	}

	// Keep the DLQ (protected), remove only the worker queue: its deletion is planned.
	keep := string(src[:cut]) + `
queue "github_webhooks_dlq" {
  name              = "${local.prefix}-github-webhooks-dlq"
  message_retention = "14d"
  prevent_destroy   = true
}
`
	if err := os.WriteFile(filepath.Join(dir, "queues.flareops.hcl"), []byte(keep), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, 2, acct.env, "plan", "-detailed-exitcode", "-dir", dir)
	if !strings.Contains(out, `queue.github_webhooks ("monotask-staging-github-webhooks", id `) || !strings.Contains(out, "will be destroyed") || !strings.Contains(out, "1 to delete") {
		t.Fatalf("plan does not delete the removed queue:\n%s", out)
	}
	mustRun(t, 0, acct.env, "apply", "-auto-approve", "-dir", dir)
	mustRun(t, 0, acct.env, "plan", "-detailed-exitcode", "-dir", dir)
}

func TestSavedPlanIsAppliedExactlyOrRefused(t *testing.T) {
	acct := newAccount(t, emulator.Options{})
	dir := copyExample(t)
	planFile := filepath.Join(t.TempDir(), "plan.json")
	mustRun(t, 0, acct.env, "plan", "-out", planFile, "-dir", dir)
	// Someone else creates an unrelated queue in the shared account: the plan still holds,
	// and applies from another working directory (the file records its configuration).
	if _, err := acct.client(t).CreateQueue(context.Background(), "unrelated-queue"); err != nil {
		t.Fatal(err)
	}
	mustRun(t, 0, acct.env, "apply", planFile)
	mustRun(t, 0, acct.env, "plan", "-detailed-exitcode", "-dir", dir)

	// One of the plan's own objects is taken after the plan: refused, naming it.
	writeFile(t, dir, "extra.flareops.hcl", "queue \"extra\" {\n  name = \"extra-q\"\n  message_retention = \"2d\"\n}\n")
	mustRun(t, 0, acct.env, "plan", "-out", planFile, "-dir", dir)
	if _, err := acct.client(t).CreateQueue(context.Background(), "extra-q"); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, acct.env, "apply", planFile)
	if code != 1 || !strings.Contains(errOut, "queue.extra") || !strings.Contains(errOut, "already exists") {
		t.Fatalf("apply of a plan whose queue was taken since: exit %d\n%s", code, errOut)
	}
	os.Remove(filepath.Join(dir, "extra.flareops.hcl"))
	// The configuration moves.
	mustRun(t, 0, acct.env, "plan", "-out", planFile, "-dir", dir, "-var", "env=prod")
	code, _, errOut = run(t, acct.env, "apply", planFile)
	if code != 1 || !strings.Contains(errOut, "configuration (or a variable) changed") {
		t.Fatalf("apply with other variables: exit %d\n%s", code, errOut)
	}
}

var fileLineCol = regexp.MustCompile(`[a-z_]+\.flareops\.hcl:\d+:\d+`)

func TestInvalidInputExitsOneWithLocation(t *testing.T) {
	cases := map[string]string{
		"syntax":               "queue \"a\" {\n  name = \n}\n",
		"unknown attr":         "queue \"a\" {\n  name = \"a\"\n  retention = \"4d\"\n}\n",
		"wrong type":           "queue \"a\" {\n  name = \"a\"\n  consumer {\n    worker = \"w\"\n    max_retries = \"three\"\n  }\n}\n",
		"out of range":         "queue \"a\" {\n  name = \"a\"\n  consumer {\n    worker = \"w\"\n    batch_size = 500\n  }\n}\n",
		"duplicate":            "queue \"a\" {\n  name = \"a\"\n}\nqueue \"a\" {\n  name = \"b\"\n}\n",
		"undefined ref":        "queue \"a\" {\n  name = \"a\"\n  consumer {\n    worker = \"w\"\n    dead_letter_queue = queue.nope\n  }\n}\n",
		"cycle":                "queue \"a\" {\n  name = \"a\"\n  consumer {\n    worker = \"w\"\n    dead_letter_queue = queue.b\n  }\n}\nqueue \"b\" {\n  name = \"b\"\n  consumer {\n    worker = \"w\"\n    dead_letter_queue = queue.a\n  }\n}\n",
		"missing worker":       "queue \"a\" {\n  name = \"a\"\n  consumer {\n    batch_size = 5\n  }\n}\n",
		"settings twice":       "flareops {\n  ops_kv_namespace = \"a\"\n}\nflareops {\n  ops_kv_namespace = \"b\"\n}\n",
		"settings typo":        "flareops {\n  ops_kv_namesapce = \"ops\"\n}\n",
		"settings label":       "flareops \"main\" {\n  ops_kv_namespace = \"ops\"\n}\n",
		"settings title":       "flareops {\n  ops_kv_namespace = \" ops\"\n}\n",
		"dataset column twice": "analytics_dataset \"d\" {\n  dataset = \"d\"\n  columns {\n    index = \"service\"\n    blobs = [\"service\"]\n  }\n}\n",
		"dataset blob twice":   "analytics_dataset \"d\" {\n  dataset = \"d\"\n  columns {\n    blobs = [\"a\", \"b\", \"a\"]\n  }\n}\n",
		"dataset 21 blobs":     "analytics_dataset \"d\" {\n  dataset = \"d\"\n  columns {\n    blobs = [" + blobs21() + "]\n  }\n}\n",
		"dataset binding name": "analytics_dataset \"d\" {\n  dataset = \"d\"\n  binding {\n    worker = \"w\"\n    name = \"task-metrics\"\n  }\n}\n",
		"binding name twice":   "analytics_dataset \"a\" {\n  dataset = \"a\"\n  binding {\n    worker = \"w\"\n    name = \"M\"\n  }\n}\nanalytics_dataset \"b\" {\n  dataset = \"b\"\n  binding {\n    worker = \"w\"\n    name = \"M\"\n  }\n}\n",
		"cleanup every 7m":     "flareops {\n  ops_kv_namespace = \"ops\"\n}\nsandbox \"s\" {\n  worker = \"w\"\n  cleanup_every = \"7m\"\n  execution_timeout = \"30m\"\n}\n",
		"cpu_ms twice":         "flareops {\n  ops_kv_namespace = \"ops\"\n}\nsandbox \"s\" {\n  worker = \"w\"\n  cpu_ms = 100\n  execution_timeout = \"30m\"\n}\nworker_settings \"w\" {\n  script = \"w\"\n  cpu_ms = 50\n}\n",
		"sampling rate":        "worker_settings \"w\" {\n  script = \"w\"\n  observability {\n    head_sampling_rate = 1.5\n  }\n}\n",
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
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

// With the account limit at 120 requests per window, applying 300 queues paces itself:
// no request is refused with 429. The window is scaled down (120 per 3 s instead of per
// minute) to keep CI short; the mechanism does not depend on the window's length.
// FLAREOPS_TEST_RATE_WINDOW=1m runs it at full scale (about 2.5 minutes).
func TestApplyPacesItselfUnderTheRateLimit(t *testing.T) {
	window := 3 * time.Second
	if w := os.Getenv("FLAREOPS_TEST_RATE_WINDOW"); w != "" {
		d, err := time.ParseDuration(w)
		if err != nil {
			t.Fatal(err)
		}
		window = d
	}
	acct := newAccount(t, emulator.Options{RateLimit: 120, RateWindow: window})
	acct.env["FLAREOPS_RATE_LIMIT"] = "120/" + window.String()
	dir := t.TempDir()
	var b strings.Builder
	for i := 0; i < 300; i++ {
		b.WriteString("queue \"q" + strconv.Itoa(i) + "\" {\n  name = \"paced-" + strconv.Itoa(i) + "\"\n}\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "many.flareops.hcl"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	mustRun(t, 0, acct.env, "apply", "-auto-approve", "-parallelism", "20", "-dir", dir)
	elapsed := time.Since(start)
	counts := acct.srv.Counts()
	if n := counts.ByStatus[429]; n != 0 {
		t.Fatalf("%d requests drew 429", n)
	}
	t.Logf("300 queues under 120 req/%s: %d requests, %s; the limit allows no less than %d windows", window, counts.Total, elapsed.Round(time.Millisecond), (counts.Total-1)/120)
}

// With 10 % of requests failing (5xx) or dropped after they took effect, apply either
// succeeds or fails cleanly, and reruns converge with no duplicate and no orphan.
func TestApplyConvergesUnderFaults(t *testing.T) {
	acct := newAccount(t, emulator.Options{Faults: emulator.Faults{Seed: 7, FailRate: 0.05, DropRate: 0.05}})
	dir := copyExample(t)
	converged := false
	for attempt := 1; attempt <= 5 && !converged; attempt++ {
		code, out, errOut := run(t, acct.env, "apply", "-auto-approve", "-dir", dir)
		if code != 0 && code != 1 {
			t.Fatalf("apply exit %d\n%s\n%s", code, out, errOut)
		}
		if code == 0 {
			code, _, _ = run(t, acct.env, "plan", "-detailed-exitcode", "-dir", dir)
			converged = code == 0
		}
	}
	if !converged {
		t.Fatal("no convergence after 5 applies under faults")
	}
	acct.srv.SetFaults(emulator.Faults{})
	mustRun(t, 0, acct.env, "plan", "-detailed-exitcode", "-dir", dir)
	qs, err := acct.client(t).ListQueues(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	for _, q := range qs {
		names[q.Name]++
		if len(q.Consumers) > 1 {
			t.Errorf("queue %s has %d consumers", q.Name, len(q.Consumers))
		}
	}
	if len(qs) != 6 {
		t.Errorf("%d queues live, want exactly 6 (no orphans): %v", len(qs), names)
	}
	for n, c := range names {
		if c != 1 {
			t.Errorf("queue %s exists %d times", n, c)
		}
	}
}

func TestApplyAsksAndDestroyRespectsPreventDestroy(t *testing.T) {
	acct := newAccount(t, emulator.Options{})
	dir := copyExample(t)
	answer := func(stdin string, args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := Main(args, IO{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut,
			Getenv: func(k string) string { return acct.env[k] }, Environ: func() []string { return nil }})
		return code, out.String() + errOut.String()
	}
	if code, out := answer("no\n", "apply", "-dir", dir); code != 1 || !strings.Contains(out, "Apply cancelled.") {
		t.Fatalf("apply answered no: exit %d\n%s", code, out)
	}
	if qs, err := acct.client(t).ListQueues(context.Background()); err != nil || len(qs) != 0 {
		t.Fatalf("a declined apply changed the account: %d queues, %v", len(qs), err)
	}
	if code, out := answer("yes\n", "apply", "-dir", dir); code != 0 || !strings.Contains(out, "29 created") {
		t.Fatalf("apply answered yes: exit %d\n%s", code, out)
	}
	code, out := answer("", "destroy", "-auto-approve", "-dir", dir)
	if code != 1 || !strings.Contains(out, "prevent_destroy") {
		t.Fatalf("destroy with protected DLQs: exit %d\n%s", code, out)
	}
	// Unprotect, apply (bookkeeping only), then destroy everything flareops manages.
	for _, f := range []string{"queues.flareops.hcl"} {
		p := filepath.Join(dir, f)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(b), "prevent_destroy   = true", "prevent_destroy   = false")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustRun(t, 0, acct.env, "apply", "-auto-approve", "-dir", dir)
	foreign, err := acct.client(t).CreateQueue(context.Background(), "not-managed-here")
	if err != nil {
		t.Fatal(err)
	}
	if code, out := answer("", "destroy", "-auto-approve", "-dir", dir); code != 0 || !strings.Contains(out, "29 destroyed") {
		t.Fatalf("destroy: exit %d\n%s", code, out)
	}
	qs, err := acct.client(t).ListQueues(context.Background())
	if err != nil || len(qs) != 1 || qs[0].ID != foreign.ID {
		t.Fatalf("after destroy: %+v %v; want only the queue flareops does not manage", qs, err)
	}
}

func TestImportBringsAnExistingQueueUnderManagement(t *testing.T) {
	acct := newAccount(t, emulator.Options{})
	dir := t.TempDir()
	src := "queue \"legacy\" {\n  name = \"legacy-jobs\"\n  message_retention = \"2d\"\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	q, err := acct.client(t).CreateQueue(context.Background(), "legacy-jobs")
	if err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, acct.env, "plan", "-dir", dir)
	if code != 1 || !strings.Contains(errOut, "flareops import -dir "+dir+" queue.legacy legacy-jobs") || !strings.Contains(errOut, q.ID) {
		t.Fatalf("plan over an unmanaged queue: exit %d, want 1 with the import command\n%s", code, errOut)
	}
	if code, _, errOut := run(t, acct.env, "import", "-dir", dir, "queue.legacy", "0123456789abcdef0123456789abcdef"); code != 1 || !strings.Contains(errOut, "no queue with id or name") {
		t.Fatalf("import of a missing id: exit %d\n%s", code, errOut)
	}
	mustRun(t, 0, acct.env, "import", "-dir", dir, "queue.legacy", "legacy-jobs") // by name
	if e := mustRun(t, 0, acct.env, "state", "show", "-dir", dir, "queue.legacy"); !strings.Contains(e, q.ID) {
		t.Fatalf("import by name recorded another id:\n%s", e)
	}
	out := mustRun(t, 2, acct.env, "plan", "-detailed-exitcode", "-dir", dir)
	if !strings.Contains(out, "~ message_retention = 4d -> 2d") {
		t.Fatalf("plan after import does not show the settings change:\n%s", out)
	}
	mustRun(t, 0, acct.env, "apply", "-auto-approve", "-dir", dir)
	mustRun(t, 0, acct.env, "plan", "-detailed-exitcode", "-dir", dir)
	if list := mustRun(t, 0, acct.env, "state", "show", "-dir", dir, "queue.legacy"); !strings.Contains(list, q.ID) {
		t.Fatalf("state show lacks the id:\n%s", list)
	}
	mustRun(t, 0, acct.env, "state", "rm", "-dir", dir, "queue.legacy")
	if list := mustRun(t, 0, acct.env, "state", "list", "-dir", dir); strings.TrimSpace(list) != "" {
		t.Fatalf("state list after rm: %q", list)
	}
}

func TestFmt(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "main.flareops.hcl")
	if err := os.WriteFile(p, []byte("queue \"a\" {\nname=\"a\"\n  message_retention   = \"4d\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, 1, nil, "fmt", "-check", "-dir", dir)
	mustRun(t, 0, nil, "fmt", "-dir", dir)
	mustRun(t, 0, nil, "fmt", "-check", "-dir", dir)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want := "queue \"a\" {\n  name              = \"a\"\n  message_retention = \"4d\"\n}\n"
	if string(b) != want {
		t.Fatalf("formatted:\n%s\nwant:\n%s", b, want)
	}
	// The example stays formatted.
	mustRun(t, 0, nil, "fmt", "-check", "-dir", filepath.Join("..", "..", "examples", "monotask"))
}

// blobs21 is a list of 21 distinct column names: one more than Analytics Engine allows.
func blobs21() string {
	var names []string
	for i := 0; i < 21; i++ {
		names = append(names, fmt.Sprintf("\"b%d\"", i))
	}
	return strings.Join(names, ", ")
}
