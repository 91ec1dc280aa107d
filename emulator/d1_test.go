package emulator_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cloudflare/cloudflare-go/v6/d1"
	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/emulator"
)

const d1AccountID = "d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1"

type d1Fixture struct {
	t   *testing.T
	srv *emulator.Server
	db  *d1.DatabaseService
	ctx context.Context
}

func newD1Client(t *testing.T) *d1Fixture {
	t.Helper()
	srv, err := emulator.New(emulator.Options{RateLimit: -1})
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("emulator Close: %v", err)
		}
	})
	svc := d1.NewDatabaseService(option.WithBaseURL(hs.URL+"/client/v4/"), option.WithAPIToken("t"), option.WithMaxRetries(0))
	return &d1Fixture{t: t, srv: srv, db: svc, ctx: context.Background()}
}

func d1WantErr(t *testing.T, err error, status int, code int64) {
	t.Helper()
	var apiErr *d1.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("want API error %d/%d, got %v", status, code, err)
	}
	if len(apiErr.Errors) == 0 || apiErr.StatusCode != status || apiErr.Errors[0].Code != code {
		t.Fatalf("want HTTP %d code %d, got %v", status, code, err)
	}
}

func (f *d1Fixture) create(name string) *d1.D1 {
	f.t.Helper()
	var p d1.DatabaseNewParams
	setField(&p.AccountID, d1AccountID)
	setField(&p.Name, name)
	db, err := f.db.New(f.ctx, p)
	if err != nil {
		f.t.Fatalf("create %s: %v", name, err)
	}
	return db
}

func (f *d1Fixture) get(id string) (*d1.D1, error) {
	var p d1.DatabaseGetParams
	setField(&p.AccountID, d1AccountID)
	return f.db.Get(f.ctx, id, p)
}

// query runs a batch and returns each statement's rows.
func (f *d1Fixture) query(id string, batch ...d1.DatabaseQueryParamsBodyMultipleQueriesBatch) ([]d1.QueryResult, error) {
	var body d1.DatabaseQueryParamsBodyMultipleQueries
	setField(&body.Batch, batch)
	var p d1.DatabaseQueryParams
	setField(&p.AccountID, d1AccountID)
	p.Body = body
	page, err := f.db.Query(f.ctx, id, p)
	if err != nil {
		return nil, err
	}
	return page.Result, nil
}

func d1Q(sql string, params ...string) d1.DatabaseQueryParamsBodyMultipleQueriesBatch {
	var q d1.DatabaseQueryParamsBodyMultipleQueriesBatch
	setField(&q.Sql, sql)
	if len(params) > 0 {
		setField(&q.Params, params)
	}
	return q
}

func (f *d1Fixture) mustQuery(id string, batch ...d1.DatabaseQueryParamsBodyMultipleQueriesBatch) []d1.QueryResult {
	f.t.Helper()
	res, err := f.query(id, batch...)
	if err != nil {
		f.t.Fatalf("query: %v", err)
	}
	return res
}

func (f *d1Fixture) count(id, table string) float64 {
	f.t.Helper()
	res := f.mustQuery(id, d1Q("SELECT count(*) AS n FROM "+table))
	return res[0].Results[0].(map[string]any)["n"].(float64)
}

