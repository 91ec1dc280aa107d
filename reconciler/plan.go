package reconciler

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Action is what apply will do to one object.
type Action string

const (
	NoOp    Action = "no-op"
	Create  Action = "create"
	Update  Action = "update"
	Replace Action = "replace"
	Delete  Action = "delete"
	// Adopt takes over an object whose creation flareops started but never saw confirmed
	// (the answer was lost), then updates it if it differs.
	Adopt Action = "adopt"
	// Forget drops a managed object that is already gone from the account and from the
	// configuration: only the state changes.
	Forget Action = "forget"
)

// Desired is one declared block, decoded.
type Desired struct {
	Addr           Address
	Values         Values
	Deps           []Address
	PreventDestroy bool
	// Source is where the block is declared ("queues.flareops.hcl:12"), for messages.
	Source string
	// Spelling maps "attr=canonical rendering" to the literal the user wrote ("max_wait=1m"
	// → "60s"), so that the plan shows values as written where they mean the same.
	Spelling map[string]string
}

// Change is one planned step. Plans are data: apply walks Changes in order.
type Change struct {
	Address string        `json:"address"`
	Kind    string        `json:"kind"`
	Name    string        `json:"name"`
	Action  Action        `json:"action"`
	ID      string        `json:"id,omitempty"`
	Key     string        `json:"key"`
	Fields  []FieldChange `json:"fields,omitempty"`
	// Impact says what the change does operationally, one line per consequence.
	Impact []string `json:"impact,omitempty"`
	// Reason explains an action that a reader might not expect.
	Reason    string   `json:"reason,omitempty"`
	DependsOn []string `json:"depends_on,omitempty"`
	// LiveKey is the name the object has in the account now ("" when it does not exist);
	// it differs from Key on a rename. Update, replace and delete blocks show it with ID.
	LiveKey string `json:"live_key,omitempty"`
	// Origin says why the change exists: OriginConfig (the configuration changed since the
	// last apply), OriginOutside (the account was changed outside flareops and this plan
	// sets it back) or OriginBoth. Empty for no-ops.
	Origin string `json:"origin,omitempty"`
	// References are the addresses this object's declaration refers to (a consumer's
	// dead-letter queue), whether or not they change: a saved plan is stale when one
	// of them changed since.
	References []string `json:"references,omitempty"`

	kind     Kind
	desired  Object
	live     Object
	hasLive  bool
	entry    StateEntry
	newEntry StateEntry
	// skipRecord: a no-op that stands for a drifted object a saved plan left alone; apply
	// must not record the desired spec as applied to it.
	skipRecord bool
}

// Origins of a change or of one field change (Change.Origin, FieldChange.Origin).
const (
	OriginConfig  = "config"  // the configuration differs from what was last applied
	OriginOutside = "outside" // the account was changed outside flareops; the plan sets it back
	OriginBoth    = "both"    // changed outside flareops and in the configuration
)

// Target is the account a plan, a state or a saved plan belongs to.
type Target struct {
	// Kind is "account" (a Cloudflare account behind an API base URL) or "local" (the
	// built-in local Cloudflare in DataDir).
	Kind      string `json:"kind"`
	AccountID string `json:"account_id,omitempty"`
	BaseURL   string `json:"base_url,omitempty"`
	DataDir   string `json:"data_dir,omitempty"`
	Workspace string `json:"workspace"`
}

// Plan is the ordered set of changes that brings the account to the configuration.
type Plan struct {
	FormatVersion string   `json:"format_version"`
	Target        Target   `json:"target"`
	ConfigHash    string   `json:"config_hash"`
	LiveHash      string   `json:"live_hash"`
	Changes       []Change `json:"changes"`
	// Warnings are things a reviewer should read before approving ("every managed object
	// would be renamed: was another workspace meant?").
	Warnings []string `json:"warnings,omitempty"`
	// StandIns are the objects the built-in local Cloudflare stands in for (see StandIn):
	// apply creates placeholders for them there. Empty for any other target.
	StandIns []StandIn `json:"stand_ins,omitempty"`
}

// PlanFormatVersion versions the JSON plan schema (docs/cli/plan-json.md).
const PlanFormatVersion = "2.0"

// Summary counts the changes by action.
func (p *Plan) Summary() map[Action]int {
	out := map[Action]int{}
	for _, c := range p.Changes {
		out[c.Action]++
	}
	return out
}

// HasChanges reports whether applying the plan would change anything.
func (p *Plan) HasChanges() bool {
	for _, c := range p.Changes {
		if c.Action != NoOp {
			return true
		}
	}
	return false
}

// PlanError lists every reason a plan cannot be made; it is returned with no plan.
type PlanError struct{ Problems []string }

func (e *PlanError) Error() string { return strings.Join(e.Problems, "\n") }

