package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// The "done when": a D1 database with several tables and 50,000 rows, a KV
// namespace with 2,000 keys with metadata and expirations and an R2 bucket with 500
// objects are backed up; a row, a key and an object are changed; restore brings back
// exactly the backed-up content; a drill passes and reports the measured RTO.
func TestBackupChangeRestoreDrill(t *testing.T) {
	if testing.Short() {
		t.Skip("50,000 rows; skipped with -short")
	}
	f := newFixture(t, nil)
	ctx := t.Context()
	secret, recipient := newIdentity(t)
	f.env.Identity = secret

	db := f.seedD1("monotask-tasks", map[string]int{"tasks": 45000, "users": 4000, "tags": 1000})
	ns := f.seedKV("monotask-sessions", 2000)
	f.seedR2("monotask-uploads", 500)
	wantD1, wantKV, wantR2 := f.exportD1(db.UUID), f.kvSnapshot(ns.ID), f.r2Snapshot("monotask-uploads")
	if len(wantKV) != 2000 || len(wantR2) != 500 {
		t.Fatalf("seeded %d keys and %d objects", len(wantKV), len(wantR2))
	}

	jobs := []Job{
		f.job(SourceD1, "monotask-tasks", recipient),
		f.job(SourceKV, "monotask-sessions"),
		f.job(SourceR2, "monotask-uploads", recipient),
	}
	for _, job := range jobs {
		var progress bytes.Buffer
		f.env.Progress = &progress
		b, err := f.env.Run(ctx, job)
		f.env.Progress = nil
		if err != nil {
			t.Fatalf("run %s: %v", job.Source, err)
		}
		if job.Source.Kind == SourceD1 && (!strings.Contains(progress.String(), " rows, ") || !strings.Contains(progress.String(), "/s")) {
			t.Errorf("no progress (bytes, rows, rate) on a long run: %q", progress.String())
		}
		if b.Tier != Monthly {
			t.Errorf("%s: the first backup of the month went to %s, want monthly", job.Source, b.Tier)
		}
		var items int64
		for _, c := range b.Manifest.Contents {
			items += c.Items
		}
		want := map[SourceKind]int64{SourceD1: 50000, SourceKV: 2000, SourceR2: 500}[job.Source.Kind]
		if items != want {
			t.Errorf("%s: the manifest counts %d %s, want %d", job.Source, items, job.Source.Kind.noun(), want)
		}
		if !strings.HasPrefix(b.Folder, job.Prefix+"/monthly/") {
			t.Errorf("%s: stored under %s", job.Source, b.Folder)
		}
		// Standard tools read it: age, then gzip, over the concatenated parts.
		plain := f.plaintextOf(b, map[bool]string{true: secret}[b.Manifest.Encrypted])
		if int64(len(plain)) != b.Manifest.Plaintext.Bytes {
			t.Errorf("%s: age+gunzip gave %d bytes, the manifest says %d", job.Source, len(plain), b.Manifest.Plaintext.Bytes)
		}
		if _, err := f.env.Verify(ctx, b); err != nil {
			t.Errorf("verify %s: %v", job.Source, err)
		}
	}
	d1Plain := f.plaintextOf(mustFind(t, f, jobs[0]), secret)
	if string(d1Plain) != wantD1 {
		t.Error("the D1 backup's plaintext is not the database's export")
	}
	// The manifest lists every table with its rows.
	b0 := mustFind(t, f, jobs[0])
	got := map[string]int64{}
	for _, c := range b0.Manifest.Contents {
		got[c.Name] = c.Items
	}
	if got["tasks"] != 45000 || got["users"] != 4000 || got["tags"] != 1000 || len(got) != 3 {
		t.Errorf("manifest tables = %v", got)
	}

	// Change a row, a key and an object.
	if _, _, err := f.api.QueryD1(ctx, db.UUID, `UPDATE tasks SET title = 'changed' WHERE id = 777`); err != nil {
		t.Fatal(err)
	}
	if err := f.api.BulkPutKV(ctx, ns.ID, []cloudflare.KVEntry{{Key: "user:00042", Value: []byte("changed")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r2.Put(ctx, "monotask-uploads", "img/0001.bin", []byte("changed"), cloudflare.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if f.exportD1(db.UUID) == wantD1 {
		t.Fatal("the row change did not change the export")
	}

	// Without -force, restore refuses a target with content and changes nothing.
	for _, job := range jobs {
		b := mustFind(t, f, job)
		if _, err := f.env.Restore(ctx, b, RestoreOptions{To: job.Source.Name}); err == nil || !strings.Contains(err.Error(), "-force") {
			t.Errorf("restore of %s over its non-empty source = %v, want a refusal naming -force", job.Source, err)
		}
	}
	if _, err := f.env.Restore(ctx, mustFind(t, f, jobs[2]), RestoreOptions{To: "backups", Force: true}); err == nil || !strings.Contains(err.Error(), "holds the backups themselves") {
		t.Errorf("restore into the destination bucket = %v, want a refusal", err)
	}
	if v := f.kvSnapshot(ns.ID)["user:00042"]; !strings.Contains(v, `"value":"Y2hhbmdlZA=="`) {
		t.Errorf("a refused restore changed the key: %s", v)
	}

	for _, job := range jobs {
		res, err := f.env.Restore(ctx, mustFind(t, f, job), RestoreOptions{To: job.Source.Name, Force: true})
		if err != nil {
			t.Fatalf("restore %s -force: %v", job.Source, err)
		}
		if res.Created {
			t.Errorf("restore %s created its target, which existed", job.Source)
		}
	}
	if f.exportD1(db.UUID) != wantD1 {
		t.Error("after restore the database differs from the backup")
	}
	if diff := mapDiff(wantKV, f.kvSnapshot(ns.ID)); diff != "" {
		t.Errorf("after restore the namespace differs from the backup: %s", diff)
	}
	if diff := mapDiff(wantR2, f.r2Snapshot("monotask-uploads")); diff != "" {
		t.Errorf("after restore the bucket differs from the backup: %s", diff)
	}

	// A drill restores each into a scratch target, compares and cleans up.
	for _, job := range jobs {
		r, err := f.env.Drill(ctx, job)
		if err != nil {
			t.Fatalf("drill %s: %v", job.Source, err)
		}
		var text bytes.Buffer
		r.WriteText(&text)
		if !r.Passed {
			t.Errorf("drill %s failed:\n%s", job.Source, text.String())
		}
		if r.RestoreSeconds <= 0 || r.RTOSeconds != 3600 || !strings.Contains(text.String(), "(RTO 1h)") {
			t.Errorf("drill %s does not report the measured restore against the RTO:\n%s", job.Source, text.String())
		}
		hist, err := f.env.Drills(ctx, job)
		if err != nil || len(hist) != 1 || hist[0].ID != r.ID {
			t.Errorf("drill history of %s = %v, %v; want this drill", job.Source, hist, err)
		}
	}
	f.assertNoScratch()
}

func mustFind(t *testing.T, f *fixture, job Job) *Backup {
	t.Helper()
	b, err := f.env.Find(t.Context(), job, "")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mapDiff(want, got map[string]string) string {
	var out []string
	for k, v := range want {
		if g, ok := got[k]; !ok {
			out = append(out, "missing "+k)
		} else if g != v {
			out = append(out, "changed "+k+": "+g)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			out = append(out, "extra "+k)
		}
	}
	if len(out) > 5 {
		out = append(out[:5], "…")
	}
	return strings.Join(out, "; ")
}

// assertNoScratch checks that no drill left a scratch target behind.
func (f *fixture) assertNoScratch() {
	f.t.Helper()
	ctx := context.Background()
	var left []string
	nss, err := f.api.ListKVNamespaces(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, ns := range nss {
		left = append(left, "KV namespace "+ns.Title)
	}
	dbs, err := f.api.ListD1Databases(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, db := range dbs {
		left = append(left, "D1 database "+db.Name)
	}
	buckets, err := f.r2.ListBuckets(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, b := range buckets {
		left = append(left, "R2 bucket "+b)
	}
	for _, l := range left {
		if strings.Contains(l, "flareops-drill-") {
			f.t.Errorf("a drill left %s behind", l)
		}
	}
}

func TestChooseTier(t *testing.T) {
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	b := func(tier Tier, s string) *Backup { return &Backup{Tier: tier, ID: ID(at(s))} }
	tests := []struct {
		name     string
		existing []*Backup
		now      string
		want     Tier
	}{
		{"first ever", nil, "2026-12-03T02:00:00Z", Monthly},
		{"monthly done this month, none this week", []*Backup{b(Monthly, "2026-12-01T02:00:00Z")}, "2026-12-08T02:00:00Z", Weekly},
		{"monthly and weekly done", []*Backup{b(Monthly, "2026-12-01T02:00:00Z"), b(Weekly, "2026-12-08T02:00:00Z")}, "2026-12-09T02:00:00Z", Daily},
		{"the monthly of the week counts only as monthly", []*Backup{b(Monthly, "2026-12-01T02:00:00Z")}, "2026-12-02T02:00:00Z", Weekly},
		{"new month", []*Backup{b(Monthly, "2026-12-01T02:00:00Z"), b(Weekly, "2026-12-28T02:00:00Z")}, "2027-01-01T02:00:00Z", Monthly},
		{"ISO week spans the new year", []*Backup{b(Monthly, "2027-01-01T02:00:00Z"), b(Weekly, "2026-12-28T02:00:00Z")}, "2027-01-02T02:00:00Z", Daily},
		{"last year's month does not count", []*Backup{b(Monthly, "2025-12-01T02:00:00Z")}, "2026-12-03T02:00:00Z", Monthly},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ChooseTier(tt.existing, at(tt.now)); got != tt.want {
				t.Errorf("ChooseTier = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestManifestRoundTrip(t *testing.T) {
	m := &Manifest{Format: 1, Compression: "gzip", Parts: []Part{{Name: "p", Bytes: 3}}, StoredBytes: 3}
	raw, err := m.marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseManifest(raw, "x"); err != nil {
		t.Fatal(err)
	}
	var bad Manifest
	json.Unmarshal(raw, &bad)
	bad.StoredBytes = 4
	raw, _ = bad.marshal()
	if _, err := parseManifest(raw, "x"); err == nil || !strings.Contains(err.Error(), "add up") {
		t.Errorf("inconsistent manifest: %v", err)
	}
}
