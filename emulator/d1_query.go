package emulator

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"modernc.org/sqlite" // also registers the pure-Go "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// Query limits (DOCS d1/platform/limits.mdx).
const (
	d1MaxParams       = 100
	d1MaxStatementLen = 100_000 // "100 KB": we read KB as 1000 bytes, the stricter reading
	d1QueryTimeout    = 30 * time.Second
)

// d1Stmt is one SQL statement and its bound parameters.
type d1Stmt struct {
	SQL  string
	Args []any
}

// d1Meta is the per-statement meta of /query and /raw (GO d1.QueryResultMeta). SQLite
// does not tell how many rows a statement scanned, so rows_read counts the rows returned
// and rows_written the rows changed.
type d1Meta struct {
	ChangedDB       bool      `json:"changed_db"`
	Changes         int64     `json:"changes"`
	Duration        float64   `json:"duration"`
	LastRowID       int64     `json:"last_row_id"`
	RowsRead        int64     `json:"rows_read"`
	RowsWritten     int64     `json:"rows_written"`
	ServedByPrimary bool      `json:"served_by_primary"`
	SizeAfter       int64     `json:"size_after"`
	Timings         d1Timings `json:"timings"`
}

type d1Timings struct {
	SQLDurationMs float64 `json:"sql_duration_ms"`
}

type d1Result struct {
	Columns []string
	Rows    [][]any
	Meta    d1Meta
}

// d1SQLError is a failure of the client's SQL (HTTP 400), as opposed to an internal one.
type d1SQLError struct{ err error }

func (e *d1SQLError) Error() string { return d1SQLiteMessage(e.err) }

// d1QueryHandler serves POST …/query (rows as objects) and …/raw (columns + arrays).
// The body is {sql, params?} or {batch:[{sql, params?}]}; a sql text may hold several
// statements. Everything runs as one transaction and answers one entry per statement.
func (s *Server) d1QueryHandler(raw bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		stmts, msg := d1ReadQueryBody(w, r)
		if stmts == nil {
			if msg != "" {
				writeError(w, http.StatusBadRequest, d1CodeInvalid, msg)
			}
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		db := s.d1Lookup(w, r)
		if db == nil {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), d1QueryTimeout)
		defer cancel()
		results, err := s.d1Exec(ctx, db, stmts)
		if err != nil {
			d1WriteExecError(w, err)
			return
		}
		out := make([]map[string]any, len(results))
		for i, res := range results {
			out[i] = map[string]any{"success": true, "meta": res.Meta}
			if raw {
				out[i]["results"] = map[string]any{"columns": res.Columns, "rows": res.Rows}
			} else {
				out[i]["results"] = d1RowObjects(res)
			}
		}
		writeResult(w, out)
	}
}

// d1ReadQueryBody parses a query body. It returns nil and a message for invalid input,
// or nil and "" when it has answered (malformed JSON) itself.
func d1ReadQueryBody(w http.ResponseWriter, r *http.Request) ([]d1Stmt, string) {
	var body struct {
		SQL    *string `json:"sql"`
		Params []any   `json:"params"`
		Batch  []struct {
			SQL    *string `json:"sql"`
			Params []any   `json:"params"`
		} `json:"batch"`
	}
	dec := json.NewDecoder(r.Body)
	dec.UseNumber() // keep integer parameters exact
	if err := dec.Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, 10026, "Invalid JSON in request body: "+err.Error())
		return nil, ""
	}
	switch {
	case body.SQL != nil && body.Batch != nil:
		return nil, "send either sql or batch, not both"
	case body.SQL != nil:
		return d1Statements(*body.SQL, body.Params)
	case len(body.Batch) == 0:
		return nil, "sql is required"
	}
	var stmts []d1Stmt
	for i, q := range body.Batch {
		if q.SQL == nil {
			return nil, fmt.Sprintf("batch[%d].sql is required", i)
		}
		part, msg := d1Statements(*q.SQL, q.Params)
		if part == nil {
			return nil, fmt.Sprintf("batch[%d]: %s", i, msg)
		}
		stmts = append(stmts, part...)
	}
	return stmts, ""
}