func TestD1DatabaseLifecycle(t *testing.T) {
	f := newD1Client(t)
	var np d1.DatabaseNewParams
	setField(&np.AccountID, d1AccountID)
	setField(&np.Name, "orders-db")
	setField(&np.PrimaryLocationHint, d1.DatabaseNewParamsPrimaryLocationHintWeur)
	setField(&np.Jurisdiction, d1.DatabaseNewParamsJurisdictionEu)
	created, err := f.db.New(f.ctx, np)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if created.UUID == "" || created.Version != "production" || created.ReadReplication.Mode != "disabled" || created.Jurisdiction != "eu" {
		t.Fatalf("unexpected create answer: %+v", created)
	}
	f.mustQuery(created.UUID, d1Q("CREATE TABLE a (x)"), d1Q("CREATE TABLE b (y)"))
	got, err := f.get(created.UUID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.Name != "orders-db" || got.NumTables != 2 || got.FileSize <= 0 {
		t.Fatalf("Get = name %q tables %v size %v, want orders-db, 2 tables, size > 0", got.Name, got.NumTables, got.FileSize)
	}

	var up d1.DatabaseUpdateParams
	setField(&up.AccountID, d1AccountID)
	var rr d1.DatabaseUpdateParamsReadReplication
	setField(&rr.Mode, d1.DatabaseUpdateParamsReadReplicationModeAuto)
	setField(&up.ReadReplication, rr)
	if upd, err := f.db.Update(f.ctx, created.UUID, up); err != nil || upd.ReadReplication.Mode != "auto" {
		t.Fatalf("Update (PUT) = %+v, %v; want mode auto", upd, err)
	}
	var ep d1.DatabaseEditParams
	setField(&ep.AccountID, d1AccountID)
	var er d1.DatabaseEditParamsReadReplication
	setField(&er.Mode, d1.DatabaseEditParamsReadReplicationModeDisabled)
	setField(&ep.ReadReplication, er)
	if ed, err := f.db.Edit(f.ctx, created.UUID, ep); err != nil || ed.ReadReplication.Mode != "disabled" {
		t.Fatalf("Edit (PATCH) = %+v, %v; want mode disabled", ed, err)
	}

	var dp d1.DatabaseDeleteParams
	setField(&dp.AccountID, d1AccountID)
	if _, err := f.db.Delete(f.ctx, created.UUID, dp); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err = f.get(created.UUID)
	d1WantErr(t, err, http.StatusNotFound, 7404)
}

func TestD1List(t *testing.T) {
	f := newD1Client(t)
	var want []string
	for _, n := range []string{"app-a", "app-b", "app-c", "app-d", "app-e", "app-f", "app-g", "app-h", "app-i", "app-j", "app-k", "other"} {
		f.create(n)
		if strings.HasPrefix(n, "app-") {
			want = append(want, n)
		}
	}
	var lp d1.DatabaseListParams
	setField(&lp.AccountID, d1AccountID)
	setField(&lp.Name, "app-")
	setField(&lp.PerPage, 10.0)
	var got []string
	pager := f.db.ListAutoPaging(f.ctx, lp)
	for pager.Next() {
		got = append(got, pager.Current().Name)
	}
	if err := pager.Err(); err != nil {
		t.Fatalf("ListAutoPaging: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("listed names (-want +got):\n%s", diff)
	}
	setField(&lp.PerPage, 5.0)
	_, err := f.db.List(f.ctx, lp)
	d1WantErr(t, err, http.StatusBadRequest, 10001)
}

func TestD1Errors(t *testing.T) {
	f := newD1Client(t)
	db := f.create("taken")
	newDB := func(name string) error {
		var p d1.DatabaseNewParams
		setField(&p.AccountID, d1AccountID)
		setField(&p.Name, name)
		_, err := f.db.New(f.ctx, p)
		return err
	}
	tests := []struct {
		name   string
		call   func() error
		status int
		code   int64
	}{
		{"get unknown uuid", func() error { _, err := f.get("00000000-0000-4000-8000-000000000000"); return err }, 404, 7404},
		{"query unknown uuid", func() error { _, err := f.query("00000000-0000-4000-8000-000000000000", d1Q("SELECT 1")); return err }, 404, 7404},
		{"invalid name", func() error { return newDB("Bad_Name") }, 400, 7400},
		{"name starting with a dash", func() error { return newDB("-db") }, 400, 7400},
		{"duplicate name", func() error { return newDB("taken") }, 400, 7502},
		{"invalid SQL", func() error { _, err := f.query(db.UUID, d1Q("SELEC 1")); return err }, 400, 7500},
		{"no such table", func() error { _, err := f.query(db.UUID, d1Q("SELECT * FROM nope")); return err }, 400, 7500},
		{"transaction statement", func() error { _, err := f.query(db.UUID, d1Q("BEGIN TRANSACTION")); return err }, 400, 7400},
		{"too many params", func() error { _, err := f.query(db.UUID, d1Q("SELECT 1", make([]string, 101)...)); return err }, 400, 7400},
		{"statement over 100 KB", func() error {
			_, err := f.query(db.UUID, d1Q("SELECT '"+strings.Repeat("x", 100_001)+"'"))
			return err
		}, 400, 7400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { d1WantErr(t, tc.call(), tc.status, tc.code) })
	}
}

func TestD1QueryAndRaw(t *testing.T) {
	f := newD1Client(t)
	db := f.create("shop")
	res := f.mustQuery(db.UUID,
		d1Q("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL, note TEXT); CREATE INDEX items_name ON items(name)"),
		d1Q("INSERT INTO items (name, price) VALUES (?, ?)", "lamp", "19.5"),
		d1Q("INSERT INTO items (name, price, note) VALUES (?, ?, ?)", "desk", "120", "it's; fine"),
	)
	if len(res) != 4 {
		t.Fatalf("got %d results, want one per statement (4)", len(res))
	}
	if m := res[3].Meta; !m.ChangedDB || m.Changes != 1 || m.LastRowID != 2 || !res[3].Success {
		t.Errorf("insert meta = %+v, want changed_db, 1 change, last_row_id 2", m)
	}
	sel := f.mustQuery(db.UUID, d1Q("SELECT id, name, price, note FROM items WHERE price > ? ORDER BY id", "10"))
	want := []any{
		map[string]any{"id": 1.0, "name": "lamp", "price": 19.5, "note": nil},
		map[string]any{"id": 2.0, "name": "desk", "price": 120.0, "note": "it's; fine"},
	}
	if diff := cmp.Diff(want, sel[0].Results); diff != "" {
		t.Errorf("select rows (-want +got):\n%s", diff)
	}
	if m := sel[0].Meta; m.ChangedDB || m.RowsRead != 2 {
		t.Errorf("select meta = %+v, want unchanged db and 2 rows read", m)
	}

	var body d1.DatabaseRawParamsBodyD1SingleQuery
	setField(&body.Sql, "SELECT name, price FROM items WHERE id = ?")
	setField(&body.Params, []string{"2"})
	var rp d1.DatabaseRawParams
	setField(&rp.AccountID, d1AccountID)
	rp.Body = body
	raw, err := f.db.Raw(f.ctx, db.UUID, rp)
	if err != nil {
		t.Fatalf("Raw: %v", err)
	}
	gotRaw := raw.Result[0].Results
	if diff := cmp.Diff([]string{"name", "price"}, gotRaw.Columns); diff != "" {
		t.Errorf("raw columns (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][]any{{"desk", 120.0}}, gotRaw.Rows); diff != "" {
		t.Errorf("raw rows (-want +got):\n%s", diff)
	}

	// A batch is one transaction: the failing statement undoes the insert before it.
	_, err = f.query(db.UUID, d1Q("INSERT INTO items (name) VALUES ('chair')"), d1Q("INSERT INTO items (name) VALUES (NULL)"))
	d1WantErr(t, err, http.StatusBadRequest, 7500)
	if n := f.count(db.UUID, "items"); n != 2 {
		t.Errorf("after a failed batch there are %v items, want 2", n)
	}
}

// export runs the polling export to completion and downloads the dump.
func (f *d1Fixture) export(id string) string {
	f.t.Helper()
	var p d1.DatabaseExportParams
	setField(&p.AccountID, d1AccountID)
	setField(&p.OutputFormat, d1.DatabaseExportParamsOutputFormatPolling)
	first, err := f.db.Export(f.ctx, id, p)
	if err != nil {
		f.t.Fatalf("Export: %v", err)
	}
	if first.Status != "active" || first.AtBookmark == "" {
		f.t.Fatalf("first export call = status %q bookmark %q, want active with a bookmark", first.Status, first.AtBookmark)
	}
	setField(&p.CurrentBookmark, first.AtBookmark)
	done, err := f.db.Export(f.ctx, id, p)
	if err != nil {
		f.t.Fatalf("Export poll: %v", err)
	}
	if done.Status != d1.DatabaseExportResponseStatusComplete || done.Result.SignedURL == "" || done.Result.Filename == "" {
		f.t.Fatalf("export poll = %+v, want complete with a signed URL", done)
	}
	resp, err := http.Get(done.Result.SignedURL)
	if err != nil {
		f.t.Fatalf("download: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("download: HTTP %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// importSQL runs init, upload, ingest and poll (with one bad upload first), returning
// the final poll answer.
func (f *d1Fixture) importSQL(id, dump string) *d1.DatabaseImportResponse {
	f.t.Helper()
	sum := md5.Sum([]byte(dump))
	etag := hex.EncodeToString(sum[:])
	call := func(body d1.DatabaseImportParamsBody) *d1.DatabaseImportResponse {
		var p d1.DatabaseImportParams
		setField(&p.AccountID, d1AccountID)
		p.Body = body
		res, err := f.db.Import(f.ctx, id, p)
		if err != nil {
			f.t.Fatalf("Import %s: %v", body.Action.Value, err)
		}
		return res
	}
	var initBody d1.DatabaseImportParamsBody
	setField(&initBody.Action, d1.DatabaseImportParamsBodyActionInit)
	setField(&initBody.Etag, etag)
	initRes := call(initBody)
	if status := d1Put(f.t, initRes.UploadURL, dump+"-- tampered"); status != http.StatusBadRequest {
		f.t.Fatalf("upload with a wrong MD5 = HTTP %d, want 400", status)
	}
	if status := d1Put(f.t, initRes.UploadURL, dump); status != http.StatusOK {
		f.t.Fatalf("upload = HTTP %d, want 200", status)
	}
	var ingest d1.DatabaseImportParamsBody
	setField(&ingest.Action, d1.DatabaseImportParamsBodyActionIngest)
	setField(&ingest.Etag, etag)
	setField(&ingest.Filename, initRes.Filename)
	ing := call(ingest)
	if ing.Status != "active" || ing.AtBookmark == "" {
		f.t.Fatalf("ingest = status %q bookmark %q, want active", ing.Status, ing.AtBookmark)
	}
	var poll d1.DatabaseImportParamsBody
	setField(&poll.Action, d1.DatabaseImportParamsBodyActionPoll)
	setField(&poll.CurrentBookmark, ing.AtBookmark)
	return call(poll)
}

func d1Put(t *testing.T, url, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("PUT %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestD1ExportImportRoundTrip(t *testing.T) {
	f := newD1Client(t)
	a := f.create("source")
	f.mustQuery(a.UUID,
		d1Q(`CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL, score REAL, avatar BLOB)`),
		d1Q(`CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), body TEXT)`),
		d1Q(`CREATE INDEX posts_user ON posts(user_id)`),
		d1Q(`CREATE TRIGGER posts_touch AFTER INSERT ON posts BEGIN UPDATE users SET score = score + 1 WHERE id = NEW.user_id; END`),
		d1Q(`INSERT INTO users (email, score, avatar) VALUES ('a@x.io', 1.0, X'00FF10'), ('o''brien@x.io', NULL, NULL)`),
		d1Q(`INSERT INTO posts (user_id, body) VALUES (1, 'line one
line two; with semicolon'), (2, 'second')`),
	)
	dump := f.export(a.UUID)
	if !strings.Contains(dump, "CREATE TABLE users") || !strings.Contains(dump, "INSERT INTO \"posts\"") {
		t.Fatalf("dump lacks schema or rows:\n%s", dump)
	}

	b := f.create("restore-target")
	final := f.importSQL(b.UUID, dump)
	if final.Status != d1.DatabaseImportResponseStatusComplete || final.Result.NumQueries == 0 || final.Result.FinalBookmark == "" {
		t.Fatalf("import poll = %+v, want complete", final)
	}
	for _, table := range []string{"users", "posts"} {
		if na, nb := f.count(a.UUID, table), f.count(b.UUID, table); na != nb {
			t.Errorf("%s: %v rows in source, %v after import", table, na, nb)
		}
	}
	// The checksum: the import's own export is byte-for-byte the source's.
	if diff := cmp.Diff(d1Digest(dump), d1Digest(f.export(b.UUID))); diff != "" {
		t.Errorf("export of the imported database differs from the source (-want +got):\n%s", diff)
	}
	checksum := "SELECT group_concat(id || ':' || email || ':' || ifnull(score, '-') || ':' || ifnull(hex(avatar), '-'), '|') AS c FROM users"
	if ca, cb := f.mustQuery(a.UUID, d1Q(checksum)), f.mustQuery(b.UUID, d1Q(checksum)); !cmp.Equal(ca[0].Results, cb[0].Results) {
		t.Errorf("row checksum differs: %v vs %v", ca[0].Results, cb[0].Results)
	}

	// Importing the same dump again fails (tables exist) and changes nothing.
	again := f.importSQL(b.UUID, dump)
	if again.Status != d1.DatabaseImportResponseStatusError {
		t.Errorf("second import status = %q, want error", again.Status)
	}
	if n := f.count(b.UUID, "posts"); n != 2 {
		t.Errorf("after a failed import posts has %v rows, want 2", n)
	}
}

// d1Digest is the MD5 of a dump, to compare two dumps as checksums.
func d1Digest(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestD1ExportSignedURLExpires(t *testing.T) {
	f := newD1Client(t)
	db := f.create("expiring")
	var p d1.DatabaseExportParams
	setField(&p.AccountID, d1AccountID)
	setField(&p.OutputFormat, d1.DatabaseExportParamsOutputFormatPolling)
	first, err := f.db.Export(f.ctx, db.UUID, p)
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	setField(&p.CurrentBookmark, first.AtBookmark)
	done, err := f.db.Export(f.ctx, db.UUID, p)
	if err != nil {
		t.Fatalf("Export poll: %v", err)
	}
	f.srv.Advance(61 * time.Minute)
	resp, err := http.Get(done.Result.SignedURL)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("download after 61 minutes = HTTP %d, want 403", resp.StatusCode)
	}
	setField(&p.CurrentBookmark, "00000000-000000000000-0000000000000000")
	_, err = f.db.Export(f.ctx, db.UUID, p)
	d1WantErr(t, err, http.StatusBadRequest, 7400)
}

func TestD1TimeTravel(t *testing.T) {
	f := newD1Client(t)
	db := f.create("ledger")
	tt := f.db.TimeTravel
	bookmark := func(at time.Time) (string, error) {
		var p d1.DatabaseTimeTravelGetBookmarkParams
		setField(&p.AccountID, d1AccountID)
		if !at.IsZero() {
			setField(&p.Timestamp, at)
		}
		res, err := tt.GetBookmark(f.ctx, db.UUID, p)
		if err != nil {
			return "", err
		}
		return res.Bookmark, nil
	}
	restore := func(set func(*d1.DatabaseTimeTravelRestoreParams)) (*d1.DatabaseTimeTravelRestoreResponse, error) {
		var p d1.DatabaseTimeTravelRestoreParams
		setField(&p.AccountID, d1AccountID)
		set(&p)
		return tt.Restore(f.ctx, db.UUID, p)
	}

	f.mustQuery(db.UUID, d1Q("CREATE TABLE entries (v INTEGER)"), d1Q("INSERT INTO entries VALUES (1)"))
	b1, err := bookmark(time.Time{})
	if err != nil {
		t.Fatalf("GetBookmark: %v", err)
	}
	f.srv.Advance(time.Hour)
	afterOne := f.srv.Now()
	f.srv.Advance(time.Hour)
	f.mustQuery(db.UUID, d1Q("INSERT INTO entries VALUES (2)"), d1Q("INSERT INTO entries VALUES (3)"))
	if got, _ := bookmark(time.Time{}); got == b1 {
		t.Fatalf("bookmark did not move after a write: %s", got)
	}
	if got, err := bookmark(afterOne); err != nil || got != b1 {
		t.Fatalf("bookmark at %v = %q, %v; want %q", afterOne, got, err, b1)
	}

	res, err := restore(func(p *d1.DatabaseTimeTravelRestoreParams) { setField(&p.Bookmark, b1) })
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if n := f.count(db.UUID, "entries"); n != 1 {
		t.Fatalf("after restoring %s there are %v entries, want 1", b1, n)
	}
	// Restoring is undoable: previous_bookmark names the state that was replaced.
	if _, err := restore(func(p *d1.DatabaseTimeTravelRestoreParams) { setField(&p.Bookmark, res.PreviousBookmark) }); err != nil {
		t.Fatalf("Restore previous: %v", err)
	}
	if n := f.count(db.UUID, "entries"); n != 3 {
		t.Fatalf("after undoing the restore there are %v entries, want 3", n)
	}
	if _, err := restore(func(p *d1.DatabaseTimeTravelRestoreParams) { setField(&p.Timestamp, afterOne) }); err != nil {
		t.Fatalf("Restore by timestamp: %v", err)
	}
	if n := f.count(db.UUID, "entries"); n != 1 {
		t.Fatalf("after restoring to %v there are %v entries, want 1", afterOne, n)
	}

	t.Run("unknown bookmark", func(t *testing.T) {
		_, err := restore(func(p *d1.DatabaseTimeTravelRestoreParams) {
			setField(&p.Bookmark, "0000ffff-000000000000-0123456789abcdef")
		})
		d1WantErr(t, err, http.StatusBadRequest, 7400)
	})
	t.Run("older than 30 days", func(t *testing.T) {
		f.srv.Advance(31 * 24 * time.Hour)
		_, err := bookmark(afterOne)
		d1WantErr(t, err, http.StatusBadRequest, 7400)
		_, err = restore(func(p *d1.DatabaseTimeTravelRestoreParams) { setField(&p.Bookmark, b1) })
		d1WantErr(t, err, http.StatusBadRequest, 7400)
	})
	t.Run("only the last 50 generations are kept", func(t *testing.T) {
		before, err := bookmark(time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 51; i++ {
			f.mustQuery(db.UUID, d1Q("INSERT INTO entries VALUES (?)", "9"))
		}
		_, err = restore(func(p *d1.DatabaseTimeTravelRestoreParams) { setField(&p.Bookmark, before) })
		d1WantErr(t, err, http.StatusBadRequest, 7400)
	})
	t.Run("unknown database", func(t *testing.T) {
		var p d1.DatabaseTimeTravelGetBookmarkParams
		setField(&p.AccountID, d1AccountID)
		_, err := tt.GetBookmark(f.ctx, "00000000-0000-4000-8000-000000000000", p)
		d1WantErr(t, err, http.StatusNotFound, 7404)
	})
}

// A persistent emulator keeps databases, their rows and their bookmarks across restarts.
func TestD1PersistsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	start := func() *d1Fixture {
		srv, err := emulator.New(emulator.Options{DataDir: dir, RateLimit: -1})
		if err != nil {
			t.Fatalf("emulator.New: %v", err)
		}
		hs := httptest.NewServer(srv)
		t.Cleanup(hs.Close)
		svc := d1.NewDatabaseService(option.WithBaseURL(hs.URL+"/client/v4/"), option.WithAPIToken("t"), option.WithMaxRetries(0))
		return &d1Fixture{t: t, srv: srv, db: svc, ctx: context.Background()}
	}
	f := start()
	db := f.create("durable")
	f.mustQuery(db.UUID, d1Q("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)"), d1Q("INSERT INTO kv VALUES ('a', '1')"))
	var bp d1.DatabaseTimeTravelGetBookmarkParams
	setField(&bp.AccountID, d1AccountID)
	before, err := f.db.TimeTravel.GetBookmark(f.ctx, db.UUID, bp)
	if err != nil {
		t.Fatalf("GetBookmark: %v", err)
	}
	if err := f.srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	g := start()
	t.Cleanup(func() { g.srv.Close() })
	if n := g.count(db.UUID, "kv"); n != 1 {
		t.Fatalf("after a restart kv has %v rows, want 1", n)
	}
	after, err := g.db.TimeTravel.GetBookmark(g.ctx, db.UUID, bp)
	if err != nil || after.Bookmark != before.Bookmark {
		t.Errorf("bookmark after restart = %v, %v; want %s", after, err, before.Bookmark)
	}
}
