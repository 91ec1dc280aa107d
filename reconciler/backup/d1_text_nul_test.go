package backup

import (
	"fmt"
	"testing"
)

// A TEXT value with a NUL byte in it (written with a bound parameter or char(0)) must come
// back whole: the export rendered values with SQLite's quote(), which stops at the NUL,
// so the backup silently kept "x" of "x\x00y", and the drill, comparing export with
// export, passed.
func TestD1TextWithNULRestoresExactly(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	db, err := f.api.CreateD1Database(ctx, "notes")
	if err != nil {
		t.Fatal(err)
	}
	f.importSQL(db.UUID, []byte("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n"+
		"INSERT INTO notes VALUES(1, 'x' || char(0) || 'y');\nINSERT INTO notes VALUES(2, char(0));\nINSERT INTO notes VALUES(3, 'it''s');\n"))
	const q = `SELECT id, typeof(body), hex(body) FROM notes ORDER BY id`
	read := func(id string) string {
		_, rows, err := f.api.QueryD1(ctx, id, q)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(rows)
	}
	want := read(db.UUID)
	b, err := f.env.Run(ctx, f.job(SourceD1, "notes"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.env.Restore(ctx, b, RestoreOptions{To: "notes-restored"}); err != nil {
		t.Fatal(err)
	}
	cp, err := f.api.FindD1Database(ctx, "notes-restored")
	if err != nil {
		t.Fatal(err)
	}
	if got := read(cp.UUID); got != want {
		t.Errorf("restored rows = %s\nwant %s", got, want)
	}
}
