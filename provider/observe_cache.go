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
// Contract: an observation is never older than the provider's last write of its kind
// (Create, Update and Delete invalidate it) nor than observeTTL. Failed observations are
// not kept.
type observeCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*observation

	// observations counts calls to Kind.Observe, for tests.
	observations atomic.Int64
}

// observation is one Kind.Observe result, indexed.
type observation struct {
	done     chan struct{}
	started  time.Time
	finished bool // guarded by observeCache.mu
	byID     map[string]reconciler.Object
	byKey    map[string]reconciler.Object
	err      error
}

func newObserveCache(ttl time.Duration) *observeCache {
	return &observeCache{ttl: ttl, now: time.Now, entries: map[string]*observation{}}
}

// observe returns the current observation of k, listing the account only if there is
// none, or it is older than the TTL.
func (c *observeCache) observe(ctx context.Context, k reconciler.Kind) (*observation, error) {
	for {
		c.mu.Lock()
		o := c.entries[k.Name()]
		if o == nil || (o.finished && c.now().Sub(o.started) > c.ttl) {
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
	obj, ok := o.byID[id]
	return obj, ok, nil
}

// byKey finds the live object with the given key (name) in the shared observation.
func (c *observeCache) byKey(ctx context.Context, k reconciler.Kind, key string) (reconciler.Object, bool, error) {
	o, err := c.observe(ctx, k)
	if err != nil {
		return reconciler.Object{}, false, err
	}
	obj, ok := o.byKey[key]
	return obj, ok, nil
}

// invalidate drops the observation of a kind after a write; the next read lists again.
// Reads already waiting for an observation in flight still get it: what they look up is
// their own object, which the write did not touch.
func (c *observeCache) invalidate(kind string) {
	c.mu.Lock()
	delete(c.entries, kind)
	c.mu.Unlock()
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
