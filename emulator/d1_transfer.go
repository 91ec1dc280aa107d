package emulator

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// D1 Time Travel, export and import (cloudflare-api.md §8).
//
// Bookmarks are honest: a database's file moves through generations, one per committed
// change, and a bookmark names a generation ("<generation>-<its start in unix ms>-<tag of
// the database>", hex). Before a batch that may write, the file is copied with VACUUM INTO
// to dataDir/d1/snapshots; if the batch changes the database, the copy becomes the
// snapshot of the generation that just ended. Restoring copies a snapshot back over the
// file, which starts a new generation (so a restore can itself be undone).

const (
	d1TimeTravelWindow = 30 * 24 * time.Hour // paid plan (DOCS d1/platform/limits.mdx)
	d1MaxSnapshots     = 50                  // emulator bound on kept generations per database
	d1RestoreLimit     = 10                  // restores per d1RestoreWindow per database
	d1RestoreWindow    = 10 * time.Minute
	d1SignedURLTTL     = time.Hour // export signed_url and import upload_url
	d1MaxImportBytes   = 5 << 30   // "Import file: 5 GB"
	d1RestoreCode      = 7429      // Unknown upstream: the restore rate-limit code; we choose 7429 with HTTP 429.
)

// d1Snapshot is a copy of the file as it was during generation Generation, [At, Until).
type d1Snapshot struct {
	Generation int64     `json:"generation"`
	At         time.Time `json:"at"`
	Until      time.Time `json:"until"`
	File       string    `json:"file"`
}

// d1Export is a dump made by a first export call, served once polled to completion.
type d1Export struct {
	DatabaseUUID string    `json:"database_uuid"`
	Bookmark     string    `json:"bookmark"`
	Filename     string    `json:"filename"`
	Blob         string    `json:"blob"`
	CreatedAt    time.Time `json:"created_at"`
	ExpiresAt    time.Time `json:"expires_at"` // zero until the poll that completes it
}

// d1Import is one import: init, upload to the signed URL, ingest, poll.
type d1Import struct {
	DatabaseUUID  string    `json:"database_uuid"`
	Etag          string    `json:"etag"`
	Filename      string    `json:"filename"`
	Blob          string    `json:"blob,omitempty"`
	Uploaded      bool      `json:"uploaded"`
	CreatedAt     time.Time `json:"created_at"`
	AtBookmark    string    `json:"at_bookmark,omitempty"`
	Status        string    `json:"status,omitempty"` // "" before ingest, then complete or error
	Error         string    `json:"error,omitempty"`
	FinalBookmark string    `json:"final_bookmark,omitempty"`
	NumQueries    int       `json:"num_queries,omitempty"`
	Meta          *d1Meta   `json:"meta,omitempty"`
}

func (s *Server) routesD1Transfer() {
	const base = "/accounts/{account_id}/d1/database/{database_id}"
	s.handle("GET "+base+"/time_travel/bookmark", s.d1GetBookmark)
	s.handle("POST "+base+"/time_travel/restore", s.d1Restore)
	s.handle("POST "+base+"/export", s.d1ExportHandler)
	s.handle("POST "+base+"/import", s.d1ImportHandler)
	s.handleSigned("d1-export", s.d1ServeExport)
	s.handleSigned("d1-import", s.d1ServeUpload)
}

func (s *Server) d1SnapshotPath(file string) string {
	return filepath.Join(s.dataDir, "d1", "snapshots", file)
}

// d1TakeSnapshot copies the current file aside. Callers hold s.mu.
func (s *Server) d1TakeSnapshot(ctx context.Context, conn *sql.DB, db *d1Database) (string, error) {
	path := s.d1SnapshotPath(fmt.Sprintf("%s-%d-%s.sqlite", db.UUID, db.Generation, newHexID()[:8]))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("cannot create snapshot directory: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "VACUUM INTO "+d1QuoteString(path)); err != nil {
		return "", fmt.Errorf("cannot snapshot database %s: %w", db.UUID, err)
	}
	return path, nil
}

func d1DiscardSnapshot(path string) {
	if path != "" {
		os.Remove(path) // a leftover copy is harmless
	}
}

