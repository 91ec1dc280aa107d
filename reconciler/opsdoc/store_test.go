package opsdoc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

const title = "monotask-ops"

// policy is a document shaped like the sandbox policy.
type policy struct {
	Version string            `json:"schema"`
	Worker  string            `json:"worker"`
	CPUMs   int64             `json:"cpu_ms"`
	Limits  map[string]string `json:"limits,omitempty"`
}

func (policy) Schema() string { return "flareops.sandbox-policy/v1" }

func testPolicy(worker string) policy {
	return policy{Version: "flareops.sandbox-policy/v1", Worker: worker, CPUMs: 300000}
}

func TestObserveCost(t *testing.T) {
	tests := []struct {
		name      string
		namespace bool
		keys      int
		foreign   int // keys outside the prefix
		want      map[string]int
	}{
		{name: "no namespace", want: map[string]int{"ListKVNamespaces": 1}},
		{name: "empty namespace", namespace: true, want: map[string]int{"ListKVNamespaces": 1, "ListKVKeys": 1}},
		{name: "1,000 documents", namespace: true, keys: 1000, foreign: 5000, want: map[string]int{"ListKVNamespaces": 1, "ListKVKeys": 1}},
		{name: "1,001 documents", namespace: true, keys: 1001, want: map[string]int{"ListKVNamespaces": 1, "ListKVKeys": 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKV()
			f.addNamespace("another")
			if tt.namespace {
				id := f.addNamespace(title)
				for i := range tt.keys {
					f.put(id, Key("sandbox", fmt.Sprint(i)), []byte("{}"), nil)
				}
				for i := range tt.foreign {
					f.put(id, fmt.Sprintf("cache/%d", i), []byte("x"), nil)
				}
			}
			s := New(f, title)
			// Concurrent first calls share one listing; later calls cost nothing.
			var wg sync.WaitGroup
			errs := make([]error, 8)
			sizes := make([]int, 8)
			for i := range errs {
				wg.Go(func() {
					docs, err := s.Observe(context.Background())
					errs[i], sizes[i] = err, len(docs)
				})
			}
			wg.Wait()
			docs, err := s.Observe(context.Background())
			for _, e := range append(errs, err) {
				if e != nil {
					t.Fatalf("Observe: %v", e)
				}
			}
			for _, n := range append(sizes, len(docs)) {
				if n != tt.keys {
					t.Errorf("Observe found %d documents, want %d", n, tt.keys)
				}
			}
			if d := cmp.Diff(tt.want, f.callCounts()); d != "" {
				t.Errorf("calls (-want +got):\n%s", d)
			}
		})
	}
}

func TestObserveFailureIsNotKept(t *testing.T) {
	f := newFakeKV()
	f.addNamespace(title)
	f.listNamespaces = func(n int) error {
		if n == 1 {
			return &cloudflare.APIError{Status: http.StatusServiceUnavailable}
		}
		return nil
	}
	s := New(f, title)
	if _, err := s.Observe(context.Background()); err == nil {
		t.Fatal("first Observe succeeded, want the list's error")
	}
	if _, err := s.Observe(context.Background()); err != nil {
		t.Fatalf("second Observe: %v", err)
	}
}

