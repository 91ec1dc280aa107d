package backup

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"filippo.io/age"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// The stored form of a backup: plaintext → gzip → age (when there are recipients) → parts
// of at most PartSize bytes, each uploaded in bounded chunks. Restoring with standard tools:
//
//	cat part-* | age -d -i key.txt | gunzip > dump
//
// Nothing along the way holds more than a chunk.
// sealer is the writing end: what is written to it is hashed, compressed, encrypted and
// passed to dst.
type sealer struct {
	gz    *gzip.Writer
	enc   io.WriteCloser // nil when not encrypted
	sha   hash.Hash
	md5   hash.Hash
	bytes int64
	prog  *progress
}

func newSealer(dst io.Writer, recipients []string, prog *progress) (*sealer, error) {
	s := &sealer{sha: sha256.New(), md5: md5.New(), prog: prog}
	if len(recipients) > 0 {
		rs, err := parseRecipients(recipients)
		if err != nil {
			return nil, err
		}
		enc, err := age.Encrypt(dst, rs...)
		if err != nil {
			return nil, fmt.Errorf("cannot start encryption: %w", err)
		}
		s.enc, dst = enc, enc
	}
	s.gz = gzip.NewWriter(dst)
	return s, nil
}

func parseRecipients(recipients []string) ([]age.Recipient, error) {
	rs, err := age.ParseRecipients(strings.NewReader(strings.Join(recipients, "\n")))
	if err != nil {
		return nil, fmt.Errorf("encrypt_to: %w (write age recipients: age1...)", err)
	}
	return rs, nil
}

func (s *sealer) Write(p []byte) (int, error) {
	s.sha.Write(p)
	s.md5.Write(p)
	s.bytes += int64(len(p))
	s.prog.plain(len(p))
	return s.gz.Write(p)
}

// Close flushes compression and encryption; the stored stream is then complete.
func (s *sealer) Close() error {
	if err := s.gz.Close(); err != nil {
		return fmt.Errorf("cannot compress: %w", err)
	}
	if s.enc != nil {
		if err := s.enc.Close(); err != nil {
			return fmt.Errorf("cannot encrypt: %w", err)
		}
	}
	return nil
}

func (s *sealer) checksums() Checksums {
	return Checksums{Bytes: s.bytes, SHA256: hex.EncodeToString(s.sha.Sum(nil)), MD5: hex.EncodeToString(s.md5.Sum(nil))}
}

// storeParts uploads the stored stream r as parts named base.00000, base.00001, … of at
// most partSize bytes under folder.
func (e *Env) storeParts(ctx context.Context, bucket, folder, base string, r io.Reader) ([]Part, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var parts []Part
	for i := 0; ; i++ {
		if _, err := br.Peek(1); err != nil {
			if errors.Is(err, io.EOF) && i > 0 {
				return parts, nil
			}
			if !errors.Is(err, io.EOF) {
				return parts, err
			}
		}
		name := fmt.Sprintf("%s.%05d", base, i)
		h := sha256.New()
		cr := &countingReader{r: io.TeeReader(io.LimitReader(br, e.partSize()), h), prog: e.prog}
		obj, err := e.R2.Upload(ctx, bucket, folder+name, cr, cloudflare.UploadOptions{Chunk: e.Chunk, ContentType: "application/octet-stream"})
		if err != nil {
			return parts, err
		}
		if obj.Size != cr.n {
			return parts, fmt.Errorf("write r2://%s/%s%s: stored %d bytes of %d", bucket, folder, name, obj.Size, cr.n)
		}
		parts = append(parts, Part{Name: name, Bytes: cr.n, SHA256: hex.EncodeToString(h.Sum(nil))})
	}
}

type countingReader struct {
	r    io.Reader
	n    int64
	prog *progress
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.prog.stored(n)
	return n, err
}

// partsReader reads a backup's parts in order as one stream, checking each part's size and
// SHA-256 against the manifest as it ends; a difference is an error naming the object.
type partsReader struct {
	ctx    context.Context
	r2     *cloudflare.R2
	bucket string
	folder string
	parts  []Part
	i      int
	cur    io.ReadCloser
	h      hash.Hash
	n      int64
	prog   *progress
}

func (p *partsReader) where() string {
	return fmt.Sprintf("r2://%s/%s%s", p.bucket, p.folder, p.parts[p.i].Name)
}

