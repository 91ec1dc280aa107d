package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

// The test binary stands in for flareops in the child processes of these tests (no
// build of the binary): with FLAREOPS_TEST_AS_CLI=1 it runs the CLI on its arguments, as
// main.go does, and exits.
func init() {
	if os.Getenv("FLAREOPS_TEST_AS_CLI") == "1" {
		os.Exit(Main(os.Args[1:], SystemIO()))
	}
}

// cliBinary is the executable and environment that run the CLI as a child process.
func cliBinary(t *testing.T, env map[string]string) (string, []string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out := append(os.Environ(), "FLAREOPS_TEST_AS_CLI=1")
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return exe, out
}

const (
	stateBucket = "flareops-state"
	stateKey    = "monotask/state.json"
)

// remoteAccount is a test account whose configuration keeps its state in R2.
type remoteAccount struct {
	*account
	r2       *cloudflare.R2
	interval time.Duration
}

func (a *remoteAccount) backend() reconciler.Backend {
	return reconciler.Backend{Type: "r2", Bucket: stateBucket, Key: stateKey, WriteInterval: a.interval}
}

// fastWrites is the per-key write interval of the tests that are about locking and
// killing rather than about R2's real limit of one second: the emulator enforces it and
// flareops keeps it (FLAREOPS_R2_WRITE_INTERVAL), ten times faster.
const fastWrites = 100 * time.Millisecond

// newRemoteAccount serves an account with the state bucket, and points the CLI's R2 at
// it. interval, when not zero, replaces R2's one write per second to one key on both
// sides.
func newRemoteAccount(t *testing.T, opts emulator.Options, interval time.Duration) *remoteAccount {
	t.Helper()
	opts.KeyWriteInterval = interval
	acct := newAccount(t, opts)
	if interval > 0 {
		acct.env["FLAREOPS_R2_WRITE_INTERVAL"] = interval.String()
	}
	acct.env["FLAREOPS_R2_ENDPOINT"] = acct.url
	acct.env["R2_ACCESS_KEY_ID"] = "test-key"
	acct.env["R2_SECRET_ACCESS_KEY"] = "test-secret"
	req, err := http.NewRequest(http.MethodPost, acct.url+emulator.APIPrefix+"/accounts/"+LocalAccountID+"/r2/buckets", strings.NewReader(`{"name":"`+stateBucket+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer setup-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create the state bucket: %s", resp.Status)
	}
	r2, err := cloudflare.NewR2(cloudflare.R2Config{Endpoint: acct.url, AccessKeyID: "test-key", SecretAccessKey: "test-secret"})
	if err != nil {
		t.Fatal(err)
	}
	acct.srv.ResetCounts()
	return &remoteAccount{account: acct, r2: r2, interval: interval}
}

const backendBlock = "flareops {\n  backend \"r2\" {\n    bucket = \"" + stateBucket + "\"\n    key    = \"" + stateKey + "\"\n  }\n}\n"

// queuesConfig declares n queues named prefix-i; every third has a pull consumer.
func queuesConfig(prefix string, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "queue \"q%d\" {\n  name = \"%s-%d\"\n", i, prefix, i)
		if i%3 == 0 {
			b.WriteString("  consumer {\n    type = \"http_pull\"\n  }\n")
		}
		b.WriteString("}\n")
	}
	return b.String()
}

func (a *remoteAccount) target() reconciler.Target {
	return reconciler.Target{Kind: "account", AccountID: LocalAccountID, BaseURL: a.env["CLOUDFLARE_BASE_URL"], Workspace: reconciler.DefaultWorkspace}
}

