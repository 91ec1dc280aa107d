package cloudflare

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/emulator"
)

// TestConformanceD1: a database is created, found by name and listed; statements run
// with parameters and answer columns and rows; tables and views are listed; the polling
// export streams a dump that recreates them; delete is idempotent and the name is then
// not found.
func TestConformanceD1(t *testing.T) {
	a := newConformanceAccountConfig(t, emulator.Options{RateLimit: -1}, Config{MaxRetries: -1})
	c := a.c
	ctx := context.Background()
	db := a.d1(t, "tasks")
	if db.UUID == "" || db.Name != a.name("tasks") {
		t.Fatalf("create answer %+v", db)
	}
	found, err := c.FindD1Database(ctx, db.Name)
	if err != nil || found != db {
		t.Errorf("FindD1Database(%s) = %+v, %v; want %+v", db.Name, found, err, db)
	}
	all, err := c.ListD1Databases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]D1Database{db}, mine(a, all, func(d D1Database) bool { return d.UUID == db.UUID })); diff != "" {
		t.Errorf("listed (-want +got):\n%s", diff)
	}

	for _, sql := range []string{
		"CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT NOT NULL, done INTEGER)",
		"CREATE VIEW open_tasks AS SELECT * FROM tasks WHERE done = 0",
	} {
		if _, _, err := c.QueryD1(ctx, db.UUID, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if _, _, err := c.QueryD1(ctx, db.UUID, "INSERT INTO tasks (title, done) VALUES (?, ?), (?, ?)", "write docs", "0", "ship", "1"); err != nil {
		t.Fatal(err)
	}
	cols, rows, err := c.QueryD1(ctx, db.UUID, "SELECT id, title, done FROM tasks ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"id", "title", "done"}, cols); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	// Parameters are bound as text: "0" and "1" are stored as written into INTEGER (affinity).
	if diff := cmp.Diff([][]any{{float64(1), "write docs", float64(0)}, {float64(2), "ship", float64(1)}}, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if tables, err := c.D1Tables(ctx, db.UUID); err != nil || !cmp.Equal(tables, []string{"tasks"}) {
		t.Errorf("D1Tables = %v, %v; want [tasks]", tables, err)
	}
	if views, err := c.D1Views(ctx, db.UUID); err != nil || !cmp.Equal(views, []string{"open_tasks"}) {
		t.Errorf("D1Views = %v, %v; want [open_tasks]", views, err)
	}
	if _, _, err := c.QueryD1(ctx, db.UUID, "SELECT * FROM no_such_table"); err == nil {
		t.Errorf("a query of a missing table succeeded")
	}

	dump, err := c.ExportD1(ctx, db.UUID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(dump)
	dump.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"CREATE TABLE", "tasks", "write docs", "open_tasks"} {
		if !strings.Contains(string(b), s) {
			t.Errorf("the dump lacks %q:\n%s", s, b)
		}
	}

	if err := c.DeleteD1Database(ctx, db.UUID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteD1Database(ctx, db.UUID); err != nil {
		t.Errorf("deleting a deleted database: %v, want nil", err)
	}
	if _, err := c.FindD1Database(ctx, db.Name); !IsNotFound(err) {
		t.Errorf("FindD1Database after the delete: %v, want IsNotFound", err)
	}
}
