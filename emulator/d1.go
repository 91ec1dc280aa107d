package emulator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// D1 (cloudflare-api.md §8). Every database is a real SQLite file,
// dataDir/d1/<uuid>.sqlite, opened with modernc.org/sqlite; the store keeps only the
// metadata. This file holds the databases and their queries; Time Travel, export and
// import are in d1_transfer.go.

const (
	// Unknown upstream: the code for an unknown database; we choose 7404 with HTTP 404
	// (D1's codes are 7xxx: 7403 "not authorized", 7500 internal/SQL error).
	d1CodeNotFound = 7404
	// Unknown upstream: the code for a duplicate name; we choose 7502 with HTTP 400.
	d1CodeExists = 7502
	// Unknown upstream: the code for other invalid input; we choose 7400 with HTTP 400.
	d1CodeInvalid = 7400
	// Invalid SQL is HTTP 400 with code 7500 and SQLite's message (seen on the live API,
	// cloudflare/workers-sdk#15690; HTTP 400 since 2024-04-15, cloudflare-docs#13934).
	// The same code with HTTP 500 is an internal error.
	d1CodeSQL = 7500
)

var d1NameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-_]*$`)

// d1State is the D1 family's part of the store.
type d1State struct {
	Databases map[string]*d1Database `json:"databases"` // by uuid
	Exports   map[string]*d1Export   `json:"exports"`   // by signed-URL token
	Imports   map[string]*d1Import   `json:"imports"`   // by upload token

	conns map[string]*sql.DB // open handles by uuid; never persisted
}

func (st *d1State) init() {
	if st.Databases == nil {
		st.Databases = map[string]*d1Database{}
	}
	if st.Exports == nil {
		st.Exports = map[string]*d1Export{}
	}
	if st.Imports == nil {
		st.Imports = map[string]*d1Import{}
	}
	if st.conns == nil {
		st.conns = map[string]*sql.DB{}
	}
}

// d1Database is one database's metadata. Generation counts the committed changes of
// its file; GenerationAt is when the current generation began. Snapshots hold the
// earlier generations still inside the Time Travel window (d1_transfer.go).
type d1Database struct {
	UUID                string       `json:"uuid"`
	AccountID           string       `json:"account_id"`
	Name                string       `json:"name"`
	CreatedAt           time.Time    `json:"created_at"`
	PrimaryLocationHint string       `json:"primary_location_hint,omitempty"`
	Jurisdiction        string       `json:"jurisdiction,omitempty"`
	ReadReplication     string       `json:"read_replication"`
	Generation          int64        `json:"generation"`
	GenerationAt        time.Time    `json:"generation_at"`
	Snapshots           []d1Snapshot `json:"snapshots"`
	Restores            []time.Time  `json:"restores,omitempty"`
}

func (s *Server) routesD1() {
	const base = "/accounts/{account_id}/d1/database"
	s.handle("POST "+base, s.d1Create)
	s.handle("GET "+base, s.d1List)
	s.handle("GET "+base+"/{database_id}", s.d1Get)
	s.handle("PUT "+base+"/{database_id}", s.d1Update)
	s.handle("PATCH "+base+"/{database_id}", s.d1Update)
	s.handle("DELETE "+base+"/{database_id}", s.d1Delete)
	s.handle("POST "+base+"/{database_id}/query", s.d1QueryHandler(false))
	s.handle("POST "+base+"/{database_id}/raw", s.d1QueryHandler(true))
	s.routesD1Transfer()
	s.closers = append(s.closers, s.d1CloseAll)
	s.onTick(s.d1Tick)
}

func (s *Server) d1Create(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name                string `json:"name"`
		PrimaryLocationHint string `json:"primary_location_hint"`
		Jurisdiction        string `json:"jurisdiction"`
	}
	if !decodeJSON(w, r, &body) {
		return
	}
	if msg := d1ValidateCreate(body.Name, body.PrimaryLocationHint, body.Jurisdiction); msg != "" {
		writeError(w, http.StatusBadRequest, d1CodeInvalid, msg)
		return
	}
	acct := r.PathValue("account_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, db := range s.st.D1.Databases {
		if db.AccountID == acct && db.Name == body.Name {
			writeError(w, http.StatusBadRequest, d1CodeExists, "A database with that name already exists")
			return
		}
	}
	now := s.Now()
	db := &d1Database{
		UUID: newUUID(), AccountID: acct, Name: body.Name, CreatedAt: now,
		PrimaryLocationHint: body.PrimaryLocationHint, Jurisdiction: body.Jurisdiction,
		ReadReplication: "disabled", GenerationAt: now, Snapshots: []d1Snapshot{},
	}
	if _, err := s.d1Conn(db); err != nil {
		writeError(w, http.StatusInternalServerError, d1CodeSQL, err.Error())
		return
	}
	s.st.D1.Databases[db.UUID] = db
	s.d1WriteView(w, db)
}

func d1ValidateCreate(name, hint, jurisdiction string) string {
	switch {
	case name == "":
		return "name is required"
	case !d1NameRe.MatchString(name):
		return fmt.Sprintf("name %q is invalid: it must match ^[a-z0-9][a-z0-9-_]*$", name)
	}
	switch hint {
	case "", "wnam", "enam", "weur", "eeur", "apac", "oc":
	default:
		return fmt.Sprintf("primary_location_hint %q is invalid: use wnam, enam, weur, eeur, apac or oc", hint)
	}
	switch jurisdiction {
	case "", "eu", "fedramp":
	default:
		return fmt.Sprintf("jurisdiction %q is invalid: use eu or fedramp", jurisdiction)
	}
	return ""
}

// d1List is V4 page pagination (per_page 10–10000, default 1000), oldest first.
// Unknown upstream: whether ?name= matches exactly; we match substrings (wrangler
// filters the answer by exact name itself, so it expects more than exact matches).
func (s *Server) d1List(w http.ResponseWriter, r *http.Request) {
	page, perPage, ok := pageParams(w, r, 1000, 10, 10000)
	if !ok {
		return
	}
	acct, name := r.PathValue("account_id"), r.URL.Query().Get("name")
	s.mu.Lock()
	defer s.mu.Unlock()
	var dbs []*d1Database
	for _, db := range s.st.D1.Databases {
		if db.AccountID == acct && strings.Contains(db.Name, name) {
			dbs = append(dbs, db)
		}
	}
	sort.Slice(dbs, func(i, j int) bool {
		if !dbs[i].CreatedAt.Equal(dbs[j].CreatedAt) {
			return dbs[i].CreatedAt.Before(dbs[j].CreatedAt)
		}
		return dbs[i].UUID < dbs[j].UUID
	})
	out, info := paginate(dbs, page, perPage)
	items := make([]map[string]any, len(out))
	for i, db := range out {
		items[i] = map[string]any{"uuid": db.UUID, "name": db.Name, "created_at": timestamp(db.CreatedAt), "version": "production"}
		if db.Jurisdiction != "" {
			items[i]["jurisdiction"] = db.Jurisdiction
		}
	}
	writeResultInfo(w, items, info)
}

func (s *Server) d1Get(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if db := s.d1Lookup(w, r); db != nil {
		s.d1WriteView(w, db)
	}
}

// d1Update serves PUT (read_replication required) and PATCH (optional).
func (s *Server) d1Update(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ReadReplication *struct {
			Mode string `json:"mode"`
		} `json:"read_replication"`
	}
	if !decodeJSON(w, r, &body) {
		return
	}
	if body.ReadReplication == nil && r.Method == http.MethodPut {
		writeError(w, http.StatusBadRequest, d1CodeInvalid, "read_replication is required")
		return
	}
	if rr := body.ReadReplication; rr != nil && rr.Mode != "auto" && rr.Mode != "disabled" {
		writeError(w, http.StatusBadRequest, d1CodeInvalid, fmt.Sprintf("read_replication.mode %q is invalid: use auto or disabled", rr.Mode))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	db := s.d1Lookup(w, r)
	if db == nil {
		return
	}
	if body.ReadReplication != nil {
		db.ReadReplication = body.ReadReplication.Mode
	}
	s.d1WriteView(w, db)
}

func (s *Server) d1Delete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	db := s.d1Lookup(w, r)
	if db == nil {
		return
	}
	if err := s.d1Drop(db); err != nil {
		writeError(w, http.StatusInternalServerError, d1CodeSQL, err.Error())
		return
	}
	writeResult(w, nil)
}

// d1Drop forgets a database and removes its file, snapshots, exports and imports.
func (s *Server) d1Drop(db *d1Database) error {
	if err := s.d1Close(db.UUID); err != nil {
		return err
	}
	for _, snap := range db.Snapshots {
		os.Remove(s.d1SnapshotPath(snap.File))
	}
	for tok, ex := range s.st.D1.Exports {
		if ex.DatabaseUUID == db.UUID {
			s.d1ForgetExport(tok)
		}
	}
	for tok, im := range s.st.D1.Imports {
		if im.DatabaseUUID == db.UUID {
			s.d1ForgetImport(tok)
		}
	}
	delete(s.st.D1.Databases, db.UUID)
	if err := os.Remove(s.d1Path(db.UUID)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("cannot remove database file: %w", err)
	}
	return nil
}

// d1Lookup finds the database of the request's path, answering 404 itself if there is
// none in that account. Callers hold s.mu.
func (s *Server) d1Lookup(w http.ResponseWriter, r *http.Request) *d1Database {
	id := r.PathValue("database_id")
	db := s.st.D1.Databases[id]
	if db == nil || db.AccountID != r.PathValue("account_id") {
		writeError(w, http.StatusNotFound, d1CodeNotFound, fmt.Sprintf("The database %s could not be found", id))
		return nil
	}
	return db
}

// d1WriteView answers with the D1 object (GO d1.D1).
func (s *Server) d1WriteView(w http.ResponseWriter, db *d1Database) {
	conn, err := s.d1Conn(db)
	if err != nil {
		writeError(w, http.StatusInternalServerError, d1CodeSQL, err.Error())
		return
	}
	var tables int
	err = conn.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name NOT LIKE '\_cf\_%' ESCAPE '\'`).Scan(&tables)
	if err != nil {
		writeError(w, http.StatusInternalServerError, d1CodeSQL, "cannot count tables: "+err.Error())
		return
	}
	view := map[string]any{
		"uuid": db.UUID, "name": db.Name, "created_at": timestamp(db.CreatedAt), "version": "production",
		"num_tables": tables, "file_size": s.d1FileSize(db.UUID),
		"read_replication": map[string]string{"mode": db.ReadReplication},
	}
	if db.Jurisdiction != "" {
		view["jurisdiction"] = db.Jurisdiction
	}
	writeResult(w, view)
}

