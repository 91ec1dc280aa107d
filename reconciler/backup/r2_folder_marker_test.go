package backup

import (
	"testing"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// S3 consoles and tools make "folders" as objects whose key ends in "/". A bucket holding
// one must back up and restore like any other: the run used to fail on it ("filename may
// not have trailing slash"), so no backup of that bucket could ever complete.
func TestR2KeysEndingInSlashBackUpAndRestore(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	if err := f.r2.CreateBucket(ctx, "uploads"); err != nil {
		t.Fatal(err)
	}
	objects := map[string]string{
		"photos/":      "",
		"photos/a.jpg": "jpeg bytes",
		"notes/":       "a folder marker with a body",
		"photos%2F":    "a key that looks like the marker's entry name",
		"/":            "",
	}
	for k, v := range objects {
		if _, err := f.r2.Put(ctx, "uploads", k, []byte(v), cloudflare.PutOptions{ContentType: "text/plain", Metadata: map[string]string{"k": k}}); err != nil {
			t.Fatalf("put %q: %v", k, err)
		}
	}
	want := f.r2Snapshot("uploads")
	job := f.job(SourceR2, "uploads")
	b, err := f.env.Run(ctx, job)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if _, err := f.env.Restore(ctx, b, RestoreOptions{To: "uploads-restored"}); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if diff := mapDiff(want, f.r2Snapshot("uploads-restored")); diff != "" {
		t.Errorf("the restored bucket differs from the source: %s", diff)
	}
	r, err := f.env.Drill(ctx, job)
	if err != nil || !r.Passed {
		t.Errorf("drill = %+v, %v; want passed", r, err)
	}
}
