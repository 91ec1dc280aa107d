package opsdoc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// fakeKV is an in-memory ops KV account that counts API calls as Cloudflare would bill
// them: a key list costs one call per 1,000 keys (the client pages; the store sees one
// call). Unlike Cloudflare it accepts a second namespace with a title already in use, so
// that a test can see the store never makes one.
type fakeKV struct {
	mu     sync.Mutex
	ns     []cloudflare.KVNamespace
	values map[string]map[string]fakeEntry // namespace id → key → entry
	calls  map[string]int
	nextID int

	// Optional hooks, called without the lock with the 1-based number of the call.
	// create says whether the namespace is made and what is answered.
	create func(n int) (made bool, err error)
	// listNamespaces fails the nth namespace list when it returns an error.
	listNamespaces func(n int) error
}

type fakeEntry struct {
	value    []byte
	metadata json.RawMessage
}

func newFakeKV() *fakeKV {
	return &fakeKV{values: map[string]map[string]fakeEntry{}, calls: map[string]int{}}
}

func (f *fakeKV) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	return f.calls[op]
}

// addNamespace makes a namespace as another client would, and returns its id.
func (f *fakeKV) addNamespace(title string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	id := fmt.Sprintf("%032x", f.nextID)
	f.ns = append(f.ns, cloudflare.KVNamespace{ID: id, Title: title})
	f.values[id] = map[string]fakeEntry{}
	return id
}

func (f *fakeKV) titled(title string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for _, ns := range f.ns {
		if ns.Title == title {
			ids = append(ids, ns.ID)
		}
	}
	return ids
}

func (f *fakeKV) put(nsID, key string, value []byte, metadata json.RawMessage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.values[nsID][key] = fakeEntry{value: value, metadata: metadata}
}

func (f *fakeKV) keys(nsID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.values[nsID] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var errNotFound = &cloudflare.APIError{Status: http.StatusNotFound, Codes: []int{10013}, Messages: []string{"namespace not found"}}

func (f *fakeKV) ListKVNamespaces(context.Context) ([]cloudflare.KVNamespace, error) {
	n := f.count("ListKVNamespaces")
	if f.listNamespaces != nil {
		if err := f.listNamespaces(n); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]cloudflare.KVNamespace(nil), f.ns...), nil
}

func (f *fakeKV) CreateKVNamespace(_ context.Context, title string) (cloudflare.KVNamespace, error) {
	n := f.count("CreateKVNamespace")
	made, err := true, error(nil)
	if f.create != nil {
		made, err = f.create(n)
	}
	var ns cloudflare.KVNamespace
	if made {
		ns = cloudflare.KVNamespace{ID: f.addNamespace(title), Title: title}
	}
	if err != nil {
		return cloudflare.KVNamespace{}, err
	}
	return ns, nil
}

func (f *fakeKV) ListKVKeys(_ context.Context, nsID, prefix string) ([]cloudflare.KVKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	vals, ok := f.values[nsID]
	if !ok {
		f.calls["ListKVKeys"]++
		return nil, errNotFound
	}
	var out []cloudflare.KVKey
	for k, e := range vals {
		if strings.HasPrefix(k, prefix) {
			out = append(out, cloudflare.KVKey{Name: k, Metadata: e.metadata})
		}
	}
	f.calls["ListKVKeys"] += max(1, (len(out)+999)/1000)
	return out, nil
}

func (f *fakeKV) GetKV(_ context.Context, nsID, key string) ([]byte, error) {
	f.count("GetKV")
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.values[nsID][key]
	if !ok {
		return nil, &cloudflare.APIError{Status: http.StatusNotFound, Codes: []int{10009}, Messages: []string{"key not found"}}
	}
	return e.value, nil
}

func (f *fakeKV) PutKV(_ context.Context, nsID, key string, value []byte, metadata json.RawMessage) error {
	f.count("PutKV")
	f.mu.Lock()
	defer f.mu.Unlock()
	vals, ok := f.values[nsID]
	if !ok {
		return errNotFound
	}
	vals[key] = fakeEntry{value: value, metadata: metadata}
	return nil
}

func (f *fakeKV) DeleteKV(_ context.Context, nsID, key string) error {
	f.count("DeleteKV")
	f.mu.Lock()
	defer f.mu.Unlock()
	vals, ok := f.values[nsID]
	if !ok {
		return errNotFound
	}
	delete(vals, key) // KV answers success for a key that does not exist
	return nil
}

// lost is a create whose answer never arrived.
var lost = &cloudflare.AmbiguousError{Op: `create KV namespace "ops"`, Err: errors.New("connection reset")}

// reads counts the calls of a run that only read.
func (f *fakeKV) reads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls["ListKVNamespaces"] + f.calls["ListKVKeys"] + f.calls["GetKV"]
}

func (f *fakeKV) callCounts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.calls {
		if v > 0 {
			out[k] = v
		}
	}
	return out
}
