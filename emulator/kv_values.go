package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// KV keys and values. Limits (DOCS kv limits): key ≤ 512 bytes, metadata ≤ 1024 bytes
// serialized, value ≤ 25 MiB, expiration at least 60 s ahead.
const (
	kvMaxKey      = 512
	kvMaxMetadata = 1024
	kvMaxValue    = 25 << 20
	kvMinTTL      = 60
)

// kvBlob is the blob stored for a value: the value behind a prefix naming its namespace
// and key. Blobs are content-addressed and shared by every family; the prefix makes each
// KV blob belong to exactly one entry, so removing the entry may remove its blob.
func kvBlob(nsID, key string, value []byte) []byte {
	prefix := kvBlobPrefix(nsID, key)
	return append(append(make([]byte, 0, len(prefix)+len(value)), prefix...), value...)
}

func kvBlobPrefix(nsID, key string) string { return "flareops-kv\x00" + nsID + "\x00" + key + "\x00" }

// kvStore writes a value. The caller holds s.mu and has validated the input.
func (s *Server) kvStore(ns *kvNamespace, key string, value []byte, exp int64, meta json.RawMessage) error {
	blob, err := s.blobs.put(kvBlob(ns.ID, key, value))
	if err != nil {
		return fmt.Errorf("cannot store value of %q: %w", key, err)
	}
	if old := ns.Entries[key]; old != nil && old.Blob != blob {
		s.kvDropBlob(old.Blob)
	}
	ns.Entries[key] = &kvEntry{Blob: blob, Size: len(value), Expiration: exp, Metadata: meta}
	return nil
}

// kvRemove deletes a key and its blob. The caller holds s.mu.
func (s *Server) kvRemove(ns *kvNamespace, key string) {
	if e := ns.Entries[key]; e != nil {
		delete(ns.Entries, key)
		s.kvDropBlob(e.Blob)
	}
}

func (s *Server) kvDropBlob(blob string) {
	if err := s.blobs.del(blob); err != nil {
		// A leftover blob wastes space but breaks nothing; say so and go on.
		fmt.Fprintf(os.Stderr, "emulator: kv: %v\n", err)
	}
}

// kvLive returns the key's entry unless it is missing or expired (an expired key is
// removed on sight). The caller holds s.mu.
func (s *Server) kvLive(ns *kvNamespace, key string, now time.Time) *kvEntry {
	e := ns.Entries[key]
	if e != nil && e.Expiration != 0 && now.Unix() >= e.Expiration {
		s.kvRemove(ns, key)
		return nil
	}
	return e
}

// kvValue reads an entry's bytes.
func (s *Server) kvValue(ns *kvNamespace, key string, e *kvEntry) ([]byte, error) {
	b, err := s.blobs.get(e.Blob)
	if err != nil {
		return nil, fmt.Errorf("cannot read value of %q: %w", key, err)
	}
	return b[len(kvBlobPrefix(ns.ID, key)):], nil
}

// kvExpire removes expired keys when the clock moves (registered with onTick).
func (s *Server) kvExpire(now time.Time) {
	for _, ns := range s.st.KV.Namespaces {
		for key := range ns.Entries {
			s.kvLive(ns, key, now)
		}
	}
}

// kvCheckKey validates a key name: not empty, not "." or "..", at most 512 bytes.
// Cloudflare answers an over-long key with 414.
func kvCheckKey(key string) (status int, msg string) {
	switch {
	case key == "":
		return http.StatusBadRequest, "key name cannot be empty"
	case key == "." || key == "..":
		return http.StatusBadRequest, "illegal key name: '.' and '..' are not allowed"
	case len(key) > kvMaxKey:
		return http.StatusRequestURITooLong, fmt.Sprintf("UTF-8 encoded length of %d exceeds key length limit of %d", len(key), kvMaxKey)
	}
	return 0, ""
}

