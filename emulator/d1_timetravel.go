package emulator

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

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