// d1Advance ends the current generation, keeping path (if any) as its snapshot.
func (s *Server) d1Advance(db *d1Database, path string) {
	now := s.Now()
	if path != "" {
		db.Snapshots = append(db.Snapshots, d1Snapshot{Generation: db.Generation, At: db.GenerationAt, Until: now, File: filepath.Base(path)})
	}
	db.Generation++
	db.GenerationAt = now
	s.d1Prune(db, now)
}

// d1Prune drops snapshots beyond the last d1MaxSnapshots or wholly outside the window.
func (s *Server) d1Prune(db *d1Database, now time.Time) {
	cut := 0
	for cut < len(db.Snapshots) && (len(db.Snapshots)-cut > d1MaxSnapshots || db.Snapshots[cut].Until.Before(now.Add(-d1TimeTravelWindow))) {
		os.Remove(s.d1SnapshotPath(db.Snapshots[cut].File))
		cut++
	}
	db.Snapshots = append([]d1Snapshot{}, db.Snapshots[cut:]...)
}

func d1Bookmark(db *d1Database, gen int64, at time.Time) string {
	tag := sha256.Sum256([]byte(db.UUID))
	return fmt.Sprintf("%08x-%012x-%s", gen, at.UnixMilli(), hex.EncodeToString(tag[:8]))
}

func d1CurrentBookmark(db *d1Database) string {
	return d1Bookmark(db, db.Generation, db.GenerationAt)
}

var d1BookmarkRe = regexp.MustCompile(`^([0-9a-f]{8})-[0-9a-f]{12}-[0-9a-f]{16}$`)

// d1FindBookmark returns the generation a bookmark names, and its snapshot unless it is
// the current one. ok is false for anything that is not a retained bookmark of db.
func d1FindBookmark(db *d1Database, b string) (gen int64, snap *d1Snapshot, ok bool) {
	m := d1BookmarkRe.FindStringSubmatch(b)
	if m == nil {
		return 0, nil, false
	}
	gen, _ = strconv.ParseInt(m[1], 16, 64)
	if gen == db.Generation && b == d1CurrentBookmark(db) {
		return gen, nil, true
	}
	for i := range db.Snapshots {
		if sn := &db.Snapshots[i]; sn.Generation == gen && b == d1Bookmark(db, gen, sn.At) {
			return gen, sn, true
		}
	}
	return 0, nil, false
}

// d1BookmarkAt is the bookmark of the generation current at t, or a message saying why
// there is none.
func d1BookmarkAt(db *d1Database, t, now time.Time) (string, string) {
	switch {
	case t.Before(now.Add(-d1TimeTravelWindow)):
		return "", fmt.Sprintf("timestamp %s is outside the Time Travel window of 30 days", t.Format(time.RFC3339))
	case t.Before(db.CreatedAt):
		return "", fmt.Sprintf("timestamp %s is before the database was created", t.Format(time.RFC3339))
	case !t.Before(db.GenerationAt):
		return d1CurrentBookmark(db), ""
	}
	for _, sn := range db.Snapshots {
		if !t.Before(sn.At) && t.Before(sn.Until) {
			return d1Bookmark(db, sn.Generation, sn.At), ""
		}
	}
	return "", fmt.Sprintf("no bookmark is retained for timestamp %s", t.Format(time.RFC3339))
}

// d1ParseTime reads an RFC 3339 timestamp or unix seconds, as the API accepts.
func d1ParseTime(v string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, true
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}

func (s *Server) d1GetBookmark(w http.ResponseWriter, r *http.Request) {
	ts := r.URL.Query().Get("timestamp")
	s.mu.Lock()
	defer s.mu.Unlock()
	db := s.d1Lookup(w, r)
	if db == nil {
		return
	}
	if ts == "" {
		writeResult(w, map[string]string{"bookmark": d1CurrentBookmark(db)})
		return
	}
	t, ok := d1ParseTime(ts)
	if !ok {
		writeError(w, http.StatusBadRequest, d1CodeInvalid, fmt.Sprintf("timestamp %q is not an RFC 3339 timestamp or unix time", ts))
		return
	}
	b, msg := d1BookmarkAt(db, t, s.Now())
	if msg != "" {
		writeError(w, http.StatusBadRequest, d1CodeInvalid, msg)
		return
	}
	writeResult(w, map[string]string{"bookmark": b})
}