// d1Statements splits a sql text and binds params. Unknown upstream: how D1 binds
// params to a text of several statements; we refuse the combination (strictest).
func d1Statements(text string, params []any) ([]d1Stmt, string) {
	parts := d1Split(text)
	if len(parts) == 0 {
		return nil, "sql contains no statement"
	}
	if len(params) > 0 && len(parts) > 1 {
		return nil, "params can only be bound to a single statement: send a batch of {sql, params}"
	}
	if len(params) > d1MaxParams {
		return nil, fmt.Sprintf("too many bound parameters: %d (the limit is %d)", len(params), d1MaxParams)
	}
	args, msg := d1Args(params)
	if msg != "" {
		return nil, msg
	}
	stmts := make([]d1Stmt, len(parts))
	for i, p := range parts {
		if len(p) > d1MaxStatementLen {
			return nil, fmt.Sprintf("statement too long: %d bytes (the limit is 100 KB)", len(p))
		}
		if kw := d1Keywords(p, 2); kw[0] == "BEGIN" || kw[0] == "COMMIT" || kw[0] == "END" || (kw[0] == "ROLLBACK" && kw[1] != "TO") {
			return nil, "transaction statements are not allowed: every request runs as one transaction"
		}
		stmts[i] = d1Stmt{SQL: p, Args: args}
	}
	return stmts, ""
}

func d1Args(params []any) ([]any, string) {
	args := make([]any, len(params))
	for i, p := range params {
		switch v := p.(type) {
		case nil, string:
			args[i] = v
		case bool:
			args[i] = int64(0)
			if v {
				args[i] = int64(1)
			}
		case json.Number:
			if n, err := v.Int64(); err == nil {
				args[i] = n
			} else if f, err := v.Float64(); err == nil {
				args[i] = f
			} else {
				return nil, fmt.Sprintf("params[%d] is not a valid number", i)
			}
		default:
			return nil, fmt.Sprintf("params[%d] must be a string, number, boolean or null", i)
		}
	}
	return args, ""
}

// d1Exec runs stmts in one transaction, as D1 runs a batch: all or nothing. A batch that
// may write is preceded by a Time Travel snapshot, kept only if the batch changed the
// database, which then moves to a new generation (a new bookmark). Callers hold s.mu.
func (s *Server) d1Exec(ctx context.Context, db *d1Database, stmts []d1Stmt) ([]d1Result, error) {
	conn, err := s.d1Conn(db)
	if err != nil {
		return nil, err
	}
	snap := ""
	if !d1ReadOnly(stmts) {
		if snap, err = s.d1TakeSnapshot(ctx, conn, db); err != nil {
			return nil, err
		}
	}
	results, changed, err := s.d1RunTx(ctx, conn, stmts)
	if err != nil || !changed {
		d1DiscardSnapshot(snap)
		return results, err
	}
	s.d1Advance(db, snap)
	return results, nil
}

func (s *Server) d1RunTx(ctx context.Context, conn *sql.DB, stmts []d1Stmt) ([]d1Result, bool, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, fmt.Errorf("cannot begin transaction: %w", err)
	}
	defer tx.Rollback() // a no-op after Commit
	results := make([]d1Result, 0, len(stmts))
	changed := false
	for _, st := range stmts {
		res, err := s.d1RunStmt(ctx, tx, st)
		if err != nil {
			return nil, false, err
		}
		changed = changed || res.Meta.ChangedDB
		results = append(results, res)
	}
	if err := tx.Commit(); err != nil {
		return nil, false, &d1SQLError{err} // e.g. a deferred foreign key violation
	}
	return results, changed, nil
}

const d1CountersSQL = `SELECT total_changes(), last_insert_rowid(),
	(SELECT schema_version FROM pragma_schema_version()),
	(SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size())`

