package reconciler

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

// remoteFixture is an emulator with a state bucket and an R2 client on it.
type remoteFixture struct {
	srv *emulator.Server
	r2  *cloudflare.R2
	b   Backend
	t   Target
}

const (
	fastInterval  = 50 * time.Millisecond
	remoteAccount = "0123456789abcdef0123456789abcdef"
)

func newRemoteFixture(t *testing.T) *remoteFixture {
	t.Helper()
	srv, err := emulator.New(emulator.Options{KeyWriteInterval: fastInterval})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	req, _ := http.NewRequest(http.MethodPost, hs.URL+emulator.APIPrefix+"/accounts/"+remoteAccount+"/r2/buckets", strings.NewReader(`{"name":"state"}`))
	req.Header.Set("Authorization", "Bearer t")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("create bucket: %v %v", resp, err)
	}
	resp.Body.Close()
	r2, err := cloudflare.NewR2(cloudflare.R2Config{Endpoint: hs.URL, AccessKeyID: "k", SecretAccessKey: "s", NoSlowDownRetry: true})
	if err != nil {
		t.Fatal(err)
	}
	return &remoteFixture{srv: srv, r2: r2,
		b: Backend{Type: "r2", Bucket: "state", Key: "team/state.json", WriteInterval: fastInterval},
		t: Target{Kind: "account", AccountID: remoteAccount, BaseURL: "https://api.example/client/v4", Workspace: DefaultWorkspace}}
}

// lostAnswers is Objects whose chosen writes are carried out but answered as the SDK's
// retry would see them: the answer lost, the request sent again, and that second try's
// answer returned (412 for a conditional write that found its own object).
type lostAnswers struct {
	Objects
	mu   sync.Mutex
	lose map[string]int // key → how many of its next writes lose their answer
	// fail: key → how many of its next writes are carried out but answered with an
	// error (the SDK gave up retrying a dropped answer).
	fail map[string]int
}

func (l *lostAnswers) Put(ctx context.Context, bucket, key string, body []byte, opt cloudflare.PutOptions) (cloudflare.R2Object, error) {
	l.mu.Lock()
	lose, fail := l.lose[key] > 0, l.fail[key] > 0
	if lose {
		l.lose[key]--
	}
	if fail {
		l.fail[key]--
	}
	l.mu.Unlock()
	obj, err := l.Objects.Put(ctx, bucket, key, body, opt)
	if fail && err == nil {
		return cloudflare.R2Object{}, errors.New("connection reset (the write was carried out)")
	}
	if !lose || err != nil {
		return obj, err
	}
	time.Sleep(fastInterval) // the SDK's retry comes later than the key's write interval
	return l.Objects.Put(ctx, bucket, key, body, opt)
}

// Copy loses or fails its answer as Put does, by destination key.
func (l *lostAnswers) Copy(ctx context.Context, bucket, src, dst string, opt cloudflare.CopyOptions) (cloudflare.R2Object, error) {
	l.mu.Lock()
	lose, fail := l.lose[dst] > 0, l.fail[dst] > 0
	if lose {
		l.lose[dst]--
	}
	if fail {
		l.fail[dst]--
	}
	l.mu.Unlock()
	obj, err := l.Objects.Copy(ctx, bucket, src, dst, opt)
	if fail && err == nil {
		return cloudflare.R2Object{}, errors.New("connection reset (the copy was carried out)")
	}
	if !lose || err != nil {
		return obj, err
	}
	time.Sleep(fastInterval)
	return l.Objects.Copy(ctx, bucket, src, dst, opt)
}