// PendingGrace is how long a pending create's marker is kept when its object has not
// appeared: long enough for a request sent by a killed process to be carried out.
const PendingGrace = 5 * time.Minute

// Engine plans and applies declarations of the registered kinds.
type Engine struct {
	Registry *Registry
	State    *State
	// Target is the account the engine works on; plans carry it.
	Target Target
	// Command renders a flareops command line for messages (the CLI adds -dir and
	// -workspace); nil renders "flareops ARGS".
	Command func(args ...string) string
	// StandIn is set for the built-in local Cloudflare, which has no Worker code: a
	// missing Worker is then a note, not an error (see CheckLive).
	StandIn bool

	owners map[string]string // live id → managed address, for the plan being made
}

func (e *Engine) command(args ...string) string {
	if e.Command != nil {
		return e.Command(args...)
	}
	return "flareops " + strings.Join(args, " ")
}

// Plan observes the account and computes the changes that make it match desired.
func (e *Engine) Plan(ctx context.Context, desired []Desired) (*Plan, error) {
	var problems []string
	byAddr := map[string]Desired{}
	built := map[string]Object{}
	for _, d := range desired {
		k, ok := e.Registry.Kind(d.Addr.Kind)
		if !ok {
			return nil, fmt.Errorf("%s: unknown kind %q", d.Source, d.Addr.Kind)
		}
		obj, err := k.Build(d.Values)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s (%s): %v", d.Addr, d.Source, err))
			continue
		}
		byAddr[d.Addr.String()] = d
		built[d.Addr.String()] = obj
	}
	refs, err := liveProblems(ctx, e.Registry, desired)
	if err != nil {
		return nil, err
	}
	var notes []string
	if e.StandIn {
		notes = standInNotes(refs)
	} else {
		for _, r := range refs {
			problems = append(problems, r.String())
		}
	}
	live, err := e.observe(ctx, desired)
	if err != nil {
		return nil, err
	}
	p := &Plan{FormatVersion: PlanFormatVersion, Target: e.Target, ConfigHash: hashDesired(desired), LiveHash: hashLive(live)}
	e.owners = e.ownersByID()

	for _, addr := range sortedKeys(byAddr) {
		c, problem := e.planDesired(byAddr[addr], built[addr], live)
		if problem != "" {
			problems = append(problems, problem)
			continue
		}
		p.Changes = append(p.Changes, c)
	}
	removed, removeProblems := e.planRemovals(live, func(addr string) (skip bool, protect *bool) {
		_, declared := byAddr[addr]
		return declared, nil
	})
	p.Changes = append(p.Changes, removed...)
	problems = append(problems, removeProblems...)
	if len(problems) > 0 {
		return nil, &PlanError{Problems: problems}
	}
	order(p)
	p.Warnings = append(notes, renameWarnings(p)...)
	if e.StandIn {
		p.StandIns = standIns(refs)
	}
	return p, nil
}

// PlanDestroy plans the deletion of everything the state holds. prevent_destroy comes from
// the configuration for every block still declared in it (declared), and from the state's
// memory only for blocks that were removed from it.
func (e *Engine) PlanDestroy(ctx context.Context, declared []Desired) (*Plan, error) {
	protect := map[string]bool{}
	for _, d := range declared {
		protect[d.Addr.String()] = d.PreventDestroy
	}
	live, err := e.observe(ctx, nil)
	if err != nil {
		return nil, err
	}
	p := &Plan{FormatVersion: PlanFormatVersion, Target: e.Target, ConfigHash: hashDesired(nil), LiveHash: hashLive(live)}
	e.owners = e.ownersByID()
	var problems []string
	p.Changes, problems = e.planRemovals(live, func(addr string) (bool, *bool) {
		if pd, ok := protect[addr]; ok {
			return false, &pd
		}
		return false, nil
	})
	if len(problems) > 0 {
		return nil, &PlanError{Problems: problems}
	}
	order(p)
	return p, nil
}

// planRemovals plans every state entry that which does not skip, with the prevent_destroy
// it gives (nil: the state's memory decides).
func (e *Engine) planRemovals(live liveIndex, which func(addr string) (skip bool, protect *bool)) ([]Change, []string) {
	var changes []Change
	var problems []string
	for _, addr := range e.State.Addresses() {
		skip, protect := which(addr)
		if skip {
			continue
		}
		c, problem := e.planRemoved(addr, live, protect)
		if problem != "" {
			problems = append(problems, problem)
			continue
		}
		changes = append(changes, c)
	}
	return changes, problems
}