func (s *Server) d1FileSize(uuid string) int64 {
	fi, err := os.Stat(s.d1Path(uuid))
	if err != nil {
		return 0
	}
	return fi.Size()
}

func (s *Server) d1Path(uuid string) string {
	return filepath.Join(s.dataDir, "d1", uuid+".sqlite")
}

// d1Conn returns the open handle of db's file, opening (and creating) it on first use.
// One connection per database: transactions, total_changes() and last_insert_rowid()
// then all refer to the same SQLite connection. Callers hold s.mu.
func (s *Server) d1Conn(db *d1Database) (*sql.DB, error) {
	if c := s.st.D1.conns[db.UUID]; c != nil {
		return c, nil
	}
	path := s.d1Path(db.UUID)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("cannot create D1 directory: %w", err)
	}
	// D1 enforces foreign keys (PRAGMA foreign_keys is on by default there).
	c, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)")
	if err != nil {
		return nil, fmt.Errorf("cannot open database %s: %w", db.UUID, err)
	}
	c.SetMaxOpenConns(1)
	c.SetConnMaxIdleTime(0)
	c.SetConnMaxLifetime(0)
	if err := c.PingContext(context.Background()); err != nil {
		c.Close()
		return nil, fmt.Errorf("cannot open database %s: %w", db.UUID, err)
	}
	s.st.D1.conns[db.UUID] = c
	return c, nil
}

// d1Close closes db's handle if it is open (before its file is replaced or removed).
func (s *Server) d1Close(uuid string) error {
	c := s.st.D1.conns[uuid]
	if c == nil {
		return nil
	}
	delete(s.st.D1.conns, uuid)
	if err := c.Close(); err != nil {
		return fmt.Errorf("cannot close database %s: %w", uuid, err)
	}
	return nil
}

// d1CloseAll is the Server closer; it runs with s.mu held.
func (s *Server) d1CloseAll() error {
	var firstErr error
	for uuid := range s.st.D1.conns {
		if err := s.d1Close(uuid); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}