func TestRemoteLockLostAnswerIsOurs(t *testing.T) {
	f := newRemoteFixture(t)
	ctx := context.Background()
	objs := &lostAnswers{Objects: f.r2, lose: map[string]int{"team/state.json.lock": 1}}
	me := LockInfo{ID: "me", Who: "me@here", PID: 1, Command: "flareops apply", Dir: "/x", Since: time.Now()}
	l, err := AcquireRemoteLock(ctx, objs, f.b, DefaultWorkspace, me, "unlock")
	if err != nil {
		t.Fatalf("an acquire whose answer was lost must recognize its own lock: %v", err)
	}
	other := me
	other.ID, other.Who = "other", "other@there"
	_, err = AcquireRemoteLock(ctx, f.r2, f.b, DefaultWorkspace, other, "flareops state unlock")
	var le *LockedError
	if !errors.As(err, &le) || le.Holder.ID != "me" || !strings.Contains(err.Error(), "me@here (pid 1), running `flareops apply` in /x") {
		t.Fatalf("a second holder: %v, want a LockedError naming me@here", err)
	}
	// A lost answer to the release is recognized too.
	objs.lose["team/state.json.lock"] = 1
	if err := l.Release(ctx); err != nil {
		t.Fatalf("release whose answer was lost: %v", err)
	}
	time.Sleep(fastInterval)
	if _, err := AcquireRemoteLock(ctx, f.r2, f.b, DefaultWorkspace, other, "unlock"); err != nil {
		t.Fatalf("after release the lock is free: %v", err)
	}
}

