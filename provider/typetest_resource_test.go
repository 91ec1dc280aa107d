package provider

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler"
)

// flareops_typetest exists only in these tests. Its kind, typetestKind, declares every
// setting of the StringList and Float types (in the shapes analytics_dataset and
// worker_settings use them) and keeps its objects in memory, so that those types go
// through the schema agreement test and a real tofu plan, apply, refresh and import
// without an API of their own. The kind is a fake of our own Kind interface; everything
// between it and tofu is the real provider.

var typetestSchema = reconciler.BlockSchema{
	Attrs: []reconciler.Attr{
		{Name: "name", Type: reconciler.String, Required: true, Description: "The object's name."},
		{Name: "labels", Type: reconciler.StringList, MaxItems: 3, Unique: true, MaxLen: 10,
			Pattern: regexp.MustCompile(`^[a-z][a-z0-9_]*$`), PatternText: "lowercase letters, digits and `_`, starting with a letter",
			Description: "Labels, written as the user likes: left out and `[]` both mean none."},
		{Name: "tags", Type: reconciler.StringList, Default: []string{}, Description: "Tags."},
		{Name: "outcomes", Type: reconciler.StringList, Enum: []string{"ok", "error"}, Description: "Outcomes counted."},
		{Name: "rate", Type: reconciler.Float, FloatBounded: true, FloatMin: 0, FloatMax: 1, Description: "A sampling rate from 0 to 1."},
		{Name: "weight", Type: reconciler.Float, Default: 1, Description: "Any number."},
		{Name: "frozen", Type: reconciler.StringList, ForceNew: true, Description: "Cannot change in place."},
	},
	Blocks: []reconciler.NestedBlock{{
		Name: "columns", MaxItems: 1, Description: "Names of positional columns.",
		Schema: reconciler.BlockSchema{Attrs: []reconciler.Attr{
			{Name: "blobs", Type: reconciler.StringList, MaxItems: 3, Unique: true, Description: "blob1, blob2, ..."},
			{Name: "doubles", Type: reconciler.StringList, Unique: true, Description: "double1, double2, ..."},
		}},
	}},
}

// typetestSpec is the normalized spec: absent and empty lists are both nil.
type typetestSpec struct {
	Name     string   `diff:"name"`
	Labels   []string `diff:"labels"`
	Tags     []string `diff:"tags"`
	Outcomes []string `diff:"outcomes"`
	Rate     *float64 `diff:"rate"`
	Weight   float64  `diff:"weight"`
	Frozen   []string `diff:"frozen"`
	Blobs    []string `diff:"blobs"`
	Doubles  []string `diff:"doubles"`
	Columns  bool     `diff:"-"`
}

// typetestStore is the in-memory account of flareops_typetest objects, by id.
type typetestStore struct {
	mu    sync.Mutex
	objs  map[string]typetestSpec
	next  int
	calls int // Create, Update and Delete calls
}

func newTypetestStore() *typetestStore { return &typetestStore{objs: map[string]typetestSpec{}} }

func (s *typetestStore) get(id string) (typetestSpec, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objs[id]
	return o, ok
}

func (s *typetestStore) set(id string, spec typetestSpec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objs[id] = spec
}

type typetestKind struct{ store *typetestStore }

func (typetestKind) Name() string                   { return "typetest" }
func (typetestKind) Schema() reconciler.BlockSchema { return typetestSchema }
func (typetestKind) KeyAttr() string                { return "name" }
func (typetestKind) Impact(reconciler.Action, reconciler.FieldChange, any, any) string {
	return ""
}

func listOf(v reconciler.Values, name string) []string {
	s, _ := v[name].([]string)
	if len(s) == 0 {
		return nil
	}
	return s
}

func (typetestKind) Build(v reconciler.Values) (reconciler.Object, error) {
	spec := typetestSpec{Name: v["name"].(string), Labels: listOf(v, "labels"), Tags: listOf(v, "tags"),
		Outcomes: listOf(v, "outcomes"), Frozen: listOf(v, "frozen")}
	if r, ok := v["rate"].(float64); ok {
		spec.Rate = &r
	}
	spec.Weight, _ = v["weight"].(float64)
	if cols, _ := v["columns"].([]reconciler.Values); len(cols) > 0 {
		spec.Columns, spec.Blobs, spec.Doubles = true, listOf(cols[0], "blobs"), listOf(cols[0], "doubles")
	}
	return reconciler.Object{Key: spec.Name, Spec: spec}, nil
}

