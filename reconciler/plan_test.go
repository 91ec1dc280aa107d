package reconciler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// fakeSpec is the spec of the fake kind "thing": a name, a size that updates in place
// and a zone that forces replacement.
type fakeSpec struct {
	Name string `diff:"name"`
	Size int64  `diff:"size"`
	Zone string `diff:"zone"`
}

// fakeKind is an in-memory account holding objects of kind "thing". Fail makes the
// operations on a key fail.
type fakeKind struct {
	mu    sync.Mutex
	objs  map[string]Object // by id
	next  int
	calls []string
	fail  map[string]bool
	lose  map[string]bool
}

func newFakeKind() *fakeKind {
	return &fakeKind{objs: map[string]Object{}, fail: map[string]bool{}, lose: map[string]bool{}}
}

func (f *fakeKind) Name() string    { return "thing" }
func (f *fakeKind) KeyAttr() string { return "name" }
func (f *fakeKind) Schema() BlockSchema {
	return BlockSchema{Attrs: []Attr{
		{Name: "name", Type: String, Required: true},
		{Name: "size", Type: Int},
		{Name: "zone", Type: String, ForceNew: true},
	}}
}

func (f *fakeKind) Build(v Values) (Object, error) {
	size, _ := v.int("size")
	return Object{Key: v.str("name"), Spec: fakeSpec{Name: v.str("name"), Size: size, Zone: v.str("zone")}}, nil
}

func (f *fakeKind) Flatten(spec any) Values {
	s := spec.(fakeSpec)
	return Values{"name": s.Name, "size": s.Size, "zone": s.Zone}
}

func (f *fakeKind) Observe(context.Context) ([]Object, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "observe")
	var out []Object
	for _, o := range f.objs {
		out = append(out, o)
	}
	return out, nil
}

func (f *fakeKind) record(op, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, op+" "+key)
	if f.fail[key] {
		return fmt.Errorf("injected failure on %s", key)
	}
	return nil
}

// Create refuses a taken name as Cloudflare does (HTTP 400, code 11009). A key in lose
// is created but its answer is lost (a 502).
func (f *fakeKind) Create(_ context.Context, d Object) (string, error) {
	if err := f.record("create", d.Key); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range f.objs {
		if o.Key == d.Key {
			return "", &cloudflare.APIError{Status: 400, Codes: []int{11009}, Messages: []string{"queue name already taken"}}
		}
	}
	f.next++
	id := fmt.Sprintf("id-%d", f.next)
	f.objs[id] = Object{Key: d.Key, ID: id, Spec: d.Spec}
	if f.lose[d.Key] {
		delete(f.lose, d.Key)
		return "", &cloudflare.APIError{Status: 502, Messages: []string{"bad gateway"}}
	}
	return id, nil
}

func (f *fakeKind) Update(_ context.Context, id string, _, d Object) error {
	if err := f.record("update", d.Key); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objs[id] = Object{Key: d.Key, ID: id, Spec: d.Spec}
	return nil
}

func (f *fakeKind) Delete(_ context.Context, id string, l Object) error {
	if err := f.record("delete", l.Key); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.objs, id)
	return nil
}

func (f *fakeKind) Impact(a Action, c FieldChange, _, _ any) string {
	if c.Field == "size" && a == Update {
		return "size changes " + c.Old + " → " + c.New
	}
	return ""
}

// put adds a live object directly (as if made outside flareops).
func (f *fakeKind) put(key string, size int64) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	id := fmt.Sprintf("id-%d", f.next)
	f.objs[id] = Object{Key: key, ID: id, Spec: fakeSpec{Name: key, Size: size}}
	return id
}

func thing(name string, size int64, deps ...string) Desired {
	d := Desired{Addr: Address{"thing", name}, Values: Values{"name": name, "size": size}, Source: "test.flareops.hcl:1"}
	for _, dep := range deps {
		d.Deps = append(d.Deps, Address{"thing", dep})
	}
	return d
}

func newTestEngine(t *testing.T, k *fakeKind) *Engine {
	t.Helper()
	reg, err := NewRegistry(k)
	if err != nil {
		t.Fatal(err)
	}
	return &Engine{Registry: reg, State: NewMemoryState()}
}

func actions(p *Plan) []string {
	var out []string
	for _, c := range p.Changes {
		out = append(out, string(c.Action)+" "+c.Address)
	}
	return out
}