// remoteState reads the remote state as a later command would.
func (a *remoteAccount) remoteState(t *testing.T) *reconciler.State {
	t.Helper()
	st, err := reconciler.LoadRemoteState(context.Background(), a.r2, a.backend(), a.target())
	if err != nil {
		t.Fatalf("remote state unreadable: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// checkConverged checks that the live queues are exactly the recorded ones: no duplicate
// (two live queues for one address) and no orphan (a live queue no entry records).
func (a *remoteAccount) checkConverged(t *testing.T, st *reconciler.State, want int) {
	t.Helper()
	qs, err := a.client(t).ListQueues(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, addr := range st.Addresses() {
		e, _ := st.Get(addr)
		switch {
		case e.ID != "":
			ids[e.ID] = addr
		case !e.Pending:
			t.Errorf("state entry %s has no id and is not pending", addr)
		}
	}
	for _, q := range qs {
		if _, ok := ids[q.ID]; !ok {
			t.Errorf("orphan: live queue %s (%s) is in no state", q.Name, q.ID)
		}
	}
	if len(qs) != want || len(ids) != want {
		t.Fatalf("%d live queues, %d recorded; want %d", len(qs), len(ids), want)
	}
}

// Apply, plan and the state commands work on a state in R2; nothing is written under
// .flareops/, the target binding is checked, and the previous version is kept.
func TestRemoteStateApplyPlanAndState(t *testing.T) {
	a := newRemoteAccount(t, emulator.Options{}, fastWrites)
	dir := t.TempDir()
	writeFile(t, dir, "main.flareops.hcl", backendBlock+queuesConfig("remote", 3))
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	mustRun(t, 0, a.env, "plan", "-detailed-exitcode", "-dir", dir)
	if out := mustRun(t, 0, a.env, "state", "list", "-dir", dir); out != "queue.q0\nqueue.q1\nqueue.q2\n" {
		t.Errorf("state list = %q", out)
	}
	if _, err := os.Stat(filepath.Join(dir, ".flareops", "state.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a remote state must not be written under .flareops/ (stat: %v)", err)
	}
	st := a.remoteState(t)
	a.checkConverged(t, st, 3)
	// The previous version is kept beside the state.
	prev, _, err := a.r2.GetBytes(context.Background(), stateBucket, stateKey+".backup", 1<<20)
	if err != nil {
		t.Fatalf("no backup of the previous version: %v", err)
	}
	var old reconciler.State
	if err := json.Unmarshal(prev, &old); err != nil || old.Serial >= st.Serial {
		t.Errorf("backup: serial %d (err %v), want a version before %d", old.Serial, err, st.Serial)
	}
	mustRun(t, 0, a.env, "state", "rm", "-dir", dir, "queue.q2")
	if out := mustRun(t, 0, a.env, "state", "list", "-dir", dir); out != "queue.q0\nqueue.q1\n" {
		t.Errorf("after state rm: %q", out)
	}
	// Bound to its target: another account's commands refuse it.
	other := map[string]string{}
	for k, v := range a.env {
		other[k] = v
	}
	other["CLOUDFLARE_ACCOUNT_ID"] = strings.Repeat("ab", 16)
	code, _, errOut := run(t, other, "plan", "-dir", dir)
	if code != 1 || !strings.Contains(errOut, "describes account "+LocalAccountID) {
		t.Errorf("plan against another account: exit %d, stderr %s", code, errOut)
	}
	// The lock was released after each command: a held lock would fail this apply.
	writeFile(t, dir, "main.flareops.hcl", backendBlock+queuesConfig("remote", 2))
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
}

// Two applies against one remote state at once: exactly one proceeds; the other fails
// at once naming the holder (user@host, pid), where it runs and since when.
func TestRemoteStateConcurrentApplies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes; skipped with -short")
	}
	a := newRemoteAccount(t, emulator.Options{Faults: emulator.Faults{Latency: 30 * time.Millisecond}}, 0)
	dir := t.TempDir()
	const n = 12
	writeFile(t, dir, "main.flareops.hcl", backendBlock+queuesConfig("race", n))
	bin, env := cliBinary(t, a.env)
	type result struct {
		pid    int
		err    error
		stderr string
	}
	cmds := make([]*exec.Cmd, 2)
	outs := make([]*strings.Builder, 2)
	for i := range cmds {
		cmds[i] = exec.Command(bin, "apply", "-auto-approve", "-dir", dir)
		cmds[i].Env = env
		outs[i] = &strings.Builder{}
		cmds[i].Stderr = outs[i]
	}
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	res := make([]result, 2)
	for i, c := range cmds {
		err := c.Wait()
		res[i] = result{pid: c.Process.Pid, err: err, stderr: outs[i].String()}
	}
	var won, lost []result
	for _, r := range res {
		if r.err == nil {
			won = append(won, r)
		} else {
			lost = append(lost, r)
		}
	}
	if len(won) != 1 || len(lost) != 1 {
		t.Fatalf("%d applies proceeded and %d failed, want exactly one of each:\n%+v", len(won), len(lost), res)
	}
	holder := fmt.Sprintf("locked by %s (pid %d), running `flareops apply` in %s, since ", whoAmI(), won[0].pid, absDir(dir))
	if !strings.Contains(lost[0].stderr, holder) || !strings.Contains(lost[0].stderr, "flareops state unlock") {
		t.Errorf("the second apply must name the holder (%q) and how to break a stale lock; stderr:\n%s", holder, lost[0].stderr)
	}
	a.checkConverged(t, a.remoteState(t), n)
}

// A lock left by a process that is gone is broken by `state unlock` after confirmation,
// and only the lock it showed.
func TestRemoteStateUnlockStaleLock(t *testing.T) {
	a := newRemoteAccount(t, emulator.Options{}, fastWrites)
	dir := t.TempDir()
	writeFile(t, dir, "main.flareops.hcl", backendBlock+queuesConfig("stale", 2))
	ctx := context.Background()
	b := a.backend()
	ghost := reconciler.LockInfo{ID: "ghost", Who: "ci@runner-7", PID: 4242, Command: "flareops apply", Dir: "/work/ci", Since: time.Now().Add(-3 * time.Hour)}
	if _, err := reconciler.AcquireRemoteLock(ctx, a.r2, b, reconciler.DefaultWorkspace, ghost, "unlock"); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, a.env, "apply", "-auto-approve", "-dir", dir)
	if code != 1 || !strings.Contains(errOut, "locked by ci@runner-7 (pid 4242), running `flareops apply` in /work/ci, since ") {
		t.Fatalf("apply under a held lock: exit %d, stderr:\n%s", code, errOut)
	}
	// Declined: nothing changes.
	code, out, _ := runWithStdin(t, a.env, "no\n", "state", "unlock", "-dir", dir)
	if code != 1 || !strings.Contains(out, "locked by ci@runner-7 (pid 4242)") {
		t.Fatalf("unlock declined: exit %d, stdout:\n%s", code, out)
	}
	if held, err := reconciler.ReadRemoteLock(ctx, a.r2, b, reconciler.DefaultWorkspace); err != nil || held == nil {
		t.Fatalf("a declined unlock must leave the lock: %v %v", held, err)
	}
	code, out, errOut = runWithStdin(t, a.env, "yes\n", "state", "unlock", "-dir", dir)
	if code != 0 || !strings.Contains(out, "Broke the lock") {
		t.Fatalf("unlock: exit %d\n%s%s", code, out, errOut)
	}
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	if out := mustRun(t, 0, a.env, "state", "unlock", "-force", "-dir", dir); !strings.Contains(out, "is not locked") {
		t.Errorf("unlock of a free lock: %q", out)
	}

	// Only the lock shown is broken: one taken again since is left alone.
	time.Sleep(a.interval)
	first := ghost
	first.ID = "first"
	if _, err := reconciler.AcquireRemoteLock(ctx, a.r2, b, reconciler.DefaultWorkspace, first, "unlock"); err != nil {
		t.Fatal(err)
	}
	shown, err := reconciler.ReadRemoteLock(ctx, a.r2, b, reconciler.DefaultWorkspace)
	if err != nil || shown == nil {
		t.Fatal(err)
	}
	time.Sleep(a.interval)
	if err := shown.Break(ctx, "someone-else"); err != nil { // another operator broke it
		t.Fatal(err)
	}
	time.Sleep(a.interval)
	second := ghost
	second.ID, second.Who = "second", "bob@laptop"
	if _, err := reconciler.AcquireRemoteLock(ctx, a.r2, b, reconciler.DefaultWorkspace, second, "unlock"); err != nil {
		t.Fatal(err)
	}
	if err := shown.Break(ctx, "me"); err == nil || !strings.Contains(err.Error(), "bob@laptop") {
		t.Fatalf("breaking a lock that changed since it was shown: %v, want a refusal naming the new holder", err)
	}
	if held, _ := reconciler.ReadRemoteLock(ctx, a.r2, b, reconciler.DefaultWorkspace); held == nil || held.Info.ID != "second" {
		t.Fatalf("the new holder's lock must be left alone, got %+v", held)
	}
}

func runWithStdin(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut strings.Builder
	code := Main(args, IO{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return env[k] }})
	return code, out.String(), errOut.String()
}

