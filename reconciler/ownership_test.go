package reconciler

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// setSize changes a live object outside flareops.
func (f *fakeKind) setSize(key string, size int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, o := range f.objs {
		if o.Key == key {
			s := o.Spec.(fakeSpec)
			s.Size = size
			o.Spec = s
			f.objs[id] = o
		}
	}
}

func (f *fakeKind) remove(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, o := range f.objs {
		if o.Key == key {
			delete(f.objs, id)
		}
	}
}

func planErr(t *testing.T, e *Engine, want string, ds ...Desired) {
	t.Helper()
	_, err := e.Plan(context.Background(), ds)
	var pe *PlanError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v; want a PlanError", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v; want it to say %q", err, want)
	}
}

func TestNoTakeoverOfANameSomeoneElseTook(t *testing.T) {
	k := newFakeKind()
	e := newTestEngine(t, k)
	mustApply(t, e, mustPlan(t, e, thing("legacy", 1)))
	old, _ := e.State.Get("thing.legacy")
	k.remove("legacy")
	theirs := k.put("legacy", 7) // someone else's object under the same name
	planErr(t, e, "flareops import thing.legacy "+theirs, thing("legacy", 1))
	planErr(t, e, "deleted outside flareops", thing("legacy", 1))
	if got, _ := e.State.Get("thing.legacy"); got.ID != old.ID {
		t.Fatalf("state changed by a refused plan: %+v", got)
	}
	if k.objs[theirs].Spec.(fakeSpec).Size != 7 {
		t.Fatal("foreign object changed")
	}
}

func TestDeletedOutsideIsRecreatedAsOutsideChange(t *testing.T) {
	k := newFakeKind()
	e := newTestEngine(t, k)
	mustApply(t, e, mustPlan(t, e, thing("a", 1)))
	k.remove("a")
	p := mustPlan(t, e, thing("a", 1))
	if c := p.Changes[0]; c.Action != Create || c.Origin != OriginOutside {
		t.Fatalf("change = %s origin %q; want a create of origin outside", c.Action, c.Origin)
	}
}