// Flatten leaves empty lists out, except tags (which has a default): the provider must
// write both as the configuration has them.
func (typetestKind) Flatten(spec any) reconciler.Values {
	s := spec.(typetestSpec)
	v := reconciler.Values{"name": s.Name, "weight": s.Weight, "tags": append([]string{}, s.Tags...)}
	for name, l := range map[string][]string{"labels": s.Labels, "outcomes": s.Outcomes, "frozen": s.Frozen} {
		if len(l) > 0 {
			v[name] = l
		}
	}
	if s.Rate != nil {
		v["rate"] = *s.Rate
	}
	if s.Columns {
		cols := reconciler.Values{}
		if len(s.Blobs) > 0 {
			cols["blobs"] = s.Blobs
		}
		if len(s.Doubles) > 0 {
			cols["doubles"] = s.Doubles
		}
		v["columns"] = []reconciler.Values{cols}
	}
	return v
}

func (k typetestKind) Observe(context.Context) ([]reconciler.Object, error) {
	k.store.mu.Lock()
	defer k.store.mu.Unlock()
	var out []reconciler.Object
	for id, s := range k.store.objs {
		out = append(out, reconciler.Object{Key: s.Name, ID: id, Spec: s})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (k typetestKind) Create(_ context.Context, desired reconciler.Object) (string, error) {
	k.store.mu.Lock()
	defer k.store.mu.Unlock()
	k.store.next++
	k.store.calls++
	id := "tt-" + strconv.Itoa(k.store.next)
	k.store.objs[id] = clone(desired.Spec.(typetestSpec))
	return id, nil
}

func (k typetestKind) Update(_ context.Context, id string, _, desired reconciler.Object) error {
	k.store.mu.Lock()
	defer k.store.mu.Unlock()
	if _, ok := k.store.objs[id]; !ok {
		return fmt.Errorf("typetest %s: %w", id, reconciler.ErrNotFound)
	}
	k.store.calls++
	k.store.objs[id] = clone(desired.Spec.(typetestSpec))
	return nil
}

func (k typetestKind) Delete(_ context.Context, id string, _ reconciler.Object) error {
	k.store.mu.Lock()
	defer k.store.mu.Unlock()
	k.store.calls++
	delete(k.store.objs, id)
	return nil
}

// clone keeps the store's lists apart from the engine's.
func clone(s typetestSpec) typetestSpec {
	s.Labels, s.Tags, s.Outcomes, s.Frozen = slices.Clone(s.Labels), slices.Clone(s.Tags), slices.Clone(s.Outcomes), slices.Clone(s.Frozen)
	s.Blobs, s.Doubles = slices.Clone(s.Blobs), slices.Clone(s.Doubles)
	if s.Rate != nil {
		r := *s.Rate
		s.Rate = &r
	}
	return s
}

// typetestResource is the real kindResource over the fake kind. Configure takes the
// kind from the test rather than the provider's registry, where it is not.
type typetestResource struct {
	*kindResource
	store *typetestStore
}

func newTypetestResource(store *typetestStore) func() fwresource.Resource {
	return func() fwresource.Resource {
		return typetestResource{&kindResource{
			schemaKind:  typetestKind{},
			description: "Lists of strings and fractional numbers, for tests.",
		}, store}
	}
}

func (r typetestResource) Configure(_ context.Context, req fwresource.ConfigureRequest, resp *fwresource.ConfigureResponse) {
	if req.ProviderData == nil {
		return
	}
	pd, ok := req.ProviderData.(*providerData)
	if !ok {
		unconfigured(&resp.Diagnostics, "configure flareops_typetest")
		return
	}
	r.kind, r.cache, r.account = typetestKind{r.store}, pd.cache, pd.accountID
}

// typetestProvider is the real provider with flareops_typetest beside its resources.
type typetestProvider struct {
	provider.Provider
	store *typetestStore
}

func (p typetestProvider) Resources(ctx context.Context) []func() fwresource.Resource {
	return append(p.Provider.Resources(ctx), newTypetestResource(p.store))
}

func typetestFactories(store *typetestStore) map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"flareops": providerserver.NewProtocol6WithError(typetestProvider{New("test")(), store}),
	}
}

const typetestAddr = "flareops_typetest.t"

// typetestConfig is a flareops_typetest resource with body.
func typetestConfig(tg *target, body string) string {
	return tg.providerBlock() + "\nresource \"flareops_typetest\" \"t\" {\n  name = \"t\"\n" + body + "\n}\n"
}

