package reconciler

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/monotask/flareops/reconciler/suggest"
	"github.com/monotask/flareops/reconciler/workerset"
)

// LiveValidator is implemented by a kind whose declarations refer to objects in the account
// that flareops does not manage: a queue consumer names a Worker, which wrangler deploys.
// Such a reference cannot be checked by the loader; the planner checks it once per plan, so
// that a missing object fails the plan, with the block's place, instead of the apply.
//
// Contract: ValidateLive never mutates. It makes a fixed number of list calls however many
// declarations there are (none when no declaration refers to anything). It returns one
// LiveProblem per declaration and missing object; its error is for a lookup that failed,
// never for a problem found. Declarations that do not Build are skipped (the planner
// reports them).
type LiveValidator interface {
	ValidateLive(ctx context.Context, desired []Desired) ([]LiveProblem, error)
}

// LiveProblem is a declaration that refers to an object the account does not have.
type LiveProblem struct {
	Addr   Address
	Source string // where the block is declared, e.g. "queues.flareops.hcl:12"
	Object string // what kind of object is missing, e.g. "Worker"
	Name   string // the missing object's name, e.g. "agent-worker"
	Detail string // what is wrong and what to do
}

// StandIn reports whether the built-in local Cloudflare can stand in for the missing
// object (a Worker: a placeholder script); other problems are problems there too.
func (p LiveProblem) StandIn() bool {
	switch p.Object {
	case "Worker", "containers application", "D1 database", "KV namespace", "R2 bucket", "PagerDuty service":
		return true
	}
	return false
}

func (p LiveProblem) String() string {
	return fmt.Sprintf("%s (%s): %s", p.Addr, p.Source, p.Detail)
}

// CheckLive runs ValidateLive for every kind of reg that implements it, with that kind's
// declarations, and returns the problems as the planner words them ("ADDRESS (SOURCE):
// detail"). The planner calls it once per plan, next to observing the account, and fails
// the plan with the problems.
//
// standIn is true when the target is the built-in local Cloudflare, which has none of the
// objects flareops does not manage (nobody deploys Workers to it) and accepts references to
// them: it stands in for them. A missing object is then not a problem but a note, one per
// object, for the plan's warnings.
func CheckLive(ctx context.Context, reg *Registry, desired []Desired, standIn bool) (problems, notes []string, err error) {
	found, err := liveProblems(ctx, reg, desired)
	if err != nil {
		return nil, nil, err
	}
	var stood []LiveProblem
	for _, p := range found {
		if standIn && p.StandIn() {
			stood = append(stood, p)
			continue
		}
		problems = append(problems, p.String())
	}
	return problems, standInNotes(stood), nil
}

// liveProblems runs ValidateLive for every kind of reg that implements it.
func liveProblems(ctx context.Context, reg *Registry, desired []Desired) ([]LiveProblem, error) {
	byKind := map[string][]Desired{}
	for _, d := range desired {
		byKind[d.Addr.Kind] = append(byKind[d.Addr.Kind], d)
	}
	var out []LiveProblem
	for _, k := range reg.Kinds() {
		lv, ok := k.(LiveValidator)
		if !ok || len(byKind[k.Name()]) == 0 {
			continue
		}
		found, err := lv.ValidateLive(ctx, byKind[k.Name()])
		if err != nil {
			return nil, fmt.Errorf("cannot check what the %s blocks refer to: %w", k.Name(), err)
		}
		out = append(out, found...)
	}
	return out, nil
}

// StandIn is an object the built-in local Cloudflare stands in for: one that a
// configuration refers to and that nobody deploys there (a consumer's Worker).
type StandIn struct {
	Object string `json:"object"` // "Worker"
	Name   string `json:"name"`
}

// standIns lists each missing object once, in order of first use.
func standIns(found []LiveProblem) []StandIn {
	var out []StandIn
	seen := map[StandIn]bool{}
	for _, p := range found {
		s := StandIn{Object: p.Object, Name: p.Name}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// standInNotes words the stand-ins for the plan's warnings, one per object.
func standInNotes(found []LiveProblem) []string {
	users := map[StandIn][]string{}
	for _, p := range found {
		s := StandIn{Object: p.Object, Name: p.Name}
		users[s] = append(users[s], p.Addr.String())
	}
	var notes []string
	for _, s := range standIns(found) {
		notes = append(notes, fmt.Sprintf("the local Cloudflare stands in for %s %s, which does not exist there (used by %s): apply creates a placeholder", s.Object, PlainOrQuoted(s.Name), strings.Join(users[s], ", ")))
	}
	return notes
}

// ScriptLister lists the account's Worker scripts (the Worker merge's interface); the
// queue kind checks consumers' Workers when its API is also a ScriptLister.
type ScriptLister = workerset.ScriptLister

var _ LiveValidator = QueueKind{}

// ValidateLive checks that the Worker of every worker consumer exists, with one list of the
// account's scripts. Cloudflare refuses a consumer whose Worker does not exist; without
// this check the apply would fail halfway, after creating the queues.
func (k QueueKind) ValidateLive(ctx context.Context, desired []Desired) ([]LiveProblem, error) {
	type use struct {
		d      Desired
		worker string
	}
	var uses []use
	for _, d := range desired {
		obj, err := k.Build(d.Values)
		if err != nil {
			continue
		}
		for _, c := range obj.Spec.(QueueSpec).Consumers {
			if c.Type != "http_pull" && c.Worker != "" {
				uses = append(uses, use{d, c.Worker})
			}
		}
	}
	lister, ok := k.API.(ScriptLister)
	if len(uses) == 0 || !ok {
		return nil, nil
	}
	scripts, err := lister.ListScripts(ctx)
	if err != nil {
		return nil, err
	}
	exists := map[string]bool{}
	names := make([]string, 0, len(scripts))
	for _, s := range scripts {
		exists[s.Name] = true
		names = append(names, s.Name)
	}
	sort.Strings(names)
	var problems []LiveProblem
	for _, u := range uses {
		if exists[u.worker] {
			continue
		}
		problems = append(problems, LiveProblem{
			Addr: u.d.Addr, Source: u.d.Source, Object: "Worker", Name: u.worker,
			Detail: fmt.Sprintf("the consumer's Worker %q does not exist in the account, and Cloudflare refuses a consumer without its Worker.%s "+
				"Deploy the Worker first (wrangler deploy), or correct worker to the name of a deployed Worker (names are case-sensitive; "+
				"a Worker deployed to a wrangler environment is named <name>-<env>)", u.worker, suggest.DidYouMean(u.worker, names)),
		})
	}
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Addr.String() < problems[j].Addr.String() })
	return problems, nil
}
