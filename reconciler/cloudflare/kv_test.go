package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/emulator"
)

// pagesFor is how many requests a list of total objects takes, size a page, for a
// client that stops at a short page or when total_count says it has them all.
func pagesFor(total, size int) int64 {
	if total == 0 {
		return 1
	}
	return int64((total + size - 1) / size)
}

// TestConformanceKVNamespaces: namespaces are listed a page at a time (230 on the
// emulator, pages of 100; live, 12 of the test's own in pages of 5 among the account's),
// every one the test made is listed as created, and a title in use is refused.
func TestConformanceKVNamespaces(t *testing.T) {
	a := newConformanceAccountConfig(t, emulator.Options{RateLimit: -1}, Config{MaxRetries: -1})
	c := a.c
	ctx := context.Background()
	n := 230
	if a.live() {
		n = 12
		a.smallerPages(t, &kvNamespacePageSize, 5)
	}
	got, err := c.ListKVNamespaces(ctx)
	if err != nil || got == nil || (!a.live() && len(got) != 0) {
		t.Fatalf("empty account: %#v, %v; want an empty list", got, err)
	}
	before := len(got)
	var want []KVNamespace
	for i := 0; i < n; i++ {
		title := a.name(fmt.Sprintf("ns-%03d", i))
		ns, err := c.CreateKVNamespace(ctx, title)
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
		a.removeKVNamespace(t, ns.ID)
		if ns.ID == "" || ns.Title != title {
			t.Fatalf("create answer %+v", ns)
		}
		want = append(want, ns)
	}
	if k := countRequests(t, c, func() (err error) { got, err = c.ListKVNamespaces(ctx); return err }); k != pagesFor(before+n, kvNamespacePageSize) {
		t.Errorf("ListKVNamespaces of %d sent %d requests, want %d", before+n, k, pagesFor(before+n, kvNamespacePageSize))
	}
	if len(got) != before+n {
		t.Errorf("%d namespaces listed, want %d", len(got), before+n)
	}
	if diff := cmp.Diff(want, mine(a, got, func(ns KVNamespace) bool { return a.ours(ns.Title) })); diff != "" {
		t.Errorf("namespaces (-want +got):\n%s", diff)
	}

	taken := a.name("ns-000")
	_, err = c.CreateKVNamespace(ctx, taken)
	if !IsKVTitleTaken(err) || MayHaveApplied(err) || !strings.Contains(err.Error(), fmt.Sprintf("cannot create KV namespace %q", taken)) {
		t.Errorf("duplicate title: %v, want IsKVTitleTaken naming the operation", err)
	}
}

// TestConformanceKVNamespacesFullLastPage: namespaces that end on a full page (200 on
// the emulator; live, as many as fill the account's last page of 5 and one more): the
// total_count saves the empty request after it.
func TestConformanceKVNamespacesFullLastPage(t *testing.T) {
	a := newConformanceAccountConfig(t, emulator.Options{RateLimit: -1}, Config{MaxRetries: -1})
	c := a.c
	ctx := context.Background()
	a.smallerPages(t, &kvNamespacePageSize, 5)
	all, err := c.ListKVNamespaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	size := kvNamespacePageSize
	n := 2*size - len(all)%size // the emulator's account is empty: 200
	for i := 0; i < n; i++ {
		ns, err := c.CreateKVNamespace(ctx, a.name(fmt.Sprintf("ns-%03d", i)))
		if err != nil {
			t.Fatal(err)
		}
		a.removeKVNamespace(t, ns.ID)
	}
	total := len(all) + n
	var got []KVNamespace
	if k := countRequests(t, c, func() (err error) { got, err = c.ListKVNamespaces(ctx); return err }); k != int64(total/size) || len(got) != total {
		t.Errorf("%d namespaces: %d requests, %d namespaces; want %d and %d", total, k, len(got), total/size, total)
	}
}

// kvConformance is where the KV key tests run: on the emulator, with a rate limit high
// enough for thousands of writes that states it, so the client's pacer does not hold to
// Cloudflare's 1,200 per 5 minutes (which it assumes from a server that states no
// limit). Its clients do not retry, and these tests rewrite keys at once: KV's one write
// per second to one key is lifted (the emulator's own tests check it). Live, the client
// retries Cloudflare's 429s.
func kvConformance(t *testing.T) *conformanceAccount {
	return newConformanceAccountConfig(t, emulator.Options{RateLimit: 1_000_000, KeyWriteInterval: time.Nanosecond}, Config{MaxRetries: -1})
}

