package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cloudflare/cloudflare-go/v6/kv"
	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/shared"
	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/emulator"
)

const kvAccount = "2222222222222222222222222222222b"

var kvClock = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// kvAcct sets the AccountID field of an SDK params struct and returns it.
func kvAcct[T any](p T) T {
	f := reflect.ValueOf(&p).Elem().FieldByName("AccountID")
	f.FieldByName("Value").SetString(kvAccount)
	f.FieldByName("Present").SetBool(true)
	return p
}

// kvErr returns the HTTP status and first Cloudflare error code of an SDK error.
func kvErr(t *testing.T, err error) (int, int64) {
	t.Helper()
	var apiErr *kv.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("want a Cloudflare API error, got %v", err)
	}
	if len(apiErr.Errors) == 0 {
		t.Fatalf("API error without errors[]: %v", err)
	}
	return apiErr.StatusCode, apiErr.Errors[0].Code
}

func kvWantErr(t *testing.T, err error, status int, code int64) {
	t.Helper()
	if gotStatus, gotCode := kvErr(t, err); gotStatus != status || gotCode != code {
		t.Errorf("status %d code %d, want %d %d", gotStatus, gotCode, status, code)
	}
}

type kvFixture struct {
	srv *emulator.Server
	url string
	ns  *kv.NamespaceService
}

func newKVFixture(t *testing.T) *kvFixture {
	t.Helper()
	srv, err := emulator.New(emulator.Options{RateLimit: -1, Now: func() time.Time { return kvClock }})
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("emulator Close: %v", err)
		}
	})
	ns := kv.NewNamespaceService(option.WithBaseURL(hs.URL+"/client/v4/"), option.WithAPIToken("test-token"), option.WithMaxRetries(0))
	return &kvFixture{srv: srv, url: hs.URL, ns: ns}
}

func (f *kvFixture) create(t *testing.T, title string) string {
	t.Helper()
	p := kvAcct(kv.NamespaceNewParams{})
	setField(&p.Title, title)
	ns, err := f.ns.New(context.Background(), p)
	if err != nil {
		t.Fatalf("create namespace %q: %v", title, err)
	}
	return ns.ID
}

// kvTTL and kvExpires set the expiry query parameters of a value write.
func kvTTL(s float64) func(*kv.NamespaceValueUpdateParams) {
	return func(p *kv.NamespaceValueUpdateParams) { setField(&p.ExpirationTTL, s) }
}

func kvExpires(unix int64) func(*kv.NamespaceValueUpdateParams) {
	return func(p *kv.NamespaceValueUpdateParams) { setField(&p.Expiration, float64(unix)) }
}

// put writes a value through the SDK (multipart); metadata may be a map (sent as
// metadata.<key> fields) or a JSON string (sent as one part).
func (f *kvFixture) put(nsID, key, value string, metadata any, mods ...func(*kv.NamespaceValueUpdateParams)) error {
	p := kvAcct(kv.NamespaceValueUpdateParams{})
	setField(&p.Value, kv.NamespaceValueUpdateParamsValueUnion(shared.UnionString(value)))
	if metadata != nil {
		setField(&p.Metadata, metadata)
	}
	for _, m := range mods {
		m(&p)
	}
	_, err := f.ns.Values.Update(context.Background(), nsID, key, p)
	return err
}

func (f *kvFixture) get(t *testing.T, nsID, key string) (string, string, error) {
	t.Helper()
	res, err := f.ns.Values.Get(context.Background(), nsID, key, kvAcct(kv.NamespaceValueGetParams{}))
	if err != nil {
		return "", "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read value: %v", err)
	}
	return string(b), res.Header.Get("Expiration"), nil
}

