package reconciler

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// A lock is named by its id where it is reported, and `state unlock -id` breaks only the
// holding it names: not another lock, not the same holder's lock taken again since.
func TestRemoteLockBreakID(t *testing.T) {
	f := newRemoteFixture(t)
	ctx := context.Background()
	first := LockInfo{ID: "6f1c0e2a", Who: "ci@runner-7", PID: 4242, Command: "flareops apply", Dir: "/work/ci", Since: time.Now().Add(-time.Hour)}
	if _, err := AcquireRemoteLock(ctx, f.r2, f.b, DefaultWorkspace, first, "flareops state unlock -dir ci"); err != nil {
		t.Fatal(err)
	}
	_, err := AcquireRemoteLock(ctx, f.r2, f.b, DefaultWorkspace, LockInfo{ID: "me", Who: "me@here", Since: time.Now()}, "flareops state unlock -dir ci")
	var le *LockedError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "lock id 6f1c0e2a") || !strings.Contains(err.Error(), "`flareops state unlock -dir ci -id 6f1c0e2a`") {
		t.Fatalf("a second holder: %v, want the lock id and the command that breaks only that lock", err)
	}

	held, err := ReadRemoteLock(ctx, f.r2, f.b, DefaultWorkspace)
	if err != nil || held == nil {
		t.Fatal(err)
	}
	if !strings.Contains(held.Info.Describe(time.Now()), "lock id 6f1c0e2a") {
		t.Errorf("Describe = %q, want the lock id", held.Info.Describe(time.Now()))
	}
	for _, id := range []string{"", "0000", "6f1c0e2"} {
		if err := held.BreakID(ctx, id, "me"); err == nil {
			t.Errorf("BreakID(%q) broke lock 6f1c0e2a", id)
		}
	}
	if cur, _ := ReadRemoteLock(ctx, f.r2, f.b, DefaultWorkspace); cur == nil || cur.Info.ID != first.ID {
		t.Fatalf("a refused BreakID changed the lock: %+v", cur)
	}
	time.Sleep(fastInterval)
	if err := held.BreakID(ctx, first.ID, "me"); err != nil {
		t.Fatalf("BreakID of the lock it names: %v", err)
	}

	// The same holder takes the lock again: another holding, another id.
	time.Sleep(fastInterval)
	again := first
	again.ID = "9d8e7f60"
	if _, err := AcquireRemoteLock(ctx, f.r2, f.b, DefaultWorkspace, again, "unlock"); err != nil {
		t.Fatal(err)
	}
	cur, err := ReadRemoteLock(ctx, f.r2, f.b, DefaultWorkspace)
	if err != nil || cur == nil {
		t.Fatal(err)
	}
	time.Sleep(fastInterval)
	if err := cur.BreakID(ctx, first.ID, "me"); err == nil || !strings.Contains(err.Error(), "lock id 9d8e7f60") {
		t.Fatalf("BreakID of a holding that ended: %v, want a refusal naming the lock there now", err)
	}
	if held, _ := ReadRemoteLock(ctx, f.r2, f.b, DefaultWorkspace); held == nil || held.Info.ID != again.ID {
		t.Fatalf("the lock taken again must be left alone, got %+v", held)
	}
}

// An id that a shell would need quoted (a lock object written by hand) is not put in the
// suggested command.
func TestRemoteLockUnlockCommandQuotesNothing(t *testing.T) {
	for _, tc := range []struct{ id, want string }{
		{"6f1c0e2a", "flareops state unlock -id 6f1c0e2a"},
		{"", "flareops state unlock"},
		{"x; rm -rf /", "flareops state unlock"},
	} {
		if got := (LockInfo{ID: tc.id}).UnlockCommand("flareops state unlock"); got != tc.want {
			t.Errorf("UnlockCommand with id %q = %q, want %q", tc.id, got, tc.want)
		}
	}
}
