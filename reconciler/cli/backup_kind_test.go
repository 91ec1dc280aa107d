package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

// testRecipient is an age recipient for tests (its identity is nowhere: nothing here
// decrypts).
const testRecipient = "age1905z8n4jahl7a5t47z4prx5v77e9rj4a8xs76a4gmr2l7z27sdqslkgp4h"

// backupSource is a backup block with body lines replaced by lines (attribute → line;
// "" drops it).
func backupSource(label string, lines map[string]string) string {
	body := []struct{ attr, line string }{
		{"kv_namespace", `kv_namespace = "monotask-ops"`},
		{"d1_database", ""},
		{"r2_bucket", ""},
		{"schedule", `schedule     = "0 * * * *"`},
		{"bucket", `bucket       = "monotask-backups"`},
		{"prefix", `prefix       = "kv/ops"`},
		{"retention", "retention {\n    daily   = \"30d\"\n    weekly  = \"90d\"\n    monthly = \"365d\"\n  }"},
		{"encrypt_to", `encrypt_to   = ["` + testRecipient + `"]`},
		{"rpo", `rpo          = "1h"`},
		{"rto", `rto          = "30m"`},
		{"worker", ""},
	}
	src := "backup \"" + label + "\" {\n"
	for _, b := range body {
		line := b.line
		if l, ok := lines[b.attr]; ok {
			line = l
		}
		if line != "" {
			src += "  " + line + "\n"
		}
	}
	return src + "}\n"
}

// TestBackupBadInput: every mistake exits 1 in validate and plan with the file, line and
// column (a schedule's at the schedule); the diagnostics are pinned by
// testdata/backup_invalid.golden.
func TestBackupBadInput(t *testing.T) {
	cases := []struct {
		name, src, where string
	}{
		{"two sources", backupSource("b", map[string]string{"d1_database": `d1_database = "monotask-tasks"`}), "main.flareops.hcl:1:1"},
		{"no source", backupSource("b", map[string]string{"kv_namespace": ""}), "main.flareops.hcl:1:1"},
		{"unknown source kind", backupSource("b", map[string]string{"kv_namespace": `postgres_database = "tasks"`}), "main.flareops.hcl:2:3"},
		{"schedule misses the RPO", backupSource("b", map[string]string{"schedule": `schedule = "0 2 * * *"`}), "main.flareops.hcl:3:14"},
		{"weekdays only against a 24h RPO", backupSource("b", map[string]string{"schedule": `schedule = "0 2 * * MON-FRI"`, "rpo": `rpo = "24h"`}), "main.flareops.hcl:3:14"},
		{"not a cron", backupSource("b", map[string]string{"schedule": `schedule = "daily"`}), "main.flareops.hcl:3:14"},
		{"tier shorter than the RPO", backupSource("b", map[string]string{"rpo": `rpo = "48h"`, "schedule": `schedule = "0 2 * * *"`,
			"retention": "retention {\n    daily   = \"1d\"\n    weekly  = \"90d\"\n    monthly = \"365d\"\n  }"}), "main.flareops.hcl:1:1"},
		{"retention not in days", backupSource("b", map[string]string{"retention": "retention {\n    daily   = \"36h\"\n    weekly  = \"90d\"\n    monthly = \"365d\"\n  }"}), "main.flareops.hcl:1:1"},
		{"no retention", backupSource("b", map[string]string{"retention": ""}), "main.flareops.hcl:1:1"},
		{"secret key instead of a recipient", backupSource("b", map[string]string{"encrypt_to": `encrypt_to = ["AGE-SECRET-KEY-10VSM9MQ3Q5M53ZMT9GDREHG9L2KRE7QW0FH4VMYVLSSVP8Z4SLZQFFJY90"]`}), "main.flareops.hcl:1:1"},
		{"bad bucket name", backupSource("b", map[string]string{"bucket": `bucket = "Monotask_Backups"`}), "main.flareops.hcl:4:12"},
		{"prefix with a trailing slash", backupSource("b", map[string]string{"prefix": `prefix = "kv/ops/"`}), "main.flareops.hcl:5:12"},
		{"backing a bucket up into itself", backupSource("b", map[string]string{"kv_namespace": `r2_bucket = "monotask-backups"`}), "main.flareops.hcl:1:1"},
	}
	var golden strings.Builder
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, cmd := range []string{"validate", "plan"} {
				code, _, errOut := run(t, map[string]string{}, cmd, "-dir", dir)
				if code != 1 {
					t.Fatalf("%s: exit %d, want 1\n%s", cmd, code, errOut)
				}
				if !strings.Contains(errOut, tc.where) {
					t.Errorf("%s: the diagnostic is not at %s:\n%s", cmd, tc.where, errOut)
				}
				if strings.Contains(errOut, "10VSM9MQ3Q5M53ZMT9GDREHG9L2KRE7QW0FH4VMYVLSSVP8Z4SLZQFFJY90") {
					t.Errorf("%s prints the secret key given as a recipient:\n%s", cmd, errOut)
				}
				if cmd == "validate" {
					golden.WriteString("== " + tc.name + "\n" + strings.ReplaceAll(errOut, dir+string(filepath.Separator), "") + "\n")
				}
			}
		})
	}
	checkGoldenText(t, "backup_invalid.golden", golden.String())
}

