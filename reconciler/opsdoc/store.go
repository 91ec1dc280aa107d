package opsdoc

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sync"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// Store reads and writes the documents of one ops KV namespace, found by its title. One
// Store serves one run and is shared by every kind that publishes documents, so that the
// namespace is looked up once and the keys are listed once, whatever the number of kinds
// and documents. It is safe for concurrent use.
//
// Contracts:
//   - Observe never mutates, and its first successful answer serves the whole run;
//     concurrent first calls share one listing. The store's own writes (Put, Delete) are
//     applied to what it answers, as KV lists may lag behind writes.
//   - Put creates the namespace when it is missing, once, however many Puts run at a time.
//     A create whose answer is lost is settled by listing the namespaces again, before
//     anything else is attempted: the store never makes a second namespace with its title.
//     An existing namespace with the title is used as it is.
//   - Delete is idempotent: deleting a key or a namespace that is gone is success. It never
//     creates the namespace.
//   - Failures are not kept: the next call tries again.
type Store struct {
	api   API
	title string

	mu       sync.Mutex
	nsID     string  // the namespace's id, once found or created
	nsAbsent bool    // a listing of this run found no namespace with the title
	nsFlight *flight // a lookup or create in progress
	listed   map[string]Doc
	obFlight *flight         // a listing in progress
	written  map[string]*Doc // this run's writes: key → document, nil once deleted
}

// flight is a call in progress that concurrent callers wait for and share.
type flight struct {
	done chan struct{}
	id   string
	docs map[string]Doc
	err  error
}

// New returns a store for the ops KV namespace with the given title. An empty title is
// a configuration without one: Observe finds no document and Put fails.
func New(api API, namespaceTitle string) *Store {
	return &Store{api: api, title: namespaceTitle, written: map[string]*Doc{}}
}

// Title is the title of the store's namespace.
func (s *Store) Title() string { return s.title }

// Observe returns every document of the namespace, by key. A missing namespace has none.
// The first call costs one list of namespaces and one list of keys; later calls cost nothing.
func (s *Store) Observe(ctx context.Context) (map[string]Doc, error) {
	listed, err := s.listing(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := maps.Clone(listed)
	for key, d := range s.written {
		if d == nil {
			delete(out, key)
		} else {
			out[key] = *d
		}
	}
	return out, nil
}

// listing lists the keys once per run; concurrent callers share one listing.
func (s *Store) listing(ctx context.Context) (map[string]Doc, error) {
	s.mu.Lock()
	if s.listed != nil {
		defer s.mu.Unlock()
		return s.listed, nil
	}
	if f := s.obFlight; f != nil {
		s.mu.Unlock()
		return f.wait(ctx)
	}
	f := &flight{done: make(chan struct{})}
	s.obFlight = f
	s.mu.Unlock()

	f.docs, f.err = s.list(ctx)
	s.mu.Lock()
	s.obFlight = nil
	if f.err == nil {
		s.listed = f.docs
	}
	s.mu.Unlock()
	close(f.done)
	return f.docs, f.err
}

func (s *Store) list(ctx context.Context) (map[string]Doc, error) {
	docs := map[string]Doc{}
	id, err := s.namespace(ctx, false)
	if err != nil || id == "" {
		return docs, err
	}
	keys, err := s.api.ListKVKeys(ctx, id, Prefix)
	if err != nil {
		return nil, fmt.Errorf("cannot list the documents in KV namespace %q: %w", s.title, err)
	}
	for _, k := range keys {
		if checkKey(k.Name) == nil {
			docs[k.Name] = docOf(k)
		}
	}
	return docs, nil
}

// Get returns the stored value of a document; found is false when the key or the
// namespace does not exist. Plans compare hashes, not values: Get is for showing or
// checking what a document says.
func (s *Store) Get(ctx context.Context, key string) (value []byte, found bool, err error) {
	if err := checkKey(key); err != nil {
		return nil, false, err
	}
	id, err := s.namespace(ctx, false)
	if err != nil || id == "" {
		return nil, false, err
	}
	value, err = s.api.GetKV(ctx, id, key)
	if cloudflare.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("cannot read %s from KV namespace %q: %w", key, s.title, err)
	}
	return value, true, nil
}