// state migrate moves the state to R2 and back, under both locks, and refuses to
// overwrite a state that is not empty at the destination unless forced.
func TestRemoteStateMigrate(t *testing.T) {
	a := newRemoteAccount(t, emulator.Options{}, fastWrites)
	dir := t.TempDir()
	cfg := queuesConfig("mig", 3)
	writeFile(t, dir, "main.flareops.hcl", cfg)
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	local := filepath.Join(dir, ".flareops", "state.json")

	writeFile(t, dir, "main.flareops.hcl", backendBlock+cfg)
	// With the backend declared but the state still local, every command refuses.
	code, _, errOut := run(t, a.env, "plan", "-dir", dir)
	if code != 1 || !strings.Contains(errOut, "flareops state migrate -to r2") {
		t.Fatalf("plan with the state left behind: exit %d\n%s", code, errOut)
	}
	out := mustRun(t, 0, a.env, "state", "migrate", "-to", "r2", "-dir", dir)
	if !strings.Contains(out, "Moved the state (3 object(s))") {
		t.Errorf("migrate -to r2: %s", out)
	}
	if _, err := os.Stat(local); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the local state must be set aside after migrating (stat: %v)", err)
	}
	if _, err := os.Stat(local + ".migrated"); err != nil {
		t.Errorf("the local state must be kept as state.json.migrated: %v", err)
	}
	mustRun(t, 0, a.env, "plan", "-detailed-exitcode", "-dir", dir)
	a.checkConverged(t, a.remoteState(t), 3)

	// A state at the destination is not overwritten without -force.
	if err := os.Rename(local+".migrated", local); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = run(t, a.env, "state", "migrate", "-to", "r2", "-dir", dir)
	if code != 1 || !strings.Contains(errOut, "already holds a state of 3 object(s)") {
		t.Fatalf("migrate onto a state: exit %d\n%s", code, errOut)
	}
	code, _, errOut = run(t, a.env, "state", "migrate", "-to", "local", "-dir", dir)
	if code != 1 || !strings.Contains(errOut, "already holds a state of 3 object(s)") {
		t.Fatalf("migrate -to local onto a state: exit %d\n%s", code, errOut)
	}
	if err := os.Remove(local); err != nil {
		t.Fatal(err)
	}
	out = mustRun(t, 0, a.env, "state", "migrate", "-to", "local", "-dir", dir)
	if !strings.Contains(out, "remove the backend block") {
		t.Errorf("migrate -to local: %s", out)
	}
	if _, _, err := a.r2.GetBytes(context.Background(), stateBucket, stateKey, 1<<20); !errors.Is(err, cloudflare.ErrNoSuchKey) {
		t.Errorf("the remote state must be gone after migrating back: %v", err)
	}
	if _, _, err := a.r2.GetBytes(context.Background(), stateBucket, stateKey+".backup", 1<<20); err != nil {
		t.Errorf("the remote state must be kept as .backup: %v", err)
	}
	writeFile(t, dir, "main.flareops.hcl", cfg)
	mustRun(t, 0, a.env, "plan", "-detailed-exitcode", "-dir", dir)
	st, err := reconciler.LoadState(dir, a.target())
	if err != nil {
		t.Fatal(err)
	}
	a.checkConverged(t, st, 3)
}

