package reconciler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
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

	kind    Kind
	desired Object
	live    Object
	hasLive bool
	// entry is the state's entry for the address as planned (shared with the state, never
	// changed); newEntry is what apply records. A no-op that records nothing new shares
	// entry: a plan of 10,000 unchanged objects holds their entries once.
	entry    *StateEntry
	newEntry *StateEntry
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
	// Manual lists what declarations ask of objects another tool deploys (Workers deployed
	// with wrangler) and those objects lack: apply writes none of it (see ManualChecker).
	Manual []ManualStep `json:"manual,omitempty"`
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

	owners map[kindID]string // (kind, live id) → managed address, for the plan being made
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
	byAddr := make(map[string]*Desired, len(desired)) // pointers: a Desired is large
	built := make(map[string]Object, len(desired))
	for i := range desired {
		d := &desired[i]
		k, ok := e.Registry.Kind(d.Addr.Kind)
		if !ok {
			return nil, fmt.Errorf("%s: unknown kind %q", d.Source, d.Addr.Kind)
		}
		obj, err := k.Build(d.Values)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s (%s): %v", d.Addr, d.Source, err))
			continue
		}
		addr := d.Addr.String()
		byAddr[addr] = d
		built[addr] = obj
	}
	for _, c := range CheckClaims(e.Registry, desired) {
		problems = append(problems, c.String())
	}
	for _, c := range CheckDeployers(e.Registry, desired) {
		problems = append(problems, c.String())
	}
	refs, err := liveProblems(ctx, e.Registry, desired)
	if err != nil {
		return nil, err
	}
	var notes []string
	var stood []LiveProblem
	for _, r := range refs {
		if e.StandIn && r.StandIn() {
			stood = append(stood, r)
			continue
		}
		problems = append(problems, r.String())
	}
	notes = standInNotes(stood)
	live, err := e.observe(ctx, desired, built)
	if err != nil {
		return nil, err
	}
	manual, err := e.checkManual(ctx, byAddr, built)
	if err != nil {
		return nil, err
	}
	p := &Plan{FormatVersion: PlanFormatVersion, Target: e.Target, ConfigHash: hashDesired(desired), LiveHash: hashLive(live), Manual: manual}
	e.owners = e.ownersByID()

	p.Changes = make([]Change, 0, len(byAddr)) // a Change is large: no growth copies at 10,000 objects
	for _, addr := range sortedKeys(byAddr) {
		c, problem := e.planDesired(*byAddr[addr], built[addr], live)
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
	p.Warnings = append(p.Warnings, e.deployWarnings(ctx, p, byAddr)...)
	p.StandIns = standIns(stood)
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
	live, err := e.observe(ctx, nil, nil)
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

// renameWarnings warns when a plan renames (nearly) every managed object it keeps:
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
	// Most of them (not all: some names do not follow the environment, e.g. a sandbox's).
	if renamed >= 2 && renamed*4 >= kept*3 {
		ws := p.Target.Workspace
		if ws == "" {
			ws = DefaultWorkspace
		}
		what := "every object"
		if renamed < kept {
			what = "nearly every object"
		}
		return []string{fmt.Sprintf("this plan renames %s flareops manages here (%d of %d), in workspace %q. Was another workspace (-workspace, FLAREOPS_WORKSPACE) or other variables meant? Read the plan before applying it.", what, renamed, kept, ws)}
	}
	return nil
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

// hashRows is hashSpec of a slice of the rows each passes to add, computed a row at a
// time: the same bytes as encoding the whole slice (a JSON array is its elements joined
// by commas), without holding the encoding or the rows (at 10,000 objects the one
// encoding was 13 MB). With no row it is the hash of an empty slice ("[]"), or of a nil
// one ("null", as encoding/json writes it) when nilSlice says the rows were one.
func hashRows(nilSlice bool, each func(add func(row any))) string {
	h := sha256.New()
	n, bad := 0, false
	each(func(row any) {
		b, err := json.Marshal(row)
		if err != nil {
			bad = true
			return
		}
		if n == 0 {
			h.Write([]byte{'['})
		} else {
			h.Write([]byte{','})
		}
		n++
		h.Write(b)
	})
	switch {
	case bad:
		return ""
	case n == 0 && nilSlice:
		return hashSpec(nil)
	case n == 0:
		h.Write([]byte{'['})
	}
	h.Write([]byte{']'})
	return hex.EncodeToString(h.Sum(nil)[:12])
}

func hashDesired(ds []Desired) string {
	type row struct {
		Addr           string
		Values         Values
		Deps           []string
		PreventDestroy bool
	}
	addrs := make([]string, len(ds))
	idx := make([]int, len(ds))
	for i, d := range ds {
		addrs[i], idx[i] = d.Addr.String(), i
	}
	sort.SliceStable(idx, func(i, j int) bool { return addrs[idx[i]] < addrs[idx[j]] })
	return hashRows(false, func(add func(any)) {
		for _, i := range idx {
			d := ds[i]
			add(row{addrs[i], d.Values, addrStrings(d.Deps), d.PreventDestroy})
		}
	})
}

func hashLive(l liveIndex) string {
	type row struct {
		Kind, ID, Key string
		Spec          any
	}
	return hashRows(true, func(add func(any)) { // as a nil slice of rows appended to
		for _, kind := range sortedKeys(l) {
			kl := l[kind]
			for _, id := range sortedKeys(kl.byID) {
				o := kl.objs[kl.byID[id]]
				add(row{kind, o.ID, o.Key, o.Spec})
			}
		}
	})
}
