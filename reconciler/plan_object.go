package reconciler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// liveIndex is the observed account, per kind, by id and by key.
type liveIndex map[string]*kindLive

type kindLive struct {
	objs  []Object
	byID  map[string]int // index in objs
	byKey map[string]int
}

func newKindLive(objs []Object) *kindLive {
	kl := &kindLive{objs: objs, byID: make(map[string]int, len(objs)), byKey: make(map[string]int, len(objs))}
	for i, o := range objs {
		kl.byID[o.ID] = i
		kl.byKey[o.Key] = i
	}
	return kl
}

// withID returns the live object with id.
func (kl *kindLive) withID(id string) (Object, bool) {
	i, ok := kl.byID[id]
	if !ok {
		return Object{}, false
	}
	return kl.objs[i], true
}

// managedLive returns the live object a state entry manages: the one with its id, unless
// the entry recorded a remote id and that object has another (someone else's object under
// the name, when the kind's ids are names: see RemoteIdentifier).
func managedLive(k Kind, kl *kindLive, entry *StateEntry) (Object, bool) {
	cur, found := kl.withID(entry.ID)
	if !found || !SameRemote(k, entry.Remote, cur) {
		return Object{}, false
	}
	return cur, true
}

// withKey returns the live object with key (the last listed, when several share it).
func (kl *kindLive) withKey(key string) (Object, bool) {
	i, ok := kl.byKey[key]
	if !ok {
		return Object{}, false
	}
	return kl.objs[i], true
}

