package reconciler

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Event reports the progress of apply, one per change start and end.
type Event struct {
	Address string
	Action  Action
	Done    bool
	ID      string
	Err     error
	Skipped bool // not attempted because something it depends on failed
	// Interrupted: not started because apply was interrupted (Ctrl-C), or, with Err set,
	// interrupted while in flight (it may or may not have happened; the state says what
	// is known and the next plan shows the rest).
	Interrupted bool
}

// ErrInterrupted is the error of a change cut short by an interrupt.
var ErrInterrupted = errors.New("interrupted")

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// Parallelism bounds the changes in flight (default 10).
	Parallelism int
	// Progress, if set, is called for every Event (from several goroutines, serialized).
	Progress func(Event)
}

// ApplyError lists the changes that failed, those skipped because of them, and those not
// started because apply was interrupted.
type ApplyError struct {
	Failed      map[string]error
	Skipped     []string
	NotStarted  []string
	Interrupted bool
}

func (e *ApplyError) Error() string {
	var errs []error
	for _, a := range sortedKeys(e.Failed) {
		errs = append(errs, fmt.Errorf("%s: %w", a, e.Failed[a]))
	}
	for _, a := range e.Skipped {
		errs = append(errs, fmt.Errorf("%s: not attempted because a change it depends on failed", a))
	}
	for _, a := range e.NotStarted {
		errs = append(errs, fmt.Errorf("%s: not started: apply was interrupted", a))
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
	var skipped, notStarted []string
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

			// With coalesced state writes (remote state), a create's marker is written
			// before it waits for a slot, so that the markers of many creates share one
			// write instead of each create waiting for its own.
			var markedAt time.Time
			if c.Action == Create && e.State.Coalesced() && ctx.Err() == nil {
				if err := e.mark(c); err != nil {
					mu.Lock()
					failed[c.Address], bad[c.Address] = err, true
					mu.Unlock()
					report(Event{Address: c.Address, Action: c.Action, Done: true, Err: err})
					return
				}
				markedAt = time.Now()
			}

			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				mu.Lock()
				bad[c.Address] = true
				if c.Action != NoOp {
					notStarted = append(notStarted, c.Address)
				}
				mu.Unlock()
				if c.Action != NoOp {
					report(Event{Address: c.Address, Action: c.Action, Done: true, Interrupted: true})
				}
				return
			}
			if c.Action != NoOp {
				report(Event{Address: c.Address, Action: c.Action})
			}
			id, err := e.applyOne(ctx, c, markedAt)
			interrupted := false
			if err != nil && ctx.Err() != nil {
				err, interrupted = fmt.Errorf("%w while in flight: %s may or may not have happened; the next plan shows it", ErrInterrupted, c.Action), true
			}
			if err != nil {
				mu.Lock()
				failed[c.Address], bad[c.Address] = err, true
				mu.Unlock()
			}
			if c.Action != NoOp || err != nil {
				report(Event{Address: c.Address, Action: c.Action, Done: true, ID: id, Err: err, Interrupted: interrupted})
			}
		}()
	}
	wg.Wait()
	sort.Strings(skipped)
	sort.Strings(notStarted)
	if len(failed) > 0 || len(skipped) > 0 || len(notStarted) > 0 {
		return &ApplyError{Failed: failed, Skipped: skipped, NotStarted: notStarted, Interrupted: ctx.Err() != nil}
	}
	return nil
}

// applyOne performs one change and records it in the state. markedAt is when a create's
// pending marker was stored ahead of it (zero: not yet).
func (e *Engine) applyOne(ctx context.Context, c *Change, markedAt time.Time) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	k := c.kind
	switch c.Action {
	case NoOp:
		if c.skipRecord {
			return c.ID, nil
		}
		return c.ID, e.recordIfChanged(c, c.ID)
	case Create:
		return e.create(ctx, c, markedAt)
	case Adopt:
		if len(c.Fields) > 0 {
			if err := k.Update(ctx, c.ID, c.live, c.desired); err != nil {
				return c.ID, err
			}
		}
		return c.ID, e.record(c, c.ID)
	case Update:
		if err := k.Update(ctx, c.ID, c.live, c.desired); err != nil {
			return c.ID, err
		}
		return c.ID, e.record(c, c.ID)
	case Replace:
		if err := k.Delete(ctx, c.ID, c.live); err != nil {
			return c.ID, fmt.Errorf("delete before re-creating: %w", err)
		}
		return e.create(ctx, c, time.Time{})
	case Delete:
		if err := k.Delete(ctx, c.ID, c.live); err != nil {
			return c.ID, err
		}
		return c.ID, e.State.Remove(c.Address)
	case Forget:
		return c.ID, e.State.Remove(c.Address)
	}
	return "", fmt.Errorf("unknown action %q", c.Action)
}

// createAttempts bounds the creates of one object in one apply when answers are lost.
const createAttempts = 3