// kvExpiration resolves expiration (Unix seconds) and expiration_ttl (seconds from now);
// the TTL wins when both are set. 0 means the key never expires.
func kvExpiration(exp, ttl *int64, now time.Time) (int64, error) {
	switch {
	case ttl != nil:
		if *ttl < kvMinTTL {
			return 0, fmt.Errorf("Invalid expiration_ttl of %d. Expiration TTL must be at least %d.", *ttl, kvMinTTL)
		}
		return now.Unix() + *ttl, nil
	case exp != nil:
		if *exp <= now.Unix() {
			return 0, fmt.Errorf("Invalid expiration of %d. Please specify an integer greater than the current number of seconds since the UNIX epoch.", *exp)
		}
		if *exp < now.Unix()+kvMinTTL {
			return 0, fmt.Errorf("Invalid expiration of %d. Expiration times must be at least %d seconds in the future.", *exp, kvMinTTL)
		}
		return *exp, nil
	}
	return 0, nil
}

// kvQueryInt parses an optional integer query parameter (the SDK sends float64 values,
// which print without a fraction when integral).
func kvQueryInt(r *http.Request, name string) (*int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f != float64(int64(f)) {
		return nil, fmt.Errorf("%s must be an integer, not %q", name, v)
	}
	n := int64(f)
	return &n, nil
}

// kvCheckMetadata validates metadata: JSON, at most 1024 bytes serialized.
func kvCheckMetadata(meta json.RawMessage) (int, string) {
	if meta == nil {
		return 0, ""
	}
	if !json.Valid(meta) {
		return http.StatusBadRequest, "metadata must be valid JSON"
	}
	var compact bytes.Buffer
	_ = json.Compact(&compact, meta) // valid JSON always compacts
	if compact.Len() > kvMaxMetadata {
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("Metadata length of %d exceeds limit of %d", compact.Len(), kvMaxMetadata)
	}
	return 0, ""
}

// kvKeysList lists live keys in byte order, `limit` (10–1000, default 1000) at a time,
// optionally under `prefix`. The cursor is opaque (the last key returned). result_info
// carries both `cursor` (docs; the v6.10 pager) and `cursors.after` (older SDKs).
func (s *Server) kvKeysList(w http.ResponseWriter, r *http.Request) {
	limit := int64(1000)
	if n, err := kvQueryInt(r, "limit"); err != nil || n != nil && (*n < 10 || *n > 1000) {
		writeError(w, http.StatusBadRequest, kvCodeInvalid, "limit must be an integer between 10 and 1000")
		return
	} else if n != nil {
		limit = *n
	}
	after := ""
	if c := r.URL.Query().Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil {
			writeError(w, http.StatusBadRequest, kvCodeInvalid, "invalid cursor")
			return
		}
		after = string(b)
	}
	prefix := r.URL.Query().Get("prefix")
	s.mu.Lock()
	defer s.mu.Unlock()
	ns := s.kvNamespaceFor(w, r)
	if ns == nil {
		return
	}
	now := s.Now()
	var names []string
	for key := range ns.Entries {
		if strings.HasPrefix(key, prefix) && key > after && s.kvLive(ns, key, now) != nil {
			names = append(names, key)
		}
	}
	sort.Strings(names)
	cursor := ""
	if int64(len(names)) > limit {
		names = names[:limit]
		cursor = base64.RawURLEncoding.EncodeToString([]byte(names[len(names)-1]))
	}
	out := make([]map[string]any, 0, len(names))
	for _, key := range names {
		out = append(out, kvKeyView(key, ns.Entries[key]))
	}
	writeResultInfo(w, out, resultInfo{"count": len(out), "cursor": cursor, "cursors": map[string]string{"after": cursor}})
}

func kvKeyView(key string, e *kvEntry) map[string]any {
	v := map[string]any{"name": key}
	if e.Expiration != 0 {
		v["expiration"] = e.Expiration
	}
	if e.Metadata != nil {
		v["metadata"] = e.Metadata
	}
	return v
}