func (p *partsReader) Read(b []byte) (int, error) {
	for {
		if p.i >= len(p.parts) {
			return 0, io.EOF
		}
		want := p.parts[p.i]
		if p.cur == nil {
			body, _, _, err := p.r2.Open(p.ctx, p.bucket, p.folder+want.Name)
			if errors.Is(err, cloudflare.ErrNoSuchKey) {
				return 0, &DamageError{Object: p.where(), Problem: "missing: the manifest lists it but the bucket does not have it"}
			}
			if err != nil {
				return 0, err
			}
			p.cur, p.h, p.n = body, sha256.New(), 0
		}
		n, err := p.cur.Read(b)
		p.h.Write(b[:n])
		p.n += int64(n)
		p.prog.stored(n)
		if p.n > want.Bytes {
			return 0, &DamageError{Object: p.where(), Problem: fmt.Sprintf("longer than the %d bytes the manifest says", want.Bytes)}
		}
		if errors.Is(err, io.EOF) {
			p.cur.Close()
			p.cur = nil
			if p.n < want.Bytes {
				return n, &DamageError{Object: p.where(), Problem: fmt.Sprintf("truncated: %d bytes, the manifest says %d", p.n, want.Bytes)}
			}
			if got := hex.EncodeToString(p.h.Sum(nil)); got != want.SHA256 {
				return n, &DamageError{Object: p.where(), Problem: fmt.Sprintf("its SHA-256 is %s, the manifest says %s: the object was damaged or changed", short(got), short(want.SHA256))}
			}
			p.i++
			if n > 0 {
				return n, nil
			}
			continue
		}
		if err != nil {
			return n, fmt.Errorf("read %s: %w", p.where(), err)
		}
		return n, nil
	}
}

func (p *partsReader) Close() {
	if p.cur != nil {
		p.cur.Close()
	}
}

// DamageError is a stored backup that does not match its manifest, naming the object.
type DamageError struct {
	Object  string
	Problem string
}

func (e *DamageError) Error() string { return e.Object + ": " + e.Problem }

// opened is a backup being read back: Plain streams the plaintext; Check, after Plain has
// been read to its end, confirms that every part and the plaintext match the manifest.
type opened struct {
	Plain io.Reader
	parts *partsReader
	sha   hash.Hash
	n     int64
	b     *Backup
}

func (o *opened) Read(p []byte) (int, error) {
	n, err := o.Plain.Read(p)
	o.sha.Write(p[:n])
	o.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, o.explain(err)
	}
	return n, err
}

// explain turns a decoding failure into the most precise cause: a damaged part found by
// reading on, else the decoding error itself.
func (o *opened) explain(err error) error {
	var de *DamageError
	if errors.As(err, &de) {
		return err
	}
	if _, derr := io.Copy(io.Discard, o.parts); derr != nil && errors.As(derr, &de) {
		return derr
	}
	var nomatch *age.NoIdentityMatchError
	if errors.As(err, &nomatch) {
		return fmt.Errorf("%s: cannot decrypt: the identity in FLAREOPS_BACKUP_IDENTITY is not one of the backup's recipients (%s)", o.b.Where(), strings.Join(o.b.Manifest.Recipients, ", "))
	}
	return fmt.Errorf("%s: cannot decode the stored stream (%s): %w", o.b.Where(), o.b.Manifest.describeEncoding(), err)
}

// Check confirms, once Plain is read to its end, that every part was read and matched
// and that the plaintext matches the manifest.
func (o *opened) Check() error {
	if _, err := io.Copy(io.Discard, o.parts); err != nil {
		return err
	}
	m := o.b.Manifest
	if got := hex.EncodeToString(o.sha.Sum(nil)); o.n != m.Plaintext.Bytes || got != m.Plaintext.SHA256 {
		return fmt.Errorf("%s: the decoded backup is %d bytes with SHA-256 %s; the manifest says %d bytes with %s: the manifest does not match the data", o.b.Where(), o.n, short(got), m.Plaintext.Bytes, short(m.Plaintext.SHA256))
	}
	return nil
}

func (o *opened) Close() { o.parts.Close() }

func (m *Manifest) describeEncoding() string {
	if m.Encrypted {
		return "age, then gzip"
	}
	return "gzip"
}

// open starts reading a backup back.
func (e *Env) open(ctx context.Context, b *Backup) (*opened, error) {
	pr := &partsReader{ctx: ctx, r2: e.R2, bucket: b.Bucket, folder: b.Folder, parts: b.Manifest.Parts, prog: e.prog}
	o := &opened{parts: pr, sha: sha256.New(), b: b}
	var src io.Reader = pr
	if b.Manifest.Encrypted {
		ids, err := e.identities()
		if err != nil {
			return nil, err
		}
		dec, err := age.Decrypt(pr, ids...)
		if err != nil {
			pr.Close()
			return nil, o.explain(err)
		}
		src = dec
	}
	gz, err := gzip.NewReader(bufio.NewReader(src))
	if err != nil {
		pr.Close()
		return nil, o.explain(err)
	}
	o.Plain = gz
	return o, nil
}

func asDamage(err error, de **DamageError) bool { return errors.As(err, de) }