func mustPlan(t *testing.T, e *Engine, ds ...Desired) *Plan {
	t.Helper()
	p, err := e.Plan(context.Background(), ds)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return p
}

func mustApply(t *testing.T, e *Engine, p *Plan) {
	t.Helper()
	if err := e.Apply(context.Background(), p, ApplyOptions{Parallelism: 4}); err != nil {
		t.Fatalf("apply: %v", err)
	}
}

func TestPlanOrdersCreatesAfterTheirDependencies(t *testing.T) {
	k := newFakeKind()
	e := newTestEngine(t, k)
	p := mustPlan(t, e, thing("a_jobs", 1, "z_dlq"), thing("z_dlq", 1), thing("m_other", 1))
	want := []string{"create thing.m_other", "create thing.z_dlq", "create thing.a_jobs"}
	if diff := cmp.Diff(want, actions(p)); diff != "" {
		t.Fatalf("order (-want +got):\n%s", diff)
	}
	mustApply(t, e, p)
	// The dependency must have been created before its user, even with parallelism.
	var creates []string
	for _, c := range k.calls {
		if strings.HasPrefix(c, "create ") {
			creates = append(creates, c)
		}
	}
	if idx(creates, "create z_dlq") > idx(creates, "create a_jobs") {
		t.Fatalf("a_jobs created before its dependency: %v", creates)
	}
	if p2 := mustPlan(t, e, thing("a_jobs", 1, "z_dlq"), thing("z_dlq", 1), thing("m_other", 1)); p2.HasChanges() {
		t.Fatalf("second plan has changes: %v", actions(p2))
	}
}

func idx(ss []string, s string) int {
	for i, x := range ss {
		if x == s {
			return i
		}
	}
	return -1
}

func TestPlanActions(t *testing.T) {
	k := newFakeKind()
	e := newTestEngine(t, k)
	mustApply(t, e, mustPlan(t, e, thing("keep", 1), thing("grow", 1), thing("move", 1), thing("gone", 1), thing("vanish", 1)))

	// Out of band: "vanish" is deleted in the account.
	for id, o := range k.objs {
		if o.Key == "vanish" {
			delete(k.objs, id)
		}
	}
	move := thing("move", 1)
	move.Values["zone"] = "eu"
	p := mustPlan(t, e, thing("keep", 1), thing("grow", 2), move, thing("vanish", 1), thing("new", 1))
	got := map[string]Action{}
	for _, c := range p.Changes {
		got[c.Address] = c.Action
	}
	want := map[string]Action{
		"thing.keep": NoOp, "thing.grow": Update, "thing.move": Replace,
		"thing.gone": Delete, "thing.vanish": Create, "thing.new": Create,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("actions (-want +got):\n%s", diff)
	}
	for _, c := range p.Changes {
		switch c.Address {
		case "thing.grow":
			wantFields := []FieldChange{{Path: "size", Old: "1", New: "2", OldSet: true, NewSet: true, Field: "size", OldRaw: int64(1), NewRaw: int64(2), Origin: OriginConfig}}
			if diff := cmp.Diff(wantFields, c.Fields); diff != "" {
				t.Errorf("grow fields (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"size changes 1 → 2"}, c.Impact); diff != "" {
				t.Errorf("grow impact (-want +got):\n%s", diff)
			}
		case "thing.vanish":
			if !strings.Contains(c.Reason, "deleted outside flareops") {
				t.Errorf("vanish reason = %q", c.Reason)
			}
		}
	}
	mustApply(t, e, p)
	if p2 := mustPlan(t, e, thing("keep", 1), thing("grow", 2), move, thing("vanish", 1), thing("new", 1)); p2.HasChanges() {
		t.Fatalf("plan after apply has changes: %v", actions(p2))
	}
	if _, ok := e.State.Get("thing.gone"); ok {
		t.Error("deleted object still in state")
	}
}

func TestPlanRefusesUnmanagedAndProtected(t *testing.T) {
	t.Run("existing object not managed", func(t *testing.T) {
		k := newFakeKind()
		id := k.put("taken", 1)
		e := newTestEngine(t, k)
		_, err := e.Plan(context.Background(), []Desired{thing("taken", 1)})
		var pe *PlanError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "flareops import thing.taken taken") || !strings.Contains(err.Error(), id) {
			t.Fatalf("err = %v; want a PlanError suggesting import", err)
		}
		if len(k.calls) != 1 {
			t.Fatalf("plan made calls other than observe: %v", k.calls)
		}
	})
	t.Run("prevent_destroy", func(t *testing.T) {
		k := newFakeKind()
		e := newTestEngine(t, k)
		d := thing("precious", 1)
		d.PreventDestroy = true
		mustApply(t, e, mustPlan(t, e, d))
		_, err := e.Plan(context.Background(), nil)
		if err == nil || !strings.Contains(err.Error(), "prevent_destroy") {
			t.Fatalf("err = %v; want prevent_destroy refusal", err)
		}
	})
	t.Run("never deletes what it does not manage", func(t *testing.T) {
		k := newFakeKind()
		k.put("foreign", 1)
		e := newTestEngine(t, k)
		mustApply(t, e, mustPlan(t, e, thing("mine", 1)))
		p := mustPlan(t, e)
		if diff := cmp.Diff([]string{"delete thing.mine"}, actions(p)); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	})
}