func (s *Server) d1RunStmt(ctx context.Context, tx *sql.Tx, st d1Stmt) (d1Result, error) {
	var before, after [4]int64
	if err := tx.QueryRowContext(ctx, d1CountersSQL).Scan(&before[0], &before[1], &before[2], &before[3]); err != nil {
		return d1Result{}, fmt.Errorf("cannot read counters: %w", err)
	}
	start := s.Now()
	rows, err := tx.QueryContext(ctx, st.SQL, st.Args...)
	if err != nil {
		return d1Result{}, &d1SQLError{err}
	}
	res, err := d1Collect(rows)
	if err != nil {
		return d1Result{}, &d1SQLError{err}
	}
	ms := float64(s.Now().Sub(start).Microseconds()) / 1000
	if err := tx.QueryRowContext(ctx, d1CountersSQL).Scan(&after[0], &after[1], &after[2], &after[3]); err != nil {
		return d1Result{}, fmt.Errorf("cannot read counters: %w", err)
	}
	changes := after[0] - before[0]
	res.Meta = d1Meta{
		ChangedDB: changes > 0 || after[2] != before[2], Changes: changes, Duration: ms,
		LastRowID: after[1], RowsRead: int64(len(res.Rows)), RowsWritten: changes,
		ServedByPrimary: true, SizeAfter: after[3], Timings: d1Timings{SQLDurationMs: ms},
	}
	return res, nil
}

func d1Collect(rows *sql.Rows) (d1Result, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return d1Result{}, err
	}
	res := d1Result{Columns: append([]string{}, cols...), Rows: [][]any{}}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return d1Result{}, err
		}
		for i, v := range vals {
			vals[i] = d1JSONValue(v)
		}
		res.Rows = append(res.Rows, vals)
	}
	return res, rows.Err()
}

// d1JSONValue renders a SQLite value as D1 does: BLOBs as arrays of byte values.
// modernc.org/sqlite turns TEXT in DATE/DATETIME/TIMESTAMP columns into time.Time; we
// print it back in SQLite's datetime() form (what CURRENT_TIMESTAMP stores). Other
// spellings of the same instant (e.g. ISO 8601 "T…Z") come back in that form.
func d1JSONValue(v any) any {
	switch x := v.(type) {
	case []byte:
		out := make([]int, len(x))
		for i, b := range x {
			out[i] = int(b)
		}
		return out
	case time.Time:
		layout := "2006-01-02 15:04:05.999999999"
		if _, off := x.Zone(); off != 0 {
			layout += "-07:00"
		}
		return x.Format(layout)
	}
	return v
}

func d1RowObjects(res d1Result) []map[string]any {
	out := make([]map[string]any, len(res.Rows))
	for i, row := range res.Rows {
		obj := make(map[string]any, len(row))
		for j, v := range row {
			obj[res.Columns[j]] = v
		}
		out[i] = obj
	}
	return out
}

func d1WriteExecError(w http.ResponseWriter, err error) {
	var se *d1SQLError
	if errors.As(err, &se) {
		writeError(w, http.StatusBadRequest, d1CodeSQL, se.Error())
		return
	}
	writeError(w, http.StatusInternalServerError, d1CodeSQL, "internal error: "+err.Error())
}

var d1ErrSuffixRe = regexp.MustCompile(` \(\d+\)$`)

// d1SQLiteMessage formats a driver error the way D1 does: SQLite's message, then the
// result code name ("no such table: t: SQLITE_ERROR").
func d1SQLiteMessage(err error) string {
	msg := d1ErrSuffixRe.ReplaceAllString(err.Error(), "")
	name := "SQLITE_ERROR"
	var se *sqlite.Error
	if errors.As(err, &se) {
		// The driver prints "<sqlite3_errstr>: <sqlite3_errmsg> (<code>)"; D1 prints errmsg.
		if _, m, ok := strings.Cut(msg, ": "); ok {
			msg = m
		}
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT:
			name = "SQLITE_CONSTRAINT"
		case sqlite3.SQLITE_TOOBIG:
			name = "SQLITE_TOOBIG"
		case sqlite3.SQLITE_MISMATCH:
			name = "SQLITE_MISMATCH"
		case sqlite3.SQLITE_RANGE:
			name = "SQLITE_RANGE"
		case sqlite3.SQLITE_INTERRUPT:
			name = "SQLITE_INTERRUPT"
		}
	}
	return msg + ": " + name
}