func TestCreateNeverAdoptsOnADefiniteNameTaken(t *testing.T) {
	k := newFakeKind()
	e := newTestEngine(t, k)
	p := mustPlan(t, e, thing("x", 1), thing("y", 1))
	theirs := k.put("x", 9) // created by someone else between plan and apply
	err := e.Apply(context.Background(), p, ApplyOptions{Parallelism: 1})
	var ae *ApplyError
	if !errors.As(err, &ae) || ae.Failed["thing.x"] == nil {
		t.Fatalf("err = %v; want thing.x to fail", err)
	}
	msg := ae.Failed["thing.x"].Error()
	for _, want := range []string{"created by someone else", "import thing.x x", "11009"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if strings.Count(msg, "11009") != 1 {
		t.Errorf("error repeats the API's message: %q", msg)
	}
	if _, ok := e.State.Get("thing.x"); ok {
		t.Error("a definite refusal left a pending marker: the next plan would adopt someone else's object")
	}
	if k.objs[theirs].Spec.(fakeSpec).Size != 9 {
		t.Error("foreign object changed")
	}
	if en, _ := e.State.Get("thing.y"); en.ID == "" {
		t.Error("unrelated create not applied")
	}
}

func TestLostAnswerIsAdoptedOnlyAfterOwnAttempt(t *testing.T) {
	k := newFakeKind()
	k.lose["x"] = true
	e := newTestEngine(t, k)
	mustApply(t, e, mustPlan(t, e, thing("x", 3)))
	if len(k.objs) != 1 {
		t.Fatalf("live objects = %d, want 1", len(k.objs))
	}
	en, _ := e.State.Get("thing.x")
	if en.ID == "" || en.Pending {
		t.Fatalf("state = %+v; want the created id recorded", en)
	}
	if p := mustPlan(t, e, thing("x", 3)); p.HasChanges() {
		t.Fatalf("not converged: %v", actions(p))
	}
}

func TestRenameOntoATakenNameIsAPlanError(t *testing.T) {
	k := newFakeKind()
	e := newTestEngine(t, k)
	mustApply(t, e, mustPlan(t, e, thing("a", 1)))
	k.put("b", 1)
	renamed := thing("a", 1)
	renamed.Values["name"] = "b"
	planErr(t, e, `renaming thing "a" to "b" would collide`, renamed)
}

func TestOriginsTellOutsideChangesFromConfiguration(t *testing.T) {
	k := newFakeKind()
	e := newTestEngine(t, k)
	mustApply(t, e, mustPlan(t, e, thing("a", 1), thing("b", 1), thing("c", 1)))
	k.setSize("a", 5) // outside only
	k.setSize("c", 5) // outside, and the configuration changes too
	p := mustPlan(t, e, thing("a", 1), thing("b", 2), thing("c", 3))
	got := map[string][2]string{}
	for _, c := range p.Changes {
		if len(c.Fields) == 1 {
			got[c.Address] = [2]string{c.Origin, c.Fields[0].Applied}
		}
	}
	want := map[string][2]string{
		"thing.a": {OriginOutside, "1"},
		"thing.b": {OriginConfig, ""},
		"thing.c": {OriginBoth, "1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("origins (-want +got):\n%s", diff)
	}
}

func TestDestroyTakesPreventDestroyFromTheConfiguration(t *testing.T) {
	k := newFakeKind()
	e := newTestEngine(t, k)
	d := thing("precious", 1)
	d.PreventDestroy = true
	mustApply(t, e, mustPlan(t, e, d))
	// Turned off in the configuration but not applied yet: the configuration decides.
	d.PreventDestroy = false
	p, err := e.PlanDestroy(context.Background(), []Desired{d})
	if err != nil {
		t.Fatalf("destroy with prevent_destroy = false in the configuration: %v", err)
	}
	if diff := cmp.Diff([]string{"delete thing.precious"}, actions(p)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	// Removed from the configuration: the state's memory protects it.
	if _, err := e.PlanDestroy(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "prevent_destroy") {
		t.Fatalf("err = %v; want the state's prevent_destroy to protect a removed block", err)
	}
	// Declared with prevent_destroy = true: refused whatever the state says.
	d.PreventDestroy = true
	if _, err := e.PlanDestroy(context.Background(), []Desired{d}); err == nil {
		t.Fatal("destroy of a protected block was planned")
	}
}

func TestSavedPlanRecheck(t *testing.T) {
	k := newFakeKind()
	e := newTestEngine(t, k)
	mustApply(t, e, mustPlan(t, e, thing("a", 1), thing("b", 1), thing("dlq", 1)))
	cfg := []Desired{thing("a", 2), thing("b", 1), thing("dlq", 1), thing("user", 1, "dlq")}
	saved := mustPlan(t, e, cfg...)

	k.put("unrelated", 1) // someone else's new object
	k.setSize("b", 4)     // drift of an object the plan leaves alone
	fresh := mustPlan(t, e, cfg...)
	got, err := Recheck(saved, fresh)
	if err != nil {
		t.Fatalf("recheck refused a plan whose objects did not change: %v", err)
	}
	for _, c := range got.Changes {
		if c.Address == "thing.b" && c.Action != NoOp {
			t.Errorf("the saved plan left thing.b alone, but applying it would %s it", c.Action)
		}
	}

	k.setSize("a", 7) // an object the plan updates
	fresh = mustPlan(t, e, cfg...)
	if _, err := Recheck(saved, fresh); err == nil || !strings.Contains(err.Error(), "thing.a: size was 1 when planned, is now 7") {
		t.Fatalf("err = %v; want a refusal naming thing.a and how it changed", err)
	}
	k.setSize("a", 1)
	k.setSize("dlq", 3) // referenced by a planned create
	fresh = mustPlan(t, e, cfg...)
	if _, err := Recheck(saved, fresh); err == nil || !strings.Contains(err.Error(), "thing.dlq") {
		t.Fatalf("err = %v; want a refusal naming the referenced thing.dlq", err)
	}
}

func TestRenamingEverythingWarns(t *testing.T) {
	k := newFakeKind()
	e := newTestEngine(t, k)
	mustApply(t, e, mustPlan(t, e, thing("a", 1), thing("b", 1)))
	a, b := thing("a", 1), thing("b", 1)
	a.Values["name"], b.Values["name"] = "prod-a", "prod-b"
	p := mustPlan(t, e, a, b)
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "another workspace") {
		t.Fatalf("warnings = %q", p.Warnings)
	}
	b.Values["name"] = "b"
	if p := mustPlan(t, e, a, b); len(p.Warnings) != 0 {
		t.Fatalf("warnings for a single rename: %q", p.Warnings)
	}
}

func TestInterruptedApplyReportsWhatWasNotStarted(t *testing.T) {
	k := newFakeKind()
	e := newTestEngine(t, k)
	p := mustPlan(t, e, thing("a", 1), thing("b", 1, "a"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var events []Event
	err := e.Apply(ctx, p, ApplyOptions{Parallelism: 1, Progress: func(ev Event) { events = append(events, ev) }})
	var ae *ApplyError
	if !errors.As(err, &ae) || !ae.Interrupted {
		t.Fatalf("err = %v; want an interrupted ApplyError", err)
	}
	if strings.Contains(err.Error(), "context canceled") {
		t.Errorf("error speaks of contexts: %v", err)
	}
	if len(k.objs) != 0 {
		t.Errorf("objects created after the interrupt: %d", len(k.objs))
	}
}

// otherKind is a second fake kind whose ids collide with thing's ("id-1", ...).
type otherKind struct{ *fakeKind }

func (otherKind) Name() string { return "other" }

func TestIdsAreUniqueOnlyWithinAKind(t *testing.T) {
	a, b := newFakeKind(), newFakeKind()
	reg, err := NewRegistry(a, otherKind{b})
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{Registry: reg, State: NewMemoryState()}
	x := thing("x", 1)
	y := thing("x", 1)
	y.Addr.Kind = "other"
	mustApply(t, e, mustPlan(t, e, x, y))
	if ex, _ := e.State.Get("thing.x"); ex.ID != "id-1" {
		t.Fatalf("thing.x id = %q", ex.ID)
	}
	if p := mustPlan(t, e, x, y); p.HasChanges() {
		t.Fatalf("second plan: %v", actions(p))
	}
}