// foreignBackupRules are lifecycle rules someone else keeps on the destination bucket.
const foreignBackupRules = `[
 {"id":"Default Multipart Abort Rule","enabled":true,"conditions":{"prefix":""},"abortMultipartUploadsTransition":{"condition":{"type":"Age","maxAge":604800}}},
 {"id":"logs-expire","enabled":true,"conditions":{"prefix":"logs/"},"deleteObjectsTransition":{"condition":{"type":"Age","maxAge":1209600}},"storageClassTransitions":[{"condition":{"type":"Age","maxAge":259200},"storageClass":"InfrequentAccess"}]},
 {"id":"tmp-until","enabled":false,"conditions":{"prefix":"tmp/"},"deleteObjectsTransition":{"condition":{"type":"Date","date":"2030-01-01T00:00:00Z"}}}
]`

func lifecycleOf(t *testing.T, c *cloudflare.Client, bucket string) []map[string]any {
	t.Helper()
	var out struct {
		Rules []map[string]any `json:"rules"`
	}
	if _, err := c.Raw().Do(context.Background(), http.MethodGet, "accounts/"+c.AccountID()+"/r2/buckets/"+bucket+"/lifecycle", nil, nil, &out); err != nil {
		t.Fatal(err)
	}
	return out.Rules
}

func putLifecycle(t *testing.T, c *cloudflare.Client, bucket, rules string) {
	t.Helper()
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(rules), &raw); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Raw().Do(context.Background(), http.MethodPut, "accounts/"+c.AccountID()+"/r2/buckets/"+bucket+"/lifecycle", nil, map[string]any{"rules": raw}, nil); err != nil {
		t.Fatal(err)
	}
}

// foreignOnly keeps the rules that are not flareops's.
func foreignOnly(rules []map[string]any) []map[string]any {
	var out []map[string]any
	for _, r := range rules {
		if id, _ := r["id"].(string); !strings.HasPrefix(id, "flareops-backup:") {
			out = append(out, r)
		}
	}
	return out
}