func TestKVNamespaces(t *testing.T) {
	f := newKVFixture(t)
	ctx := context.Background()
	ids := map[string]string{}
	for _, title := range []string{"ops", "cache", "sessions", "backups", "flags", "audit"} {
		ids[title] = f.create(t, title)
	}

	p := kvAcct(kv.NamespaceListParams{})
	setField(&p.Order, kv.NamespaceListParamsOrderTitle)
	setField(&p.Direction, kv.NamespaceListParamsDirectionDesc)
	setField(&p.PerPage, 5.0)
	var titles []string
	iter := f.ns.ListAutoPaging(ctx, p)
	for iter.Next() {
		titles = append(titles, iter.Current().Title)
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("list: %v", err)
	}
	if diff := cmp.Diff([]string{"sessions", "ops", "flags", "cache", "backups", "audit"}, titles); diff != "" {
		t.Errorf("titles by title desc over two pages (-want +got):\n%s", diff)
	}

	rename := kvAcct(kv.NamespaceUpdateParams{})
	setField(&rename.Title, "ops-v2")
	if got, err := f.ns.Update(ctx, ids["ops"], rename); err != nil || got.Title != "ops-v2" {
		t.Fatalf("rename = %+v, %v", got, err)
	}
	if got, err := f.ns.Get(ctx, ids["ops"], kvAcct(kv.NamespaceGetParams{})); err != nil || got.Title != "ops-v2" || got.ID != ids["ops"] {
		t.Errorf("get after rename = %+v, %v", got, err)
	}
	if _, err := f.ns.Delete(ctx, ids["ops"], kvAcct(kv.NamespaceDeleteParams{})); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err := f.ns.Get(ctx, ids["ops"], kvAcct(kv.NamespaceGetParams{}))
	kvWantErr(t, err, http.StatusNotFound, 10013)
}

func TestKVNamespaceErrors(t *testing.T) {
	f := newKVFixture(t)
	ctx := context.Background()
	f.create(t, "ops")
	id := f.create(t, "cache")

	t.Run("duplicate title", func(t *testing.T) {
		p := kvAcct(kv.NamespaceNewParams{})
		setField(&p.Title, "ops")
		_, err := f.ns.New(ctx, p)
		kvWantErr(t, err, http.StatusBadRequest, 10014)
	})
	t.Run("rename to a taken title", func(t *testing.T) {
		p := kvAcct(kv.NamespaceUpdateParams{})
		setField(&p.Title, "ops")
		_, err := f.ns.Update(ctx, id, p)
		kvWantErr(t, err, http.StatusBadRequest, 10014)
	})
	t.Run("missing title", func(t *testing.T) {
		_, err := f.ns.New(ctx, kvAcct(kv.NamespaceNewParams{}))
		kvWantErr(t, err, http.StatusBadRequest, 10019)
	})
	t.Run("per_page 1000", func(t *testing.T) {
		p := kvAcct(kv.NamespaceListParams{})
		setField(&p.PerPage, 1000.0)
		_, err := f.ns.List(ctx, p)
		kvWantErr(t, err, http.StatusBadRequest, 10001)
	})
	t.Run("unknown namespace", func(t *testing.T) {
		_, err := f.ns.Get(ctx, "ffffffffffffffffffffffffffffffff", kvAcct(kv.NamespaceGetParams{}))
		kvWantErr(t, err, http.StatusNotFound, 10013)
	})
}