func TestDeletesWaitForTheirUsers(t *testing.T) {
	k := newFakeKind()
	e := newTestEngine(t, k)
	mustApply(t, e, mustPlan(t, e, thing("a_dlq", 1), thing("b_jobs", 1, "a_dlq")))
	p := mustPlan(t, e)
	if diff := cmp.Diff([]string{"delete thing.b_jobs", "delete thing.a_dlq"}, actions(p)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"thing.b_jobs"}, p.Changes[1].DependsOn); diff != "" {
		t.Fatalf("dlq delete must wait for its user (-want +got):\n%s", diff)
	}
}

func TestApplyFailureStopsOnlyDependents(t *testing.T) {
	k := newFakeKind()
	k.fail["dlq"] = true
	e := newTestEngine(t, k)
	p := mustPlan(t, e, thing("dlq", 1), thing("jobs", 1, "dlq"), thing("other", 1))
	err := e.Apply(context.Background(), p, ApplyOptions{Parallelism: 2})
	var ae *ApplyError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v; want ApplyError", err)
	}
	if _, ok := ae.Failed["thing.dlq"]; !ok || len(ae.Failed) != 1 {
		t.Errorf("failed = %v", ae.Failed)
	}
	if diff := cmp.Diff([]string{"thing.jobs"}, ae.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	if en, ok := e.State.Get("thing.other"); !ok || en.ID == "" {
		t.Errorf("independent change not applied and recorded: %+v", en)
	}
	// The failed create left a pending entry; nothing live exists, so the rerun creates.
	k.fail["dlq"] = false
	p2 := mustPlan(t, e, thing("dlq", 1), thing("jobs", 1, "dlq"), thing("other", 1))
	if diff := cmp.Diff([]string{"create thing.dlq", "create thing.jobs", "no-op thing.other"}, actions(p2)); diff != "" {
		t.Fatalf("rerun (-want +got):\n%s", diff)
	}
	mustApply(t, e, p2)
	if len(k.objs) != 3 {
		t.Fatalf("live objects = %d, want 3 (no duplicates)", len(k.objs))
	}
}

func TestLostCreateAnswerIsAdopted(t *testing.T) {
	k := newFakeKind()
	e := newTestEngine(t, k)
	// An apply recorded its intent, created the object, and died before recording the id.
	if err := e.State.Put("thing.x", StateEntry{Kind: "thing", Key: "x", Pending: true}); err != nil {
		t.Fatal(err)
	}
	k.put("x", 1)
	p := mustPlan(t, e, thing("x", 2))
	if diff := cmp.Diff([]string{"adopt thing.x"}, actions(p)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	mustApply(t, e, p)
	if len(k.objs) != 1 {
		t.Fatalf("live objects = %d, want 1", len(k.objs))
	}
	if p2 := mustPlan(t, e, thing("x", 2)); p2.HasChanges() {
		t.Fatalf("not converged: %v", actions(p2))
	}
}

// hashRows must hash exactly what hashSpec hashes (saved plans compare these).
func TestHashRowsIsHashSpec(t *testing.T) {
	type row struct {
		A string
		B any
	}
	for _, rows := range [][]row{nil, {}, {{"a", 1}}, {{"a", map[string]any{"x": []int{1, 2}}}, {"<b>", nil}}} {
		got := hashRows(rows == nil, func(add func(any)) {
			for _, r := range rows {
				add(r)
			}
		})
		if want := hashSpec(rows); got != want {
			t.Errorf("%v: hashRows %s, hashSpec %s", rows, got, want)
		}
	}
}