// d1Restore restores ?bookmark= or ?timestamp= (exactly one). The state left behind is
// snapshotted first, so previous_bookmark stays restorable.
func (s *Server) d1Restore(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	b, ts := q.Get("bookmark"), q.Get("timestamp")
	if (b == "") == (ts == "") {
		writeError(w, http.StatusBadRequest, d1CodeInvalid, "give exactly one of bookmark and timestamp")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	db := s.d1Lookup(w, r)
	if db == nil {
		return
	}
	now := s.Now()
	if ts != "" {
		t, ok := d1ParseTime(ts)
		if !ok {
			writeError(w, http.StatusBadRequest, d1CodeInvalid, fmt.Sprintf("timestamp %q is not an RFC 3339 timestamp or unix time", ts))
			return
		}
		var msg string
		if b, msg = d1BookmarkAt(db, t, now); msg != "" {
			writeError(w, http.StatusBadRequest, d1CodeInvalid, msg)
			return
		}
	}
	gen, snap, ok := d1FindBookmark(db, b)
	if !ok {
		writeError(w, http.StatusBadRequest, d1CodeInvalid, fmt.Sprintf("bookmark %q is not a bookmark of this database within the Time Travel window of 30 days", b))
		return
	}
	if !s.d1AllowRestore(db, now) {
		writeError(w, http.StatusTooManyRequests, d1RestoreCode, "too many restores: at most 10 per 10 minutes per database")
		return
	}
	prev := d1CurrentBookmark(db)
	if gen != db.Generation {
		if err := s.d1RestoreSnapshot(r.Context(), db, snap); err != nil {
			writeError(w, http.StatusInternalServerError, d1CodeSQL, "internal error: "+err.Error())
			return
		}
	}
	cur := d1CurrentBookmark(db)
	writeResult(w, map[string]string{"bookmark": cur, "previous_bookmark": prev, "message": "Database restored to bookmark " + b})
}

func (s *Server) d1AllowRestore(db *d1Database, now time.Time) bool {
	var recent []time.Time
	for _, t := range db.Restores {
		if now.Sub(t) < d1RestoreWindow {
			recent = append(recent, t)
		}
	}
	db.Restores = recent
	if len(recent) >= d1RestoreLimit {
		return false
	}
	db.Restores = append(db.Restores, now)
	return true
}

// d1RestoreSnapshot replaces db's file with snap's copy (closing and later reopening the
// handle) and starts a new generation.
func (s *Server) d1RestoreSnapshot(ctx context.Context, db *d1Database, snap *d1Snapshot) error {
	conn, err := s.d1Conn(db)
	if err != nil {
		return err
	}
	cur, err := s.d1TakeSnapshot(ctx, conn, db)
	if err != nil {
		return err
	}
	if err := s.d1Close(db.UUID); err != nil {
		d1DiscardSnapshot(cur)
		return err
	}
	if err := d1CopyFile(s.d1SnapshotPath(snap.File), s.d1Path(db.UUID)); err != nil {
		d1DiscardSnapshot(cur)
		return err
	}
	os.Remove(s.d1Path(db.UUID) + "-journal") // a stale rollback journal would undo the copy
	s.d1Advance(db, cur)
	return nil
}

// d1CopyFile copies src over dst atomically (temp file + rename).
func d1CopyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("cannot read snapshot: %w", err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".restore-")
	if err != nil {
		return fmt.Errorf("cannot restore: %w", err)
	}
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("cannot restore: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cannot restore: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cannot restore: %w", err)
	}
	return nil
}

// d1Tick drops what the clock has expired: snapshots outside the window, signed URLs.
func (s *Server) d1Tick(now time.Time) {
	for _, db := range s.st.D1.Databases {
		s.d1Prune(db, now)
	}
	for tok, ex := range s.st.D1.Exports {
		if d1ExportExpired(ex, now) {
			s.d1ForgetExport(tok)
		}
	}
	for tok, im := range s.st.D1.Imports {
		if !now.Before(im.CreatedAt.Add(d1SignedURLTTL)) {
			s.d1ForgetImport(tok)
		}
	}
}

// d1ExportExpired: a completed export's URL lives one hour from completion; an export
// never polled to completion is abandoned after one hour ("not continually polled").
func d1ExportExpired(ex *d1Export, now time.Time) bool {
	if ex.ExpiresAt.IsZero() {
		return !now.Before(ex.CreatedAt.Add(d1SignedURLTTL))
	}
	return !now.Before(ex.ExpiresAt)
}

