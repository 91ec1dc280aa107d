package backup

import (
	"strings"
	"testing"
)

// D1 keeps rows up to 2 MB (written with bound parameters) but imports no statement over
// 100 KB, and a restore is an import. A backup holding such a row cannot be restored:
// verify must say so, and restore must refuse before it creates or writes anything,
// rather than a run and verify reporting a good backup that fails only when it is needed.
func TestD1RowOverTheImportLimitFailsVerify(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	db, err := f.api.CreateD1Database(ctx, "docs")
	if err != nil {
		t.Fatal(err)
	}
	f.importSQL(db.UUID, []byte("CREATE TABLE pages (id INTEGER PRIMARY KEY, body TEXT);\nINSERT INTO pages VALUES(1,'small');\n"))
	if _, _, err := f.api.QueryD1(ctx, db.UUID, `INSERT INTO pages(body) VALUES(?)`, strings.Repeat("x", 300_000)); err != nil {
		t.Fatal(err)
	}
	job := f.job(SourceD1, "docs")
	b, err := f.env.Run(ctx, job)
	if err != nil {
		t.Fatalf("run: %v", err) // the backup itself holds the data
	}
	if _, err := f.env.Verify(ctx, b); err == nil || !strings.Contains(err.Error(), "pages") || !strings.Contains(err.Error(), "cannot be restored") {
		t.Errorf("verify = %v; want an error naming table pages and that the backup cannot be restored", err)
	}
	if _, err := f.env.Restore(ctx, b, RestoreOptions{To: "docs-restored"}); err == nil {
		t.Error("restore of a backup D1 cannot import succeeded")
	}
	if _, err := f.api.FindD1Database(ctx, "docs-restored"); err == nil {
		t.Error("the failed restore left an empty database docs-restored behind")
	}
}
