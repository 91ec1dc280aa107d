package backup

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"
)

// d1MaxStatement is D1's longest SQL statement, "100 KB" (read as 100,000 bytes): an
// import of a longer one fails.
const d1MaxStatement = 100_000

// Verified is what reading a whole backup back established.
type Verified struct {
	Backup   *Backup
	Contents []Content // as read back; equal to the manifest's
	// keys holds a digest of every key or object name (KV and R2), for a forced restore
	// to delete what the backup does not have. 16 bytes per key.
	keys map[[16]byte]bool
	// importMD5/importSize describe the D1 import file (the plaintext after prefix).
	importMD5  string
	importSize int64
}

// Verify re-reads a backup: every part's size and SHA-256, decryption, decompression, the
// plaintext's SHA-256, and the rows, keys or objects of every table or prefix against the
// manifest. Any difference is an error naming the object and the problem.
func (e *Env) Verify(ctx context.Context, b *Backup) (*Verified, error) {
	return e.verify(ctx, b, "")
}

// verify reads the backup; importPrefix is the SQL a D1 restore runs before the dump
// (counted into the import file's MD5 and size).
func (e *Env) verify(ctx context.Context, b *Backup, importPrefix string) (*Verified, error) {
	e.startProgress("verify "+b.ID, b.Manifest.Source.Kind.noun())
	defer e.endProgress()
	o, err := e.open(ctx, b)
	if err != nil {
		return nil, err
	}
	defer o.Close()
	v := &Verified{Backup: b, keys: map[[16]byte]bool{}}
	wk := walker{kind: b.Manifest.Source.Kind}
	var sum hash.Hash
	var longest longestInsert
	switch wk.kind {
	case SourceD1:
		sum = md5.New()
		io.WriteString(sum, importPrefix)
		wk.onSQL = sum
		wk.longest = &longest
	case SourceKV:
		wk.onKV = func(r kvRecord) error { v.keys[keyDigest(r.Key)] = true; return nil }
	case SourceR2:
		wk.onR2 = func(r r2Entry) error { v.keys[keyDigest(r.Key)] = true; return nil }
	}
	got, err := wk.walk(o, e.prog)
	if err != nil {
		return nil, o.explainWalk(err)
	}
	if err := o.Check(); err != nil {
		return nil, err
	}
	if diffs := compareContents(b.Manifest.Contents, got, wk.kind.noun()); len(diffs) > 0 {
		return nil, fmt.Errorf("%s: the manifest does not match the data:\n  %s", b.Where(), strings.Join(diffs, "\n  "))
	}
	if longest.bytes > d1MaxStatement {
		return nil, fmt.Errorf("%s: table %s has a row whose INSERT is %d bytes; D1 imports no statement over %d bytes, so this backup cannot be restored by an import (the data is in the backup: see docs/cli/backup.md for reading it with age and gunzip)", b.Where(), longest.table, longest.bytes, d1MaxStatement)
	}
	v.Contents = got
	if sum != nil {
		v.importMD5 = hex.EncodeToString(sum.Sum(nil))
		v.importSize = int64(len(importPrefix)) + o.n
	}
	return v, nil
}

// explainWalk: a payload that does not parse is reported with a damaged part when there
// is one, else as a manifest/data mismatch.
func (o *opened) explainWalk(err error) error {
	var de *DamageError
	if asDamage(err, &de) {
		return err
	}
	if e := o.explain(err); asDamage(e, &de) {
		return e
	}
	return fmt.Errorf("%s: the backup's content cannot be read as %s: %w", o.b.Where(), o.b.Manifest.Payload, err)
}

func keyDigest(k string) [16]byte {
	s := sha256.Sum256([]byte(k))
	var d [16]byte
	copy(d[:], s[:16])
	return d
}
