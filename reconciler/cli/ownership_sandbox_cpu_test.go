package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

// A CPU limit someone else set on a Worker survives every sandbox with cpu_ms there (a
// hostile review found that the sandbox's create overwrote it silently and its destroy
// reset it to the platform default). worker_settings is the block that takes a Worker's
// limit over, and its plan shows the limit it replaces.

// A sandbox with cpu_ms on a Worker whose CPU limit someone else set: the plan says that
// apply refuses to take it over, apply refuses, and the limit is theirs after destroy.
func TestHostileSandboxCPULimitSomeoneElseSet(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	c := a.client(t)
	ctx := context.Background()
	if err := c.SetWorkerSettings(ctx, "w", cloudflare.WorkerSettings{CPUMs: 50000}); err != nil { // theirs
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, dir, "main.flareops.hcl", opsBlock+sandboxSource("agent", map[string]string{"container": "", "cleanup_every": ""}))
	code, out, errOut := run(t, a.env, "plan", "-dir", dir)
	if code == 0 && !strings.Contains(out, "50,000") && !strings.Contains(out, "50000") {
		t.Errorf("plan overwrites the Worker's CPU limit of 50,000 ms without saying so:\n%s%s", out, errOut)
	}
	if !strings.Contains(out, "w already has cpu_ms 50,000 ms, which flareops does not manage: apply refuses to take it over") {
		t.Errorf("plan does not say that apply refuses:\n%s%s", out, errOut)
	}
	code, out, errOut = run(t, a.env, "apply", "-auto-approve", "-dir", dir)
	if code != 1 || !strings.Contains(errOut, "Worker w already has cpu_ms 50,000 ms, which flareops does not manage") || !strings.Contains(errOut, "worker_settings") {
		t.Errorf("apply taking over the CPU limit: exit %d, want 1 refusing it\n%s\n%s", code, out, errOut)
	}
	run(t, a.env, "destroy", "-auto-approve", "-dir", dir)
	if st, err := c.WorkerSettings(ctx, "w"); err != nil || st.CPUMs != 50000 {
		t.Errorf("the CPU limit someone else set (50000) is %d after the sandbox's apply and destroy (%v)", st.CPUMs, err)
	}
}

// A limit equal to the declared one is someone else's all the same: were the sandbox to
// take it as its own, its destroy would reset a limit flareops never set.
func TestHostileSandboxCPULimitEqualToTheDeclared(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	c := a.client(t)
	ctx := context.Background()
	if err := c.SetWorkerSettings(ctx, "w", cloudflare.WorkerSettings{CPUMs: 300000}); err != nil { // theirs, as declared
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, dir, "main.flareops.hcl", opsBlock+sandboxSource("agent", map[string]string{"container": "", "cleanup_every": ""}))
	if code, out, errOut := run(t, a.env, "apply", "-auto-approve", "-dir", dir); code != 1 || !strings.Contains(errOut, "cpu_ms 300,000 ms (the value this sandbox declares), which flareops does not manage") {
		t.Errorf("apply taking over an equal CPU limit: exit %d, want 1 refusing it\n%s\n%s", code, out, errOut)
	}
	run(t, a.env, "destroy", "-auto-approve", "-dir", dir)
	if st, err := c.WorkerSettings(ctx, "w"); err != nil || st.CPUMs != 300000 {
		t.Errorf("the CPU limit someone else set (300000) is %d after the sandbox's apply and destroy (%v)", st.CPUMs, err)
	}
}

// A sandbox added with cpu_ms to a Worker it manages no limit on (its cpu_ms was unset)
// does not take over the limit someone set there meanwhile.
func TestHostileSandboxCPUAddedOntoALimitSomeoneElseSet(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	c := a.client(t)
	ctx := context.Background()
	dir := t.TempDir()
	writeFile(t, dir, "main.flareops.hcl", opsBlock+sandboxSource("agent", map[string]string{"container": "", "cpu_ms": ""}))
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	if err := c.SetWorkerSettings(ctx, "w", cloudflare.WorkerSettings{CPUMs: 50000}); err != nil { // theirs
		t.Fatal(err)
	}
	writeFile(t, dir, "main.flareops.hcl", opsBlock+sandboxSource("agent", map[string]string{"container": ""}))
	if code, out, errOut := run(t, a.env, "apply", "-auto-approve", "-dir", dir); code != 1 || !strings.Contains(errOut, "Worker w already has cpu_ms 50,000 ms, which flareops does not manage") {
		t.Errorf("apply taking over the CPU limit: exit %d, want 1 refusing it\n%s\n%s", code, out, errOut)
	}
	run(t, a.env, "destroy", "-auto-approve", "-dir", dir)
	if st, err := c.WorkerSettings(ctx, "w"); err != nil || st.CPUMs != 50000 {
		t.Errorf("the CPU limit someone else set (50000) is %d after the sandbox's destroy (%v)", st.CPUMs, err)
	}
}

// A limit the sandbox set and someone changed since is theirs: destroy leaves it.
func TestSandboxDestroyLeavesALimitChangedSince(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	c := a.client(t)
	ctx := context.Background()
	dir := t.TempDir()
	writeFile(t, dir, "main.flareops.hcl", opsBlock+sandboxSource("agent", map[string]string{"container": ""}))
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	if st, err := c.WorkerSettings(ctx, "w"); err != nil || st.CPUMs != 300000 {
		t.Fatalf("cpu_ms after apply: %d (%v)", st.CPUMs, err)
	}
	if err := c.SetWorkerSettings(ctx, "w", cloudflare.WorkerSettings{CPUMs: 60000}); err != nil { // theirs now
		t.Fatal(err)
	}
	mustRun(t, 0, a.env, "destroy", "-auto-approve", "-dir", dir)
	if st, err := c.WorkerSettings(ctx, "w"); err != nil || st.CPUMs != 60000 {
		t.Errorf("the CPU limit someone set since (60000) is %d after destroy (%v)", st.CPUMs, err)
	}
}

// A sandbox renamed (replaced) sets the limit where the old one had set its own: that
// limit is flareops's, not someone else's. (Without cleanup_every: a renamed sandbox's
// create takes the old one's cron, still on the Worker when observed, for someone else's.)
func TestSandboxRenamedKeepsItsCPULimit(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	c := a.client(t)
	ctx := context.Background()
	dir := t.TempDir()
	writeFile(t, dir, "main.flareops.hcl", opsBlock+sandboxSource("agent", map[string]string{"container": "", "cleanup_every": ""}))
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	writeFile(t, dir, "main.flareops.hcl", opsBlock+sandboxSource("agent", map[string]string{"container": "", "cleanup_every": "", "name": `name = "agent-two"`, "cpu_ms": "cpu_ms = 200000"}))
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	if st, err := c.WorkerSettings(ctx, "w"); err != nil || st.CPUMs != 200000 {
		t.Errorf("cpu_ms after the rename: %d (%v)", st.CPUMs, err)
	}
}