// TestPutCreatesOneNamespace: however the creation goes, the account ends with exactly
// one namespace with the title.
func TestPutCreatesOneNamespace(t *testing.T) {
	listFails := func(fail ...int) func(int) error {
		return func(n int) error {
			for _, m := range fail {
				if n == m {
					return &cloudflare.APIError{Status: http.StatusServiceUnavailable}
				}
			}
			return nil
		}
	}
	tests := []struct {
		name           string
		exists         bool
		observeFirst   bool
		create         func(n int) (bool, error)
		listNamespaces func(n int) error
		puts           []bool // sequential Puts: whether each succeeds
		concurrent     int    // or this many Puts at once, all succeeding
		wantCreates    int
	}{
		{name: "exists", exists: true, puts: []bool{true, true}, wantCreates: 0},
		{name: "missing", puts: []bool{true, true}, wantCreates: 1},
		{name: "missing, found so by Observe", observeFirst: true, puts: []bool{true}, wantCreates: 1},
		{
			name: "missing, concurrent Puts", concurrent: 20, wantCreates: 1,
			create: func(int) (bool, error) { time.Sleep(10 * time.Millisecond); return true, nil },
		},
		{
			name: "lost answer, namespace made", puts: []bool{true, true}, wantCreates: 1,
			create: func(n int) (bool, error) { return true, lost },
		},
		{
			name: "lost answer, namespace made, concurrent Puts", concurrent: 20, wantCreates: 1,
			create: func(n int) (bool, error) { time.Sleep(10 * time.Millisecond); return true, lost },
		},
		{
			name: "lost answer, nothing made", puts: []bool{false, true}, wantCreates: 2,
			create: func(n int) (bool, error) { return n > 1, map[bool]error{true: lost}[n == 1] },
		},
		{
			name: "lost answer, then the list fails too", puts: []bool{false, true}, wantCreates: 1,
			create:         func(n int) (bool, error) { return true, lost },
			listNamespaces: listFails(2),
		},
		{
			name: "made by another run after Observe", observeFirst: true, puts: []bool{true}, wantCreates: 1,
			create: func(int) (bool, error) {
				return true, &cloudflare.APIError{Status: http.StatusBadRequest, Codes: []int{10014}, Messages: []string{"a namespace with this account ID and title already exists"}}
			},
		},
		{
			name: "refused", puts: []bool{false, false}, wantCreates: 2,
			create: func(int) (bool, error) {
				return false, &cloudflare.APIError{Status: http.StatusBadRequest, Codes: []int{10018}, Messages: []string{"too many namespaces"}}
			},
		},
		{
			name: "refused, concurrent Puts share the refusal", wantCreates: 1,
			create: func(int) (bool, error) {
				time.Sleep(10 * time.Millisecond)
				return false, &cloudflare.APIError{Status: http.StatusBadRequest, Codes: []int{10018}, Messages: []string{"too many namespaces"}}
			},
			concurrent: -10,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKV()
			if tt.exists {
				f.addNamespace(title)
			}
			f.create, f.listNamespaces = tt.create, tt.listNamespaces
			s := New(f, title)
			ctx := context.Background()
			if tt.observeFirst {
				if _, err := s.Observe(ctx); err != nil {
					t.Fatal(err)
				}
			}
			written := 0
			for i, ok := range tt.puts {
				err := s.Put(ctx, Key("sandbox", fmt.Sprint(i)), testPolicy("w"))
				if (err == nil) != ok {
					t.Fatalf("Put %d: error %v, want success %v", i+1, err, ok)
				}
				if ok {
					written++
				}
			}
			if n := tt.concurrent; n != 0 {
				// The create answers only once every Put has started, so they all overlap it.
				var started, wg sync.WaitGroup
				errs := make([]error, max(n, -n))
				started.Add(len(errs))
				if create := f.create; create != nil {
					f.create = func(n int) (bool, error) { started.Wait(); return create(n) }
				}
				for i := range errs {
					wg.Go(func() {
						started.Done()
						errs[i] = s.Put(ctx, Key("sandbox", fmt.Sprint(i)), testPolicy("w"))
					})
				}
				wg.Wait()
				for i, err := range errs {
					if (err == nil) != (n > 0) {
						t.Errorf("concurrent Put %d: error %v, want success %v", i+1, err, n > 0)
					}
				}
				if n > 0 {
					written = n
				}
			}
			ids := f.titled(title)
			if len(ids) > 1 || (written > 0 && len(ids) != 1) {
				t.Fatalf("namespaces titled %q: %v, want one", title, ids)
			}
			if got := f.callCounts()["CreateKVNamespace"]; got != tt.wantCreates {
				t.Errorf("%d creates, want %d", got, tt.wantCreates)
			}
			if written > 0 {
				if got := len(f.keys(ids[0])); got != written {
					t.Errorf("%d keys written, want %d", got, written)
				}
			}
		})
	}
}

// reorderedPolicy is policy with its fields declared in another order.
type reorderedPolicy struct {
	Worker  string            `json:"worker"`
	Limits  map[string]string `json:"limits,omitempty"`
	CPUMs   int64             `json:"cpu_ms"`
	Version string            `json:"schema"`
}

func (reorderedPolicy) Schema() string { return "flareops.sandbox-policy/v1" }

// mapDoc is a document written as a map.
type mapDoc map[string]any