// An apply of 300 changes at -parallelism 10 against a remote state never writes the
// state key faster than R2 allows: the emulator refuses no write (it answers 429 to a
// second write to one key within a second).
func TestRemoteStateWritesAreCoalesced(t *testing.T) {
	if testing.Short() {
		t.Skip("300 creates; skipped with -short")
	}
	a := newRemoteAccount(t, emulator.Options{RateLimit: -1}, 0) // R2's real limit
	dir := t.TempDir()
	const n = 300
	writeFile(t, dir, "main.flareops.hcl", backendBlock+queuesConfig("bulk", n))
	start := time.Now()
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-parallelism", "10", "-dir", dir)
	elapsed := time.Since(start)
	c := a.srv.Counts()
	if got := c.KeyWritesLimited["r2"]; got != 0 {
		t.Errorf("%d state writes refused as too fast (429), want 0", got)
	}
	if got := c.ByStatus[http.StatusTooManyRequests]; got != 0 {
		t.Errorf("%d answers were 429, want 0", got)
	}
	st := a.remoteState(t)
	a.checkConverged(t, st, n)
	// Coalesced: far fewer writes than changes (one per second at most, plus the last).
	if max := int(elapsed/reconciler.RemoteWriteInterval) + 2; st.Serial > max {
		t.Errorf("%d state writes in %s, want at most %d (one per second)", st.Serial, elapsed.Round(time.Millisecond), max)
	}
	t.Logf("300 creates at -parallelism 10 in %s: %d state writes, 0 refused", elapsed.Round(time.Millisecond), st.Serial)
}