// create records the intent (a pending marker) before calling the API, so that an object
// whose creation answer is lost is recognized as ours instead of as foreign. The engine,
// not the HTTP client, decides what a failed create means:
//   - a definite refusal (a 4xx) made nothing: the marker is cleared and the API's
//     message reported once; "name already taken" on a first attempt means someone else
//     holds the name, which is never taken over;
//   - an ambiguous failure (lost answer, 5xx, dropped connection) may have made the
//     object: only then is an object found under the desired name adopted, since this
//     flareops's own attempt may have made it; otherwise the create is tried again.
func (e *Engine) create(ctx context.Context, c *Change, markedAt time.Time) (string, error) {
	k := c.kind
	if markedAt.IsZero() || time.Since(markedAt) > markAhead {
		if err := e.mark(c); err != nil {
			return "", err
		}
	}
	// An earlier attempt of ours may have made the object: one in this apply whose answer
	// was ambiguous, or one of an earlier apply that left its pending marker (killed with
	// the request in flight, which the server may still carry out after this plan).
	ours := c.entry.Pending
	for attempt := 1; ; attempt++ {
		id, err := k.Create(ctx, c.desired)
		switch {
		case err == nil:
			return id, errors.Join(e.learnRemote(ctx, c, id), e.record(c, id))
		case id != "":
			// Made, but a later step (settings, consumers) failed: it is ours, and the
			// next plan shows what is left to do.
			if rerr := errors.Join(e.learnRemote(ctx, c, id), e.record(c, id)); rerr != nil {
				return id, errors.Join(err, rerr)
			}
			return id, fmt.Errorf("created %s %q (id %s) but could not finish setting it up: %w", k.Name(), c.Key, id, err)
		case IsNameTaken(err) && !ours:
			if rerr := e.unmark(c); rerr != nil {
				return "", errors.Join(err, rerr)
			}
			return "", fmt.Errorf("%s %q was created by someone else since the plan was made (%w); flareops does not take over objects it did not create: to manage it, run %s", k.Name(), c.Key, err, e.command("import", c.Address, c.Key))
		case !IsNameTaken(err) && !MayHaveApplied(err):
			if rerr := e.unmark(c); rerr != nil {
				return "", errors.Join(err, rerr)
			}
			return "", err
		}
		// Ambiguous, or the name is taken after an ambiguous attempt of ours.
		ours = true
		if ctx.Err() != nil {
			return "", err
		}
		live, found, ferr := findKey(ctx, k, c.desired)
		if ferr != nil {
			return "", fmt.Errorf("%w (and cannot check whether it was created: %v; the next plan will)", err, ferr)
		}
		if found {
			if owner := e.ownerOfID(k.Name(), live.ID); owner != "" && owner != c.Address {
				return "", fmt.Errorf("%w; %s %q now exists but is managed as %s", err, k.Name(), c.Key, owner)
			}
			c.newEntry.Remote = remoteID(k, live)
			if uerr := k.Update(ctx, live.ID, live, c.desired); uerr != nil {
				if rerr := e.record(c, live.ID); rerr != nil {
					return live.ID, errors.Join(uerr, rerr)
				}
				return live.ID, fmt.Errorf("created %s %q (id %s) but could not finish setting it up: %w", k.Name(), c.Key, live.ID, uerr)
			}
			return live.ID, e.record(c, live.ID)
		}
		if attempt >= createAttempts {
			return "", fmt.Errorf("%w (tried %d times; if it appears, the next plan adopts it)", err, attempt)
		}
	}
}

// markAhead bounds how long before its create a marker may have been stored: the marker's
// time starts PendingGrace, which must cover the create's request.
const markAhead = 30 * time.Second

// mark stores the pending marker of c's create (see create).
func (e *Engine) mark(c *Change) error {
	pending := *c.newEntry
	pending.ID, pending.Pending, pending.PendingSince = "", true, time.Now().UTC()
	return e.State.Put(c.Address, pending)
}

// unmark undoes the pending marker of a create that definitely did not happen.
func (e *Engine) unmark(c *Change) error {
	if c.entry.Kind != "" {
		return e.State.Put(c.Address, *c.entry)
	}
	return e.State.Remove(c.Address)
}

// findKey finds the live object under desired's key, observing only what desired touches.
func findKey(ctx context.Context, k Kind, desired Object) (Object, bool, error) {
	objs, err := ObserveFor(ctx, k, Scope{Desired: []Object{desired}})
	if err != nil {
		return Object{}, false, err
	}
	for _, o := range objs {
		if o.Key == desired.Key {
			return o, true, nil
		}
	}
	return Object{}, false, nil
}

// learnRemote records in c's new entry the remote id of the object c's create just made
// (one lookup, for a RemoteIdentifier kind only). The object is found by its name right
// after its create, which Cloudflare answered: it is the one just made.
func (e *Engine) learnRemote(ctx context.Context, c *Change, id string) error {
	if _, ok := c.kind.(RemoteIdentifier); !ok {
		return nil
	}
	live, found, err := findKey(ctx, c.kind, c.desired)
	switch {
	case err != nil:
		return fmt.Errorf("created %s %q (id %s) but cannot read it back to record Cloudflare's id of it: %w; it is recorded without it, and the next apply adds it", c.kind.Name(), c.Key, id, err)
	case found && live.ID == id:
		c.newEntry.Remote = remoteID(c.kind, live)
	}
	return nil
}

func (e *Engine) record(c *Change, id string) error {
	en := *c.newEntry
	en.ID, en.Pending, en.PendingSince = id, false, time.Time{}
	return e.State.Put(c.Address, en)
}

// recordIfChanged updates the state of an unchanged object when only its bookkeeping
// (dependencies, prevent_destroy, spec hash) moved.
func (e *Engine) recordIfChanged(c *Change, id string) error {
	en := *c.newEntry
	en.ID = id
	old, ok := e.State.Get(c.Address)
	if ok && old.ID == en.ID && old.Remote == en.Remote && old.Key == en.Key && old.Hash == en.Hash && old.PreventDestroy == en.PreventDestroy && equalStrings(old.Deps, en.Deps) && len(old.Applied) > 0 {
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