func (mapDoc) Schema() string { return "flareops.sandbox-policy/v1" }

func TestHashStable(t *testing.T) {
	limits := func(keys ...string) map[string]string {
		m := map[string]string{}
		for _, k := range keys {
			m[k] = "v-" + k
		}
		return m
	}
	keys := []string{"idle", "exec", "mem", "vcpu", "a&b", "<x>"}
	reverse := []string{"<x>", "a&b", "vcpu", "mem", "exec", "idle"}
	// One document as a struct, as a struct with its fields in another order, and as maps
	// filled in other orders: one encoding, one hash.
	docs := map[string]Document{
		"struct":           policy{Version: "flareops.sandbox-policy/v1", Worker: "w", CPUMs: 300000, Limits: limits(keys...)},
		"reordered struct": reorderedPolicy{Worker: "w", Limits: limits(reverse...), CPUMs: 300000, Version: "flareops.sandbox-policy/v1"},
		"map":              mapDoc{"worker": "w", "schema": "flareops.sandbox-policy/v1", "cpu_ms": 300000, "limits": limits(reverse...)},
	}
	const want = `{"cpu_ms":300000,"limits":{"<x>":"v-<x>","a&b":"v-a&b","exec":"v-exec","idle":"v-idle","mem":"v-mem","vcpu":"v-vcpu"},"schema":"flareops.sandbox-policy/v1","worker":"w"}`
	var first string
	for name, doc := range docs {
		for range 20 { // map iteration order varies from one call to the next
			value, hash, err := Encode(doc)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if string(value) != want {
				t.Errorf("%s encodes as\n%s\nwant\n%s", name, value, want)
			}
			if first == "" {
				first = hash
			}
			if hash != first {
				t.Errorf("%s hashes to %s, want %s", name, hash, first)
			}
			if h, _ := Hash(doc); h != hash {
				t.Errorf("Hash(%s) = %s, Encode's hash %s", name, h, hash)
			}
		}
	}
	changed := testPolicy("w")
	changed.CPUMs++
	if h, _ := Hash(changed); h == first {
		t.Error("a changed document hashes the same")
	}
}

func TestMetadataRoundTrip(t *testing.T) {
	f := newFakeKV()
	ctx := context.Background()
	doc := testPolicy("monotask-sandbox")
	key := Key("sandbox", "agent")
	if err := New(f, title).Put(ctx, key, doc); err != nil {
		t.Fatal(err)
	}
	id := f.titled(title)[0]
	// Keys of ours without our metadata: written by hand, or by another tool.
	f.put(id, Key("sandbox", "by_hand"), []byte("{}"), nil)
	f.put(id, Key("sandbox", "garbled"), []byte("{}"), []byte(`"not an object"`))

	value, hash, err := Encode(doc)
	if err != nil {
		t.Fatal(err)
	}
	wantMeta := `{"sha256":"` + hash + `","schema":"flareops.sandbox-policy/v1"}`
	if got := string(f.values[id][key].metadata); got != wantMeta {
		t.Errorf("metadata %s, want %s", got, wantMeta)
	}
	if got := string(f.values[id][key].value); got != string(value) {
		t.Errorf("value %s, want %s", got, value)
	}

	// A later run reads it back from the key list alone.
	later := New(f, title)
	docs, err := later.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Doc{
		key:                       {Key: key, Schema: "flareops.sandbox-policy/v1", Hash: hash},
		Key("sandbox", "by_hand"): {Key: Key("sandbox", "by_hand")},
		Key("sandbox", "garbled"): {Key: Key("sandbox", "garbled")},
	}
	if d := cmp.Diff(want, docs); d != "" {
		t.Errorf("Observe (-want +got):\n%s", d)
	}
	got, found, err := later.Get(ctx, key)
	if err != nil || !found || string(got) != string(value) {
		t.Errorf("Get = %s, %v, %v; want the value", got, found, err)
	}
	if _, found, err := later.Get(ctx, Key("sandbox", "none")); err != nil || found {
		t.Errorf("Get of a missing key: found %v, error %v", found, err)
	}
}

