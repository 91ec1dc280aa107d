package backup

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

const testAccount = "0123456789abcdef0123456789abcdef"

// fixture is a local Cloudflare served over HTTP, with the API and R2 clients the backup
// commands use.
type fixture struct {
	t    testing.TB
	srv  *emulator.Server
	url  string
	api  *cloudflare.Client
	r2   *cloudflare.R2
	env  *Env
	wrap func(http.Handler) http.Handler
}

func newFixture(t testing.TB, wrap func(http.Handler) http.Handler) *fixture {
	t.Helper()
	srv, err := emulator.New(emulator.Options{RateLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = srv
	if wrap != nil {
		h = wrap(srv)
	}
	hs := httptest.NewServer(h)
	srv.SetBaseURL(hs.URL)
	t.Cleanup(func() {
		hs.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("emulator Close: %v", err)
		}
	})
	f := &fixture{t: t, srv: srv, url: hs.URL}
	f.connect()
	f.env.Now = srv.Now
	return f
}

// connect builds the API and R2 clients for f.url and creates the destination bucket.
func (f *fixture) connect() {
	t := f.t
	api, err := cloudflare.New(cloudflare.Config{BaseURL: f.url + emulator.APIPrefix, Token: "t", AccountID: testAccount, MaxRetries: 2})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := cloudflare.NewR2(cloudflare.R2Config{Endpoint: f.url, AccessKeyID: "k", SecretAccessKey: "s", MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	f.api, f.r2 = api, r2
	f.env = &Env{API: api, R2: r2, Version: "test"}
	if err := r2.CreateBucket(t.Context(), "backups"); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) job(kind SourceKind, name string, recipients ...string) Job {
	return Job{
		Name: name, Source: Source{Kind: kind, Name: name}, Schedule: "0 2 * * *",
		Bucket: "backups", Prefix: string(kind) + "/" + name, Recipients: recipients,
		Retention: Retention{Daily: 30 * 24 * time.Hour, Weekly: 90 * 24 * time.Hour, Monthly: 365 * 24 * time.Hour},
		RPO:       24 * time.Hour, RTO: time.Hour,
	}
}

func newIdentity(t testing.TB) (secret, recipient string) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id.String(), id.Recipient().String()
}

// seedD1 creates a database with tables of the given row counts (several columns, text
// with quotes, semicolons and newlines, NULLs, blobs, reals), an index and a view.
func (f *fixture) seedD1(name string, rows map[string]int) cloudflare.D1Database {
	f.t.Helper()
	ctx := f.t.Context()
	db, err := f.api.CreateD1Database(ctx, name)
	if err != nil {
		f.t.Fatal(err)
	}
	var sql bytes.Buffer
	tables := make([]string, 0, len(rows))
	for tb := range rows {
		tables = append(tables, tb)
	}
	sort.Strings(tables)
	for _, tb := range tables {
		fmt.Fprintf(&sql, "CREATE TABLE %q (id INTEGER PRIMARY KEY, title TEXT NOT NULL, note TEXT, score REAL, data BLOB);\n", tb)
		for i := 1; i <= rows[tb]; i++ {
			note := "NULL"
			if i%3 == 0 {
				note = fmt.Sprintf("'it''s; row %d\nsecond line'", i)
			}
			fmt.Fprintf(&sql, "INSERT INTO %q VALUES(%d,'%s %d',%s,%d.5,X'%02x%02x');\n", tb, i, tb, i, note, i, i%256, (i/256)%256)
		}
		fmt.Fprintf(&sql, "CREATE INDEX %q ON %q(title);\n", tb+"_title", tb)
	}
	if len(tables) > 0 {
		fmt.Fprintf(&sql, "CREATE VIEW \"first_rows\" AS SELECT id, title FROM %q WHERE id < 10;\n", tables[0])
	}
	f.importSQL(db.UUID, sql.Bytes())
	return db
}

func (f *fixture) importSQL(id string, sql []byte) {
	f.t.Helper()
	sum := md5.Sum(sql)
	if _, err := f.api.ImportD1(f.t.Context(), id, hex.EncodeToString(sum[:]), int64(len(sql)), bytes.NewReader(sql)); err != nil {
		f.t.Fatalf("seed D1: %v", err)
	}
}

// exportD1 is the database's whole export, for exact comparisons.
func (f *fixture) exportD1(id string) string {
	f.t.Helper()
	body, err := f.api.ExportD1(f.t.Context(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}

func (f *fixture) seedKV(title string, n int) cloudflare.KVNamespace {
	f.t.Helper()
	ctx := f.t.Context()
	ns, err := f.api.CreateKVNamespace(ctx, title)
	if err != nil {
		f.t.Fatal(err)
	}
	now := f.srv.Now().Unix()
	var batch []cloudflare.KVEntry
	for i := range n {
		e := cloudflare.KVEntry{Key: fmt.Sprintf("user:%05d", i), Value: []byte(fmt.Sprintf(`{"n":%d,"s":"v\u00e9 %d"}`, i, i))}
		if i%2 == 0 {
			e.Metadata = json.RawMessage(fmt.Sprintf(`{"owner":"team-%d","tags":["a","b"]}`, i%7))
		}
		if i%3 == 0 {
			e.Expiration = now + 86400*int64(1+i%30)
		}
		if i%100 == 0 {
			e.Value = []byte{0xff, 0x00, byte(i), 0xfe} // not UTF-8: read back as bytes
		}
		batch = append(batch, e)
	}
	if err := f.api.BulkPutKV(ctx, ns.ID, batch); err != nil {
		f.t.Fatal(err)
	}
	return ns
}

// kvSnapshot is every key with value, metadata and expiration.
func (f *fixture) kvSnapshot(nsID string) map[string]string {
	f.t.Helper()
	var buf bytes.Buffer
	if _, err := f.env.dumpKV(f.t.Context(), nsID, &buf); err != nil {
		f.t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var r kvRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			f.t.Fatal(err)
		}
		out[r.Key] = line
	}
	return out
}

func (f *fixture) seedR2(bucket string, n int) {
	f.t.Helper()
	ctx := f.t.Context()
	if err := f.r2.CreateBucket(ctx, bucket); err != nil {
		f.t.Fatal(err)
	}
	for i := range n {
		key := fmt.Sprintf("img/%04d.bin", i)
		if i%5 == 0 {
			key = fmt.Sprintf("docs/%04d.txt", i)
		}
		body := bytes.Repeat([]byte(fmt.Sprintf("object %d;", i)), 1+i%50)
		if _, err := f.r2.Put(ctx, bucket, key, body, cloudflare.PutOptions{ContentType: "application/x-test", Metadata: map[string]string{"seq": fmt.Sprint(i)}}); err != nil {
			f.t.Fatal(err)
		}
	}
}

// r2Snapshot is every object's body, content type and metadata.
func (f *fixture) r2Snapshot(bucket string) map[string]string {
	f.t.Helper()
	ctx := f.t.Context()
	out := map[string]string{}
	err := f.r2.List(ctx, bucket, "", func(o cloudflare.R2Object) error {
		body, obj, ctype, err := f.r2.Open(ctx, bucket, o.Key)
		if err != nil {
			return err
		}
		defer body.Close()
		b, err := io.ReadAll(body)
		if err != nil {
			return err
		}
		out[o.Key] = fmt.Sprintf("%s|%v|%x", ctype, obj.Metadata, b)
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

// partKeys lists a backup's stored objects.
func partKeys(b *Backup) []string {
	var out []string
	for _, p := range b.Manifest.Parts {
		out = append(out, b.Folder+p.Name)
	}
	return out
}

// plaintextOf decrypts and decompresses a backup with the age library alone, as
// `cat part-* | age -d | gunzip` would.
func (f *fixture) plaintextOf(b *Backup, secret string) []byte {
	f.t.Helper()
	var stored bytes.Buffer
	for _, k := range partKeys(b) {
		raw, _, err := f.r2.GetBytes(context.Background(), b.Bucket, k, 1<<30)
		if err != nil {
			f.t.Fatal(err)
		}
		stored.Write(raw)
	}
	var r io.Reader = &stored
	if secret != "" {
		id, err := age.ParseX25519Identity(secret)
		if err != nil {
			f.t.Fatal(err)
		}
		if r, err = age.Decrypt(r, id); err != nil {
			f.t.Fatal(err)
		}
	}
	gz, err := gzip.NewReader(r)
	if err != nil {
		f.t.Fatal(err)
	}
	out, err := io.ReadAll(gz)
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}
