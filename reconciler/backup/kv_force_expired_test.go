package backup

import (
	"testing"
	"time"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// A forced restore makes the target exactly the backup. A key the backup holds but that
// has expired since (or expires within KV's 60-second minimum) cannot be written, so it is
// skipped; the target's own key of that name must not survive the restore either, or the
// target keeps a value the backup never had.
func TestKVForcedRestoreDropsTargetKeysTheBackupLetExpire(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	src, err := f.api.CreateKVNamespace(ctx, "flags")
	if err != nil {
		t.Fatal(err)
	}
	now := f.srv.Now().Unix()
	if err := f.api.BulkPutKV(ctx, src.ID, []cloudflare.KVEntry{
		{Key: "keep", Value: []byte("v1")},
		{Key: "short-lived", Value: []byte("backed up"), Expiration: now + 120},
	}); err != nil {
		t.Fatal(err)
	}
	b, err := f.env.Run(ctx, f.job(SourceKV, "flags"))
	if err != nil {
		t.Fatal(err)
	}
	dst, err := f.api.CreateKVNamespace(ctx, "flags-target")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.api.BulkPutKV(ctx, dst.ID, []cloudflare.KVEntry{{Key: "short-lived", Value: []byte("the target's own, never backed up")}}); err != nil {
		t.Fatal(err)
	}
	f.srv.Advance(90 * time.Second) // "short-lived" now expires within 60 s: KV cannot take it
	res, err := f.env.Restore(ctx, b, RestoreOptions{To: "flags-target", Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 1 {
		t.Errorf("skipped %d keys, want 1", res.Skipped)
	}
	got := f.kvSnapshot(dst.ID)
	if _, ok := got["short-lived"]; ok {
		t.Errorf("after restore -force the target still has its own short-lived: %s", got["short-lived"])
	}
	if _, ok := got["keep"]; !ok || len(got) != 1 {
		t.Errorf("target keys = %v, want only keep", got)
	}
}