func TestKVValues(t *testing.T) {
	f := newKVFixture(t)
	ctx := context.Background()
	ns := f.create(t, "ops")

	if err := f.put(ns, "rules/v1", `{"rules":[]}`, `{"owner":"ops","version":2}`); err != nil {
		t.Fatalf("put with JSON metadata part: %v", err)
	}
	if err := f.put(ns, "policy", "allow", map[string]any{"owner": "ops", "tier": "gold"}); err != nil {
		t.Fatalf("put with metadata.<key> fields: %v", err)
	}
	raw := kvAcct(kv.NamespaceValueUpdateParams{})
	if _, err := f.ns.Values.Update(ctx, ns, "raw", raw, option.WithRequestBody("application/octet-stream", []byte("raw\x00bytes"))); err != nil {
		t.Fatalf("put raw body: %v", err)
	}
	for key, want := range map[string]string{"rules/v1": `{"rules":[]}`, "policy": "allow", "raw": "raw\x00bytes"} {
		got, exp, err := f.get(t, ns, key)
		if err != nil || got != want || exp != "" {
			t.Errorf("get %q = %q (expiration %q), %v; want %q", key, got, exp, err, want)
		}
	}
	metaOf := func(key string) any {
		m, err := f.ns.Metadata.Get(ctx, ns, key, kvAcct(kv.NamespaceMetadataGetParams{}))
		if err != nil {
			t.Fatalf("metadata %q: %v", key, err)
		}
		return *m
	}
	if diff := cmp.Diff(map[string]any{"owner": "ops", "version": 2.0}, metaOf("rules/v1")); diff != "" {
		t.Errorf("JSON metadata (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"owner": "ops", "tier": "gold"}, metaOf("policy")); diff != "" {
		t.Errorf("form-field metadata (-want +got):\n%s", diff)
	}

	if _, err := f.ns.Values.Delete(ctx, ns, "policy", kvAcct(kv.NamespaceValueDeleteParams{})); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, _, err := f.get(t, ns, "policy")
	kvWantErr(t, err, http.StatusNotFound, 10009)
	_, err = f.ns.Metadata.Get(ctx, ns, "policy", kvAcct(kv.NamespaceMetadataGetParams{}))
	kvWantErr(t, err, http.StatusNotFound, 10009)
}

func TestKVExpiration(t *testing.T) {
	f := newKVFixture(t)
	ns := f.create(t, "sessions")
	if err := f.put(ns, "short", "v", nil, kvTTL(60)); err != nil {
		t.Fatalf("put ttl 60: %v", err)
	}
	if err := f.put(ns, "long", "v", nil, kvExpires(kvClock.Unix()+3600)); err != nil {
		t.Fatalf("put expiration +1h: %v", err)
	}
	if _, exp, err := f.get(t, ns, "short"); err != nil || exp != fmt.Sprint(kvClock.Unix()+60) {
		t.Errorf("short: expiration header %q, %v; want %d", exp, err, kvClock.Unix()+60)
	}

	f.srv.Advance(61 * time.Second)
	_, _, err := f.get(t, ns, "short")
	kvWantErr(t, err, http.StatusNotFound, 10009)
	if got, _, err := f.get(t, ns, "long"); err != nil || got != "v" {
		t.Errorf("long after 61 s = %q, %v", got, err)
	}

	tests := []struct {
		name   string
		expiry func(*kv.NamespaceValueUpdateParams)
	}{
		{"expiration_ttl 30", kvTTL(30)},
		{"expiration in 59 s", kvExpires(kvClock.Unix() + 61 + 59)},
		{"expiration in the past", kvExpires(1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kvWantErr(t, f.put(ns, "k", "v", nil, tt.expiry), http.StatusBadRequest, 10001)
		})
	}
}

func TestKVValueLimits(t *testing.T) {
	f := newKVFixture(t)
	ns := f.create(t, "ops")
	kvWantErr(t, f.put(ns, strings.Repeat("k", 513), "v", nil), http.StatusRequestURITooLong, 10001)
	kvWantErr(t, f.put(ns, "big-meta", "v", fmt.Sprintf(`{"pad":%q}`, strings.Repeat("m", 1100))), http.StatusRequestEntityTooLarge, 10024)
	kvWantErr(t, f.put("ffffffffffffffffffffffffffffffff", "k", "v", nil), http.StatusNotFound, 10013)
	if err := f.put(ns, strings.Repeat("k", 512), "v", nil); err != nil {
		t.Errorf("512-byte key: %v", err)
	}
}

func TestKVKeysList(t *testing.T) {
	f := newKVFixture(t)
	ctx := context.Background()
	ns := f.create(t, "ops")
	var want []string
	for i := 0; i < 25; i++ {
		key := fmt.Sprintf("job/%02d", i)
		want = append(want, key)
		if err := f.put(ns, key, "x", nil); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	if err := f.put(ns, "other", "x", nil); err != nil {
		t.Fatalf("put other: %v", err)
	}

	p := kvAcct(kv.NamespaceKeyListParams{})
	setField(&p.Limit, 10.0)
	setField(&p.Prefix, "job/")
	first, err := f.ns.Keys.List(ctx, ns, p)
	if err != nil {
		t.Fatalf("first page: %v", err)
	}
	var info struct {
		ResultInfo struct {
			Count   int               `json:"count"`
			Cursor  string            `json:"cursor"`
			Cursors map[string]string `json:"cursors"`
		} `json:"result_info"`
	}
	if err := json.Unmarshal([]byte(first.JSON.RawJSON()), &info); err != nil {
		t.Fatalf("decode first page: %v", err)
	}
	if info.ResultInfo.Count != 10 || info.ResultInfo.Cursor == "" || info.ResultInfo.Cursors["after"] != info.ResultInfo.Cursor {
		t.Errorf("result_info = %+v; want count 10 and the same cursor in cursor and cursors.after", info.ResultInfo)
	}

	var got []string
	iter := f.ns.Keys.ListAutoPaging(ctx, ns, p)
	for iter.Next() {
		got = append(got, iter.Current().Name)
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("auto-paging: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("keys under job/ (-want +got):\n%s", diff)
	}

	bad := kvAcct(kv.NamespaceKeyListParams{})
	setField(&bad.Limit, 5.0)
	_, err = f.ns.Keys.List(ctx, ns, bad)
	kvWantErr(t, err, http.StatusBadRequest, 10001)
}

func kvBulkItem(key, value string, ttl float64, meta any) kv.NamespaceBulkUpdateParamsBody {
	var b kv.NamespaceBulkUpdateParamsBody
	setField(&b.Key, key)
	setField(&b.Value, value)
	if ttl != 0 {
		setField(&b.ExpirationTTL, ttl)
	}
	if meta != nil {
		setField(&b.Metadata, meta)
	}
	return b
}

func TestKVBulk(t *testing.T) {
	f := newKVFixture(t)
	ctx := context.Background()
	ns := f.create(t, "ops")

	both := kvBulkItem("both", "2", 120, nil)
	setField(&both.Expiration, float64(kvClock.Unix()+9999))
	b64 := kvBulkItem("bin", "aGVsbG8=", 0, nil)
	setField(&b64.Base64, true)
	up := kvAcct(kv.NamespaceBulkUpdateParams{})
	up.Body = []kv.NamespaceBulkUpdateParamsBody{kvBulkItem("doc", `{"a":1}`, 0, map[string]any{"owner": "ops"}), both, b64}
	res, err := f.ns.BulkUpdate(ctx, ns, up)
	if err != nil || res.SuccessfulKeyCount != 3 {
		t.Fatalf("bulk write = %+v, %v", res, err)
	}
	if got, exp, _ := f.get(t, ns, "both"); got != "2" || exp != fmt.Sprint(kvClock.Unix()+120) {
		t.Errorf("both: value %q expiration %q; want the TTL to win (%d)", got, exp, kvClock.Unix()+120)
	}
	if got, _, _ := f.get(t, ns, "bin"); got != "hello" {
		t.Errorf("base64 item = %q, want hello", got)
	}

	get := kvAcct(kv.NamespaceBulkGetParams{})
	setField(&get.Keys, []string{"doc", "missing"})
	setField(&get.Type, kv.NamespaceBulkGetParamsTypeJson)
	setField(&get.WithMetadata, true)
	var raw struct {
		Result struct {
			Values map[string]any `json:"values"`
		} `json:"result"`
	}
	if _, err := f.ns.BulkGet(ctx, ns, get, option.WithResponseBodyInto(&raw)); err != nil {
		t.Fatalf("bulk get: %v", err)
	}
	want := map[string]any{"doc": map[string]any{"value": map[string]any{"a": 1.0}, "metadata": map[string]any{"owner": "ops"}}, "missing": nil}
	if diff := cmp.Diff(want, raw.Result.Values); diff != "" {
		t.Errorf("bulk get values (-want +got):\n%s", diff)
	}

	del := kvAcct(kv.NamespaceBulkDeleteParams{})
	del.Body = []string{"doc", "both", "never-written"}
	if res, err := f.ns.BulkDelete(ctx, ns, del); err != nil || res.SuccessfulKeyCount != 3 {
		t.Fatalf("bulk delete = %+v, %v", res, err)
	}
	// The older form, DELETE …/bulk, has no SDK method.
	req, _ := http.NewRequest(http.MethodDelete, f.url+"/client/v4/accounts/"+kvAccount+"/storage/kv/namespaces/"+ns+"/bulk", bytes.NewBufferString(`["bin"]`))
	req.Header.Set("Authorization", "Bearer test-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE …/bulk = %v, %v", resp, err)
	}
	resp.Body.Close()
	keys, err := f.ns.Keys.List(ctx, ns, kvAcct(kv.NamespaceKeyListParams{}))
	if err != nil || len(keys.Result) != 0 {
		t.Errorf("keys after bulk deletes = %+v, %v; want none", keys, err)
	}

	t.Run("bulk get over 100 keys", func(t *testing.T) {
		p := kvAcct(kv.NamespaceBulkGetParams{})
		setField(&p.Keys, make([]string, 101))
		_, err := f.ns.BulkGet(ctx, ns, p)
		kvWantErr(t, err, http.StatusBadRequest, 10001)
	})
	t.Run("bulk write with ttl 30", func(t *testing.T) {
		p := kvAcct(kv.NamespaceBulkUpdateParams{})
		p.Body = []kv.NamespaceBulkUpdateParamsBody{kvBulkItem("a", "1", 0, nil), kvBulkItem("b", "2", 30, nil)}
		_, err := f.ns.BulkUpdate(ctx, ns, p)
		kvWantErr(t, err, http.StatusBadRequest, 10001)
		if _, _, err := f.get(t, ns, "a"); err == nil {
			t.Errorf("a rejected bulk write stored its valid items")
		}
	})
}

// TestKVPersists reopens a persistent store: namespaces, values (kept in the blob store)
// and metadata survive, and a deleted value's blob does not come back.
func TestKVPersists(t *testing.T) {
	dir := t.TempDir()
	open := func() (*kv.NamespaceService, func()) {
		srv, err := emulator.New(emulator.Options{DataDir: dir, RateLimit: -1, Now: func() time.Time { return kvClock }})
		if err != nil {
			t.Fatalf("emulator.New: %v", err)
		}
		hs := httptest.NewServer(srv)
		return kv.NewNamespaceService(option.WithBaseURL(hs.URL+"/client/v4/"), option.WithAPIToken("t"), option.WithMaxRetries(0)),
			func() { hs.Close(); srv.Close() }
	}
	ns, closeFirst := open()
	f := &kvFixture{ns: ns}
	id := f.create(t, "ops")
	if err := f.put(id, "keep", "kept", `{"v":1}`); err != nil {
		t.Fatalf("put keep: %v", err)
	}
	if err := f.put(id, "drop", "dropped", nil); err != nil {
		t.Fatalf("put drop: %v", err)
	}
	if _, err := ns.Values.Delete(context.Background(), id, "drop", kvAcct(kv.NamespaceValueDeleteParams{})); err != nil {
		t.Fatalf("delete drop: %v", err)
	}
	closeFirst()
	blobs := 0
	_ = filepath.WalkDir(filepath.Join(dir, "blobs"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			blobs++
		}
		return nil
	})
	if blobs != 1 {
		t.Errorf("%d blobs on disk, want 1 (the deleted value's blob must go)", blobs)
	}

	ns, closeSecond := open()
	defer closeSecond()
	f = &kvFixture{ns: ns}
	if got, _, err := f.get(t, id, "keep"); err != nil || got != "kept" {
		t.Errorf("after reopen: keep = %q, %v", got, err)
	}
	_, _, err := f.get(t, id, "drop")
	kvWantErr(t, err, http.StatusNotFound, 10009)
}