// TestObserveSeesOwnWrites: the run's writes show in Observe at no cost, as KV lists may
// lag behind writes.
func TestObserveSeesOwnWrites(t *testing.T) {
	f := newFakeKV()
	id := f.addNamespace(title)
	f.put(id, Key("sandbox", "old"), []byte("{}"), nil)
	s := New(f, title)
	ctx := context.Background()
	if _, err := s.Observe(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, Key("sandbox", "new"), testPolicy("w")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, Key("sandbox", "old")); err != nil {
		t.Fatal(err)
	}
	reads := f.reads()
	docs, err := s.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := Hash(testPolicy("w"))
	want := map[string]Doc{Key("sandbox", "new"): {Key: Key("sandbox", "new"), Schema: "flareops.sandbox-policy/v1", Hash: hash}}
	if d := cmp.Diff(want, docs); d != "" {
		t.Errorf("Observe (-want +got):\n%s", d)
	}
	if f.reads() != reads {
		t.Errorf("the second Observe read the account (%d calls)", f.reads()-reads)
	}
}

func TestDelete(t *testing.T) {
	tests := []struct {
		name      string
		namespace bool
		key       bool
		deleteErr bool // the namespace vanishes after it was found
		want      map[string]int
	}{
		{name: "present", namespace: true, key: true, want: map[string]int{"ListKVNamespaces": 1, "DeleteKV": 1}},
		{name: "key gone", namespace: true, want: map[string]int{"ListKVNamespaces": 1, "DeleteKV": 1}},
		{name: "namespace gone", want: map[string]int{"ListKVNamespaces": 1}},
		{name: "namespace deleted meanwhile", namespace: true, deleteErr: true, want: map[string]int{"ListKVNamespaces": 1, "DeleteKV": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKV()
			key := Key("sandbox", "agent")
			if tt.namespace {
				id := f.addNamespace(title)
				if tt.key {
					f.put(id, key, []byte("{}"), nil)
				}
				if tt.deleteErr {
					f.listNamespaces = func(int) error {
						f.mu.Lock()
						defer f.mu.Unlock()
						delete(f.values, id) // the list still shows it; the delete answers 404
						return nil
					}
				}
			}
			if err := New(f, title).Delete(context.Background(), key); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if d := cmp.Diff(tt.want, f.callCounts()); d != "" {
				t.Errorf("calls (-want +got):\n%s", d)
			}
			if ids := f.titled(title); len(ids) == 1 && len(f.keys(ids[0])) != 0 {
				t.Errorf("keys left: %v", f.keys(ids[0]))
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		title string
		key   string
		doc   Document
	}{
		{name: "key outside the prefix", title: title, key: "sandbox/agent", doc: testPolicy("w")},
		{name: "the prefix alone", title: title, key: Prefix, doc: testPolicy("w")},
		{name: "key too long", title: title, key: Key(string(make([]byte, 600))), doc: testPolicy("w")},
		{name: "schema without version", title: title, key: Key("x"), doc: badSchema("flareops.sandbox-policy")},
		{name: "no document", title: title, key: Key("x")},
		{name: "no namespace title", key: Key("x"), doc: testPolicy("w")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKV()
			if err := New(f, tt.title).Put(ctx, tt.key, tt.doc); err == nil {
				t.Error("Put succeeded")
			}
			if len(f.callCounts()) != 0 {
				t.Errorf("calls made: %v", f.callCounts())
			}
		})
	}
	// Without a namespace title there is nothing to observe or delete, and no call.
	f := newFakeKV()
	s := New(f, "")
	if docs, err := s.Observe(ctx); err != nil || len(docs) != 0 {
		t.Errorf("Observe without a title = %v, %v", docs, err)
	}
	if err := s.Delete(ctx, Key("x")); err != nil {
		t.Errorf("Delete without a title: %v", err)
	}
	if len(f.callCounts()) != 0 {
		t.Errorf("calls made: %v", f.callCounts())
	}
}

type badSchema string

func (b badSchema) Schema() string { return string(b) }

func TestTwoNamespacesWithTheTitle(t *testing.T) {
	f := newFakeKV()
	f.addNamespace(title)
	f.addNamespace(title)
	_, err := New(f, title).Observe(context.Background())
	if err == nil {
		t.Fatal("Observe succeeded with two namespaces of one title")
	}
	var ae *cloudflare.APIError
	if errors.As(err, &ae) {
		t.Errorf("error %v is an API error, want the store's own", err)
	}
}
