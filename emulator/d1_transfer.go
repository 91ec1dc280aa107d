package emulator

import (
	"crypto/md5"
	"encoding/hex"
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
