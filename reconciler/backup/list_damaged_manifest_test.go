package backup

import (
	"strings"
	"testing"
	"time"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// One unreadable manifest (cut short, edited, written by a newer flareops) must not hide
// the good backups beside it: on-call lists the backups to pick an -id when the newest is
// bad. List shows the good ones and names the damaged one.
func TestListShowsGoodBackupsBesideADamagedManifest(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	f.seedKV("sessions", 20)
	job := f.job(SourceKV, "sessions")
	older, err := f.env.Run(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Advance(24 * time.Hour)
	newer, err := f.env.Run(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Advance(time.Second) // R2 takes one write per second per key
	if _, err := f.r2.Put(ctx, "backups", newer.Folder+ManifestName, []byte(`{"format": 1, "parts": [`), cloudflare.PutOptions{}); err != nil {
		t.Fatal(err)
	}

	l, err := f.env.List(ctx, job)
	if err != nil {
		t.Fatalf("List failed on one damaged manifest: %v", err)
	}
	if len(l.Backups) != 1 || l.Backups[0].ID != older.ID {
		var ids []string
		for _, b := range l.Backups {
			ids = append(ids, b.ID)
		}
		t.Errorf("List backups = %v, want the older, intact %s", ids, older.ID)
	}
	if len(l.Damaged) != 1 || !strings.Contains(l.Damaged[0], newer.Folder+ManifestName) {
		t.Errorf("List damaged = %q, want the newer backup's manifest named", l.Damaged)
	}
	// The intact one is still restorable by id.
	b, err := f.env.Find(ctx, job, older.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.env.Verify(ctx, b); err != nil {
		t.Errorf("verify the older backup: %v", err)
	}
}