func TestRemoteStateCoalescesAndKeepsMarkersDurable(t *testing.T) {
	f := newRemoteFixture(t)
	ctx := context.Background()
	st, err := LoadRemoteState(ctx, f.r2, f.b, f.t)
	if err != nil {
		t.Fatal(err)
	}
	read := func() *State {
		t.Helper()
		got, err := LoadRemoteState(ctx, f.r2, f.b, f.t)
		if err != nil {
			t.Fatal(err)
		}
		got.Close()
		return got
	}
	// A pending marker is stored when Put returns.
	if err := st.Put("queue.a", StateEntry{Kind: "queue", Key: "a", Pending: true, PendingSince: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if e, ok := read().Get("queue.a"); !ok || !e.Pending {
		t.Fatalf("the marker is not stored when Put returns: %+v %v", e, ok)
	}
	// Many markers at once share few writes; each is stored when its Put returns.
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			addr := "queue.m" + string(rune('a'+i%26)) + string(rune('a'+i/26)) // an address: letters only
			if err := st.Put(addr, StateEntry{Kind: "queue", Key: addr, Pending: true, PendingSince: time.Now()}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := read().Len(); n != 41 {
		t.Fatalf("%d entries stored after the markers' Puts returned, want 41", n)
	}
	if st.Serial > 4 {
		t.Errorf("41 markers took %d writes, want them to share writes", st.Serial)
	}
	// Other changes wait for the next write, and Close stores them.
	if err := st.Put("queue.a", StateEntry{Kind: "queue", Key: "a", ID: "id-a"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Put("queue.late", StateEntry{Kind: "queue", Key: "late", Pending: true}); err == nil {
		t.Error("a marker put after Close must fail (its create would go unprotected), not succeed or block")
	}
	got := read()
	if e, _ := got.Get("queue.a"); e.ID != "id-a" {
		t.Errorf("after Close: %+v, want the recorded id", e)
	}
	if c := f.srv.Counts().KeyWritesLimited["r2"]; c != 0 {
		t.Errorf("%d writes refused as too fast, want 0", c)
	}
	// The previous version is kept.
	prev, _, err := f.r2.GetBytes(ctx, "state", "team/state.json.backup", 1<<20)
	if err != nil || !strings.Contains(string(prev), `"pending": true`) {
		t.Errorf("backup = %.80s (%v), want the version before the last write", prev, err)
	}
}

// A write whose answer was lost finds its own content (412) and succeeds; a state changed
// by someone else since it was read is never overwritten, and nothing more is written.
func TestRemoteStateWriteConflicts(t *testing.T) {
	f := newRemoteFixture(t)
	ctx := context.Background()
	objs := &lostAnswers{Objects: f.r2, lose: map[string]int{}}
	st, err := LoadRemoteState(ctx, objs, f.b, f.t)
	if err != nil {
		t.Fatal(err)
	}
	objs.lose["team/state.json"] = 1
	if err := st.Put("queue.a", StateEntry{Kind: "queue", Key: "a", Pending: true}); err != nil {
		t.Fatalf("a write whose answer was lost: %v", err)
	}
	// A write that seemed to fail but was carried out is found by the next one and built
	// upon, not taken for another writer's.
	objs.fail = map[string]int{"team/state.json": 1}
	if err := st.Put("queue.x", StateEntry{Kind: "queue", Key: "x", Pending: true}); err == nil {
		t.Fatal("the failed write must be reported to its marker's Put")
	}
	if err := st.Put("queue.y", StateEntry{Kind: "queue", Key: "y", Pending: true}); err != nil {
		t.Fatalf("the next write after one carried out without an answer: %v", err)
	}
	if err := st.Remove("queue.x"); err != nil {
		t.Fatal(err)
	}
	if err := st.Remove("queue.y"); err != nil {
		t.Fatal(err)
	}
	if err := st.Flush(); err != nil {
		t.Fatal(err)
	}
	other, err := LoadRemoteState(ctx, f.r2, f.b, f.t)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Put("queue.b", StateEntry{Kind: "queue", Key: "b", Pending: true}); err != nil {
		t.Fatal(err)
	}
	other.Close()
	err = st.Put("queue.c", StateEntry{Kind: "queue", Key: "c", Pending: true})
	if err == nil || !strings.Contains(err.Error(), "another process changed it") {
		t.Fatalf("writing over another process's write: %v, want a refusal", err)
	}
	if err := st.Put("queue.d", StateEntry{Kind: "queue", Key: "d", Pending: true}); err == nil {
		t.Fatal("after a conflict nothing more may be written")
	}
	st.Close()
	got, err := LoadRemoteState(ctx, f.r2, f.b, f.t)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if _, ok := got.Get("queue.b"); !ok || got.Len() != 2 {
		t.Errorf("the other process's state was overwritten: %v", got.Addresses())
	}
	// Bound to its target.
	o := f.t
	o.AccountID = "fedcba9876543210fedcba9876543210"
	if _, err := LoadRemoteState(ctx, f.r2, f.b, o); err == nil || !strings.Contains(err.Error(), "describes account "+remoteAccount) {
		t.Errorf("a state of another account: %v", err)
	}
}

// Each workspace has its own object, lock and backup.
func TestRemoteStateWorkspaces(t *testing.T) {
	f := newRemoteFixture(t)
	ctx := context.Background()
	if got := f.b.StateKey("dev"); got != "team/state.json/workspaces/dev" {
		t.Errorf("dev's key = %q", got)
	}
	dev := f.t
	dev.Workspace = "dev"
	for _, tg := range []Target{f.t, dev} {
		st, err := LoadRemoteState(ctx, f.r2, f.b, tg)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Put("queue."+tg.Workspace, StateEntry{Kind: "queue", Key: tg.Workspace, ID: "id"}); err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for _, tg := range []Target{f.t, dev} {
		st, err := LoadRemoteState(ctx, f.r2, f.b, tg)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Addresses(); len(got) != 1 || got[0] != "queue."+tg.Workspace {
			t.Errorf("workspace %s holds %v", tg.Workspace, got)
		}
		st.Close()
	}
	// A lock of one workspace does not lock the other.
	info := LockInfo{ID: "a", Who: "a@h", Command: "flareops apply", Since: time.Now()}
	if _, err := AcquireRemoteLock(ctx, f.r2, f.b, "dev", info, "unlock"); err != nil {
		t.Fatal(err)
	}
	info.ID = "b"
	if _, err := AcquireRemoteLock(ctx, f.r2, f.b, DefaultWorkspace, info, "unlock"); err != nil {
		t.Fatalf("the default workspace's lock is another object: %v", err)
	}
}