func (s *Server) d1ForgetExport(tok string) {
	if ex := s.st.D1.Exports[tok]; ex != nil {
		delete(s.st.D1.Exports, tok)
		s.d1ReleaseBlob(ex.Blob)
	}
}

func (s *Server) d1ForgetImport(tok string) {
	if im := s.st.D1.Imports[tok]; im != nil {
		delete(s.st.D1.Imports, tok)
		s.d1ReleaseBlob(im.Blob)
	}
}

// d1ReleaseBlob deletes a blob no export or import refers to any more (blobs are
// content-addressed, so two identical dumps share one).
func (s *Server) d1ReleaseBlob(key string) {
	if key == "" {
		return
	}
	for _, ex := range s.st.D1.Exports {
		if ex.Blob == key {
			return
		}
	}
	for _, im := range s.st.D1.Imports {
		if im.Blob == key {
			return
		}
	}
	_ = s.blobs.del(key) // a leftover blob is harmless
}

func d1QuoteString(v string) string { return "'" + strings.ReplaceAll(v, "'", "''") + "'" }

func d1QuoteIdent(v string) string { return `"` + strings.ReplaceAll(v, `"`, `""`) + `"` }

func d1MD5(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

type d1DumpOptions struct {
	NoData   bool     `json:"no_data"`
	NoSchema bool     `json:"no_schema"`
	Tables   []string `json:"tables"`
}

// d1ExportHandler is the polling export: the first call (no current_bookmark) dumps the
// database at its current bookmark and answers "active"; the poll with that bookmark
// answers "complete" with a signed URL valid for one hour.
func (s *Server) d1ExportHandler(w http.ResponseWriter, r *http.Request) {
	var body struct {
		OutputFormat    string        `json:"output_format"`
		CurrentBookmark string        `json:"current_bookmark"`
		DumpOptions     d1DumpOptions `json:"dump_options"`
	}
	if !decodeJSON(w, r, &body) {
		return
	}
	if body.OutputFormat != "polling" {
		writeError(w, http.StatusBadRequest, d1CodeInvalid, fmt.Sprintf("output_format %q is invalid: use polling", body.OutputFormat))
		return
	}
	if body.DumpOptions.NoData && body.DumpOptions.NoSchema {
		writeError(w, http.StatusBadRequest, d1CodeInvalid, "no_data and no_schema cannot both be set")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	db := s.d1Lookup(w, r)
	if db == nil {
		return
	}
	if body.CurrentBookmark != "" {
		s.d1PollExport(w, r, db, body.CurrentBookmark)
		return
	}
	conn, err := s.d1Conn(db)
	if err != nil {
		writeError(w, http.StatusInternalServerError, d1CodeSQL, "internal error: "+err.Error())
		return
	}
	at := d1CurrentBookmark(db)
	dump, err := d1Dump(r.Context(), conn, body.DumpOptions)
	var bad *d1DumpError
	switch {
	case errors.As(err, &bad) && bad.invalid:
		writeError(w, http.StatusBadRequest, d1CodeInvalid, bad.msg)
		return
	case errors.As(err, &bad):
		writeResult(w, map[string]any{"success": false, "type": "export", "at_bookmark": at, "status": "error", "error": bad.msg, "messages": []string{}})
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, d1CodeSQL, "internal error: "+err.Error())
		return
	}
	key, err := s.blobs.put([]byte(dump))
	if err != nil {
		writeError(w, http.StatusInternalServerError, d1CodeSQL, "internal error: "+err.Error())
		return
	}
	ex := &d1Export{DatabaseUUID: db.UUID, Bookmark: at, Filename: fmt.Sprintf("%s-%s.sql", db.Name, at), Blob: key, CreatedAt: s.Now()}
	s.st.D1.Exports[newHexID()] = ex
	writeResult(w, map[string]any{"success": true, "type": "export", "at_bookmark": at, "status": "active", "messages": []string{"Generating " + ex.Filename}})
}

// d1PollExport completes the export started at bookmark. Unknown upstream: a poll with a
// bookmark no export was started at; we answer 400 (strictest).
func (s *Server) d1PollExport(w http.ResponseWriter, r *http.Request, db *d1Database, bookmark string) {
	now := s.Now()
	var tok string
	for t, ex := range s.st.D1.Exports {
		if ex.DatabaseUUID == db.UUID && ex.Bookmark == bookmark && !d1ExportExpired(ex, now) {
			tok = t
		}
	}
	if tok == "" {
		writeError(w, http.StatusBadRequest, d1CodeInvalid, fmt.Sprintf("no export in progress at bookmark %q: start one without current_bookmark", bookmark))
		return
	}
	ex := s.st.D1.Exports[tok]
	if ex.ExpiresAt.IsZero() {
		ex.ExpiresAt = now.Add(d1SignedURLTTL)
	}
	url := s.externalURL(r) + adminPrefix + "/signed/d1-export/" + tok
	writeResult(w, map[string]any{
		"success": true, "type": "export", "at_bookmark": bookmark, "status": "complete",
		"result": map[string]string{"filename": ex.Filename, "signed_url": url}, "messages": []string{"Export complete"},
	})
}

// d1ServeExport serves a dump at its signed URL; an expired or unknown URL is 403, as a
// pre-signed R2 URL is.
func (s *Server) d1ServeExport(w http.ResponseWriter, r *http.Request, tok string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s.mu.Lock()
	ex := s.st.D1.Exports[tok]
	valid := ex != nil && !ex.ExpiresAt.IsZero() && s.Now().Before(ex.ExpiresAt)
	var key string
	if valid {
		key = ex.Blob
	}
	s.mu.Unlock()
	if !valid {
		http.Error(w, "Request has expired or its signature is invalid", http.StatusForbidden)
		return
	}
	b, err := s.blobs.get(key)
	if err != nil {
		http.Error(w, "cannot read export: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/sql")
	w.Header().Set("ETag", `"`+d1MD5(b)+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	if r.Method == http.MethodGet {
		_, _ = w.Write(b) // the client may have gone
	}
}

// d1DumpError is an export failure: invalid options (HTTP 400) or a database D1 cannot
// export (status "error").
type d1DumpError struct {
	msg     string
	invalid bool
}

func (e *d1DumpError) Error() string { return e.msg }

type d1Object struct{ typ, name, table, sql string }

// d1Dump writes the database as SQL a D1 import can run: the schema and rows of every
// table (in creation order, so foreign keys resolve), then indexes, triggers and views.
func d1Dump(ctx context.Context, conn *sql.DB, opt d1DumpOptions) (string, error) {
	objs, err := d1Objects(ctx, conn)
	if err != nil {
		return "", err
	}
	want := map[string]bool{}
	for _, t := range opt.Tables {
		want[t] = true
	}
	tables := map[string]bool{}
	for _, o := range objs {
		if o.typ == "table" && strings.HasPrefix(strings.ToUpper(o.sql), "CREATE VIRTUAL TABLE") {
			return "", &d1DumpError{msg: fmt.Sprintf("cannot export database: it has the virtual table %q (D1 cannot export virtual tables)", o.name)}
		}
		if o.typ == "table" {
			tables[o.name] = true
		}
	}
	for _, t := range opt.Tables {
		if !tables[t] {
			return "", &d1DumpError{msg: fmt.Sprintf("dump_options.tables: no such table %q", t), invalid: true}
		}
	}
	var b strings.Builder
	b.WriteString("PRAGMA defer_foreign_keys=TRUE;\n")
	for _, o := range objs {
		if o.typ != "table" || (len(want) > 0 && !want[o.name]) {
			continue
		}
		if !opt.NoSchema {
			b.WriteString(o.sql + ";\n")
		}
		if !opt.NoData {
			if err := d1DumpRows(ctx, conn, o.name, &b); err != nil {
				return "", err
			}
		}
	}
	for _, o := range objs {
		if o.typ != "table" && !opt.NoSchema && (len(want) == 0 || want[o.table]) {
			b.WriteString(o.sql + ";\n")
		}
	}
	return b.String(), nil
}

func d1Objects(ctx context.Context, conn *sql.DB) ([]d1Object, error) {
	rows, err := conn.QueryContext(ctx, `SELECT type, name, tbl_name, sql FROM sqlite_master
		WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name NOT LIKE '\_cf\_%' ESCAPE '\'
		ORDER BY rowid`)
	if err != nil {
		return nil, fmt.Errorf("cannot read schema: %w", err)
	}
	defer rows.Close()
	var objs []d1Object
	for rows.Next() {
		var o d1Object
		if err := rows.Scan(&o.typ, &o.name, &o.table, &o.sql); err != nil {
			return nil, fmt.Errorf("cannot read schema: %w", err)
		}
		objs = append(objs, o)
	}
	return objs, rows.Err()
}

// d1DumpRows appends one INSERT per row, every value rendered by SQLite's quote() so
// that types and text survive exactly.
func d1DumpRows(ctx context.Context, conn *sql.DB, table string, b *strings.Builder) error {
	var cols []string
	rows, err := conn.QueryContext(ctx, "SELECT name FROM pragma_table_info(?) ORDER BY cid", table)
	if err != nil {
		return fmt.Errorf("cannot read columns of %s: %w", table, err)
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return fmt.Errorf("cannot read columns of %s: %w", table, err)
		}
		cols = append(cols, "quote("+d1QuoteIdent(c)+")")
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cannot read columns of %s: %w", table, err)
	}
	rows, err = conn.QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+d1QuoteIdent(table))
	if err != nil {
		return fmt.Errorf("cannot read rows of %s: %w", table, err)
	}
	defer rows.Close()
	vals := make([]string, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("cannot read rows of %s: %w", table, err)
		}
		fmt.Fprintf(b, "INSERT INTO %s VALUES(%s);\n", d1QuoteIdent(table), strings.Join(vals, ","))
	}
	return rows.Err()
}

