// Package opsdoc is the store of the documents flareops publishes for the platform's
// Workers to read at runtime (sandbox policies; later alert rules and SLOs): versioned JSON
// documents in the platform's ops KV namespace, one key per document under Prefix, e.g.
// "flareops/sandbox/agent".
//
// Each key's KV metadata carries the SHA-256 of the stored value and the document's schema
// ({"sha256":"…","schema":"flareops.sandbox-policy/v1"}), so that observing every
// document costs one list of namespaces and one list of keys (one more per 1,000 keys past
// the first 1,000), never a read per document: the planner compares Hash(desired) with the
// live Doc.Hash.
//
// The package knows nothing of kinds, Terraform or HCL: a kind builds its Document and
// its key, and the store reads and writes them.
package opsdoc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// Prefix starts the key of every document flareops publishes; keys outside it are never
// read, written or deleted.
const Prefix = "flareops/"

// Limits of Workers KV (cloudflare-api.md §9).
const (
	maxKeyBytes      = 512
	maxMetadataBytes = 1024
	maxValueBytes    = 25 << 20
)

// API is what the store needs from Cloudflare; *cloudflare.Client implements it.
// ListKVKeys returns every key with the prefix, reading as many pages as there are.
type API interface {
	ListKVNamespaces(ctx context.Context) ([]cloudflare.KVNamespace, error)
	CreateKVNamespace(ctx context.Context, title string) (cloudflare.KVNamespace, error)
	ListKVKeys(ctx context.Context, namespaceID, prefix string) ([]cloudflare.KVKey, error)
	GetKV(ctx context.Context, namespaceID, key string) ([]byte, error)
	PutKV(ctx context.Context, namespaceID, key string, value []byte, metadata json.RawMessage) error
	DeleteKV(ctx context.Context, namespaceID, key string) error
}

// Document is a document to publish: its JSON encoding is the stored value. Schema names
// the document's format and version, "NAME/vN" (e.g. "flareops.sandbox-policy/v1"); a
// Worker that reads the value alone needs it too, so documents should also carry it in a
// field of their own.
type Document interface {
	Schema() string
}

// Doc is a live document as the key list describes it, without its value.
type Doc struct {
	Key    string // "flareops/sandbox/agent"
	Schema string // "flareops.sandbox-policy/v1"; "" when the key has no metadata of ours
	Hash   string // hex SHA-256 of the stored value; "" when the key has no metadata of ours
}

// metadata is the KV metadata of every document.
type metadata struct {
	SHA256 string `json:"sha256"`
	Schema string `json:"schema"`
}

var schemaPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*/v[1-9][0-9]*$`)

// Key returns the key of a document: Prefix followed by parts joined with "/", e.g.
// Key("sandbox", "agent") is "flareops/sandbox/agent".
func Key(parts ...string) string { return Prefix + strings.Join(parts, "/") }

// Encode returns the value Put stores for doc and its hash: canonical JSON (object keys
// sorted at every level, whatever the Go types' field or map order; no HTML escaping; no
// trailing newline), so equal documents always hash equally.
func Encode(doc Document) (value []byte, hash string, err error) {
	if err := checkSchema(doc); err != nil {
		return nil, "", err
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, "", fmt.Errorf("cannot encode %s document: %w", doc.Schema(), err)
	}
	// Decoding into interface values turns every object into a map, which encoding/json
	// writes with sorted keys; UseNumber keeps numbers exactly as they were written.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, "", fmt.Errorf("cannot encode %s document: %w", doc.Schema(), err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, "", fmt.Errorf("cannot encode %s document: %w", doc.Schema(), err)
	}
	value = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(value) > maxValueBytes {
		return nil, "", fmt.Errorf("%s document is %d bytes, over the KV value limit of %d", doc.Schema(), len(value), maxValueBytes)
	}
	sum := sha256.Sum256(value)
	return value, hex.EncodeToString(sum[:]), nil
}

// Hash is the hash Put would store in doc's metadata: what the planner compares with
// the live Doc.Hash, without reading any value.
func Hash(doc Document) (string, error) {
	_, hash, err := Encode(doc)
	return hash, err
}

func checkSchema(doc Document) error {
	if doc == nil {
		return fmt.Errorf("no document")
	}
	if s := doc.Schema(); len(s) > 128 || !schemaPattern.MatchString(s) {
		return fmt.Errorf("document schema %q is not NAME/vN, e.g. \"flareops.sandbox-policy/v1\"", s)
	}
	return nil
}

func checkKey(key string) error {
	switch {
	case !strings.HasPrefix(key, Prefix) || len(key) == len(Prefix):
		return fmt.Errorf("document key %q is not under %q", key, Prefix)
	case len(key) > maxKeyBytes:
		return fmt.Errorf("document key %q is %d bytes, over the KV key limit of %d", key, len(key), maxKeyBytes)
	case !utf8.ValidString(key):
		return fmt.Errorf("document key %q is not valid UTF-8", key)
	}
	return nil
}

// docOf reads a listed key; a key without our metadata (written by hand, or by another
// tool) is a Doc without schema or hash, which no desired document matches.
func docOf(k cloudflare.KVKey) Doc {
	d := Doc{Key: k.Name}
	var m metadata
	if len(k.Metadata) > 0 && json.Unmarshal(k.Metadata, &m) == nil {
		d.Schema, d.Hash = m.Schema, m.SHA256
	}
	return d
}
