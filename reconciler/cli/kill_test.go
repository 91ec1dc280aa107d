package cli

import (
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
func buildFlareops(t *testing.T) string {
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
	var src strings.Builder
	for i := 0; i < 24; i++ {
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

	runBin := func(kill time.Duration, args ...string) bool {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }() //nolint:errcheck // killed on purpose
		select {
		case <-done:
			return false
		case <-time.After(kill):
			cmd.Process.Signal(syscall.SIGKILL) //nolint:errcheck // may have exited
		}
		<-done
		return true
	}
	kills := 0
	for _, phase := range []string{"apply", "destroy"} {
		for i, delay := range []time.Duration{60, 120, 200, 300, 420, 560} {
			if runBin(delay*time.Millisecond, phase, "-auto-approve", "-dir", dir) {
				kills++
			}
			if _, err := reconciler.LoadState(dir, ref); err != nil {
				t.Fatalf("%s kill %d: state unreadable: %v", phase, i, err)
			}
		}
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
		want := 24
		if phase == "destroy" {
			want = 0
		}
		if len(qs) != want || st.Len() != want {
			t.Fatalf("after %s: %d live queues, %d in state; want %d (duplicates or orphans)", phase, len(qs), st.Len(), want)
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
