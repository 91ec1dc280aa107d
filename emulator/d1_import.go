package emulator

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
)

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
