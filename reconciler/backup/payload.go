package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// What each source's plaintext is, how it is read from the account (dump) and how it is
// read back from a backup (walk). Both ends tally the same Contents, so what a restore
// wrote can be compared with the manifest.

// Payload formats.
const (
	payloadSQL = "sql"      // a D1 export, as the export flow produces it
	payloadKV  = "kv-jsonl" // one JSON object per key
	payloadTar = "tar"      // one entry per R2 object (PAX records: content type, metadata)
)

func payloadOf(k SourceKind) (format, ext string) {
	switch k {
	case SourceD1:
		return payloadSQL, "sql.gz"
	case SourceKV:
		return payloadKV, "jsonl.gz"
	}
	return payloadTar, "tar.gz"
}

// kvContent is the one Content of a KV backup.
const kvContent = "keys"

// dump writes the source's plaintext to w and returns its Contents.
func (e *Env) dump(ctx context.Context, src Source, w io.Writer) ([]Content, error) {
	switch src.Kind {
	case SourceD1:
		db, err := e.API.FindD1Database(ctx, src.Name)
		if err != nil {
			return nil, err
		}
		return e.dumpD1(ctx, db.UUID, w)
	case SourceKV:
		ns, err := e.API.FindKVNamespace(ctx, src.Name)
		if err != nil {
			return nil, err
		}
		return e.dumpKV(ctx, ns.ID, w)
	case SourceR2:
		return e.dumpR2(ctx, src.Name, w)
	}
	return nil, fmt.Errorf("unknown source kind %q", src.Kind)
}

func (e *Env) dumpD1(ctx context.Context, id string, w io.Writer) ([]Content, error) {
	body, err := e.API.ExportD1(ctx, id)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	st := newSQLTally()
	st.onRow = e.prog.item
	if _, err := io.Copy(io.MultiWriter(w, st), body); err != nil {
		return nil, err
	}
	if err := st.finish(); err != nil {
		return nil, err
	}
	return st.t.contents(), nil
}

// kvRecord is one line of a KV backup.
type kvRecord = cloudflare.KVEntry

func kvItem(t *tally, r kvRecord) {
	t.add(kvContent, int64(len(r.Value)), []byte(r.Key), r.Value, r.Metadata, []byte(strconv.FormatInt(r.Expiration, 10)))
}

// compactJSON makes metadata compare equal however the API spaced it.
func compactJSON(b json.RawMessage) json.RawMessage {
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return b
	}
	return buf.Bytes()
}