// kvValueGet answers the value's raw bytes, not enveloped, with the expiration (if any)
// in the `expiration` header.
func (s *Server) kvValueGet(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	s.mu.Lock()
	defer s.mu.Unlock()
	ns := s.kvNamespaceFor(w, r)
	if ns == nil {
		return
	}
	e := s.kvLive(ns, key, s.Now())
	if e == nil {
		writeError(w, http.StatusNotFound, kvCodeKeyNotFound, "key not found")
		return
	}
	b, err := s.kvValue(ns, key, e)
	if err != nil {
		writeError(w, http.StatusInternalServerError, 10001, err.Error())
		return
	}
	if e.Expiration != 0 {
		w.Header().Set("Expiration", strconv.FormatInt(e.Expiration, 10))
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(b) // a failed write means the client went away
}

func (s *Server) kvMetadataGet(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	s.mu.Lock()
	defer s.mu.Unlock()
	ns := s.kvNamespaceFor(w, r)
	if ns == nil {
		return
	}
	e := s.kvLive(ns, key, s.Now())
	if e == nil {
		writeError(w, http.StatusNotFound, kvCodeKeyNotFound, "key not found")
		return
	}
	writeResult(w, e.Metadata)
}

// kvValueDelete removes a key. Deleting a missing key succeeds: KV deletes are idempotent.
func (s *Server) kvValueDelete(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if status, msg := kvCheckKey(key); status != 0 {
		writeError(w, status, kvCodeInvalid, msg)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ns := s.kvNamespaceFor(w, r)
	if ns == nil {
		return
	}
	s.kvRemove(ns, key)
	writeResult(w, map[string]any{})
}

// kvValuePut writes a value from a raw body, or from a multipart body with a `value` part
// and metadata as one JSON `metadata` part or as `metadata.<key>` form fields (what the Go
// SDK sends for a map).
func (s *Server) kvValuePut(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if status, msg := kvCheckKey(key); status != 0 {
		writeError(w, status, kvCodeInvalid, msg)
		return
	}
	exp, errExp := kvQueryInt(r, "expiration")
	ttl, errTTL := kvQueryInt(r, "expiration_ttl")
	if errExp != nil || errTTL != nil {
		writeError(w, http.StatusBadRequest, kvCodeInvalid, fmt.Sprint(errExp, errTTL))
		return
	}
	value, meta, status, msg := kvReadValue(w, r)
	if status == 0 {
		status, msg = kvCheckMetadata(meta)
	}
	if status != 0 {
		code := kvCodeInvalid
		if status == http.StatusRequestEntityTooLarge {
			code = kvCodeTooLarge
		}
		writeError(w, status, code, msg)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ns := s.kvNamespaceFor(w, r)
	if ns == nil {
		return
	}
	expires, err := kvExpiration(exp, ttl, s.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, kvCodeInvalid, err.Error())
		return
	}
	if wait := s.keyWrites.allow("kv", ns.ID+"\x00"+key, s.Now()); wait > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(ceilSeconds(wait)))
		writeError(w, http.StatusTooManyRequests, kvCodeKeyWriteLimit, "KV PUT failed: 429 Too Many Requests")
		return
	}
	if err := s.kvStore(ns, key, value, expires, meta); err != nil {
		writeError(w, http.StatusInternalServerError, 10001, err.Error())
		return
	}
	writeResult(w, map[string]any{})
}

func kvReadValue(w http.ResponseWriter, r *http.Request) (value []byte, meta json.RawMessage, status int, msg string) {
	r.Body = http.MaxBytesReader(w, r.Body, kvMaxValue+kvMaxMetadata+64<<10)
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "multipart/form-data" {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("value exceeds the limit of %d bytes", kvMaxValue)
		}
		if len(b) > kvMaxValue {
			return nil, nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("Value length of %d exceeds limit of %d", len(b), kvMaxValue)
		}
		return b, nil, 0, ""
	}
	return kvReadMultipart(r)
}
