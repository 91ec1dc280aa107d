package provider

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/monotask/flareops/reconciler"
)

// observeTTL bounds how long one observation serves reads. A Terraform command configures
// a fresh provider, so in practice an observation lives for one plan's refresh; the TTL
// only matters for a very long run.
const observeTTL = 30 * time.Second

// observeCache shares the engine's list-based observation among every read of a run.
//
// Terraform reads each resource on its own (ReadResource per instance, ten at a time).
// Asking the API once per read would make a plan of 1,000 queues cost 1,000 list calls;
// instead the first read of a kind lists every object of that kind (Kind.Observe: a
// handful of requests however many objects exist) and the reads that arrive meanwhile
// wait for that same observation. Every read of the kind then looks its object up by id.
//
// The provider's own writes (Create, Update, Delete) are written through to the
// observation (record, forget), so that a run lists each kind once however many objects
// it creates: an apply of N new queues costs the CLI's requests plus one list. Writes
// never rely on the observation being complete: Update and Delete read the object afresh
// (fresh), and a create of a name someone took after the observation is refused by the API
// (reconciler.CreateNew, reconciler.KeyGuard).
//
// Contract: reads (Read, import, data sources) never use an observation older than
// observeTTL; the plan-time ownership check and Create use the run's observation whatever
// its age (observeRun), since what they need it for the API checks again. Failed
// observations are not kept.
type observeCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*observation
	// manages holds, per kind, the ids that resources of this run's state hold (seen by
	// Read, by a plan with a prior state, or made by Create).
	manages map[string]map[string]bool

	// observations counts calls to Kind.Observe, for tests.
	observations atomic.Int64
}

// observation is one Kind.Observe result, indexed, with the provider's own writes since.
type observation struct {
	done     chan struct{}
	started  time.Time
	finished bool // guarded by observeCache.mu
	err      error

	mu    sync.RWMutex // guards byID and byKey once done is closed
	byID  map[string]reconciler.Object
	byKey map[string]reconciler.Object
}

// id finds the live object with the given id.
func (o *observation) id(id string) (reconciler.Object, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	obj, ok := o.byID[id]
	return obj, ok
}

// key finds the live object with the given key (name).
func (o *observation) key(key string) (reconciler.Object, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	obj, ok := o.byKey[key]
	return obj, ok
}

// put records an object the provider wrote, replacing what was seen under its id (and its
// old key, after a rename).
func (o *observation) put(obj reconciler.Object) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if old, ok := o.byID[obj.ID]; ok && o.byKey[old.Key].ID == obj.ID {
		delete(o.byKey, old.Key)
	}
	o.byID[obj.ID] = obj
	o.byKey[obj.Key] = obj
}

// remove forgets an object the provider deleted.
func (o *observation) remove(id string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if old, ok := o.byID[id]; ok {
		if o.byKey[old.Key].ID == id {
			delete(o.byKey, old.Key)
		}
		delete(o.byID, id)
	}
}

func newObserveCache(ttl time.Duration) *observeCache {
	return &observeCache{ttl: ttl, now: time.Now, entries: map[string]*observation{}, manages: map[string]map[string]bool{}}
}

// observe returns the current observation of k, listing the account only if there is
// none, or it is older than the TTL.
func (c *observeCache) observe(ctx context.Context, k reconciler.Kind) (*observation, error) {
	return c.get(ctx, k, c.ttl)
}

// observeRun returns the run's observation of k whatever its age, listing the account
// only if there is none. The ownership check of a plan and Create use it: the API refuses
// what the observation cannot know (see reconciler.CreateNew).
func (c *observeCache) observeRun(ctx context.Context, k reconciler.Kind) (*observation, error) {
	return c.get(ctx, k, 0)
}