func (e *Env) dumpKV(ctx context.Context, nsID string, w io.Writer) ([]Content, error) {
	t := newTally()
	t.declare(kvContent)
	enc := json.NewEncoder(w)
	err := e.API.EachKVKeyPage(ctx, nsID, func(keys []cloudflare.KVKey) error {
		for len(keys) > 0 {
			batch := keys[:min(len(keys), cloudflare.KVBulkGetMax)]
			keys = keys[len(batch):]
			names := make([]string, len(batch))
			for i, k := range batch {
				names[i] = k.Name
			}
			values, err := e.API.BulkGetKV(ctx, nsID, names)
			if err != nil {
				return err
			}
			for _, k := range batch {
				v, ok := values[k.Name]
				if !ok {
					continue // expired or deleted since it was listed
				}
				r := kvRecord{Key: k.Name, Value: v, Metadata: compactJSON(k.Metadata), Expiration: k.Expiration}
				if err := enc.Encode(r); err != nil {
					return err
				}
				kvItem(t, r)
				e.prog.item()
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t.contents(), nil
}

// r2Prefix groups objects by the first segment of their key ("img/a.png" → "img/").
func r2Prefix(key string) string {
	if i := strings.IndexByte(key, '/'); i >= 0 {
		return key[:i+1]
	}
	return "(top level)"
}

const (
	paxContentType = "FLAREOPS.content_type"
	paxMetaPrefix  = "FLAREOPS.meta."
	paxKey         = "FLAREOPS.key" // the object's key when the entry's name cannot be it
)

func r2Item(t *tally, key, ctype string, meta map[string]string, size int64, bodySHA []byte) {
	names := make([]string, 0, len(meta))
	for k := range meta {
		names = append(names, k)
	}
	sort.Strings(names)
	var m strings.Builder
	for _, k := range names {
		m.WriteString(k + "=" + meta[k] + "\n")
	}
	t.add(r2Prefix(key), size, []byte(key), []byte(ctype), []byte(m.String()), bodySHA)
}

func (e *Env) dumpR2(ctx context.Context, bucket string, w io.Writer) ([]Content, error) {
	t := newTally()
	tw := tar.NewWriter(w)
	err := e.R2.List(ctx, bucket, "", func(o cloudflare.R2Object) error {
		body, obj, ctype, err := e.R2.Open(ctx, bucket, o.Key)
		if errors.Is(err, cloudflare.ErrNoSuchKey) {
			return nil // deleted since it was listed
		}
		if err != nil {
			return err
		}
		defer body.Close()
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: o.Key, Size: obj.Size, Mode: 0o644, ModTime: obj.LastModified.UTC(), Format: tar.FormatPAX, PAXRecords: map[string]string{}}
		if strings.HasSuffix(o.Key, "/") {
			// A tar file entry cannot end in "/" (S3 folder markers do): the entry gets
			// "%2F" for it and the key itself goes in a PAX record.
			hdr.Name = strings.TrimSuffix(o.Key, "/") + "%2F"
			hdr.PAXRecords[paxKey] = o.Key
		}
		if ctype != "" {
			hdr.PAXRecords[paxContentType] = ctype
		}
		for k, v := range obj.Metadata {
			hdr.PAXRecords[paxMetaPrefix+strings.ToLower(k)] = v
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("r2://%s/%s: %w", bucket, o.Key, err)
		}
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(tw, h), body)
		if err != nil {
			return fmt.Errorf("read r2://%s/%s: %w", bucket, o.Key, err)
		}
		if n != obj.Size {
			return fmt.Errorf("read r2://%s/%s: %d bytes of %d", bucket, o.Key, n, obj.Size)
		}
		r2Item(t, o.Key, ctype, lowerKeys(obj.Metadata), n, h.Sum(nil))
		e.prog.item()
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return t.contents(), nil
}

func lowerKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

// r2Entry is one object read back from a backup.
type r2Entry struct {
	Key         string
	ContentType string
	Metadata    map[string]string
	Size        int64
	Body        io.Reader
}

// walker reads a backup's plaintext back, tallying it; the callbacks (optional) see each
// key or object as it goes by.
type walker struct {
	kind  SourceKind
	onKV  func(kvRecord) error
	onR2  func(r2Entry) error
	onSQL io.Writer // D1: the plaintext as it streams by
	// longest, when set, receives the D1 export's longest INSERT.
	longest *longestInsert
}

func (wk walker) walk(r io.Reader, prog *progress) ([]Content, error) {
	switch wk.kind {
	case SourceD1:
		st := newSQLTally()
		st.onRow = prog.item
		w := io.Writer(st)
		if wk.onSQL != nil {
			w = io.MultiWriter(st, wk.onSQL)
		}
		if _, err := io.Copy(w, r); err != nil {
			return nil, err
		}
		if err := st.finish(); err != nil {
			return nil, err
		}
		if wk.longest != nil {
			*wk.longest = st.longest
		}
		return st.t.contents(), nil
	case SourceKV:
		t := newTally()
		t.declare(kvContent)
		dec := json.NewDecoder(bufio.NewReader(r))
		for line := 1; ; line++ {
			var rec kvRecord
			if err := dec.Decode(&rec); errors.Is(err, io.EOF) {
				return t.contents(), nil
			} else if err != nil {
				return nil, fmt.Errorf("key record %d: %w", line, err)
			}
			rec.Metadata = compactJSON(rec.Metadata)
			kvItem(t, rec)
			prog.item()
			if wk.onKV != nil {
				if err := wk.onKV(rec); err != nil {
					return nil, err
				}
			}
		}
	case SourceR2:
		t := newTally()
		tr := tar.NewReader(r)
		for {
			hdr, err := tr.Next()
			if errors.Is(err, io.EOF) {
				return t.contents(), nil
			}
			if err != nil {
				return nil, fmt.Errorf("object archive: %w", err)
			}
			key := hdr.Name
			if k, ok := hdr.PAXRecords[paxKey]; ok {
				key = k
			}
			ent := r2Entry{Key: key, ContentType: hdr.PAXRecords[paxContentType], Metadata: map[string]string{}, Size: hdr.Size}
			for k, v := range hdr.PAXRecords {
				if name, ok := strings.CutPrefix(k, paxMetaPrefix); ok {
					ent.Metadata[name] = v
				}
			}
			h := sha256.New()
			ent.Body = io.TeeReader(tr, h)
			if wk.onR2 != nil {
				if err := wk.onR2(ent); err != nil {
					return nil, err
				}
			}
			if _, err := io.Copy(io.Discard, ent.Body); err != nil {
				return nil, fmt.Errorf("object archive: %s: %w", hdr.Name, err)
			}
			r2Item(t, ent.Key, ent.ContentType, ent.Metadata, hdr.Size, h.Sum(nil))
			prog.item()
		}
	}
	return nil, fmt.Errorf("unknown source kind %q", wk.kind)
}