// renameWarnings warns when a plan renames every managed object it keeps (at least two):
// that is what applying one workspace's configuration with another's variables, or
// another workspace's state, looks like.
func renameWarnings(p *Plan) []string {
	kept, renamed := 0, 0
	for _, c := range p.Changes {
		if c.LiveKey == "" || c.Action == Delete || c.Action == Forget || c.Action == Adopt {
			continue
		}
		kept++
		if c.LiveKey != c.Key {
			renamed++
		}
	}
	if kept >= 2 && renamed == kept {
		ws := p.Target.Workspace
		if ws == "" {
			ws = DefaultWorkspace
		}
		return []string{fmt.Sprintf("this plan renames every object flareops manages here (%d of %d), in workspace %q. Was another workspace (-workspace, FLAREOPS_WORKSPACE) or other variables meant? Read the plan before applying it.", renamed, kept, ws)}
	}
	return nil
}

// liveIndex is the observed account, per kind, by id and by key.
type liveIndex map[string]*kindLive

type kindLive struct {
	byID  map[string]Object
	byKey map[string]Object
}

// observe lists the live objects of every kind that is declared or managed, in parallel.
func (e *Engine) observe(ctx context.Context, desired []Desired) (liveIndex, error) {
	need := map[string]bool{}
	for _, d := range desired {
		need[d.Addr.Kind] = true
	}
	for _, a := range e.State.Addresses() {
		if en, ok := e.State.Get(a); ok {
			need[en.Kind] = true
		}
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
			objs, err := k.Observe(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("cannot observe %s objects: %w", k.Name(), err))
				return
			}
			kl := &kindLive{byID: map[string]Object{}, byKey: map[string]Object{}}
			for _, o := range objs {
				kl.byID[o.ID] = o
				kl.byKey[o.Key] = o
			}
			out[k.Name()] = kl
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
	entry, managed := e.State.Get(addr)
	c := Change{Address: addr, Kind: d.Addr.Kind, Name: d.Addr.Name, Key: want.Key, kind: k, desired: want, entry: entry}
	c.newEntry = StateEntry{Kind: d.Addr.Kind, Key: want.Key, Deps: addrStrings(d.Deps), PreventDestroy: d.PreventDestroy, Hash: hashSpec(want.Spec), Applied: appliedJSON(want.Spec)}
	for _, dep := range d.Deps {
		c.DependsOn = append(c.DependsOn, dep.String())
	}
	c.References = addrStrings(d.Deps)

	var cur Object
	var found bool
	switch {
	case managed && entry.ID != "":
		cur, found = kl.byID[entry.ID]
		if !found {
			// Gone. The name is free, or someone else's now: never take that one over.
			if other, taken := kl.byKey[want.Key]; taken {
				if owner := e.ownerOfID(other.ID); owner != "" {
					return c, fmt.Sprintf("%s (%s): the %s flareops managed here (id %s) was deleted outside flareops, and its name %q now belongs to the %s managed as %s; give one of them another name", addr, d.Source, k.Name(), entry.ID, want.Key, k.Name(), owner)
				}
				return c, fmt.Sprintf("%s (%s): the %s flareops managed here (id %s) was deleted outside flareops, and its name %q now belongs to another %s (id %s) that flareops does not manage. flareops will not take it over. If this one should be managed here, run: %s; otherwise give the block another name", addr, d.Source, k.Name(), entry.ID, want.Key, k.Name(), other.ID, e.command("import", addr, other.ID))
			}
			c.Reason = "deleted outside flareops; it will be created again"
			c.Origin = OriginOutside
		}
	default:
		cur, found = kl.byKey[want.Key]
		if found && !(managed && entry.Pending) {
			if owner := e.ownerOfID(cur.ID); owner != "" {
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
	if owner := e.ownerOfID(cur.ID); owner != "" && owner != addr {
		return c, fmt.Sprintf("%s (%s): the live %s %q is already managed as %s", addr, d.Source, k.Name(), cur.Key, owner)
	}
	if cur.Key != want.Key {
		if other, taken := kl.byKey[want.Key]; taken && other.ID != cur.ID {
			who := "that flareops does not manage"
			if owner := e.ownerOfID(other.ID); owner != "" {
				who = "managed as " + owner
			}
			return c, fmt.Sprintf("%s (%s): renaming %s %q to %q would collide: the account already has a %s named %q (id %s) %s. Choose another name", addr, d.Source, k.Name(), cur.Key, want.Key, k.Name(), want.Key, other.ID, who)
		}
	}
	c.ID, c.LiveKey, c.live, c.hasLive = cur.ID, cur.Key, cur, true
	c.newEntry.ID = cur.ID
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
	entry, _ := e.State.Get(addr)
	a, err := ParseAddress(addr)
	if err != nil {
		return Change{}, fmt.Sprintf("state entry %q: %v", addr, err)
	}
	k, ok := e.Registry.Kind(entry.Kind)
	if !ok {
		return Change{}, fmt.Sprintf("state entry %s has unknown kind %q", addr, entry.Kind)
	}
	c := Change{Address: addr, Kind: a.Kind, Name: a.Name, Key: entry.Key, ID: entry.ID, kind: k, entry: entry}
	var cur Object
	var found bool
	if kl := live[entry.Kind]; kl != nil {
		if entry.ID != "" {
			cur, found = kl.byID[entry.ID]
		} else if entry.Pending {
			cur, found = kl.byKey[entry.Key]
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

// ownersByID indexes the state by live id, once per plan.
func (e *Engine) ownersByID() map[string]string {
	out := map[string]string{}
	for _, a := range e.State.Addresses() {
		if en, ok := e.State.Get(a); ok && en.ID != "" {
			out[en.ID] = a
		}
	}
	return out
}

func (e *Engine) ownerOfID(id string) string { return e.owners[id] }

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

// order sorts changes so that every change comes after what it depends on: creates and
// updates after the objects they reference, deletes after every change to an object that
// referenced them. It also rewrites DependsOn to the changes apply must wait for.
func order(p *Plan) {
	idx := map[string]int{}
	for i, c := range p.Changes {
		idx[c.Address] = i
	}
	deps := make([][]string, len(p.Changes))
	for i, c := range p.Changes {
		set := map[string]bool{}
		switch c.Action {
		case Delete, Forget:
			// Wait for everything that referenced this object when it was last applied.
			for j, o := range p.Changes {
				if j != i && o.Action != NoOp && contains(o.entry.Deps, c.Address) {
					set[o.Address] = true
				}
			}
		default:
			for _, d := range c.DependsOn {
				if j, ok := idx[d]; ok && p.Changes[j].Action != NoOp {
					set[d] = true
				}
			}
		}
		deps[i] = sortedKeys(set)
	}
	// Kahn's algorithm; among ready changes, non-deletes first, then by address.
	indeg := make([]int, len(p.Changes))
	users := map[string][]int{}
	for i, ds := range deps {
		indeg[i] = len(ds)
		for _, d := range ds {
			users[d] = append(users[d], i)
		}
	}
	ready := &rankHeap{}
	for i, c := range p.Changes {
		r := "0" + c.Address
		if c.Action == Delete || c.Action == Forget {
			r = "1" + c.Address
		}
		ready.rank = append(ready.rank, r)
		if indeg[i] == 0 {
			ready.items = append(ready.items, i)
		}
	}
	heap.Init(ready)
	var sorted []int
	for ready.Len() > 0 {
		i := heap.Pop(ready).(int)
		sorted = append(sorted, i)
		for _, u := range users[p.Changes[i].Address] {
			indeg[u]--
			if indeg[u] == 0 {
				heap.Push(ready, u)
			}
		}
	}
	// A cycle cannot come from the configuration (the loader rejects them); if the state
	// holds one, keep the remaining changes in address order rather than dropping them.
	if len(sorted) < len(p.Changes) {
		placed := map[int]bool{}
		for _, i := range sorted {
			placed[i] = true
		}
		for i := range p.Changes {
			if !placed[i] {
				sorted = append(sorted, i)
				deps[i] = nil
			}
		}
	}
	out := make([]Change, len(sorted))
	for n, i := range sorted {
		c := p.Changes[i]
		c.DependsOn = deps[i]
		out[n] = c
	}
	p.Changes = out
}

// rankHeap is a min-heap of change indexes by rank.
type rankHeap struct {
	items []int
	rank  []string
}

func (h *rankHeap) Len() int           { return len(h.items) }
func (h *rankHeap) Less(a, b int) bool { return h.rank[h.items[a]] < h.rank[h.items[b]] }
func (h *rankHeap) Swap(a, b int)      { h.items[a], h.items[b] = h.items[b], h.items[a] }
func (h *rankHeap) Push(x any)         { h.items = append(h.items, x.(int)) }
func (h *rankHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func addrStrings(as []Address) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.String())
	}
	sort.Strings(out)
	return out
}

func hashSpec(spec any) string {
	b, err := json.Marshal(spec)
	if err != nil {
		return ""
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:12])
}

func hashDesired(ds []Desired) string {
	type row struct {
		Addr           string
		Values         Values
		Deps           []string
		PreventDestroy bool
	}
	rows := make([]row, 0, len(ds))
	for _, d := range ds {
		rows = append(rows, row{d.Addr.String(), d.Values, addrStrings(d.Deps), d.PreventDestroy})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Addr < rows[j].Addr })
	return hashSpec(rows)
}

func hashLive(l liveIndex) string {
	type row struct {
		Kind, ID, Key string
		Spec          any
	}
	var rows []row
	for _, kind := range sortedKeys(l) {
		kl := l[kind]
		for _, id := range sortedKeys(kl.byID) {
			o := kl.byID[id]
			rows = append(rows, row{kind, o.ID, o.Key, o.Spec})
		}
	}
	return hashSpec(rows)
}