var d1EtagRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

// d1ImportHandler: {action:"init", etag} → upload_url; the client PUTs the file there;
// {action:"ingest", etag, filename} runs it (all or nothing) and answers "active" at the
// bookmark it started from; {action:"poll", current_bookmark} answers the outcome.
func (s *Server) d1ImportHandler(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Action          string `json:"action"`
		Etag            string `json:"etag"`
		Filename        string `json:"filename"`
		CurrentBookmark string `json:"current_bookmark"`
	}
	if !decodeJSON(w, r, &body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	db := s.d1Lookup(w, r)
	if db == nil {
		return
	}
	switch body.Action {
	case "init":
		if !d1EtagRe.MatchString(body.Etag) {
			writeError(w, http.StatusBadRequest, d1CodeInvalid, "etag must be the MD5 of the file in lowercase hex")
			return
		}
		tok := newHexID()
		im := &d1Import{DatabaseUUID: db.UUID, Etag: body.Etag, Filename: body.Etag + ".sql", CreatedAt: s.Now()}
		s.st.D1.Imports[tok] = im
		url := s.externalURL(r) + adminPrefix + "/signed/d1-import/" + tok
		writeResult(w, map[string]any{"success": true, "type": "import", "upload_url": url, "filename": im.Filename, "messages": []string{}})
	case "ingest":
		s.d1Ingest(w, r, db, body.Etag, body.Filename)
	case "poll":
		s.d1PollImport(w, db, body.CurrentBookmark)
	default:
		writeError(w, http.StatusBadRequest, d1CodeInvalid, fmt.Sprintf("action %q is invalid: use init, ingest or poll", body.Action))
	}
}

