package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler"
)

// buildFlareops builds the flareops binary once per test run.
func buildFlareops(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "flareops")
	cmd := exec.Command("go", "build", "-o", bin, "../..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// A SIGKILL at any moment of an apply or a destroy leaves a readable state, and reruns
// converge with no duplicate and no orphan: every live queue is in the state, once.
func TestKillMidApplyConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it repeatedly; skipped with -short")
	}
	bin := buildFlareops(t)
	acct := newAccount(t, emulator.Options{Faults: emulator.Faults{Latency: 40 * time.Millisecond, DropRate: 0.05, Seed: 7}})
	dir := t.TempDir()
	const n = 24
	var src strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&src, "queue \"q%d\" {\n  name = \"kill-%d\"\n", i, i)
		if i%3 == 0 {
			src.WriteString("  consumer {\n    type = \"http_pull\"\n  }\n")
		}
		src.WriteString("}\n")
	}
	writeFile(t, dir, "main.flareops.hcl", src.String())
	env := os.Environ()
	for k, v := range acct.env {
		env = append(env, k+"="+v)
	}
	ref := reconciler.Target{Kind: "account", AccountID: LocalAccountID, BaseURL: acct.env["CLOUDFLARE_BASE_URL"], Workspace: reconciler.DefaultWorkspace}

	// runBin starts flareops and SIGKILLs it when it has started its nth change (a line
	// ending in "..."): a kill while requests are in flight. It reports whether it killed.
	runBin := func(nth int, args ...string) bool {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killed := false
		sc := bufio.NewScanner(out)
		for seen := 0; sc.Scan(); {
			if strings.HasSuffix(sc.Text(), "...") {
				if seen++; seen == nth {
					killed = cmd.Process.Signal(syscall.SIGKILL) == nil
				}
			}
		}
		cmd.Wait() //nolint:errcheck // killed on purpose, or failed on injected faults
		return killed
	}
	kills := 0
	// Alternate applies and destroys, so that every run has work to be killed in.
	for i, nth := range []int{12, 1, 14, 2, 16, 3, 18, 2, 20, 1, 22, 3} {
		phase := []string{"apply", "destroy"}[i%2]
		if runBin(nth, phase, "-auto-approve", "-dir", dir) {
			kills++
		}
		if _, err := reconciler.LoadState(dir, ref); err != nil {
			t.Fatalf("%s kill %d: state unreadable: %v", phase, i, err)
		}
	}
	for _, phase := range []string{"apply", "destroy"} {
		// Reruns converge (dropped answers may fail a run; it continues from there).
		for i := 0; ; i++ {
			cmd := exec.Command(bin, phase, "-auto-approve", "-dir", dir)
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			if err == nil {
				break
			}
			if i == 5 {
				t.Fatalf("%s does not converge:\n%s", phase, out)
			}
		}
		st, err := reconciler.LoadState(dir, ref)
		if err != nil {
			t.Fatal(err)
		}
		qs, err := acct.client(t).ListQueues(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := n
		if phase == "destroy" {
			want = 0
		}
		// A pending marker whose create never happened is kept for a grace period (the
		// killed process's request might still be carried out): only those may remain.
		recorded := 0
		for _, a := range st.Addresses() {
			if e, _ := st.Get(a); e.ID != "" {
				recorded++
			} else if !e.Pending {
				t.Errorf("state entry %s has no id and is not pending", a)
			}
		}
		if len(qs) != want || recorded != want {
			t.Fatalf("after %s: %d live queues, %d recorded in state; want %d (duplicates or orphans)", phase, len(qs), recorded, want)
		}
		for _, q := range qs {
			found := false
			for _, a := range st.Addresses() {
				if e, _ := st.Get(a); e.ID == q.ID {
					found = true
				}
			}
			if !found {
				t.Errorf("orphan: live queue %s (%s) is in no state", q.Name, q.ID)
			}
		}
		matches, _ := filepath.Glob(filepath.Join(dir, ".flareops", ".tmp-*"))
		if len(matches) > 0 {
			t.Errorf("temp files left after a clean run: %v", matches)
		}
	}
	if kills < 8 {
		t.Fatalf("only %d of 12 runs were killed before they finished: the test does not test kills", kills)
	}
	t.Logf("%d SIGKILLs during apply and destroy; converged with 0 duplicates and 0 orphans", kills)
}
