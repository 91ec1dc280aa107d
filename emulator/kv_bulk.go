package emulator

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// KV bulk operations and the multipart value upload.

const (
	kvMaxBulk      = 10_000    // items per bulk write or delete
	kvMaxBulkBytes = 100 << 20 // bulk write body (DOCS: ≤ 100 MB)
	kvMaxBulkGet   = 100       // keys per bulk get
)

// kvReadMultipart reads a multipart value upload: a `value` part (field or file) and
// metadata as a JSON `metadata` part or `metadata.<path>` fields. Fields carry text only,
// so values under `metadata.<path>` are kept as strings; a real client wanting typed
// metadata sends the JSON part.
func kvReadMultipart(r *http.Request) (value []byte, meta json.RawMessage, status int, msg string) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, http.StatusBadRequest, "malformed multipart body: " + err.Error()
	}
	fields := map[string]string{}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, http.StatusRequestEntityTooLarge, "cannot read multipart body: " + err.Error()
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, nil, http.StatusRequestEntityTooLarge, "cannot read multipart body: " + err.Error()
		}
		switch name := p.FormName(); {
		case name == "value":
			value = b
		case name == "metadata":
			meta = b
		case strings.HasPrefix(name, "metadata."):
			fields[strings.TrimPrefix(name, "metadata.")] = string(b)
		}
	}
	switch {
	case value == nil:
		return nil, nil, http.StatusBadRequest, "multipart body needs a `value` part"
	case len(value) > kvMaxValue:
		return nil, nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("Value length of %d exceeds limit of %d", len(value), kvMaxValue)
	case meta != nil && len(fields) > 0:
		return nil, nil, http.StatusBadRequest, "send metadata either as a JSON `metadata` part or as `metadata.<key>` fields, not both"
	case len(fields) > 0:
		meta, _ = json.Marshal(kvNest(fields)) // maps of strings always marshal
	}
	return value, meta, 0, ""
}

// kvNest rebuilds the object the SDK flattened into dotted paths ("a.b", "list.0");
// objects whose keys are 0..n-1 become arrays again.
func kvNest(fields map[string]string) any {
	root := map[string]any{}
	for path, v := range fields {
		node := root
		parts := strings.Split(path, ".")
		for _, p := range parts[:len(parts)-1] {
			child, ok := node[p].(map[string]any)
			if !ok {
				child = map[string]any{}
				node[p] = child
			}
			node = child
		}
		node[parts[len(parts)-1]] = v
	}
	return kvArrays(root)
}

func kvArrays(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	for k, c := range m {
		m[k] = kvArrays(c)
	}
	list := make([]any, len(m))
	for k, c := range m {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= len(m) || strconv.Itoa(i) != k {
			return m
		}
		list[i] = c
	}
	if len(list) == 0 {
		return m
	}
	return list
}

type kvBulkItem struct {
	Key           *string         `json:"key"`
	Value         *string         `json:"value"`
	Base64        bool            `json:"base64"`
	Expiration    *int64          `json:"expiration"`
	ExpirationTTL *int64          `json:"expiration_ttl"`
	Metadata      json.RawMessage `json:"metadata"`
}

// kvBulkWrite writes up to 10,000 pairs. Every item is validated before any is written,
// so a bad item fails the whole request with 400 and changes nothing.
func (s *Server) kvBulkWrite(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, kvMaxBulkBytes)
	var items []kvBulkItem
	if err := json.NewDecoder(r.Body).Decode(&items); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, kvCodeTooLarge, fmt.Sprintf("bulk body exceeds %d bytes", kvMaxBulkBytes))
			return
		}
		writeError(w, http.StatusBadRequest, 10026, "Invalid JSON in request body: "+err.Error())
		return
	}
	if len(items) > kvMaxBulk {
		writeError(w, http.StatusBadRequest, kvCodeInvalid, fmt.Sprintf("%d items exceed the limit of %d per bulk write", len(items), kvMaxBulk))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ns := s.kvNamespaceFor(w, r)
	if ns == nil {
		return
	}
	values, expires := make([][]byte, len(items)), make([]int64, len(items))
	for i, it := range items {
		v, exp, status, msg := s.kvCheckBulkItem(it)
		if status != 0 {
			code := kvCodeInvalid
			if status == http.StatusRequestEntityTooLarge {
				code = kvCodeTooLarge
			}
			writeError(w, status, code, fmt.Sprintf("item #%d: %s", i, msg))
			return
		}
		values[i], expires[i] = v, exp
	}
	for i, it := range items {
		if err := s.kvStore(ns, *it.Key, values[i], expires[i], it.Metadata); err != nil {
			writeError(w, http.StatusInternalServerError, 10001, err.Error())
			return
		}
	}
	writeResult(w, map[string]any{"successful_key_count": len(items), "unsuccessful_keys": []string{}})
}