func (s *Server) d1Ingest(w http.ResponseWriter, r *http.Request, db *d1Database, etag, filename string) {
	// Several inits of the same file may exist (an import retried after it ran); ingest
	// the one not yet ingested. Imports is a map, so the choice must not depend on order.
	var im *d1Import
	for _, c := range s.st.D1.Imports {
		if c.DatabaseUUID == db.UUID && c.Filename == filename && c.Etag == etag && (im == nil || im.Status != "" && c.Status == "") {
			im = c
		}
	}
	switch {
	case im == nil:
		writeError(w, http.StatusBadRequest, d1CodeInvalid, fmt.Sprintf("no import of %q with etag %q: call init first", filename, etag))
		return
	case !im.Uploaded:
		writeError(w, http.StatusBadRequest, d1CodeInvalid, fmt.Sprintf("%s has not been uploaded to its upload_url", filename))
		return
	case im.Status != "":
		writeError(w, http.StatusBadRequest, d1CodeInvalid, fmt.Sprintf("%s has already been ingested", filename))
		return
	}
	text, err := s.blobs.get(im.Blob)
	if err != nil {
		writeError(w, http.StatusInternalServerError, d1CodeSQL, "internal error: "+err.Error())
		return
	}
	im.AtBookmark = d1CurrentBookmark(db)
	s.d1RunImport(r.Context(), db, im, string(text))
	key := im.Blob
	im.Blob = ""
	s.d1ReleaseBlob(key)
	writeResult(w, map[string]any{"success": true, "type": "import", "at_bookmark": im.AtBookmark, "status": "active", "filename": filename, "messages": []string{"Ingesting " + filename}})
}

