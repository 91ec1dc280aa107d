package reconciler

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Event reports the progress of apply, one per change start and end.
type Event struct {
	Address string
	Action  Action
	Done    bool
	ID      string
	Err     error
	Skipped bool // not attempted because something it depends on failed
}

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// Parallelism bounds the changes in flight (default 10).
	Parallelism int
	// Progress, if set, is called for every Event (from several goroutines, serialized).
	Progress func(Event)
}

// ApplyError lists the changes that failed and those skipped because of them.
type ApplyError struct {
	Failed  map[string]error
	Skipped []string
}

func (e *ApplyError) Error() string {
	var errs []error
	for _, a := range sortedKeys(e.Failed) {
		errs = append(errs, fmt.Errorf("%s: %w", a, e.Failed[a]))
	}
	for _, a := range e.Skipped {
		errs = append(errs, fmt.Errorf("%s: not attempted because a change it depends on failed", a))
	}
	return errors.Join(errs...).Error()
}

// Apply walks the plan: every change starts once all it depends on succeeded, up to
// Parallelism at a time. A failure stops only the changes that depend on it; the state
// records every success at once, so a rerun converges.
func (e *Engine) Apply(ctx context.Context, p *Plan, opts ApplyOptions) error {
	par := opts.Parallelism
	if par <= 0 {
		par = 10
	}
	var progressMu sync.Mutex
	report := func(ev Event) {
		if opts.Progress != nil {
			progressMu.Lock()
			opts.Progress(ev)
			progressMu.Unlock()
		}
	}

	n := len(p.Changes)
	done := make(map[string]chan struct{}, n)
	for _, c := range p.Changes {
		done[c.Address] = make(chan struct{})
	}
	var mu sync.Mutex
	failed := map[string]error{}
	var skipped []string
	bad := map[string]bool{} // failed or skipped

	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i := range p.Changes {
		c := &p.Changes[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[c.Address])
			for _, d := range c.DependsOn {
				if ch, ok := done[d]; ok {
					<-ch
				}
			}
			mu.Lock()
			blocked := false
			for _, d := range c.DependsOn {
				blocked = blocked || bad[d]
			}
			if blocked {
				bad[c.Address] = true
				skipped = append(skipped, c.Address)
				mu.Unlock()
				report(Event{Address: c.Address, Action: c.Action, Done: true, Skipped: true})
				return
			}
			mu.Unlock()

			sem <- struct{}{}
			defer func() { <-sem }()
			if c.Action != NoOp {
				report(Event{Address: c.Address, Action: c.Action})
			}
			id, err := e.applyOne(ctx, c)
			if err != nil {
				mu.Lock()
				failed[c.Address], bad[c.Address] = err, true
				mu.Unlock()
			}
			if c.Action != NoOp || err != nil {
				report(Event{Address: c.Address, Action: c.Action, Done: true, ID: id, Err: err})
			}
		}()
	}
	wg.Wait()
	if len(failed) > 0 || len(skipped) > 0 {
		return &ApplyError{Failed: failed, Skipped: skipped}
	}
	return nil
}

// applyOne performs one change and records it in the state.
func (e *Engine) applyOne(ctx context.Context, c *Change) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	k := c.kind
	switch c.Action {
	case NoOp:
		return c.ID, e.recordIfChanged(c, c.ID)
	case Create:
		return e.create(ctx, c)
	case Adopt:
		if len(c.Fields) > 0 {
			if err := k.Update(ctx, c.ID, c.live, c.desired); err != nil {
				return c.ID, fmt.Errorf("cannot update %s %q: %w", k.Name(), c.Key, err)
			}
		}
		return c.ID, e.record(c, c.ID)
	case Update:
		if err := k.Update(ctx, c.ID, c.live, c.desired); err != nil {
			return c.ID, fmt.Errorf("cannot update %s %q: %w", k.Name(), c.Key, err)
		}
		return c.ID, e.record(c, c.ID)
	case Replace:
		if err := k.Delete(ctx, c.ID, c.live); err != nil {
			return c.ID, fmt.Errorf("cannot delete %s %q to replace it: %w", k.Name(), c.Key, err)
		}
		return e.create(ctx, c)
	case Delete:
		if err := k.Delete(ctx, c.ID, c.live); err != nil {
			return c.ID, fmt.Errorf("cannot delete %s %q: %w", k.Name(), c.Key, err)
		}
		return c.ID, e.State.Remove(c.Address)
	case Forget:
		return c.ID, e.State.Remove(c.Address)
	}
	return "", fmt.Errorf("unknown action %q", c.Action)
}

// create records the intent before calling the API, so that an object whose creation
// answer is lost is recognized as ours by the next plan (Adopt) instead of as foreign.
func (e *Engine) create(ctx context.Context, c *Change) (string, error) {
	pending := c.newEntry
	pending.ID, pending.Pending = "", true
	if err := e.State.Put(c.Address, pending); err != nil {
		return "", err
	}
	id, err := c.kind.Create(ctx, c.desired)
	if err != nil {
		return "", fmt.Errorf("cannot create %s %q: %w", c.kind.Name(), c.Key, err)
	}
	return id, e.record(c, id)
}

func (e *Engine) record(c *Change, id string) error {
	en := c.newEntry
	en.ID, en.Pending = id, false
	return e.State.Put(c.Address, en)
}

// recordIfChanged updates the state of an unchanged object when only its bookkeeping
// (dependencies, prevent_destroy, spec hash) moved.
func (e *Engine) recordIfChanged(c *Change, id string) error {
	en := c.newEntry
	en.ID = id
	old, ok := e.State.Get(c.Address)
	if ok && old.ID == en.ID && old.Key == en.Key && old.Hash == en.Hash && old.PreventDestroy == en.PreventDestroy && equalStrings(old.Deps, en.Deps) {
		return nil
	}
	return e.State.Put(c.Address, en)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
