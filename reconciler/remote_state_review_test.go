package reconciler

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// Remote state under attack (a hostile review's findings).

// DeleteRemote (state migrate -to local) must not delete a state that another process
// wrote since this one read it (its lock was broken): every other write is conditional.
func TestRemoteStateDeleteRemoteKeepsAnotherWritersState(t *testing.T) {
	f := newRemoteFixture(t)
	ctx := context.Background()
	seed, err := LoadRemoteState(ctx, f.r2, f.b, f.t)
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.Put("queue.a", StateEntry{Kind: "queue", Key: "a", ID: "id-a"}); err != nil {
		t.Fatal(err)
	}
	if err := seed.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(fastInterval)
	stale, err := LoadRemoteState(ctx, f.r2, f.b, f.t) // the migrating process
	if err != nil {
		t.Fatal(err)
	}
	other, err := LoadRemoteState(ctx, f.r2, f.b, f.t) // took the lock after it was broken
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Put("queue.b", StateEntry{Kind: "queue", Key: "b", ID: "id-b"}); err != nil {
		t.Fatal(err)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(fastInterval)
	derr := stale.DeleteRemote(ctx)
	got, _, gerr := f.r2.GetBytes(ctx, f.b.Bucket, f.b.Key, 1<<20)
	if gerr != nil || !strings.Contains(string(got), `"queue.b"`) {
		t.Fatalf("DeleteRemote by a process whose state is stale (err %v) deleted or replaced the other process's state (read: %v)", derr, gerr)
	}
	if derr == nil {
		t.Error("DeleteRemote of a state changed since it was read must fail")
	}
}

// A backend key that names another configuration's lock object (KEY.lock) must not be
// taken for an empty state and overwritten: the object is not a flareops state.
func TestRemoteStateLockObjectIsNotAState(t *testing.T) {
	f := newRemoteFixture(t)
	ctx := context.Background()
	info := LockInfo{ID: "a", Who: "alice@ci", PID: 7, Command: "flareops apply", Dir: "/w", Since: time.Now()}
	if _, err := AcquireRemoteLock(ctx, f.r2, f.b, DefaultWorkspace, info, "unlock"); err != nil {
		t.Fatal(err)
	}
	clash := f.b
	clash.Key = f.b.Key + ".lock"
	st, err := LoadRemoteState(ctx, f.r2, clash, f.t)
	if err == nil {
		perr := st.Put("queue.x", StateEntry{Kind: "queue", Key: "x", Pending: true})
		st.Close()
		held, _ := ReadRemoteLock(ctx, f.r2, f.b, DefaultWorkspace)
		t.Fatalf("a lock object was read as an empty state (put: %v); the lock is now %+v", perr, held)
	}
}

// A lock object that cannot be read as a lock (here: larger than a lock can be) is shown
// as held by an unreadable lock and can be broken, as a malformed one is, instead of
// making both apply and `state unlock` fail with no way out but deleting it by hand.
func TestRemoteStateOversizedLockCanBeBroken(t *testing.T) {
	f := newRemoteFixture(t)
	ctx := context.Background()
	junk := []byte(strings.Repeat("x", 2<<20))
	if _, err := f.r2.Put(ctx, f.b.Bucket, f.b.Key+".lock", junk, cloudflareNoOpts); err != nil {
		t.Fatal(err)
	}
	held, err := ReadRemoteLock(ctx, f.r2, f.b, DefaultWorkspace)
	if err != nil || held == nil {
		t.Fatalf("state unlock cannot read an oversized lock object: %v", err)
	}
	time.Sleep(fastInterval)
	if err := held.Break(ctx, "me"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(fastInterval)
	if _, err := AcquireRemoteLock(ctx, f.r2, f.b, DefaultWorkspace, LockInfo{ID: "x", Since: time.Now()}, "unlock"); err != nil {
		t.Fatalf("after breaking it the lock is free: %v", err)
	}
}

var cloudflareNoOpts = cloudflare.PutOptions{}

// A lock object that is valid JSON but not a lock ("null", "{}") must not be reported
// as held by a blank holder ("locked by  (pid 0), running “ in , since 0001-01-01").
func TestRemoteStateBlankLockNamesNoOne(t *testing.T) {
	f := newRemoteFixture(t)
	ctx := context.Background()
	for i, body := range []string{"null", "{}"} {
		if i > 0 {
			time.Sleep(fastInterval)
		}
		if _, err := f.r2.Put(ctx, f.b.Bucket, f.b.Key+".lock", []byte(body), cloudflareNoOpts); err != nil {
			t.Fatal(err)
		}
		_, err := AcquireRemoteLock(ctx, f.r2, f.b, DefaultWorkspace, LockInfo{ID: "me", Who: "me@here", Since: time.Now()}, "flareops state unlock")
		if err == nil {
			t.Fatalf("lock %s: taken over a lock object flareops did not write", body)
		}
		if strings.Contains(err.Error(), "locked by  (pid 0)") {
			t.Errorf("lock %s: the holder is blank: %v", body, err)
		}
	}
}

// Keys the backend block accepts round-trip through the S3 client and the emulator.
func TestRemoteStateOddKeysRoundTrip(t *testing.T) {
	f := newRemoteFixture(t)
	ctx := context.Background()
	for _, key := range []string{"team state/ü+x%20y?.json", "a/./b", "a/../b", "#frag", "x:y;z=1&w"} {
		b := f.b
		b.Key = key
		st, err := LoadRemoteState(ctx, f.r2, b, f.t)
		if err != nil {
			t.Fatalf("%q: %v", key, err)
		}
		for _, addr := range []string{"queue.a", "queue.b"} { // the second copies the first to KEY.backup
			if err := st.Put(addr, StateEntry{Kind: "queue", Key: addr, Pending: true}); err != nil {
				t.Fatalf("%q: %v", key, err)
			}
		}
		st.Close()
		got, _, err := f.r2.GetBytes(ctx, b.Bucket, key, 1<<20)
		if err != nil || !strings.Contains(string(got), "queue.b") {
			t.Errorf("%q: not stored under its own key: %v", key, err)
		}
		prev, _, err := f.r2.GetBytes(ctx, b.Bucket, key+".backup", 1<<20)
		if err != nil || !strings.Contains(string(prev), "queue.a") || strings.Contains(string(prev), "queue.b") {
			t.Errorf("%q: the previous version is not kept under its own key: %v", key, err)
		}
	}
	// "a/../b" and "b" must be two objects.
	if _, _, err := f.r2.GetBytes(ctx, f.b.Bucket, "b", 1<<20); err == nil {
		t.Errorf(`the state of key "a/../b" was stored as "b"`)
	}
}