// get returns the current observation of k, observing again when it is older than ttl
// (0: whatever its age).
func (c *observeCache) get(ctx context.Context, k reconciler.Kind, ttl time.Duration) (*observation, error) {
	for {
		c.mu.Lock()
		o := c.entries[k.Name()]
		if o == nil || (ttl > 0 && o.finished && c.now().Sub(o.started) > ttl) {
			o = &observation{done: make(chan struct{}), started: c.now()}
			c.entries[k.Name()] = o
			c.mu.Unlock()
			c.fill(ctx, k, o)
		} else {
			c.mu.Unlock()
		}
		select {
		case <-o.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		// An observation cancelled with the context of the read that started it is no
		// answer for a read whose context is still live: observe again.
		if o.err != nil && ctx.Err() == nil && (errors.Is(o.err, context.Canceled) || errors.Is(o.err, context.DeadlineExceeded)) {
			continue
		}
		if o.err != nil {
			return nil, o.err
		}
		return o, nil
	}
}

func (c *observeCache) fill(ctx context.Context, k reconciler.Kind, o *observation) {
	c.observations.Add(1)
	objs, err := k.Observe(ctx)
	o.byID, o.byKey = map[string]reconciler.Object{}, map[string]reconciler.Object{}
	for _, obj := range objs {
		o.byID[obj.ID] = obj
		o.byKey[obj.Key] = obj
	}
	c.mu.Lock()
	o.err, o.finished = err, true
	if err != nil && c.entries[k.Name()] == o {
		delete(c.entries, k.Name())
	}
	c.mu.Unlock()
	close(o.done)
}

// byID finds the live object with the given id in the shared observation.
func (c *observeCache) byID(ctx context.Context, k reconciler.Kind, id string) (reconciler.Object, bool, error) {
	o, err := c.observe(ctx, k)
	if err != nil {
		return reconciler.Object{}, false, err
	}
	obj, ok := o.id(id)
	return obj, ok, nil
}

// byKey finds the live object with the given key (name) in the shared observation.
func (c *observeCache) byKey(ctx context.Context, k reconciler.Kind, key string) (reconciler.Object, bool, error) {
	o, err := c.observe(ctx, k)
	if err != nil {
		return reconciler.Object{}, false, err
	}
	obj, ok := o.key(key)
	return obj, ok, nil
}

// invalidate drops the observation of a kind; the next read lists again. Reads already
// waiting for an observation in flight still get it: what they look up is their own
// object, which the write did not touch.
func (c *observeCache) invalidate(kind string) {
	c.mu.Lock()
	delete(c.entries, kind)
	c.mu.Unlock()
}

// written writes the provider's own write through to the observation of kind: the object
// as written (obj, with its id), or, with obj.ID empty, the deletion of id. Only a
// finished observation is written to; one still in flight may or may not see the write,
// so it is dropped, and the next call lists again.
func (c *observeCache) written(kind, id string, obj reconciler.Object) {
	c.mu.Lock()
	o := c.entries[kind]
	if o != nil && (!o.finished || o.err != nil) {
		delete(c.entries, kind)
		o = nil
	}
	c.mu.Unlock()
	switch {
	case o == nil:
	case obj.ID == "":
		o.remove(id)
	default:
		o.put(obj)
	}
}

// fresh observes k now, bypassing the cache, for the writes (Update, Delete) that must
// start from the live object as it is, not as it was at the start of the run.
func fresh(ctx context.Context, k reconciler.Kind, id string) (reconciler.Object, bool, error) {
	objs, err := k.Observe(ctx)
	if err != nil {
		return reconciler.Object{}, false, err
	}
	for _, o := range objs {
		if o.ID == id {
			return o, true, nil
		}
	}
	return reconciler.Object{}, false, nil
}

// observeScoped observes, for one resource, a kind that lives inside objects flareops does
// not own (reconciler.ScopedObserver: a dataset is bindings in Workers). The scope names
// only the resource's own object; what is shared between resources is the Worker reads,
// which the kind's workerset caches for the run and forgets on every write.
func observeScoped(ctx context.Context, k reconciler.ScopedObserver, scope reconciler.Scope) (*observation, error) {
	objs, err := k.ObserveScoped(ctx, scope)
	if err != nil {
		return nil, err
	}
	o := &observation{done: make(chan struct{}), finished: true, byID: map[string]reconciler.Object{}, byKey: map[string]reconciler.Object{}}
	for _, obj := range objs {
		o.byID[obj.ID] = obj
		o.byKey[obj.Key] = obj
	}
	close(o.done)
	return o, nil
}

// manage notes that a resource of this run's state holds the object id of kind.
func (c *observeCache) manage(kind, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.manages[kind] == nil {
		c.manages[kind] = map[string]bool{}
	}
	c.manages[kind][id] = true
}

// managed reports whether a resource of this run's state holds the object id of kind.
func (c *observeCache) managed(kind, id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.manages[kind][id]
}