// Put stores doc under key (which starts with Prefix), as Encode encodes it, with its
// hash and schema in the key's metadata, creating the namespace if it is missing.
func (s *Store) Put(ctx context.Context, key string, doc Document) error {
	if err := checkKey(key); err != nil {
		return err
	}
	value, hash, err := Encode(doc)
	if err != nil {
		return err
	}
	meta, err := json.Marshal(metadata{SHA256: hash, Schema: doc.Schema()})
	if err != nil {
		return fmt.Errorf("cannot encode the metadata of %s: %w", key, err)
	}
	if len(meta) > maxMetadataBytes {
		return fmt.Errorf("metadata of %s is %d bytes, over the KV limit of %d", key, len(meta), maxMetadataBytes)
	}
	if s.title == "" {
		return fmt.Errorf("cannot write %s: no ops KV namespace is set", key)
	}
	id, err := s.namespace(ctx, true)
	if err != nil {
		return err
	}
	if err := s.api.PutKV(ctx, id, key, value, meta); err != nil {
		return fmt.Errorf("cannot write %s to KV namespace %q: %w", key, s.title, err)
	}
	s.mu.Lock()
	s.written[key] = &Doc{Key: key, Schema: doc.Schema(), Hash: hash}
	s.mu.Unlock()
	return nil
}

// Delete removes the document under key. Deleting what is gone is success.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	id, err := s.namespace(ctx, false)
	if err != nil {
		return err
	}
	if id != "" {
		if err := s.api.DeleteKV(ctx, id, key); err != nil && !cloudflare.IsNotFound(err) {
			return fmt.Errorf("cannot delete %s from KV namespace %q: %w", key, s.title, err)
		}
	}
	s.mu.Lock()
	s.written[key] = nil
	s.mu.Unlock()
	return nil
}

// namespace returns the namespace's id: "" when it does not exist and create is false.
// One lookup or create runs at a time; callers that arrive meanwhile share its outcome.
func (s *Store) namespace(ctx context.Context, create bool) (string, error) {
	if s.title == "" {
		return "", nil
	}
	for {
		s.mu.Lock()
		if s.nsID != "" || (s.nsAbsent && !create) {
			id := s.nsID
			s.mu.Unlock()
			return id, nil
		}
		if f := s.nsFlight; f != nil {
			s.mu.Unlock()
			if _, err := f.wait(ctx); err != nil {
				return "", err
			}
			if f.id != "" || !create {
				return f.id, nil
			}
			continue // a lookup found none, and this caller needs one made
		}
		f := &flight{done: make(chan struct{})}
		s.nsFlight = f
		absent := s.nsAbsent
		s.mu.Unlock()

		f.id, f.err = s.resolve(ctx, create, absent)
		s.mu.Lock()
		s.nsFlight = nil
		switch {
		case f.err != nil:
			s.nsAbsent = false // whatever happened, the next attempt lists first
		case f.id != "":
			s.nsID = f.id
		default:
			s.nsAbsent = true
		}
		s.mu.Unlock()
		close(f.done)
		return f.id, f.err
	}
}

// resolve looks the namespace up, unless this run already found it absent, and creates
// it when asked.
func (s *Store) resolve(ctx context.Context, create, absent bool) (string, error) {
	if !absent {
		id, err := s.find(ctx)
		if err != nil || id != "" || !create {
			return id, err
		}
	}
	ns, err := s.api.CreateKVNamespace(ctx, s.title)
	if err == nil && ns.ID != "" {
		return ns.ID, nil
	}
	if err == nil {
		err = fmt.Errorf("the API answered without an id")
	}
	// The answer may have been lost after the namespace was made, or another run may
	// have made it meanwhile (the API refuses a second namespace with one title): the
	// list says which. Either way a namespace with the title is the one to use.
	if id, ferr := s.find(ctx); ferr == nil && id != "" {
		return id, nil
	}
	return "", fmt.Errorf("cannot create KV namespace %q: %w", s.title, err)
}

// find returns the id of the namespace with the store's title, or "" when there is none.
func (s *Store) find(ctx context.Context) (string, error) {
	all, err := s.api.ListKVNamespaces(ctx)
	if err != nil {
		return "", fmt.Errorf("cannot list KV namespaces: %w", err)
	}
	id := ""
	for _, ns := range all {
		if ns.Title != s.title {
			continue
		}
		if id != "" {
			return "", fmt.Errorf("two KV namespaces are titled %q (%s and %s): cannot tell which one is the ops namespace; rename or delete one", s.title, id, ns.ID)
		}
		id = ns.ID
	}
	return id, nil
}

// wait waits for the flight to land, or for ctx.
func (f *flight) wait(ctx context.Context) (map[string]Doc, error) {
	select {
	case <-f.done:
		return f.docs, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