// observe lists the live objects of every kind that is declared or managed, in parallel.
// built holds the declarations that built, by address (scoped kinds observe what they name).
func (e *Engine) observe(ctx context.Context, desired []Desired, built map[string]Object) (liveIndex, error) {
	need := map[string]bool{}
	scope := map[string]*Scope{}
	scopeOf := func(kind string) *Scope {
		if scope[kind] == nil {
			scope[kind] = &Scope{}
		}
		return scope[kind]
	}
	for _, d := range desired {
		need[d.Addr.Kind] = true
		if obj, ok := built[d.Addr.String()]; ok {
			scopeOf(d.Addr.Kind).Desired = append(scopeOf(d.Addr.Kind).Desired, obj)
		}
	}
	for _, a := range e.State.Addresses() {
		if en, ok := e.State.Get(a); ok {
			need[en.Kind] = true
			scopeOf(en.Kind).Managed = append(scopeOf(en.Kind).Managed, en)
		}
	}
	deployed := deployedWorkers(e.Registry, desired)
	for _, sc := range scope {
		sc.Deployed = deployed
	}
	out := liveIndex{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []error
	for _, k := range e.Registry.Kinds() {
		if !need[k.Name()] {
			continue
		}
		wg.Add(1)
		go func(k Kind) {
			defer wg.Done()
			var objs []Object
			var err error
			if so, ok := k.(ScopedObserver); ok {
				sc := scope[k.Name()]
				if sc == nil {
					sc = &Scope{Deployed: deployed}
				}
				objs, err = so.ObserveScoped(ctx, *sc)
			} else {
				objs, err = k.Observe(ctx)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("cannot observe %s objects: %w", k.Name(), err))
				return
			}
			out[k.Name()] = newKindLive(objs)
		}(k)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func (e *Engine) planDesired(d Desired, want Object, live liveIndex) (Change, string) {
	addr := d.Addr.String()
	k, _ := e.Registry.Kind(d.Addr.Kind)
	kl := live[d.Addr.Kind]
	entry, managed := e.State.entry(addr)
	c := Change{Address: addr, Kind: d.Addr.Kind, Name: d.Addr.Name, Key: want.Key, kind: k, desired: want, entry: entry}
	c.newEntry = &StateEntry{Kind: d.Addr.Kind, Key: want.Key, Deps: addrStrings(d.Deps), PreventDestroy: d.PreventDestroy, Hash: hashSpec(want.Spec), Applied: appliedJSON(want.Spec)}
	for _, dep := range d.Deps {
		c.DependsOn = append(c.DependsOn, dep.String())
	}
	c.References = addrStrings(d.Deps)

	var cur Object
	var found bool
	switch {
	case managed && entry.ID != "":
		cur, found = managedLive(k, kl, entry)
		if !found {
			// Gone. The name is free, or someone else's now: never take that one over.
			if other, taken := kl.withKey(want.Key); taken {
				if owner := e.ownerOfID(k.Name(), other.ID); owner != "" && owner != addr {
					return c, fmt.Sprintf("%s (%s): the %s flareops managed here (id %s) was deleted outside flareops, and its name %q now belongs to the %s managed as %s; give one of them another name", addr, d.Source, k.Name(), entry.ID, want.Key, k.Name(), owner)
				}
				ours, theirs := "id "+entry.ID, "id "+other.ID
				if other.ID == entry.ID { // a kind whose ids are names: their Cloudflare ids differ
					ours, theirs = "Cloudflare id "+entry.Remote, "Cloudflare id "+remoteID(k, other)
				}
				return c, fmt.Sprintf("%s (%s): the %s flareops managed here (%s) was deleted outside flareops, and its name %q now belongs to another %s (%s) that flareops does not manage. flareops will not take it over. If this one should be managed here, run: %s; otherwise give the block another name", addr, d.Source, k.Name(), ours, want.Key, k.Name(), theirs, e.command("import", addr, other.ID))
			}
			c.Reason = "deleted outside flareops; it will be created again"
			c.Origin = OriginOutside
		}
	default:
		cur, found = kl.withKey(want.Key)
		if found && !(managed && entry.Pending) {
			if owner := e.ownerOfID(k.Name(), cur.ID); owner != "" {
				return c, fmt.Sprintf("%s (%s): %s %q is already managed as %s; give one of them another name", addr, d.Source, k.Name(), want.Key, owner)
			}
			return c, fmt.Sprintf("%s (%s): %s %q already exists in the account (id %s) and flareops does not manage it; to manage it, run: %s", addr, d.Source, k.Name(), want.Key, cur.ID, e.command("import", addr, want.Key))
		}
	}
	if !found {
		c.Action = Create
		c.Fields = Diff(nil, want.Spec)
		e.spell(d, c.Fields)
		c.Impact = impacts(k, c.Fields, Create, nil, want.Spec)
		if c.Origin == "" {
			c.Origin = OriginConfig
		}
		return c, ""
	}
	if owner := e.ownerOfID(k.Name(), cur.ID); owner != "" && owner != addr {
		return c, fmt.Sprintf("%s (%s): the live %s %q is already managed as %s", addr, d.Source, k.Name(), cur.Key, owner)
	}
	if cur.Key != want.Key {
		if other, taken := kl.withKey(want.Key); taken && other.ID != cur.ID {
			who := "that flareops does not manage"
			if owner := e.ownerOfID(k.Name(), other.ID); owner != "" {
				who = "managed as " + owner
			}
			return c, fmt.Sprintf("%s (%s): renaming %s %q to %q would collide: the account already has a %s named %q (id %s) %s. Choose another name", addr, d.Source, k.Name(), cur.Key, want.Key, k.Name(), want.Key, other.ID, who)
		}
	}
	c.ID, c.LiveKey, c.live, c.hasLive = cur.ID, cur.Key, cur, true
	c.newEntry.ID, c.newEntry.Remote = cur.ID, remoteID(k, cur)
	c.Fields = Diff(cur.Spec, want.Spec)
	applied, hasApplied := decodeApplied(entry.Applied, want.Spec)
	c.Origin = classify(c.Fields, applied, cur.Spec, want.Spec, hasApplied && !entry.Pending)
	e.spell(d, c.Fields)
	switch {
	case managed && entry.Pending:
		c.Action = Adopt
		c.Reason = "created by an earlier apply whose answer was lost; taking it over"
	case len(c.Fields) == 0:
		c.Action = NoOp
		if sameEntry(c.newEntry, entry) {
			c.newEntry = entry
		}
	case forcesNew(k.Schema(), c.Fields):
		c.Action = Replace
		c.Reason = "a changed attribute cannot be updated in place"
	default:
		c.Action = Update
	}
	c.Impact = impacts(k, c.Fields, c.Action, cur.Spec, want.Spec)
	return c, ""
}

// spell shows desired values as the user wrote them where they mean the same.
func (e *Engine) spell(d Desired, fields []FieldChange) {
	if len(d.Spelling) == 0 {
		return
	}
	for i := range fields {
		f := &fields[i]
		if !f.NewSet || f.Sensitive {
			continue
		}
		if s, ok := d.Spelling[f.Field+"="+f.New]; ok {
			f.New = s
		}
	}
}

// planRemoved plans a state entry that is not declared. protect, when set, is the
// configuration's prevent_destroy for a block still declared (destroy); otherwise the
// state's memory of it decides.
func (e *Engine) planRemoved(addr string, live liveIndex, protect *bool) (Change, string) {
	entry, _ := e.State.entry(addr)
	a, err := ParseAddress(addr)
	if err != nil {
		return Change{}, fmt.Sprintf("state entry %q: %v", addr, err)
	}
	k, ok := e.Registry.Kind(entry.Kind)
	if !ok {
		return Change{}, fmt.Sprintf("state entry %s has unknown kind %q", addr, entry.Kind)
	}
	c := Change{Address: addr, Kind: a.Kind, Name: a.Name, Key: entry.Key, ID: entry.ID, kind: k, entry: entry, newEntry: entry}
	var cur Object
	var found bool
	if kl := live[entry.Kind]; kl != nil {
		if entry.ID != "" {
			cur, found = managedLive(k, kl, entry)
		} else if entry.Pending {
			cur, found = kl.withKey(entry.Key)
		}
	}
	if !found {
		if entry.Pending && !entry.PendingSince.IsZero() && time.Since(entry.PendingSince) < PendingGrace {
			// The create may still be carried out (its process was killed with the
			// request in flight): forgetting the marker now could leave an orphan.
			c.Action, c.skipRecord = NoOp, true
			c.Reason = fmt.Sprintf("a create started at %s may still be carried out by Cloudflare; flareops keeps its marker until %s, then deletes the object if it appeared, or forgets it", entry.PendingSince.Format(time.RFC3339), entry.PendingSince.Add(PendingGrace).Format(time.RFC3339))
			return c, ""
		}
		c.Action, c.Reason = Forget, "removed from the configuration and already gone from the account"
		return c, ""
	}
	prevent := entry.PreventDestroy
	if protect != nil {
		prevent = *protect
	}
	if prevent {
		return c, fmt.Sprintf("%s: this plan deletes %s %q, but it has prevent_destroy = true, so flareops will not. Keep the block in the configuration (and do not destroy), or set prevent_destroy = false and apply first", addr, k.Name(), entry.Key)
	}
	c.Action, c.ID, c.LiveKey, c.live, c.hasLive = Delete, cur.ID, cur.Key, cur, true
	c.Origin = OriginConfig
	c.Fields = Diff(cur.Spec, nil)
	c.Impact = impacts(k, c.Fields, Delete, cur.Spec, nil)
	return c, ""
}

// sameEntry reports whether recording a would change nothing over b.
func sameEntry(a, b *StateEntry) bool {
	return a.Kind == b.Kind && a.ID == b.ID && a.Remote == b.Remote && a.Key == b.Key && a.Pending == b.Pending && a.PendingSince.Equal(b.PendingSince) &&
		equalStrings(a.Deps, b.Deps) && a.PreventDestroy == b.PreventDestroy && a.Hash == b.Hash && bytes.Equal(a.Applied, b.Applied)
}

// ownersByID indexes the state by kind and live id, once per plan. Ids are unique only
// within a kind (a sandbox and the Worker settings of one Worker may both be named after
// it).
func (e *Engine) ownersByID() map[kindID]string {
	out := map[kindID]string{}
	for _, a := range e.State.Addresses() {
		if en, ok := e.State.entry(a); ok && en.ID != "" {
			out[kindID{en.Kind, en.ID}] = a
		}
	}
	return out
}

// kindID is a live object's identity: its kind and id (the strings the state holds
// already, not a copy joined).
type kindID struct{ kind, id string }

func (e *Engine) ownerOfID(kind, id string) string { return e.owners[kindID{kind, id}] }

func forcesNew(s BlockSchema, fields []FieldChange) bool {
	for _, f := range fields {
		top := f.Path
		if i := strings.IndexAny(top, ".["); i >= 0 {
			top = top[:i]
		}
		if a, ok := s.Attr(top); ok && a.ForceNew {
			return true
		}
	}
	return false
}

func impacts(k Kind, fields []FieldChange, action Action, live, desired any) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range fields {
		if s := k.Impact(action, f, live, desired); s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