// kvCheckBulkItem validates one bulk item and returns its bytes and expiry. When both
// expiration and expiration_ttl are set, the TTL wins (DOCS).
func (s *Server) kvCheckBulkItem(it kvBulkItem) (value []byte, exp int64, status int, msg string) {
	if it.Key == nil || it.Value == nil {
		return nil, 0, http.StatusBadRequest, "key and value are required"
	}
	if status, msg := kvCheckKey(*it.Key); status != 0 {
		return nil, 0, status, msg
	}
	value = []byte(*it.Value)
	if it.Base64 {
		b, err := base64.StdEncoding.DecodeString(*it.Value)
		if err != nil {
			return nil, 0, http.StatusBadRequest, "value is not valid base64"
		}
		value = b
	}
	if len(value) > kvMaxValue {
		return nil, 0, http.StatusRequestEntityTooLarge, fmt.Sprintf("Value length of %d exceeds limit of %d", len(value), kvMaxValue)
	}
	if status, msg := kvCheckMetadata(it.Metadata); status != 0 {
		return nil, 0, status, msg
	}
	exp, err := kvExpiration(it.Expiration, it.ExpirationTTL, s.Now())
	if err != nil {
		return nil, 0, http.StatusBadRequest, err.Error()
	}
	return value, exp, 0, ""
}

// kvBulkDelete removes up to 10,000 keys (body: JSON array of key names). Missing keys
// count as deleted; invalid key names are reported in unsuccessful_keys.
func (s *Server) kvBulkDelete(w http.ResponseWriter, r *http.Request) {
	var keys []string
	if !decodeJSON(w, r, &keys) {
		return
	}
	if len(keys) > kvMaxBulk {
		writeError(w, http.StatusBadRequest, kvCodeInvalid, fmt.Sprintf("%d keys exceed the limit of %d per bulk delete", len(keys), kvMaxBulk))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ns := s.kvNamespaceFor(w, r)
	if ns == nil {
		return
	}
	failed := []string{}
	for _, key := range keys {
		if status, _ := kvCheckKey(key); status != 0 {
			failed = append(failed, key)
			continue
		}
		s.kvRemove(ns, key)
	}
	writeResult(w, map[string]any{"successful_key_count": len(keys) - len(failed), "unsuccessful_keys": failed})
}

// kvBulkGet reads up to 100 keys: {keys, type: text|json, withMetadata}. A missing key
// maps to null; with type json a value that is not JSON fails the request.
func (s *Server) kvBulkGet(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Keys         []string `json:"keys"`
		Type         string   `json:"type"`
		WithMetadata bool     `json:"withMetadata"`
	}
	if !decodeJSON(w, r, &body) {
		return
	}
	switch {
	case len(body.Keys) == 0 || len(body.Keys) > kvMaxBulkGet:
		writeError(w, http.StatusBadRequest, kvCodeInvalid, fmt.Sprintf("keys must list 1 to %d key names", kvMaxBulkGet))
		return
	case body.Type != "" && body.Type != "text" && body.Type != "json":
		writeError(w, http.StatusBadRequest, kvCodeInvalid, "type must be text or json")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ns := s.kvNamespaceFor(w, r)
	if ns == nil {
		return
	}
	values := map[string]any{}
	now := s.Now()
	for _, key := range body.Keys {
		v, err := s.kvBulkGetOne(ns, key, body.Type == "json", body.WithMetadata, now)
		if err != nil {
			writeError(w, http.StatusBadRequest, kvCodeInvalid, err.Error())
			return
		}
		values[key] = v
	}
	writeResult(w, map[string]any{"values": values})
}

func (s *Server) kvBulkGetOne(ns *kvNamespace, key string, asJSON, withMeta bool, now time.Time) (any, error) {
	e := s.kvLive(ns, key, now)
	if e == nil {
		return nil, nil
	}
	b, err := s.kvValue(ns, key, e)
	if err != nil {
		return nil, err
	}
	var v any = string(b)
	if asJSON {
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("value of %q is not JSON: %w", key, err)
		}
	}
	if !withMeta {
		return v, nil
	}
	out := map[string]any{"value": v, "metadata": e.Metadata}
	if e.Expiration != 0 {
		out["expiration"] = e.Expiration
	}
	return out, nil
}
