package backup

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/bits"
	"sort"
	"time"
)

// ManifestFormat is the version of the manifest's shape.
const ManifestFormat = 1

// Manifest describes one complete backup. It is written last, beside the parts: a backup
// without one is incomplete and never listed, verified or restored.
type Manifest struct {
	Format      int       `json:"format"`
	Tool        string    `json:"tool"` // "flareops 0.1.0"
	Job         string    `json:"job"`  // backup "NAME"
	Source      Source    `json:"source"`
	ID          string    `json:"id"`
	Tier        Tier      `json:"tier"`
	StartedAt   time.Time `json:"started_at"`
	FinishedAt  time.Time `json:"finished_at"`
	Compression string    `json:"compression"` // gzip
	// Encrypted parts are one age stream (age -d decrypts their concatenation); Recipients
	// are the public keys it was encrypted to.
	Encrypted  bool     `json:"encrypted"`
	Recipients []string `json:"recipients,omitempty"`
	// Format of the plaintext: "sql" (a D1 export), "kv-jsonl" (one JSON object per key:
	// key, value in base64, metadata, expiration) or "tar" (one entry per R2 object).
	Payload   string    `json:"payload"`
	Plaintext Checksums `json:"plaintext"`
	// Parts are the stored objects, in order; their concatenation is the gzip (then age)
	// stream of the plaintext.
	Parts       []Part    `json:"parts"`
	StoredBytes int64     `json:"stored_bytes"`
	Contents    []Content `json:"contents"`
}

// Checksums of a byte stream.
type Checksums struct {
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
	MD5    string `json:"md5,omitempty"` // of the plaintext: the D1 import's etag
}

// Part is one stored object of a backup.
type Part struct {
	Name   string `json:"name"` // the object's name under the backup's folder
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"` // of the stored bytes
}

// Content is what one table (D1), the namespace (KV) or one key prefix (R2) holds:
// how many rows, keys or objects, and a checksum of them that does not depend on their
// order (the sum of each item's SHA-256), so a restore can be read back and compared.
type Content struct {
	Name   string `json:"name"`
	Items  int64  `json:"items"`
	Bytes  int64  `json:"bytes,omitempty"` // R2: object bytes
	SHA256 string `json:"sha256"`
}

// tally accumulates Contents: the order-independent checksum is the sum, modulo 2^256,
// of every item's SHA-256 (a sum, unlike XOR, does not cancel repeated items).
type tally struct {
	byName map[string]*entry
}

type entry struct {
	items int64
	bytes int64
	sum   [4]uint64
}

func newTally() *tally { return &tally{byName: map[string]*entry{}} }

// declare makes name appear even with no items (an empty table).
func (t *tally) declare(name string) *entry {
	e := t.byName[name]
	if e == nil {
		e = &entry{}
		t.byName[name] = e
	}
	return e
}

func (t *tally) add(name string, size int64, item ...[]byte) {
	e := t.declare(name)
	h := sha256.New()
	for _, b := range item {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	var d [32]byte
	h.Sum(d[:0])
	var carry uint64
	for i := 3; i >= 0; i-- {
		e.sum[i], carry = bits.Add64(e.sum[i], binary.BigEndian.Uint64(d[i*8:]), carry)
	}
	e.items++
	e.bytes += size
}

// contents lists the tally sorted by name.
func (t *tally) contents() []Content {
	out := make([]Content, 0, len(t.byName))
	for name, e := range t.byName {
		var d [32]byte
		for i := range 4 {
			binary.BigEndian.PutUint64(d[i*8:], e.sum[i])
		}
		out = append(out, Content{Name: name, Items: e.items, Bytes: e.bytes, SHA256: hex.EncodeToString(d[:])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// compareContents lists every difference between what a manifest says and what was read
// (want, got), one line each, naming the table, namespace or prefix; noun is "rows",
// "keys" or "objects".
func compareContents(want, got []Content, noun string) []string {
	w, g := map[string]Content{}, map[string]Content{}
	for _, c := range want {
		w[c.Name] = c
	}
	for _, c := range got {
		g[c.Name] = c
	}
	var out []string
	for _, c := range want {
		o, ok := g[c.Name]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: missing (the manifest has %d %s)", c.Name, c.Items, noun))
		case o.Items != c.Items:
			out = append(out, fmt.Sprintf("%s: %d %s, the manifest has %d", c.Name, o.Items, noun, c.Items))
		case o.SHA256 != c.SHA256:
			out = append(out, fmt.Sprintf("%s: %d %s as the manifest says, but their checksum is %s, not %s (content differs)", c.Name, o.Items, noun, short(o.SHA256), short(c.SHA256)))
		}
	}
	for _, c := range got {
		if _, ok := w[c.Name]; !ok {
			out = append(out, fmt.Sprintf("%s: %d %s that the manifest does not list", c.Name, c.Items, noun))
		}
	}
	return out
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

// noun is what a source's items are called.
func (k SourceKind) noun() string {
	switch k {
	case SourceD1:
		return "rows"
	case SourceKV:
		return "keys"
	}
	return "objects"
}

func (m *Manifest) marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("cannot encode manifest: %w", err)
	}
	return append(b, '\n'), nil
}

// parseManifest reads a manifest, checking that it is one this version understands and
// that it is consistent with itself.
func parseManifest(b []byte, where string) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: not a backup manifest: %w", where, err)
	}
	switch {
	case m.Format != ManifestFormat:
		return nil, fmt.Errorf("%s: manifest format %d; this flareops reads format %d", where, m.Format, ManifestFormat)
	case len(m.Parts) == 0:
		return nil, fmt.Errorf("%s: the manifest lists no parts", where)
	case m.Compression != "gzip":
		return nil, fmt.Errorf("%s: compression %q is not gzip", where, m.Compression)
	}
	var total int64
	for _, p := range m.Parts {
		total += p.Bytes
	}
	if total != m.StoredBytes {
		return nil, fmt.Errorf("%s: the manifest's parts add up to %d bytes, not the %d it says", where, total, m.StoredBytes)
	}
	return &m, nil
}
