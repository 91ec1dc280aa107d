package emulator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

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
		// quote() ends a text at its first NUL byte: such a text is written as its bytes.
		q := d1QuoteIdent(c)
		cols = append(cols, "CASE WHEN typeof("+q+") = 'text' AND instr(CAST("+q+" AS BLOB), X'00') > 0"+
			" THEN 'CAST(X''' || hex("+q+") || ''' AS TEXT)' ELSE quote("+q+") END")
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