// TestConformanceKVKeys: 2,100 keys with and without metadata are listed by prefix,
// 1,000 per request, exactly as written.
func TestConformanceKVKeys(t *testing.T) {
	a := kvConformance(t)
	c := a.c
	ctx := context.Background()
	ns := a.kvNamespace(t, "flareops-ops")
	var want []KVKey
	var entries []KVEntry
	for i := 0; i < 2100; i++ {
		key := fmt.Sprintf("state/%04d", i)
		meta := json.RawMessage(fmt.Sprintf(`{"n":%d,"kind":"state"}`, i))
		if i%2 == 1 {
			meta = nil
		}
		if a.live() { // 2,100 writes one by one would take 2,100 of the account's 1,200 per 5 minutes
			entries = append(entries, KVEntry{Key: key, Value: []byte("v"), Metadata: meta})
		} else if err := c.PutKV(ctx, ns.ID, key, []byte("v"), meta); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
		want = append(want, KVKey{Name: key, Metadata: meta})
	}
	if len(entries) > 0 {
		if err := c.BulkPutKV(ctx, ns.ID, entries); err != nil {
			t.Fatalf("bulk put: %v", err)
		}
	}
	if err := c.PutKV(ctx, ns.ID, "lock", []byte("held"), nil); err != nil {
		t.Fatal(err)
	}

	var got []KVKey
	if n := countRequests(t, c, func() (err error) { got, err = c.ListKVKeys(ctx, ns.ID, "state/"); return err }); n != 3 {
		t.Errorf("ListKVKeys of 2100 keys sent %d requests, want 3 (one per 1,000)", n)
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(jsonEqual)); diff != "" {
		t.Errorf("keys under state/ (-want +got):\n%s", diff)
	}
	all, err := c.ListKVKeys(ctx, ns.ID, "")
	if err != nil || len(all) != 2101 {
		t.Errorf("all keys: %d, %v; want 2101", len(all), err)
	}
	none, err := c.ListKVKeys(ctx, ns.ID, "nothing/")
	if err != nil || none == nil || len(none) != 0 {
		t.Errorf("no keys: %#v, %v; want an empty list", none, err)
	}
}

// jsonEqual compares JSON texts by value (nil equals nil only).
func jsonEqual(a, b json.RawMessage) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && cmp.Equal(x, y)
}

