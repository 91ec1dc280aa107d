package reconciler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// KEY.backup holds the version before the current state: it is copied from KEY only
// while KEY is still the writer's own version.

// backupSerial is the serial of the state kept in KEY.backup.
func (f *remoteFixture) backupSerial(t *testing.T) int {
	t.Helper()
	b, _, err := f.r2.GetBytes(context.Background(), f.b.Bucket, f.b.Key+".backup", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var s struct{ Serial int }
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s.Serial
}

// A writer whose lock was broken fails its state write (412), but must not first
// overwrite KEY.backup, which holds the previous version of the new holder's state.
func TestRemoteStateStaleWriterKeepsBackup(t *testing.T) {
	f := newRemoteFixture(t)
	ctx := context.Background()
	stale, err := LoadRemoteState(ctx, f.r2, f.b, f.t)
	if err != nil {
		t.Fatal(err)
	}
	if err := stale.Put("queue.a", StateEntry{Kind: "queue", Key: "a", Pending: true}); err != nil {
		t.Fatal(err)
	}
	// Its lock is broken; another process takes over and writes twice.
	other, err := LoadRemoteState(ctx, f.r2, f.b, f.t)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Put("queue.b", StateEntry{Kind: "queue", Key: "b", Pending: true}); err != nil {
		t.Fatal(err)
	}
	if err := other.Put("queue.c", StateEntry{Kind: "queue", Key: "c", Pending: true}); err != nil {
		t.Fatal(err)
	}
	other.Close()
	before := f.backupSerial(t)
	time.Sleep(fastInterval)
	if err := stale.Put("queue.z", StateEntry{Kind: "queue", Key: "z", Pending: true}); err == nil {
		t.Fatal("the stale writer's write must fail")
	}
	stale.Close()
	if after := f.backupSerial(t); after != before {
		t.Errorf("the stale writer replaced KEY.backup (serial %d, the previous version of the current state) with its own old state (serial %d)", before, after)
	}
}

// killedAfterBackup is Objects in which the process dies after the backup of the state
// key is made: writes of the state key itself never happen.
type killedAfterBackup struct {
	Objects
	key string
}

func (k *killedAfterBackup) Put(ctx context.Context, bucket, key string, body []byte, opt cloudflare.PutOptions) (cloudflare.R2Object, error) {
	if key == k.key {
		return cloudflare.R2Object{}, errors.New("killed")
	}
	return k.Objects.Put(ctx, bucket, key, body, opt)
}

// A kill between the two writes leaves KEY.backup equal to the previous state and KEY
// readable; a write whose answer was lost but was carried out is found at the next
// write's copy (412) and built upon, and the backup is then that write's version.
func TestRemoteStateBackupIsThePreviousVersion(t *testing.T) {
	f := newRemoteFixture(t)
	ctx := context.Background()
	st, err := LoadRemoteState(ctx, f.r2, f.b, f.t)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b"} {
		if err := st.Put("queue."+k, StateEntry{Kind: "queue", Key: k, Pending: true}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	time.Sleep(fastInterval)
	dying, err := LoadRemoteState(ctx, &killedAfterBackup{Objects: f.r2, key: f.b.Key}, f.b, f.t)
	if err != nil {
		t.Fatal(err)
	}
	if err := dying.Put("queue.c", StateEntry{Kind: "queue", Key: "c", Pending: true}); err == nil {
		t.Fatal("the write of the state key was refused: its Put must fail")
	}
	dying.Close()
	state, _, err := f.r2.GetBytes(ctx, f.b.Bucket, f.b.Key, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	backup, _, err := f.r2.GetBytes(ctx, f.b.Bucket, f.b.Key+".backup", 1<<20)
	if err != nil || !bytes.Equal(backup, state) {
		t.Fatalf("after a kill between the two writes KEY.backup = %.60q (%v), want the state %.60q", backup, err, state)
	}
	got, err := LoadRemoteState(ctx, f.r2, f.b, f.t)
	if err != nil || got.Len() != 2 {
		t.Fatalf("after a kill between the two writes the state is unreadable or changed: %v", err)
	}

	// A write carried out whose answer was an error, and copies whose answers were lost
	// or an error.
	time.Sleep(fastInterval)
	objs := &lostAnswers{Objects: f.r2, lose: map[string]int{f.b.Key + ".backup": 1}, fail: map[string]int{f.b.Key: 1}}
	st, err = LoadRemoteState(ctx, objs, f.b, f.t)
	got.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put("queue.d", StateEntry{Kind: "queue", Key: "d", Pending: true}); err == nil {
		t.Fatal("the write answered with an error must be reported")
	}
	unsure := st.Serial
	if err := st.Put("queue.e", StateEntry{Kind: "queue", Key: "e", Pending: true}); err != nil {
		t.Fatalf("the write after one carried out without an answer: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if b := f.backupSerial(t); b != unsure {
		t.Errorf("KEY.backup has serial %d, want %d: the write carried out without an answer, the version before the current one", b, unsure)
	}
}