func advanceClock(t *testing.T, a *account, d string) {
	t.Helper()
	resp, err := http.Post(a.url+"/__flareops/admin/clock", "application/json", strings.NewReader(`{"advance":"`+d+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("advance the clock by %s: HTTP %d", d, resp.StatusCode)
	}
}

// TestBackupPlanApply: create, drift, update, import and destroy of a backup into a bucket
// that has rules of its own, which survive every step field by field; then the clock.
func TestBackupPlanApply(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	c := a.client(t)
	ctx := context.Background()
	if _, err := c.CreateKVNamespace(ctx, "monotask-ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateR2Bucket(ctx, "monotask-backups"); err != nil {
		t.Fatal(err)
	}
	putLifecycle(t, c, "monotask-backups", foreignBackupRules)
	foreign := lifecycleOf(t, c, "monotask-backups")

	dir := t.TempDir()
	write := func(src string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(backupSource("ops_kv", nil))
	out := mustRun(t, 2, a.env, "plan", "-detailed-exitcode", "-dir", dir)
	for _, want := range []string{
		"kv/ops/daily/ objects expire after 30 days",
		"kv/ops/weekly/ objects expire after 90 days",
		"kv/ops/monthly/ objects expire after 365 days",
		"encrypted with age to 1 recipient",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan does not say %q:\n%s", want, out)
		}
	}
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	mustRun(t, 0, a.env, "plan", "-detailed-exitcode", "-dir", dir)
	after := lifecycleOf(t, c, "monotask-backups")
	if diff := cmp.Diff(foreign, foreignOnly(after)); diff != "" {
		t.Errorf("foreign rules changed by apply (-before +after):\n%s", diff)
	}
	var ours []string
	for _, r := range after {
		if id := r["id"].(string); strings.HasPrefix(id, "flareops-backup:") {
			ours = append(ours, fmt.Sprintf("%s %v %v", id, r["conditions"].(map[string]any)["prefix"], r["deleteObjectsTransition"].(map[string]any)["condition"].(map[string]any)["maxAge"]))
		}
	}
	wantOurs := []string{
		"flareops-backup:kv/ops:daily kv/ops/daily/ 2.592e+06",
		"flareops-backup:kv/ops:weekly kv/ops/weekly/ 7.776e+06",
		"flareops-backup:kv/ops:monthly kv/ops/monthly/ 3.1536e+07",
	}
	if diff := cmp.Diff(wantOurs, ours); diff != "" {
		t.Errorf("flareops's rules (-want +got):\n%s", diff)
	}

	// Out-of-band: someone shortens the daily rule. drift says so; apply restores it and
	// keeps the foreign rules.
	edited := strings.Replace(mustJSON(t, after), `"maxAge":2592000`, `"maxAge":86400`, 1)
	putLifecycle(t, c, "monotask-backups", edited)
	out = mustRun(t, 2, a.env, "drift", "-dir", dir)
	if !strings.Contains(out, "retention.daily") {
		t.Errorf("drift does not name retention.daily:\n%s", out)
	}
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	mustRun(t, 0, a.env, "plan", "-detailed-exitcode", "-dir", dir)

	// Update: a shorter daily tier, a schedule every 30 minutes.
	write(backupSource("ops_kv", map[string]string{
		"schedule":  `schedule     = "*/30 * * * *"`,
		"retention": "retention {\n    daily   = \"7d\"\n    weekly  = \"90d\"\n    monthly = \"365d\"\n  }",
	}))
	out = mustRun(t, 2, a.env, "plan", "-detailed-exitcode", "-dir", dir)
	if !strings.Contains(out, "kv/ops/daily/ objects expire after 7 days") {
		t.Errorf("update plan does not say the new daily age:\n%s", out)
	}
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	mustRun(t, 0, a.env, "plan", "-detailed-exitcode", "-dir", dir)

	// Forgotten, then imported by its prefix: the plan is still empty.
	mustRun(t, 0, a.env, "state", "rm", "-dir", dir, "backup.ops_kv")
	mustRun(t, 0, a.env, "import", "-dir", dir, "backup.ops_kv", "kv/ops")
	mustRun(t, 0, a.env, "plan", "-detailed-exitcode", "-dir", dir)

	mustRun(t, 0, a.env, "destroy", "-auto-approve", "-dir", dir)
	final := lifecycleOf(t, c, "monotask-backups")
	if diff := cmp.Diff(foreign, final); diff != "" {
		t.Errorf("after destroy the bucket's rules are not exactly the foreign ones (-want +got):\n%s", diff)
	}
	if _, found, err := c.R2Bucket(ctx, "monotask-backups"); err != nil || !found {
		t.Errorf("destroy removed the destination bucket: %v, %v", found, err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestBackupForeignRuleOverlap: a rule flareops does not own that deletes objects under the
// backup's tiers is a plan error naming it; nothing is written.
func TestBackupForeignRuleOverlap(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	c := a.client(t)
	ctx := context.Background()
	if _, err := c.CreateKVNamespace(ctx, "monotask-ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateR2Bucket(ctx, "monotask-backups"); err != nil {
		t.Fatal(err)
	}
	putLifecycle(t, c, "monotask-backups", `[{"id":"purge-all","enabled":true,"conditions":{"prefix":""},"deleteObjectsTransition":{"condition":{"type":"Age","maxAge":604800}}}]`)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(backupSource("ops_kv", nil)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, a.env, "plan", "-dir", dir)
	if code != 1 || !strings.Contains(errOut, `lifecycle rule "purge-all"`) || !strings.Contains(errOut, "main.flareops.hcl:1") {
		t.Errorf("plan: exit %d, want 1 naming the rule and the block:\n%s", code, errOut)
	}
	if rules := lifecycleOf(t, c, "monotask-backups"); len(rules) != 1 {
		t.Errorf("the plan wrote rules: %v", rules)
	}
}

// TestBackupExpiryMatchesPlan: advancing the emulator's clock past each tier's age makes R2
// expire exactly the objects under that tier, as the plan said; drill reports and other
// prefixes stay.
func TestBackupExpiryMatchesPlan(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	c := a.client(t)
	ctx := context.Background()
	if _, err := c.CreateKVNamespace(ctx, "monotask-ops"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(backupSource("ops_kv", map[string]string{
		"retention": "retention {\n    daily   = \"3d\"\n    weekly  = \"10d\"\n    monthly = \"40d\"\n  }",
	})), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := mustRun(t, 2, a.env, "plan", "-detailed-exitcode", "-dir", dir)
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	r2, err := cloudflare.NewR2(cloudflare.R2Config{Endpoint: a.url, AccessKeyID: "k", SecretAccessKey: "s", MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{
		"kv/ops/daily/20261201T000000Z/manifest.json", "kv/ops/daily/20261201T000000Z/part-0000.age",
		"kv/ops/weekly/20261130T000000Z/manifest.json",
		"kv/ops/monthly/20261101T000000Z/manifest.json",
		"kv/ops/drills/20261202T000000Z.json",
		"other/file.txt",
	}
	for _, k := range keys {
		if _, err := r2.Put(ctx, "monotask-backups", k, []byte(k), cloudflare.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	list := func() []string {
		var out []string
		if err := r2.List(ctx, "monotask-backups", "", func(o cloudflare.R2Object) error { out = append(out, o.Key); return nil }); err != nil {
			t.Fatal(err)
		}
		slices.Sort(out)
		return out
	}
	without := func(prefixes ...string) []string {
		var out []string
		for _, k := range keys {
			if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(k, p) }) {
				out = append(out, k)
			}
		}
		slices.Sort(out)
		return out
	}
	steps := []struct {
		advance, tier, age string
		gone               []string
	}{
		{"73h", "daily", "3 days", []string{"kv/ops/daily/"}},
		{"168h", "weekly", "10 days", []string{"kv/ops/daily/", "kv/ops/weekly/"}},
		{"720h", "monthly", "40 days", []string{"kv/ops/daily/", "kv/ops/weekly/", "kv/ops/monthly/"}},
	}
	// Just before the first age, nothing is gone.
	advanceClock(t, a, "71h")
	if diff := cmp.Diff(without(), list()); diff != "" {
		t.Errorf("before any tier's age (-want +got):\n%s", diff)
	}
	for i, s := range steps {
		if !strings.Contains(plan, "kv/ops/"+s.tier+"/ objects expire after "+s.age) {
			t.Fatalf("the plan did not say %s objects expire after %s:\n%s", s.tier, s.age, plan)
		}
		d := s.advance
		if i == 0 {
			d = "2h" // 71h + 2h = 73h
		}
		advanceClock(t, a, d)
		if diff := cmp.Diff(without(s.gone...), list()); diff != "" {
			t.Errorf("past the %s age (-want +got):\n%s", s.tier, diff)
		}
	}
}

// TestBackupsShareABucket: three backups (D1, KV, R2) into one bucket, applied together,
// keep each other's rules; one runs on a Worker whose own crons are kept. A steady-state
// plan reads the bucket's rules once for all three.
func TestBackupsShareABucket(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	c := a.client(t)
	ctx := context.Background()
	if err := c.SetWorkerCrons(ctx, "agent-worker-staging", []string{"0 * * * *"}); err != nil {
		t.Fatal(err)
	}
	src := backupSource("kv", map[string]string{"kv_namespace": `kv_namespace = "monotask-staging-kv"`, "worker": `worker = "agent-worker-staging"`, "schedule": `schedule = "15 * * * *"`}) +
		backupSource("db", map[string]string{"kv_namespace": "", "d1_database": `d1_database = "monotask-staging-db"`, "prefix": `prefix = "d1/db"`, "schedule": `schedule = "0 2 * * *"`, "rpo": `rpo = "24h"`}) +
		backupSource("artifacts", map[string]string{"kv_namespace": "", "r2_bucket": `r2_bucket = "monotask-staging-artifacts"`, "prefix": `prefix = "r2/artifacts"`, "schedule": `schedule = "30 2 * * *"`, "rpo": `rpo = "24h"`})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, 2, a.env, "plan", "-detailed-exitcode", "-dir", dir)
	if !strings.Contains(out, "cron `15 * * * *` added to Worker agent-worker-staging") {
		t.Errorf("plan does not say the cron is added:\n%s", out)
	}
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-parallelism", "3", "-dir", dir)
	var ids []string
	for _, r := range lifecycleOf(t, c, "monotask-backups") {
		ids = append(ids, r["id"].(string))
	}
	slices.Sort(ids)
	want := []string{"Default Multipart Abort Rule"}
	for _, p := range []string{"d1/db", "kv/ops", "r2/artifacts"} {
		for _, tier := range []string{"daily", "monthly", "weekly"} {
			want = append(want, "flareops-backup:"+p+":"+tier)
		}
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("rules of the shared bucket (-want +got):\n%s", diff)
	}
	crons, err := c.WorkerCrons(ctx, "agent-worker-staging")
	if err != nil || strings.Join(crons, ",") != "0 * * * *,15 * * * *" {
		t.Errorf("Worker crons after apply: %q, %v", crons, err)
	}
	a.srv.ResetCounts()
	mustRun(t, 0, a.env, "plan", "-detailed-exitcode", "-dir", dir)
	counts := a.srv.Counts()
	lifecycle := 0
	for route, n := range counts.ByRoute {
		if strings.HasSuffix(route, "/lifecycle") {
			lifecycle += n
		}
	}
	if lifecycle != 1 {
		t.Errorf("a steady-state plan of 3 backups into one bucket read its rules %d times, want 1 (%v)", lifecycle, counts.ByRoute)
	}
	t.Logf("steady-state plan of 3 backups (one on a Worker): %d requests: %v", counts.Total, counts.ByRoute)

	mustRun(t, 0, a.env, "destroy", "-auto-approve", "-dir", dir)
	if rules := lifecycleOf(t, c, "monotask-backups"); len(rules) != 1 {
		t.Errorf("after destroy: %v, want only R2's default rule", rules)
	}
	if crons, _ := c.WorkerCrons(ctx, "agent-worker-staging"); strings.Join(crons, ",") != "0 * * * *" {
		t.Errorf("Worker crons after destroy: %q", crons)
	}
}

// TestBackupsInOnePlace: two backups with one prefix (the loader refuses two blocks with one
// key, at the second's prefix), one inside the other in one bucket, and a missing source
// are plan errors naming the blocks.
func TestBackupsInOnePlace(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	for name, tc := range map[string]struct{ src, want string }{
		"same prefix": {backupSource("one", nil) + backupSource("two", map[string]string{"bucket": `bucket = "other-backups"`}),
			"main.flareops.hcl:19:18"}, // the loader's check of keys: also in validate
		"nested prefix": {backupSource("one", nil) + backupSource("two", map[string]string{"prefix": `prefix = "kv/ops/daily"`}),
			"one prefix lies inside the other"},
		"missing source": {backupSource("one", map[string]string{"kv_namespace": `kv_namespace = "monotask-staging-kvv"`}),
			`the KV namespace to back up, "monotask-staging-kvv", does not exist in the account. Did you mean "monotask-staging-kv"?`},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := run(t, a.env, "plan", "-dir", dir)
			if code != 1 || !strings.Contains(strings.ReplaceAll(errOut, dir+string(filepath.Separator), ""), tc.want) {
				t.Errorf("plan: exit %d, want 1 with %q:\n%s", code, tc.want, errOut)
			}
		})
	}
}

// TestBackupDeclarationOnlyChange: a change to what only the declaration holds (the RTO,
// the recipients) is an update that the plan explains and the apply records without a
// write to the account.
func TestBackupDeclarationOnlyChange(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	if _, err := a.client(t).CreateKVNamespace(context.Background(), "monotask-ops"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(src string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(backupSource("ops_kv", nil))
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	write(backupSource("ops_kv", map[string]string{"rto": `rto = "45m"`, "encrypt_to": ""}))
	out := mustRun(t, 2, a.env, "plan", "-detailed-exitcode", "-dir", dir)
	for _, want := range []string{"`flareops backup drill` fails when a restore takes longer than 45m", "new backups are stored unencrypted"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan does not say %q:\n%s", want, out)
		}
	}
	a.srv.ResetCounts()
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	for route, n := range a.srv.Counts().ByRoute {
		if !strings.HasPrefix(route, "GET ") {
			t.Errorf("a declaration-only change sent %d × %s", n, route)
		}
	}
	mustRun(t, 0, a.env, "plan", "-detailed-exitcode", "-dir", dir)
}