// TestConformanceKVValues: values are bytes and keys any text, each read and write one
// request; a write replaces the metadata; deletes are idempotent; not-found errors.
func TestConformanceKVValues(t *testing.T) {
	// The key "plain" is rewritten at once: KV's write rate is lifted (see kvConformance).
	a := newConformanceAccountConfig(t, emulator.Options{RateLimit: -1, KeyWriteInterval: time.Nanosecond}, Config{MaxRetries: -1})
	c := a.c
	ctx := context.Background()
	ns := a.kvNamespace(t, "flareops-ops")
	binary := []byte{0, 1, 2, 0xff, 0xfe, '\n', '"'}
	meta := json.RawMessage(`{"sha256":"abc","nested":{"a":[1,2]}}`)
	keys := []string{"plain", "a/b/c", "with space", "q?x=1&y", "percent%41", "hash#frag", "ünïcode"}
	for _, key := range keys {
		var n int64
		n = countRequests(t, c, func() error { return c.PutKV(ctx, ns.ID, key, binary, meta) })
		if n != 1 {
			t.Errorf("PutKV %q sent %d requests, want 1", key, n)
		}
		var got []byte
		n = countRequests(t, c, func() (err error) { got, err = c.GetKV(ctx, ns.ID, key); return err })
		if n != 1 || !cmp.Equal(binary, got) {
			t.Errorf("GetKV %q = %v in %d requests, want %v in 1", key, got, n, binary)
		}
	}
	listed, err := c.ListKVKeys(ctx, ns.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range listed {
		names = append(names, k.Name)
		if !jsonEqual(meta, k.Metadata) {
			t.Errorf("%q: metadata %s, want %s", k.Name, k.Metadata, meta)
		}
	}
	if diff := cmp.Diff([]string{"a/b/c", "hash#frag", "percent%41", "plain", "q?x=1&y", "with space", "ünïcode"}, names); diff != "" {
		t.Errorf("key names stored (-want +got):\n%s", diff)
	}

	// A write replaces the metadata too.
	if err := c.PutKV(ctx, ns.ID, "plain", []byte("v2"), nil); err != nil {
		t.Fatal(err)
	}
	if listed, _ := c.ListKVKeys(ctx, ns.ID, "plain"); len(listed) != 1 || listed[0].Metadata != nil {
		t.Errorf("after a write without metadata: %+v, want no metadata", listed)
	}
	if err := c.PutKV(ctx, ns.ID, "plain", nil, json.RawMessage(`{"a":`)); err == nil {
		t.Errorf("PutKV with metadata that is not JSON succeeded")
	}

	if err := c.DeleteKV(ctx, ns.ID, "a/b/c"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteKV(ctx, ns.ID, "a/b/c"); err != nil {
		t.Errorf("deleting a missing key: %v, want nil", err)
	}
	_, err = c.GetKV(ctx, ns.ID, "a/b/c")
	if !IsNotFound(err) || !strings.Contains(err.Error(), `cannot read key "a/b/c" of KV namespace`) {
		t.Errorf("GetKV of a deleted key: %v, want IsNotFound naming the key", err)
	}
	if _, err := c.ListKVKeys(ctx, "0123456789abcdef0123456789abcdef", ""); !IsNotFound(err) {
		t.Errorf("keys of a missing namespace: %v, want IsNotFound", err)
	}
}

// TestConformanceKVBulk: what backups and restores use. A bulk write keeps bytes (base64),
// metadata and expiration; pages list them; a bulk read gives the values back (one that
// is not UTF-8 read on its own) and leaves out keys that are missing; a bulk delete
// removes them, missing keys included; a namespace is found by title and its delete is
// idempotent.
func TestConformanceKVBulk(t *testing.T) {
	a := kvConformance(t)
	c := a.c
	ctx := context.Background()
	ns := a.kvNamespace(t, "bulk")
	expires := time.Now().Add(24 * time.Hour).Unix()
	entries := []KVEntry{
		{Key: "text", Value: []byte("hello")},
		{Key: "bytes", Value: []byte{0, 0xff, 0xfe, 'x'}, Metadata: json.RawMessage(`{"kind":"blob"}`)},
		{Key: "expiring", Value: []byte("soon"), Expiration: expires},
	}
	for i := 0; i < 150; i++ {
		entries = append(entries, KVEntry{Key: fmt.Sprintf("many/%03d", i), Value: []byte(fmt.Sprint(i))})
	}
	if n := countRequests(t, c, func() error { return c.BulkPutKV(ctx, ns.ID, entries) }); n != 1 {
		t.Errorf("BulkPutKV of %d sent %d requests, want 1", len(entries), n)
	}

	listed := map[string]KVKey{}
	if err := c.EachKVKeyPage(ctx, ns.ID, func(keys []KVKey) error {
		for _, k := range keys {
			listed[k.Name] = k
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(listed) != len(entries) {
		t.Errorf("%d keys listed, want %d", len(listed), len(entries))
	}
	if k := listed["bytes"]; !jsonEqual(k.Metadata, json.RawMessage(`{"kind":"blob"}`)) {
		t.Errorf("bytes: metadata %s, want {\"kind\":\"blob\"}", k.Metadata)
	}
	if k := listed["expiring"]; k.Expiration != expires {
		t.Errorf("expiring: expiration %d, want %d", k.Expiration, expires)
	}

	got, err := c.BulkGetKV(ctx, ns.ID, []string{"text", "bytes", "expiring", "missing"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{"text": []byte("hello"), "bytes": {0, 0xff, 0xfe, 'x'}, "expiring": []byte("soon")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("bulk read (-want +got):\n%s", diff)
	}
	if _, err := c.BulkGetKV(ctx, ns.ID, make([]string, KVBulkGetMax+1)); err == nil {
		t.Errorf("a bulk read of %d keys was sent", KVBulkGetMax+1)
	}

	if err := c.BulkDeleteKV(ctx, ns.ID, []string{"text", "bytes", "never-was"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetKV(ctx, ns.ID, "text"); !IsNotFound(err) {
		t.Errorf("read after the bulk delete: %v, want IsNotFound", err)
	}

	found, err := c.FindKVNamespace(ctx, ns.Title)
	if err != nil || found != ns {
		t.Errorf("FindKVNamespace(%s) = %+v, %v; want %+v", ns.Title, found, err, ns)
	}
	if err := c.DeleteKVNamespace(ctx, ns.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteKVNamespace(ctx, ns.ID); err != nil {
		t.Errorf("deleting a deleted namespace: %v, want nil", err)
	}
	if _, err := c.FindKVNamespace(ctx, ns.Title); !IsNotFound(err) {
		t.Errorf("FindKVNamespace after the delete: %v, want IsNotFound", err)
	}
}