// SIGKILL at 20 random points of applies (and destroys) against a remote state leaves
// the state readable every time; after each kill the stale lock is broken with `state
// unlock -force`, and reruns converge with no duplicate and no orphan.
func TestRemoteStateKillConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes repeatedly; skipped with -short")
	}
	a := newRemoteAccount(t, emulator.Options{RateLimit: -1, Faults: emulator.Faults{Latency: 15 * time.Millisecond, DropRate: 0.03, Seed: 11}}, fastWrites)
	dir := t.TempDir()
	const n = 24
	writeFile(t, dir, "main.flareops.hcl", backendBlock+queuesConfig("rkill", n))
	bin, env := cliBinary(t, a.env)
	rng := rand.New(rand.NewPCG(20, 26))
	// killAt starts flareops and SIGKILLs it when it has started its nth change, plus a
	// random delay: kills land while markers, creates and coalesced writes are in flight.
	killAt := func(nth int, delay time.Duration, args ...string) bool {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killed := make(chan bool, 1)
		sc := bufio.NewScanner(out)
		seen := 0
		for sc.Scan() {
			if strings.HasSuffix(sc.Text(), "...") {
				if seen++; seen == nth {
					go func() {
						time.Sleep(delay)
						killed <- cmd.Process.Signal(syscall.SIGKILL) == nil
					}()
				}
			}
		}
		err = cmd.Wait()
		if seen < nth {
			return false
		}
		var ee *exec.ExitError
		return <-killed && errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled()
	}
	kills, runs := 0, 0
	for ; kills < 20 && runs < 30; runs++ {
		phase := []string{"apply", "destroy"}[runs%2]
		if killAt(1+rng.IntN(n/2), time.Duration(rng.IntN(150))*time.Millisecond, phase, "-auto-approve", "-dir", dir) {
			kills++
		}
		a.remoteState(t) // readable after every kill
		// The killed process's lock stays until broken.
		mustRun(t, 0, a.env, "state", "unlock", "-force", "-dir", dir)
	}
	for _, phase := range []string{"apply", "destroy"} {
		for i := 0; ; i++ {
			code, out, errOut := run(t, a.env, phase, "-auto-approve", "-dir", dir)
			if code == 0 {
				break
			}
			if i == 5 {
				t.Fatalf("%s does not converge:\n%s%s", phase, out, errOut)
			}
		}
		want := n
		if phase == "destroy" {
			want = 0
		}
		a.checkConverged(t, a.remoteState(t), want)
	}
	if kills < 20 {
		t.Fatalf("only %d of %d runs were killed before they finished: the test does not test 20 kills", kills, runs)
	}
	t.Logf("%d SIGKILLs in %d runs of apply and destroy against a remote state; converged with 0 duplicates and 0 orphans", kills, runs)
}
