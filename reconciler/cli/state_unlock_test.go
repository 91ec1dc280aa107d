package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler"
)

// The lock id is shown wherever a lock is reported, and `state unlock -id LOCK_ID` breaks
// the lock only if it is still that holding (as Terraform's force-unlock LOCK_ID): not
// another lock, not the same runner's lock taken again since. -force alone still works.
func TestRemoteStateUnlockByID(t *testing.T) {
	a := newRemoteAccount(t, emulator.Options{}, fastWrites)
	dir := t.TempDir()
	writeFile(t, dir, "main.flareops.hcl", backendBlock+queuesConfig("byid", 1))
	ctx := context.Background()
	b := a.backend()
	ghost := reconciler.LockInfo{ID: "ghost-1", Who: "ci@runner-7", PID: 4242, Command: "flareops apply", Dir: "/work/ci", Since: time.Now().Add(-time.Hour)}
	if _, err := reconciler.AcquireRemoteLock(ctx, a.r2, b, reconciler.DefaultWorkspace, ghost, "unlock"); err != nil {
		t.Fatal(err)
	}
	stillHeldBy := func(id string) {
		t.Helper()
		if held, err := reconciler.ReadRemoteLock(ctx, a.r2, b, reconciler.DefaultWorkspace); err != nil || held == nil || held.Info.ID != id {
			t.Fatalf("the lock must still be %s: %+v %v", id, held, err)
		}
	}

	code, _, errOut := run(t, a.env, "apply", "-auto-approve", "-dir", dir)
	if code != 1 || !strings.Contains(errOut, "lock id ghost-1") || !strings.Contains(errOut, "`flareops state unlock -dir "+dir+" -id ghost-1`") {
		t.Fatalf("apply under a held lock must name its id and the command that breaks only it: exit %d, stderr:\n%s", code, errOut)
	}
	// Another id: refused before any question, with or without -force.
	for _, args := range [][]string{{"-id", "ghost-0"}, {"-id", "ghost-0", "-force"}} {
		code, out, errOut := run(t, a.env, append([]string{"state", "unlock", "-dir", dir}, args...)...)
		if code != 1 || !strings.Contains(out, "lock id ghost-1") || !strings.Contains(errOut, "is not lock ghost-0") || strings.Contains(out, "Only 'yes'") {
			t.Fatalf("unlock %v of another lock: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out, errOut)
		}
		stillHeldBy("ghost-1")
	}
	// Its id, declined: nothing changes.
	if code, out, _ := runWithStdin(t, a.env, "no\n", "state", "unlock", "-dir", dir, "-id", "ghost-1"); code != 1 || !strings.Contains(out, "lock id ghost-1") {
		t.Fatalf("unlock -id declined: exit %d\n%s", code, out)
	}
	stillHeldBy("ghost-1")

	// The runner is back and takes the lock again: the id printed before names a holding
	// that is over, so a script's `unlock -id ghost-1 -force` leaves the new one alone.
	held, err := reconciler.ReadRemoteLock(ctx, a.r2, b, reconciler.DefaultWorkspace)
	if err != nil || held == nil {
		t.Fatal(err)
	}
	time.Sleep(a.interval)
	if err := held.Break(ctx, "released"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(a.interval)
	again := ghost
	again.ID = "ghost-2"
	if _, err := reconciler.AcquireRemoteLock(ctx, a.r2, b, reconciler.DefaultWorkspace, again, "unlock"); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run(t, a.env, "state", "unlock", "-force", "-dir", dir, "-id", "ghost-1"); code != 1 || !strings.Contains(errOut, "lock id ghost-2") {
		t.Fatalf("unlock -id of a holding that is over: exit %d\n%s", code, errOut)
	}
	stillHeldBy("ghost-2")

	time.Sleep(a.interval)
	out := mustRun(t, 0, a.env, "state", "unlock", "-force", "-dir", dir, "-id", "ghost-2")
	if !strings.Contains(out, "Broke the lock") || !strings.Contains(out, "(lock id ghost-2)") {
		t.Errorf("unlock -id -force: %s", out)
	}
	if out := mustRun(t, 0, a.env, "state", "unlock", "-force", "-dir", dir, "-id", "ghost-2"); !strings.Contains(out, "is not locked") {
		t.Errorf("unlock -id of a lock already broken: %s", out)
	}
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)

	// -force without an id keeps working, for scripts.
	time.Sleep(a.interval)
	again.ID = "ghost-3"
	if _, err := reconciler.AcquireRemoteLock(ctx, a.r2, b, reconciler.DefaultWorkspace, again, "unlock"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(a.interval)
	if out := mustRun(t, 0, a.env, "state", "unlock", "-force", "-dir", dir); !strings.Contains(out, "Broke the lock") {
		t.Errorf("unlock -force: %s", out)
	}
}
