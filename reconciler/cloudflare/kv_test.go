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

func TestKVNamespaces(t *testing.T) {
	c, _ := workersEmulator(t, emulator.Options{RateLimit: -1})
	ctx := context.Background()
	got, err := c.ListKVNamespaces(ctx)
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("empty account: %#v, %v; want an empty list", got, err)
	}
	var want []KVNamespace
	for i := 0; i < 230; i++ {
		ns, err := c.CreateKVNamespace(ctx, fmt.Sprintf("ns-%03d", i))
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
		if ns.ID == "" || ns.Title != fmt.Sprintf("ns-%03d", i) {
			t.Fatalf("create answer %+v", ns)
		}
		want = append(want, ns)
	}
	if n := countRequests(t, c, func() (err error) { got, err = c.ListKVNamespaces(ctx); return err }); n != 3 {
		t.Errorf("ListKVNamespaces of 230 sent %d requests, want 3", n)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("namespaces (-want +got):\n%s", diff)
	}

	_, err = c.CreateKVNamespace(ctx, "ns-000")
	if !IsKVTitleTaken(err) || MayHaveApplied(err) || !strings.Contains(err.Error(), `cannot create KV namespace "ns-000"`) {
		t.Errorf("duplicate title: %v, want IsKVTitleTaken naming the operation", err)
	}
}

// Exactly 200 namespaces end on a full page: total_count saves the empty third request.
func TestKVNamespacesFullLastPage(t *testing.T) {
	c, _ := workersEmulator(t, emulator.Options{RateLimit: -1})
	ctx := context.Background()
	for i := 0; i < 200; i++ {
		if _, err := c.CreateKVNamespace(ctx, fmt.Sprintf("ns-%03d", i)); err != nil {
			t.Fatal(err)
		}
	}
	var got []KVNamespace
	if n := countRequests(t, c, func() (err error) { got, err = c.ListKVNamespaces(ctx); return err }); n != 2 || len(got) != 200 {
		t.Errorf("200 namespaces: %d requests, %d namespaces; want 2 and 200", n, len(got))
	}
}

// kvEmulator is the local Cloudflare with a rate limit high enough for thousands of
// writes that states it, so the client's pacer does not hold to Cloudflare's 1,200 per
// 5 minutes (which it assumes from a server that states no limit). Its clients do not
// retry, and these tests rewrite keys at once: KV's one write per second to one key is
// lifted (the emulator's own tests check it).
func kvEmulator(t *testing.T) *Client {
	c, _ := workersEmulator(t, emulator.Options{RateLimit: 1_000_000, KeyWriteInterval: time.Nanosecond})
	return c
}

func TestKVKeys(t *testing.T) {
	c := kvEmulator(t)
	ctx := context.Background()
	ns, err := c.CreateKVNamespace(ctx, "flareops-ops")
	if err != nil {
		t.Fatal(err)
	}
	var want []KVKey
	for i := 0; i < 2100; i++ {
		key := fmt.Sprintf("state/%04d", i)
		meta := json.RawMessage(fmt.Sprintf(`{"n":%d,"kind":"state"}`, i))
		if i%2 == 1 {
			meta = nil
		}
		if err := c.PutKV(ctx, ns.ID, key, []byte("v"), meta); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
		want = append(want, KVKey{Name: key, Metadata: meta})
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

func TestKVValues(t *testing.T) {
	// The key "plain" is rewritten at once: KV's write rate is lifted (see kvEmulator).
	c, _ := workersEmulator(t, emulator.Options{RateLimit: -1, KeyWriteInterval: time.Nanosecond})
	ctx := context.Background()
	ns, err := c.CreateKVNamespace(ctx, "flareops-ops")
	if err != nil {
		t.Fatal(err)
	}
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
