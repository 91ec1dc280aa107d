package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

func writeFile(t *testing.T, dir, name, src string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

func queueByName(t *testing.T, c *cloudflare.Client, name string) (cloudflare.Queue, bool) {
	t.Helper()
	qs, err := c.ListQueues(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if q.Name == name {
			return q, true
		}
	}
	return cloudflare.Queue{}, false
}

// The first dangerous case of issue 7: a managed queue is deleted and someone else creates
// one of the same name with their own consumer. flareops must not say "create", and apply
// must not take it over.
func TestNoTakeoverOfAQueueSomeoneElseCreated(t *testing.T) {
	acct := newAccount(t, emulator.Options{})
	dir := t.TempDir()
	writeFile(t, dir, "main.flareops.hcl", "queue \"legacy\" {\n  name = \"legacy-jobs\"\n  consumer {\n    worker = \"our-worker\"\n    max_retries = 5\n  }\n}\n")
	mustRun(t, 0, acct.env, "apply", "-auto-approve", "-dir", dir)
	c := acct.client(t)
	ctx := context.Background()
	ours, _ := queueByName(t, c, "legacy-jobs")
	if err := c.DeleteConsumer(ctx, ours.ID, ours.Consumers[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteQueue(ctx, ours.ID); err != nil {
		t.Fatal(err)
	}
	theirs, err := c.CreateQueue(ctx, "legacy-jobs")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateConsumer(ctx, theirs.ID, cloudflare.Consumer{Type: "worker", Script: "their-worker", BatchSize: 7, MaxRetries: 1, MaxWaitMs: 1000}); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := run(t, acct.env, "plan", "-dir", dir)
	if code != 1 || strings.Contains(out, "create") || !strings.Contains(errOut, "flareops import -dir "+dir+" queue.legacy "+theirs.ID) || !strings.Contains(errOut, "deleted outside flareops") {
		t.Fatalf("plan: exit %d, want 1 naming the object and the import command\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if strings.Count(errOut, "legacy-jobs") > 3 {
		t.Errorf("the error repeats itself:\n%s", errOut)
	}
	code, _, _ = run(t, acct.env, "apply", "-auto-approve", "-dir", dir)
	if code != 1 {
		t.Fatalf("apply: exit %d, want 1", code)
	}
	q, _ := queueByName(t, c, "legacy-jobs")
	if q.ID != theirs.ID || len(q.Consumers) != 1 || q.Consumers[0].Script != "their-worker" || q.Consumers[0].MaxRetries != 1 {
		t.Fatalf("their queue was changed: %+v", q)
	}
}

// The second dangerous case: a missing token with the other settings present is an error
// before any request, and no state is written anywhere.
func TestPartialSettingsAreRefusedBeforeAnyRequest(t *testing.T) {
	acct := newAccount(t, emulator.Options{})
	dir := copyExample(t)
	env := map[string]string{"CLOUDFLARE_ACCOUNT_ID": acct.env["CLOUDFLARE_ACCOUNT_ID"], "CLOUDFLARE_BASE_URL": acct.env["CLOUDFLARE_BASE_URL"]}
	for _, cmd := range [][]string{{"plan"}, {"apply", "-auto-approve"}, {"drift"}, {"destroy", "-auto-approve"}, {"state", "list"}, {"import", "queue.agent_jobs", "x"}} {
		args := append(append([]string{}, cmd...), "-dir", dir)
		if cmd[0] == "import" {
			args = []string{"import", "-dir", dir, "queue.agent_jobs", "x"}
		}
		if cmd[0] == "state" {
			args = []string{"state", "list", "-dir", dir}
		}
		code, _, errOut := run(t, env, args...)
		if code != 1 || !strings.Contains(errOut, "CLOUDFLARE_API_TOKEN is not") {
			t.Errorf("%v: exit %d, want 1 naming the missing token\n%s", cmd, code, errOut)
		}
	}
	if n := acct.srv.Counts().Total; n != 0 {
		t.Errorf("%d requests were sent", n)
	}
	if _, err := os.Stat(filepath.Join(dir, reconciler.StateDir)); err == nil {
		t.Error("a refused command wrote .flareops/")
	}
	// A token without an account id is refused too.
	code, _, errOut := run(t, map[string]string{"CLOUDFLARE_API_TOKEN": "t"}, "plan", "-dir", dir)
	if code != 1 || !strings.Contains(errOut, "CLOUDFLARE_ACCOUNT_ID is not") {
		t.Errorf("token only: exit %d\n%s", code, errOut)
	}
}

func TestStateOfAnotherAccountIsRefused(t *testing.T) {
	acct := newAccount(t, emulator.Options{})
	dir := copyExample(t)
	mustRun(t, 0, acct.env, "apply", "-auto-approve", "-dir", dir)
	other := map[string]string{}
	for k, v := range acct.env {
		other[k] = v
	}
	other["CLOUDFLARE_ACCOUNT_ID"] = "fedcba9876543210fedcba9876543210"
	code, _, errOut := run(t, other, "plan", "-dir", dir)
	if code != 1 || !strings.Contains(errOut, LocalAccountID) || !strings.Contains(errOut, "fedcba9876543210fedcba9876543210") {
		t.Fatalf("plan with another account: exit %d, want 1 naming both\n%s", code, errOut)
	}
	// The built-in local Cloudflare keeps its own state: the account's is not touched.
	before, _ := os.ReadFile(filepath.Join(dir, ".flareops", "state.json"))
	out := mustRun(t, 0, map[string]string{}, "plan", "-dir", dir)
	if !strings.Contains(out, "29 to create") {
		t.Fatalf("local plan sees the account's state:\n%s", out)
	}
	after, _ := os.ReadFile(filepath.Join(dir, ".flareops", "state.json"))
	if string(before) != string(after) {
		t.Fatal("the local Cloudflare run rewrote the account's state")
	}
}

func TestWorkspacesApplySideBySide(t *testing.T) {
	dir := copyExample(t)
	dev := map[string]string{}
	prod := map[string]string{"FLAREOPS_WORKSPACE": "prod"}
	mustRun(t, 0, dev, "apply", "-auto-approve", "-dir", dir, "-workspace", "dev", "-var", "env=dev")
	mustRun(t, 0, prod, "apply", "-auto-approve", "-dir", dir, "-var", "env=prod")
	mustRun(t, 0, dev, "plan", "-detailed-exitcode", "-dir", dir, "-workspace", "dev", "-var", "env=dev")
	mustRun(t, 0, prod, "plan", "-detailed-exitcode", "-dir", dir, "-var", "env=prod")
	for ws, env := range map[string]map[string]string{"dev": dev, "prod": prod} {
		args := []string{"state", "show", "-dir", dir, "queue.agent_jobs"}
		if ws == "dev" {
			args = append(args[:4:4], "-workspace", "dev", "queue.agent_jobs")
		}
		out := mustRun(t, 0, env, args...)
		if !strings.Contains(out, "monotask-"+ws+"-agent-jobs") {
			t.Errorf("workspace %s holds another workspace's queue:\n%s", ws, out)
		}
	}
	// Another environment's variables in dev's workspace rename everything: the plan says so first.
	code, out, errOut := run(t, dev, "plan", "-dir", dir, "-workspace", "dev", "-var", "env=qa")
	if code != 0 || !strings.Contains(out+errOut, "another workspace") {
		t.Fatalf("no warning for a plan that renames everything:\n%s", out)
	}
	if code, _, errOut := run(t, dev, "plan", "-dir", dir, "-workspace", "../x"); code != 1 || !strings.Contains(errOut, "workspace") {
		t.Fatalf("bad workspace name: exit %d\n%s", code, errOut)
	}
}

func TestEmptyConfigurationDeletesNothing(t *testing.T) {
	acct := newAccount(t, emulator.Options{})
	dir := copyExample(t)
	mustRun(t, 0, acct.env, "apply", "-auto-approve", "-dir", dir)
	files, _ := filepath.Glob(filepath.Join(dir, "*.flareops.hcl"))
	for _, f := range files {
		writeFile(t, dir, filepath.Base(f), "# everything commented out\n")
	}
	for _, args := range [][]string{{"plan", "-dir", dir}, {"apply", "-auto-approve", "-dir", dir}} {
		code, _, errOut := run(t, acct.env, args...)
		if code != 1 || !strings.Contains(errOut, "flareops destroy -dir "+dir) {
			t.Fatalf("%s: exit %d, want 1 pointing at destroy\n%s", args[0], code, errOut)
		}
	}
	qs, err := acct.client(t).ListQueues(context.Background())
	if err != nil || len(qs) != 6 {
		t.Fatalf("queues left: %d (%v), want 6", len(qs), err)
	}
}

// Two checkouts with separate states apply one configuration at once: every queue ends up
// in exactly one state, and destroy in one deletes nothing of the other's.
func TestTwoCheckoutsApplyingAtOnce(t *testing.T) {
	acct := newAccount(t, emulator.Options{})
	var src strings.Builder
	for i := 0; i < 40; i++ {
		src.WriteString("queue \"q" + itoa(i) + "\" {\n  name = \"shared-" + itoa(i) + "\"\n}\n")
	}
	a, b := t.TempDir(), t.TempDir()
	writeFile(t, a, "main.flareops.hcl", src.String())
	writeFile(t, b, "main.flareops.hcl", src.String())
	var wg sync.WaitGroup
	for _, d := range []string{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(t, acct.env, "apply", "-auto-approve", "-parallelism", "4", "-dir", d) // one of them fails, on the other's names
		}()
	}
	wg.Wait()
	ids := map[string]string{}
	for _, d := range []string{a, b} {
		st, err := reconciler.LoadState(d, reconciler.Target{Kind: "account", AccountID: LocalAccountID, BaseURL: acct.env["CLOUDFLARE_BASE_URL"], Workspace: reconciler.DefaultWorkspace})
		if err != nil {
			t.Fatal(err)
		}
		for _, addr := range st.Addresses() {
			e, _ := st.Get(addr)
			if e.ID == "" {
				continue
			}
			if other, dup := ids[e.ID]; dup {
				t.Fatalf("queue %s is in two states: %s and %s", e.ID, other, d)
			}
			ids[e.ID] = d
		}
	}
	if len(ids) != 40 {
		t.Fatalf("%d queues recorded, want 40", len(ids))
	}
	// b destroys what it holds; a's queues stay.
	mustRun(t, 0, acct.env, "destroy", "-auto-approve", "-dir", b)
	qs, err := acct.client(t).ListQueues(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, q := range qs {
		left = append(left, q.ID)
		if ids[q.ID] != a {
			t.Errorf("queue %s left but not a's", q.Name)
		}
	}
	sort.Strings(left)
	nA := 0
	for _, d := range ids {
		if d == a {
			nA++
		}
	}
	if len(left) != nA {
		t.Fatalf("%d queues left, want a's %d", len(left), nA)
	}
}

func itoa(i int) string {
	return strings.TrimSpace(strings.Repeat(" ", 0) + string(rune('0'+i/10)) + string(rune('0'+i%10)))
}

func TestDriftExitCodes(t *testing.T) {
	acct := newAccount(t, emulator.Options{})
	dir := t.TempDir()
	writeFile(t, dir, "main.flareops.hcl", "queue \"a\" {\n  name = \"a\"\n}\n")
	mustRun(t, 0, acct.env, "apply", "-auto-approve", "-dir", dir)
	mustRun(t, 0, acct.env, "drift", "-dir", dir)
	// Only the configuration changed: pending, not drift.
	writeFile(t, dir, "main.flareops.hcl", "queue \"a\" {\n  name = \"a\"\n  message_retention = \"2d\"\n}\n")
	mustRun(t, ExitPending, acct.env, "drift", "-dir", dir)
	// Changed outside flareops: drift.
	writeFile(t, dir, "main.flareops.hcl", "queue \"a\" {\n  name = \"a\"\n}\n")
	c := acct.client(t)
	q, _ := queueByName(t, c, "a")
	q.DeliveryPaused = true
	if err := c.UpdateQueue(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, ExitChanges, acct.env, "drift", "-dir", dir)
	if !strings.Contains(out, "paused") {
		t.Fatalf("drift report:\n%s", out)
	}
}

// An apply of 30 queues at -parallelism 10 against a server that allows 10 requests per
// 5 s, with no FLAREOPS_RATE_LIMIT, draws no 429: the client paces itself to the limit the
// server announces (on Cloudflare a 429 blocks the token for every user of it).
func TestPacingFollowsTheLimitTheServerAnnounces(t *testing.T) {
	t.Parallel()
	acct := newAccount(t, emulator.Options{RateLimit: 10, RateWindow: 5 * time.Second})
	dir := t.TempDir()
	var src strings.Builder
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&src, "queue \"q%d\" {\n  name = \"paced-%d\"\n}\n", i, i)
	}
	writeFile(t, dir, "main.flareops.hcl", src.String())
	start := time.Now()
	mustRun(t, 0, acct.env, "apply", "-auto-approve", "-parallelism", "10", "-dir", dir)
	counts := acct.srv.Counts()
	t.Logf("apply of 30 queues against 10 / 5 s: %d requests, %d × 429, %v", counts.Total, counts.ByStatus[http.StatusTooManyRequests], time.Since(start).Round(100*time.Millisecond))
	if n := counts.ByStatus[http.StatusTooManyRequests]; n != 0 {
		t.Fatalf("the server answered 429 %d times, want 0", n)
	}
	if counts.Total < 31 {
		t.Fatalf("%d requests: the apply did not create 30 queues", counts.Total)
	}
}

// A Worker with six bindings and two crons flareops does not own keeps them all, field by
// field (the secret's value included), after an apply that binds a dataset in it and after
// destroy.
func TestDatasetKeepsTheWorkersOtherBindingsAndCrons(t *testing.T) {
	acct := newAccount(t, emulator.Options{})
	c := acct.client(t)
	ctx := context.Background()
	if err := c.UploadScript(ctx, "gateway", "export default {};\n"); err != nil {
		t.Fatal(err)
	}
	foreign := []string{
		`{"type":"kv_namespace","name":"CACHE","namespace_id":"0123456789abcdef0123456789abcdef"}`,
		`{"type":"d1","name":"DB","id":"7b1c2d3e-0000-4000-8000-000000000001"}`,
		`{"type":"r2_bucket","name":"FILES","bucket_name":"files"}`,
		`{"type":"service","name":"AUTH","service":"auth-worker","environment":"production"}`,
		`{"type":"secret_text","name":"API_KEY","text":"hunter2"}`,
		`{"type":"plain_text","name":"MODE","text":"prod"}`,
	}
	var st cloudflare.WorkerSettings
	for _, b := range foreign {
		st.Bindings = append(st.Bindings, json.RawMessage(b))
	}
	if err := c.SetWorkerSettings(ctx, "gateway", st); err != nil {
		t.Fatal(err)
	}
	if err := c.SetWorkerCrons(ctx, "gateway", []string{"0 * * * *", "30 2 * * *"}); err != nil {
		t.Fatal(err)
	}
	before, err := c.WorkerSettings(ctx, "gateway")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, dir, "main.flareops.hcl", "analytics_dataset \"api\" {\n  dataset = \"api_metrics\"\n  binding {\n    worker = \"gateway\"\n    name   = \"API_METRICS\"\n  }\n}\n")
	mustRun(t, 0, acct.env, "apply", "-auto-approve", "-dir", dir)
	mid, _ := c.WorkerSettings(ctx, "gateway")
	if len(mid.Bindings) != 7 {
		t.Fatalf("after apply: %d bindings, want 7", len(mid.Bindings))
	}
	mustRun(t, 0, acct.env, "plan", "-detailed-exitcode", "-dir", dir)
	mustRun(t, 0, acct.env, "destroy", "-auto-approve", "-dir", dir)
	after, err := c.WorkerSettings(ctx, "gateway")
	if err != nil {
		t.Fatal(err)
	}
	var want, got []map[string]any
	for _, raw := range before.Bindings {
		var m map[string]any
		json.Unmarshal(raw, &m) //nolint:errcheck // read back from the API
		want = append(want, m)
	}
	for _, raw := range after.Bindings {
		var m map[string]any
		json.Unmarshal(raw, &m) //nolint:errcheck // read back from the API
		got = append(got, m)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("bindings after destroy differ, field by field (-before +after):\n%s", diff)
	}
	if secret, _ := acct.srv.SecretText(LocalAccountID, "gateway", "API_KEY"); secret != "hunter2" {
		t.Fatalf("the secret's value is now %q", secret)
	}
	crons, _ := c.WorkerCrons(ctx, "gateway")
	if diff := cmp.Diff([]string{"0 * * * *", "30 2 * * *"}, crons); diff != "" {
		t.Fatalf("crons (-want +got):\n%s", diff)
	}
}

// On a Worker that worker_settings says wrangler deploys, flareops writes nothing: a dataset
// binding is left to wrangler (the plan and drift show the lines to add, apply writes
// nothing), and so are a sandbox's cron and CPU limit there (its policy is published all the same).
func TestNothingIsWrittenToAWranglerWorker(t *testing.T) {
	acct := newAccount(t, emulator.Options{})
	c := acct.client(t)
	ctx := context.Background()
	if err := c.UploadScript(ctx, "gateway", "export default {};\n"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	settings := `worker_settings "gw" {
  script      = "gateway"
  deployed_by = "wrangler"
  observability {
    enabled = true
  }
}
`
	writeFile(t, dir, "main.flareops.hcl", settings+`
analytics_dataset "api" {
  dataset = "api_metrics"
  binding {
    worker = "gateway"
    name   = "API_METRICS"
  }
}
`)
	out := mustRun(t, 0, acct.env, "plan", "-dir", dir)
	for _, want := range []string{"binding API_METRICS to dataset api_metrics is missing", "[[analytics_engine_datasets]]", `"analytics_engine_datasets"`} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	mustRun(t, 0, acct.env, "apply", "-auto-approve", "-dir", dir)
	st, err := c.WorkerSettings(ctx, "gateway")
	if err != nil || len(st.Bindings) != 0 {
		t.Fatalf("apply wrote to a Worker wrangler deploys: %d bindings (%v)", len(st.Bindings), err)
	}
	mustRun(t, 0, acct.env, "plan", "-detailed-exitcode", "-dir", dir) // nothing for apply to do
	mustRun(t, ExitChanges, acct.env, "drift", "-dir", dir)            // until wrangler deploys it

	writeFile(t, dir, "main.flareops.hcl", settings+`
flareops {
  ops_kv_namespace = "ops"
}

sandbox "s" {
  worker            = "gateway"
  cleanup_every     = "5m"
  execution_timeout = "30m"
}
`)
	mustRun(t, 0, acct.env, "validate", "-dir", dir)
	out = mustRun(t, 0, acct.env, "plan", "-dir", dir)
	for _, want := range []string{"cron `*/5 * * * *` (cleanup every 5m) is missing", "[triggers]", `crons = ["*/5 * * * *"]`, "not written: Worker gateway is deployed by wrangler"} {
		if !strings.Contains(out, want) {
			t.Errorf("sandbox plan lacks %q:\n%s", want, out)
		}
	}
	mustRun(t, 0, acct.env, "apply", "-auto-approve", "-dir", dir)
	crons, err := c.WorkerCrons(ctx, "gateway")
	if err != nil || len(crons) != 0 {
		t.Fatalf("apply wrote crons to a Worker wrangler deploys: %v (%v)", crons, err)
	}
	if !hasKVKey(t, c, "ops", "flareops/sandbox/gateway") {
		t.Fatal("the sandbox's policy was not published (it is flareops's wherever the Worker comes from)")
	}
	mustRun(t, 0, acct.env, "plan", "-detailed-exitcode", "-dir", dir)
	if out := mustRun(t, ExitChanges, acct.env, "drift", "-dir", dir); !strings.Contains(out, "2 declarations need changes") {
		t.Fatalf("drift before wrangler deploys the cron:\n%s", out)
	}
	// wrangler deploys the cron: nothing is left to do.
	if err := c.SetWorkerCrons(ctx, "gateway", []string{"*/5 * * * *"}); err != nil {
		t.Fatal(err)
	}
	if out := mustRun(t, ExitChanges, acct.env, "drift", "-dir", dir); strings.Contains(out, "cron") || !strings.Contains(out, "1 declaration needs changes") {
		t.Fatalf("drift after wrangler deployed the cron (only the observability settings are left to it):\n%s", out)
	}
	// Removing the sandbox leaves wrangler's cron where it is.
	writeFile(t, dir, "main.flareops.hcl", settings)
	mustRun(t, 0, acct.env, "apply", "-auto-approve", "-dir", dir)
	if crons, err := c.WorkerCrons(ctx, "gateway"); err != nil || len(crons) != 1 {
		t.Fatalf("destroying the sandbox touched wrangler's cron: %v (%v)", crons, err)
	}
}

// hasKVKey reports whether the namespace titled title has key.
func hasKVKey(t *testing.T, c *cloudflare.Client, title, key string) bool {
	t.Helper()
	ctx := context.Background()
	nss, err := c.ListKVNamespaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range nss {
		if ns.Title != title {
			continue
		}
		keys, err := c.ListKVKeys(ctx, ns.ID, key)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if k.Name == key {
				return true
			}
		}
	}
	return false
}