// d1RunImport runs the file as one transaction and records the outcome on im.
func (s *Server) d1RunImport(ctx context.Context, db *d1Database, im *d1Import, text string) {
	stmts, msg := d1Statements(text, nil)
	if stmts == nil {
		im.Status, im.Error = "error", msg
		return
	}
	results, err := s.d1Exec(ctx, db, stmts)
	if err != nil {
		im.Status, im.Error = "error", err.Error()
		return
	}
	var meta d1Meta
	for _, res := range results {
		meta.ChangedDB = meta.ChangedDB || res.Meta.ChangedDB
		meta.Changes += res.Meta.Changes
		meta.Duration += res.Meta.Duration
		meta.RowsRead += res.Meta.RowsRead
		meta.RowsWritten += res.Meta.RowsWritten
		meta.LastRowID, meta.SizeAfter = res.Meta.LastRowID, res.Meta.SizeAfter
	}
	meta.ServedByPrimary, meta.Timings.SQLDurationMs = true, meta.Duration
	im.Status, im.FinalBookmark, im.NumQueries, im.Meta = "complete", d1CurrentBookmark(db), len(stmts), &meta
}

// d1PollImport answers the outcome of the import ingested at bookmark. Unknown upstream:
// a poll with a bookmark no import started at; we answer 400 (strictest).
func (s *Server) d1PollImport(w http.ResponseWriter, db *d1Database, bookmark string) {
	var im *d1Import
	for _, c := range s.st.D1.Imports {
		if c.DatabaseUUID == db.UUID && c.Status != "" && c.AtBookmark == bookmark {
			im = c
		}
	}
	if im == nil {
		writeError(w, http.StatusBadRequest, d1CodeInvalid, fmt.Sprintf("no import was ingested at bookmark %q", bookmark))
		return
	}
	if im.Status == "error" {
		writeResult(w, map[string]any{"success": false, "type": "import", "at_bookmark": bookmark, "status": "error",
			"error": im.Error, "errors": []string{im.Error}, "messages": []string{}})
		return
	}
	writeResult(w, map[string]any{"success": true, "type": "import", "at_bookmark": bookmark, "status": "complete",
		"result":   map[string]any{"final_bookmark": im.FinalBookmark, "num_queries": im.NumQueries, "meta": im.Meta},
		"messages": []string{fmt.Sprintf("Executed %d queries", im.NumQueries)}})
}

// d1ServeUpload receives the import file at its upload_url (PUT, like a pre-signed R2
// URL). Its MD5 must equal the etag given at init; the answer carries it as ETag.
func (s *Server) d1ServeUpload(w http.ResponseWriter, r *http.Request, tok string) {
	if r.Method != http.MethodPut {
		http.Error(w, "method not allowed: PUT the file", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, d1MaxImportBytes+1))
	if err != nil {
		http.Error(w, "cannot read upload: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > d1MaxImportBytes {
		http.Error(w, "import files are limited to 5 GB", http.StatusRequestEntityTooLarge)
		return
	}
	sum := d1MD5(body)
	if status, msg := s.d1StoreUpload(tok, sum, body); status != http.StatusOK {
		http.Error(w, msg, status)
		return
	}
	if err := s.persist(); err != nil {
		http.Error(w, "emulator cannot persist its store: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("ETag", `"`+sum+`"`)
	w.WriteHeader(http.StatusOK)
}

func (s *Server) d1StoreUpload(tok, sum string, body []byte) (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	im := s.st.D1.Imports[tok]
	if im == nil || !s.Now().Before(im.CreatedAt.Add(d1SignedURLTTL)) {
		return http.StatusForbidden, "Request has expired or its signature is invalid"
	}
	if sum != im.Etag {
		return http.StatusBadRequest, fmt.Sprintf("the file's MD5 %s does not match the etag %s given at init", sum, im.Etag)
	}
	key, err := s.blobs.put(body)
	if err != nil {
		return http.StatusInternalServerError, err.Error()
	}
	old := im.Blob
	im.Blob, im.Uploaded = key, true
	if old != key {
		s.d1ReleaseBlob(old)
	}
	return http.StatusOK, ""
}