// TestListsAndFloatsThroughTofu runs lists and fractional numbers through a real tofu:
// plan, apply, refresh and import give back what the configuration says, a list left out
// stays null and [] stays [], a number stays as written, values known only at apply
// plan as unknown, and every step ends with an empty plan.
func TestListsAndFloatsThroughTofu(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	store := newTypetestStore()
	empty := resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}
	withEmpty := func(pre ...plancheck.PlanCheck) resource.ConfigPlanChecks {
		return resource.ConfigPlanChecks{PreApply: pre, PostApplyPostRefresh: empty.PostApplyPostRefresh}
	}
	at := func(name string) tfjsonpath.Path { return tfjsonpath.New(name) }
	blobs := at("columns").AtSliceIndex(0).AtMapKey("blobs")
	doubles := at("columns").AtSliceIndex(0).AtMapKey("doubles")
	strList := func(ss ...string) knownvalue.Check {
		checks := make([]knownvalue.Check, len(ss))
		for i, s := range ss {
			checks[i] = knownvalue.StringExact(s)
		}
		return knownvalue.ListExact(checks)
	}
	first := typetestConfig(tg, `  rate = 0.1
  columns {
    blobs = ["service", "route"]
  }`)
	tg.run(t, resource.TestCase{
		ProtoV6ProviderFactories: typetestFactories(store),
		Steps: []resource.TestStep{
			{ // left out: null (labels, doubles) or the default (tags [], weight 1)
				Config: first,
				ConfigPlanChecks: withEmpty(
					plancheck.ExpectResourceAction(typetestAddr, plancheck.ResourceActionCreate),
					plancheck.ExpectKnownValue(typetestAddr, at("tags"), strList()),
					plancheck.ExpectKnownValue(typetestAddr, at("weight"), knownvalue.Float64Exact(1)),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(typetestAddr, at("labels"), knownvalue.Null()),
					statecheck.ExpectKnownValue(typetestAddr, at("tags"), strList()),
					statecheck.ExpectKnownValue(typetestAddr, at("rate"), knownvalue.Float64Exact(0.1)),
					statecheck.ExpectKnownValue(typetestAddr, at("weight"), knownvalue.Float64Exact(1)),
					statecheck.ExpectKnownValue(typetestAddr, blobs, strList("service", "route")),
					statecheck.ExpectKnownValue(typetestAddr, doubles, knownvalue.Null()),
				},
				Check: store.check(func(s typetestSpec) error {
					if s.Rate == nil || *s.Rate != 0.1 || s.Weight != 1 || !slices.Equal(s.Blobs, []string{"service", "route"}) || s.Labels != nil {
						return fmt.Errorf("live object is %+v", s)
					}
					return nil
				}),
			},
			{ // import: what was left out reads back as left out
				ResourceName:      typetestAddr,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{ // written as []: stays [], and the engine sees no change
				Config: typetestConfig(tg, `  rate   = 0.1
  labels = []
  tags   = []
  columns {
    blobs   = ["service", "route"]
    doubles = []
  }`),
				ConfigPlanChecks: withEmpty(plancheck.ExpectResourceAction(typetestAddr, plancheck.ResourceActionUpdate)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(typetestAddr, at("labels"), strList()),
					statecheck.ExpectKnownValue(typetestAddr, doubles, strList()),
				},
			},
			{ // left out again: back to null
				Config:           first,
				ConfigPlanChecks: withEmpty(plancheck.ExpectResourceAction(typetestAddr, plancheck.ResourceActionUpdate)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(typetestAddr, at("labels"), knownvalue.Null()),
					statecheck.ExpectKnownValue(typetestAddr, doubles, knownvalue.Null()),
				},
			},
			{ // elements and numbers change in place, in the order written
				Config: typetestConfig(tg, `  rate     = 0.25
  weight   = -2.5
  labels   = ["b", "a"]
  outcomes = ["ok", "error"]
  columns {
    blobs   = ["route", "service", "outcome"]
    doubles = ["latency_ms"]
  }`),
				ConfigPlanChecks: withEmpty(
					plancheck.ExpectResourceAction(typetestAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(typetestAddr, at("labels"), strList("b", "a")),
					plancheck.ExpectKnownValue(typetestAddr, at("rate"), knownvalue.Float64Exact(0.25)),
				),
				Check: store.check(func(s typetestSpec) error {
					if *s.Rate != 0.25 || s.Weight != -2.5 || !slices.Equal(s.Labels, []string{"b", "a"}) || !slices.Equal(s.Blobs, []string{"route", "service", "outcome"}) {
						return fmt.Errorf("live object is %+v", s)
					}
					return nil
				}),
			},
			{ // import gives back every list and number as configured
				ResourceName:      typetestAddr,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{ // changed outside: the plan sets it back
				PreConfig: func() {
					store.mutate(t, func(s *typetestSpec) {
						r := 0.5
						s.Rate, s.Labels, s.Blobs = &r, []string{"z"}, nil
					})
				},
				Config: typetestConfig(tg, `  rate     = 0.25
  weight   = -2.5
  labels   = ["b", "a"]
  outcomes = ["ok", "error"]
  columns {
    blobs   = ["route", "service", "outcome"]
    doubles = ["latency_ms"]
  }`),
				ConfigPlanChecks: withEmpty(
					plancheck.ExpectNonEmptyPlan(),
					plancheck.ExpectResourceAction(typetestAddr, plancheck.ResourceActionUpdate),
				),
				Check: store.check(func(s typetestSpec) error {
					if *s.Rate != 0.25 || !slices.Equal(s.Labels, []string{"b", "a"}) || !slices.Equal(s.Blobs, []string{"route", "service", "outcome"}) {
						return fmt.Errorf("live object not set back: %+v", s)
					}
					return nil
				}),
			},
			{ // more digits than a float64 holds: the state keeps the configuration's number
				Config:           typetestConfig(tg, `  rate = 0.12345678901234567890123`),
				ConfigPlanChecks: withEmpty(plancheck.ExpectResourceAction(typetestAddr, plancheck.ResourceActionUpdate)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(typetestAddr, at("rate"), knownvalue.Float64Exact(0.12345678901234568)),
				},
			},
			{ // a list and a number known only at apply
				Config: typetestConfig(tg, `  labels = terraform_data.l.output
  rate   = terraform_data.r.output
}

resource "terraform_data" "l" {
  input = ["late"]
}

resource "terraform_data" "r" {
  input = 0.75`),
				ConfigPlanChecks: withEmpty(
					plancheck.ExpectResourceAction(typetestAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(typetestAddr, at("labels")),
					plancheck.ExpectUnknownValue(typetestAddr, at("rate")),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(typetestAddr, at("labels"), strList("late")),
					statecheck.ExpectKnownValue(typetestAddr, at("rate"), knownvalue.Float64Exact(0.75)),
					statecheck.ExpectKnownValue(typetestAddr, at("columns"), knownvalue.ListSizeExact(0)),
				},
			},
		},
	})
}

// TestListsAndFloatsValidatedByTofu: tofu rejects what the CLI rejects, in the engine's
// words, at the element at fault, before anything is made.
func TestListsAndFloatsValidatedByTofu(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	store := newTypetestStore()
	tests := []struct {
		body string
		want string
	}{
		{`  labels = ["a", "b", "c", "d"]`, `(?s)Too many elements.*labels must have at most 3 elements; got 4`},
		{`  labels = ["a", "b", "a"]`, `(?s)Duplicate element.*labels\[0\] and labels\[2\] are both "a": each element must\s+be different`},
		{`  labels = ["a", "Bad"]`, `(?s)Invalid value.*labels\[1\] must be lowercase letters, digits and ` + "`_`" + `, starting with a letter;\s+got "Bad"`},
		{`  labels = ["a", null]`, `(?s)labels\[1\] must be a string; got null`},
		{`  outcomes = ["okay"]`, `outcomes\[0\] must be one of "ok", "error"; got "okay"`},
		{`  rate = 1.5`, `(?s)Value out of range.*rate must be between 0 and 1; got 1.5`},
		{`  rate = -0.001`, `rate must be between 0 and 1; got -0.001`},
		{`  columns {
    blobs = ["a", "a"]
  }`, `(?s)Duplicate element.*blobs\[0\] and blobs\[1\] are both "a"`},
	}
	var steps []resource.TestStep
	for _, tt := range tests {
		steps = append(steps, resource.TestStep{Config: typetestConfig(tg, tt.body), PlanOnly: true, ExpectError: regexp.MustCompile(tt.want)})
	}
	tg.run(t, resource.TestCase{ProtoV6ProviderFactories: typetestFactories(store), Steps: steps})
	if store.calls != 0 || tg.srv.Counts().Total != 0 {
		t.Errorf("invalid configurations made %d changes and %d API requests, want none", store.calls, tg.srv.Counts().Total)
	}
}

// check runs f on the one live object.
func (s *typetestStore) check(f func(typetestSpec) error) resource.TestCheckFunc {
	return func(*terraform.State) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.objs) != 1 {
			return fmt.Errorf("%d live objects, want 1", len(s.objs))
		}
		for _, o := range s.objs {
			return f(o)
		}
		return nil
	}
}

// mutate changes the one live object outside Terraform.
func (s *typetestStore) mutate(t *testing.T, f func(*typetestSpec)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.objs) != 1 {
		t.Fatalf("%d live objects, want 1", len(s.objs))
	}
	for id, o := range s.objs {
		f(&o)
		s.objs[id] = o
	}
}
