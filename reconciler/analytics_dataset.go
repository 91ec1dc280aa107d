package reconciler

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/monotask/flareops/reconciler/workerset"
	"github.com/monotask/flareops/reconciler/wrangler"
)

// DatasetKind is the `analytics_dataset` block: a Workers Analytics Engine dataset, the
// names of its positional columns, and the Workers that bind it.
//
// Analytics Engine has no dataset API: a dataset comes to life when a Worker bound to it
// writes a data point. So the live object is the set of its bindings on the Workers the
// configuration and the state name (bindings elsewhere, or under other names, are not
// flareops's and are never read as ours), and the column names are flareops's own: they
// live in the configuration and the state, and SQL written by later kinds uses them.
type DatasetKind struct{ Workers *workerset.Set }

// DatasetSpec is the normalized, comparable form of a dataset.
type DatasetSpec struct {
	Dataset  string                    `diff:"dataset"`
	Columns  DatasetColumns            `diff:"columns"`
	Bindings map[string]DatasetBinding `diff:"binding"`
}

// DatasetColumns names the positional columns (index1, blob1.., double1..).
type DatasetColumns struct {
	Index   string   `diff:"index,omitzero"`
	Blobs   []string `diff:"blobs"`
	Doubles []string `diff:"doubles"`
}

// DatasetBinding is the dataset bound in one Worker under one JS name; keyed by
// "worker/NAME" so that a changed Worker or name is another binding.
type DatasetBinding struct {
	Worker string `diff:"worker"`
	Name   string `diff:"name"`
}

func (b DatasetBinding) key() string { return b.Worker + "/" + b.Name }

var (
	datasetNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
	columnNameRE  = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,63}$`)
	jsIdentRE     = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)
)

var datasetSchema = BlockSchema{
	Attrs: []Attr{
		{Name: "dataset", Type: String, Required: true, ForceNew: true, MaxLen: 64, Pattern: datasetNameRE, PatternText: "letters, digits and `_`, not starting with a digit",
			Description: "Name of the dataset, which is also its table in the SQL API. Changing it binds the Workers to another dataset (the old one keeps its data for its 3-month retention)."},
	},
	Blocks: []NestedBlock{
		{Name: "columns", MaxItems: 1, Description: "Names for the dataset's positional columns, used by flareops wherever it writes SQL (alert rules, SLOs). They are not stored in Cloudflare.",
			Schema: datasetColumnsSchema},
		{Name: "binding", Description: "A Worker that writes to the dataset, and the name of the binding in its code (`env.NAME`). The binding is added to the Worker's settings; its other bindings are kept.",
			Schema: BlockSchema{Attrs: []Attr{
				{Name: "worker", Type: String, Required: true, Description: "Name of the Worker script."},
				{Name: "name", Type: String, Required: true, MaxLen: 64, Pattern: jsIdentRE, PatternText: "a JavaScript identifier: letters, digits, `_` and `$`, not starting with a digit", Description: "Name of the binding in the Worker's code, e.g. `TASK_METRICS`."},
			}}},
	},
}

func (DatasetKind) Name() string        { return "analytics_dataset" }
func (DatasetKind) KeyAttr() string     { return "dataset" }
func (DatasetKind) Schema() BlockSchema { return datasetSchema }

// Build checks that column names are unique across index, blobs and doubles, and that a
// Worker does not bind the dataset twice under one name.
func (DatasetKind) Build(v Values) (Object, error) {
	spec := DatasetSpec{Dataset: v.str("dataset"), Bindings: map[string]DatasetBinding{}}
	for _, cv := range v.blocks("columns") {
		spec.Columns = DatasetColumns{Index: cv.str("index"), Blobs: cv.strs("blobs"), Doubles: cv.strs("doubles")}
	}
	seen := map[string]string{}
	cols := spec.Columns
	check := func(name, where string) error {
		if name == "" {
			return nil
		}
		if prev, dup := seen[name]; dup {
			return fmt.Errorf("columns: %q names both %s and %s; give each column its own name", name, prev, where)
		}
		seen[name] = where
		return nil
	}
	if err := check(cols.Index, "index1"); err != nil {
		return Object{}, err
	}
	for i, b := range cols.Blobs {
		if err := check(b, fmt.Sprintf("blob%d", i+1)); err != nil {
			return Object{}, err
		}
	}
	for i, d := range cols.Doubles {
		if err := check(d, fmt.Sprintf("double%d", i+1)); err != nil {
			return Object{}, err
		}
	}
	for _, bv := range v.blocks("binding") {
		b := DatasetBinding{Worker: bv.str("worker"), Name: bv.str("name")}
		if _, dup := spec.Bindings[b.key()]; dup {
			return Object{}, fmt.Errorf("binding: Worker %s binds the dataset twice as %s; remove one", b.Worker, b.Name)
		}
		spec.Bindings[b.key()] = b
	}
	return Object{Key: spec.Dataset, Spec: spec}, nil
}

// Flatten turns a dataset spec back into block values.
func (DatasetKind) Flatten(spec any) Values {
	s := spec.(DatasetSpec)
	v := Values{"dataset": s.Dataset}
	c := s.Columns
	if c.Index != "" || len(c.Blobs) > 0 || len(c.Doubles) > 0 {
		cv := Values{}
		if c.Index != "" {
			cv["index"] = c.Index
		}
		if c.Blobs != nil {
			cv["blobs"] = c.Blobs
		}
		if c.Doubles != nil {
			cv["doubles"] = c.Doubles
		}
		v["columns"] = []Values{cv}
	}
	var bs []Values
	for _, k := range sortedKeys(s.Bindings) {
		b := s.Bindings[k]
		bs = append(bs, Values{"worker": b.Worker, "name": b.Name})
	}
	if len(bs) > 0 {
		v["binding"] = bs
	}
	return v
}

// binding is the Worker binding of a dataset.
func (b DatasetBinding) binding(dataset string) workerset.Binding {
	return workerset.Binding{Name: b.Name, Type: "analytics_engine", Fields: map[string]any{"dataset": dataset}}
}

// ObserveScoped reads the Workers that the declared and the managed datasets name (each
// once per run, shared with the other Worker-side kinds) and returns, per dataset, its
// bindings among those (worker, name) pairs. A managed dataset always exists (a dataset
// has no existence of its own to observe); an unmanaged declared one exists when one of
// its declared bindings is already there.
func (k DatasetKind) ObserveScoped(ctx context.Context, scope Scope) ([]Object, error) {
	type ds struct {
		pairs    map[string]DatasetBinding
		columns  DatasetColumns
		declared bool
		managed  bool
		// applied holds the bindings of the spec last applied, when the state records
		// one: of a managed dataset, only those are its own on the Worker (a declared
		// binding found there that it never applied was made by someone else).
		applied map[string]bool
	}
	all := map[string]*ds{}
	get := func(name string) *ds {
		if all[name] == nil {
			all[name] = &ds{pairs: map[string]DatasetBinding{}}
		}
		return all[name]
	}
	for _, o := range scope.Desired {
		s := o.Spec.(DatasetSpec)
		d := get(s.Dataset)
		d.columns, d.declared = s.Columns, true
		for key, b := range s.Bindings {
			d.pairs[key] = b
		}
	}
	for _, en := range scope.Managed {
		d := get(en.Key)
		d.managed = true
		if applied, ok := decodeApplied(en.Applied, DatasetSpec{}); ok {
			s := applied.(DatasetSpec)
			if !d.declared {
				d.columns = s.Columns // columns are not in Cloudflare: show what was applied
			}
			d.applied = map[string]bool{}
			for key, b := range s.Bindings {
				d.pairs[key] = b
				d.applied[key] = true
			}
		}
	}
	for w, tool := range scope.Deployed {
		k.Workers.SetDeployedBy(w, tool)
	}
	var out []Object
	for _, name := range sortedKeys(all) {
		d := all[name]
		live := DatasetSpec{Dataset: name, Columns: d.columns, Bindings: map[string]DatasetBinding{}}
		present := 0 // bindings really seen (not those left to another tool)
		for key, b := range d.pairs {
			if scope.Deployed[b.Worker] != "" {
				// Another tool deploys the Worker: flareops writes nothing there, so the
				// binding is not part of the diff; CheckManual says whether it is there.
				live.Bindings[key] = b
				continue
			}
			w, err := k.Workers.Read(ctx, b.Worker)
			if err != nil {
				return nil, fmt.Errorf("cannot read Worker %s: %w", b.Worker, err)
			}
			if hasBinding(w, b, name) {
				if d.managed && d.applied != nil && !d.applied[key] {
					continue // someone else's: the plan shows it added, and apply refuses (Update)
				}
				live.Bindings[key] = b
				present++
			}
		}
		if d.managed || present > 0 {
			out = append(out, Object{Key: name, ID: name, Spec: live})
		}
	}
	return out, nil
}

// Observe is ObserveScoped with nothing in scope: without declarations there is no Worker
// to read, so no dataset to see. (Import goes through ObserveScoped with the declaration.)
func (k DatasetKind) Observe(ctx context.Context) ([]Object, error) {
	return k.ObserveScoped(ctx, Scope{})
}

// wants groups a dataset's bindings by Worker.
func datasetWants(s DatasetSpec) map[string]workerset.Want {
	out := map[string]workerset.Want{}
	for _, key := range sortedKeys(s.Bindings) {
		b := s.Bindings[key]
		w := out[b.Worker]
		w.Bindings = append(w.Bindings, b.binding(s.Dataset))
		out[b.Worker] = w
	}
	return out
}

// Create binds the dataset in its Workers; its id is its name.
func (k DatasetKind) Create(ctx context.Context, desired Object) (string, error) {
	want, _ := desired.Spec.(DatasetSpec)
	if err := k.foreignBindings(ctx, DatasetSpec{}, want); err != nil {
		return "", err // nothing was written: nothing to record
	}
	return desired.Key, k.Update(ctx, desired.Key, Object{Spec: DatasetSpec{}}, desired)
}

// Update changes each Worker the dataset was or is bound in, through the Worker merge.
// A binding it adds that a Worker already has (the same binding, made by someone else)
// is refused before anything is written: the dataset would take it over, and removing
// the dataset would remove it. The Worker merge refuses the same for one made since.
func (k DatasetKind) Update(ctx context.Context, _ string, live, desired Object) error {
	have, _ := live.Spec.(DatasetSpec)
	want, _ := desired.Spec.(DatasetSpec)
	if err := k.foreignBindings(ctx, have, want); err != nil {
		return err
	}
	old, next := datasetWants(have), datasetWants(want)
	workers := map[string]bool{}
	for w := range old {
		workers[w] = true
	}
	for w := range next {
		workers[w] = true
	}
	names := make([]string, 0, len(workers))
	for w := range workers {
		names = append(names, w)
	}
	sort.Strings(names)
	var errs []string
	var fe *workerset.ForeignError
	for _, w := range names {
		err := k.Workers.Change(ctx, w, old[w], next[w])
		switch {
		case errors.As(err, &fe) && fe.Same:
			errs = append(errs, takenBinding(w, fe.Binding, want.Dataset).Error())
		case err != nil:
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// foreignBindings refuses the bindings want adds (not in have) that their Worker already
// had when this run first read it: someone else made them. (One this run's own write
// made, its answer lost, was not there then.) Workers another tool deploys are skipped:
// flareops writes nothing there.
func (k DatasetKind) foreignBindings(ctx context.Context, have, want DatasetSpec) error {
	var refused []string
	for _, key := range sortedKeys(want.Bindings) {
		b := want.Bindings[key]
		if _, ours := have.Bindings[key]; ours || k.Workers.DeployedBy(b.Worker) != "" {
			continue
		}
		if k.alreadyBound(ctx, b, want.Dataset) {
			refused = append(refused, takenBinding(b.Worker, b.Name, want.Dataset).Error())
		}
	}
	if len(refused) > 0 {
		return Refused(errors.New(strings.Join(refused, "; ")))
	}
	return nil
}

// alreadyBound reports whether b's Worker had b when this run first read it (read now,
// if it has not read it yet).
func (k DatasetKind) alreadyBound(ctx context.Context, b DatasetBinding, dataset string) bool {
	w, seen := k.Workers.Observed(b.Worker)
	if !seen {
		var err error
		if w, err = k.Workers.Read(ctx, b.Worker); err != nil {
			return false // the write reads it again, and the Worker merge refuses it
		}
	}
	return hasBinding(w, b, dataset)
}

// hasBinding reports whether the Worker has b exactly, bound to dataset.
func hasBinding(w workerset.Worker, b DatasetBinding, dataset string) bool {
	lb, ok := w.Binding(b.Name)
	return ok && lb.Equal(b.binding(dataset))
}

// takenBinding is the refusal of a binding someone else made.
func takenBinding(worker, name, dataset string) error {
	return Refused(fmt.Errorf("Worker %s already has binding %s (dataset %s), which flareops does not manage: a dataset never takes a binding over (removing the dataset would remove it). "+
		"Remove this binding block, bind the dataset under another name, or remove the binding from the Worker (if an earlier apply of this dataset failed halfway and left it there, that is the way out: remove it, then apply again); nothing was changed on Worker %s",
		worker, name, dataset, worker))
}

// Delete removes the dataset's bindings from its Workers (the data stays in Analytics
// Engine for its retention). Deleting what is gone is success.
func (k DatasetKind) Delete(ctx context.Context, id string, live Object) error {
	return k.Update(ctx, id, live, Object{Spec: DatasetSpec{Dataset: id}})
}

// Impact says what a dataset change does, for the reviewer.
func (k DatasetKind) Impact(action Action, f FieldChange, live, desired any) string {
	want, _ := desired.(DatasetSpec)
	have, _ := live.(DatasetSpec)
	worker := bindingWorker(f.Path)
	tool := ""
	if k.Workers != nil && worker != "" {
		tool = k.Workers.DeployedBy(worker)
	}
	switch {
	case tool != "" && f.Field == "name" && f.OldSet && !f.NewSet:
		return fmt.Sprintf("binding %s stays on Worker %s, which %s deploys: flareops writes nothing there; remove it from the Worker's %s configuration", strings.Trim(f.Old, `"`), worker, tool, tool)
	case tool != "" && f.Field == "name":
		return fmt.Sprintf("not written: Worker %s is deployed by %s (the plan shows the lines its configuration lacks)", worker, tool)
	case action == Delete && f.Field == "dataset" && k.leftToTools(have):
		return fmt.Sprintf("its bindings stay on Workers that another tool deploys (flareops writes nothing there); flareops forgets the names of %s's columns", f.Old)
	case action == Delete && f.Field == "dataset":
		return fmt.Sprintf("the Workers stop writing to %s; its data stays queryable until its 3-month retention ends", f.Old)
	case f.Field == "name" && f.NewSet && !f.OldSet && k.seenBound(worker, strings.Trim(f.New, `"`), want.Dataset):
		return fmt.Sprintf("Worker %s already has binding %s (dataset %s), which flareops does not manage: apply refuses to take it over; remove this binding block, or bind under another name", worker, strings.Trim(f.New, `"`), want.Dataset)
	case f.Field == "name" && f.NewSet && !f.OldSet:
		return fmt.Sprintf("binding %s (dataset %s) added to Worker %s; its other bindings are kept", strings.Trim(f.New, `"`), want.Dataset, worker)
	case f.Field == "name" && f.OldSet && !f.NewSet:
		name := strings.Trim(f.Old, `"`)
		return fmt.Sprintf("binding %s removed from Worker %s: code that writes to env.%s fails until it is redeployed without it; its other bindings are kept", name, worker, name)
	case action == Update && strings.HasPrefix(f.Path, "columns."):
		return "column names change for flareops's SQL (alert rules, SLOs); the data and the Workers are unchanged"
	}
	return ""
}

// seenBound reports whether the Worker had the binding when this run observed it, for
// the plan's impact lines (no request).
func (k DatasetKind) seenBound(worker, name, dataset string) bool {
	if k.Workers == nil {
		return false
	}
	w, ok := k.Workers.Observed(worker)
	return ok && hasBinding(w, DatasetBinding{Worker: worker, Name: name}, dataset)
}

// leftToTools reports whether every binding of s is on a Worker another tool deploys.
func (k DatasetKind) leftToTools(s DatasetSpec) bool {
	if k.Workers == nil || len(s.Bindings) == 0 {
		return false
	}
	for _, b := range s.Bindings {
		if k.Workers.DeployedBy(b.Worker) == "" {
			return false
		}
	}
	return true
}

// bindingWorker is the Worker of a binding's field path: binding["worker/NAME"].name.
func bindingWorker(path string) string {
	rest, ok := strings.CutPrefix(path, `binding["`)
	if !ok {
		return ""
	}
	key, _, _ := strings.Cut(rest, `"]`)
	w, _, _ := strings.Cut(key, "/")
	return w
}

var _ LiveValidator = DatasetKind{}

// ValidateLive checks that each Worker a dataset binds exists, and that no binding of
// another type already holds the name (flareops only ever makes analytics_engine
// bindings, so such a binding is not its own and is never replaced). Workers are read
// through the run's Worker set: once each, shared with observation.
func (k DatasetKind) ValidateLive(ctx context.Context, desired []Desired) ([]LiveProblem, error) {
	var out []LiveProblem
	for _, d := range desired {
		obj, err := k.Build(d.Values)
		if err != nil {
			continue
		}
		s := obj.Spec.(DatasetSpec)
		for _, key := range sortedKeys(s.Bindings) {
			b := s.Bindings[key]
			w, err := k.Workers.Read(ctx, b.Worker)
			if err != nil {
				return nil, fmt.Errorf("cannot read Worker %s: %w", b.Worker, err)
			}
			if !w.Exists {
				out = append(out, LiveProblem{Addr: d.Addr, Source: d.Source, Object: "Worker", Name: b.Worker,
					Detail: fmt.Sprintf("binding %s: Worker %s does not exist in the account; deploy it first (flareops never uploads Worker code), or fix the name", b.Name, b.Worker)})
				continue
			}
			if lb, ok := w.Binding(b.Name); ok && lb.Type != "analytics_engine" {
				out = append(out, LiveProblem{Addr: d.Addr, Source: d.Source, Object: "binding", Name: b.Name,
					Detail: fmt.Sprintf("Worker %s already has a binding named %s (type %s) that flareops does not manage; flareops never replaces it: choose another name", b.Worker, b.Name, lb.Type)})
			}
		}
	}
	return out, nil
}

var _ WorkerClaimer = DatasetKind{}

// Claims are the dataset's bindings, by Worker.
func (k DatasetKind) Claims(v Values) []Claim {
	var out []Claim
	for _, bv := range v.blocks("binding") {
		out = append(out, Claim{Worker: bv.str("worker"), What: "binding " + bv.str("name")})
	}
	return out
}

var _ ManualChecker = DatasetKind{}

// CheckManual reports the bindings missing from Workers that another tool deploys (the
// configuration says so with worker_settings' deployed_by), with the lines to add to
// that tool's configuration: flareops never writes them there.
func (k DatasetKind) CheckManual(ctx context.Context, desired Object) (*ManualStep, error) {
	s := desired.Spec.(DatasetSpec)
	missing := map[string]workerset.Want{}
	differs := map[string][]string{}
	for _, key := range sortedKeys(s.Bindings) {
		b := s.Bindings[key]
		if k.Workers == nil || k.Workers.DeployedBy(b.Worker) == "" {
			continue
		}
		w, err := k.Workers.Read(ctx, b.Worker)
		if err != nil {
			return nil, fmt.Errorf("cannot read Worker %s: %w", b.Worker, err)
		}
		if !w.Exists {
			continue // the LiveValidator reports it
		}
		if lb, ok := w.Binding(b.Name); ok && lb.Equal(b.binding(s.Dataset)) {
			continue
		}
		want := missing[b.Worker]
		want.Bindings = append(want.Bindings, b.binding(s.Dataset))
		missing[b.Worker] = want
		differs[b.Worker] = append(differs[b.Worker], fmt.Sprintf("binding %s to dataset %s is missing", b.Name, s.Dataset))
	}
	if len(missing) == 0 {
		return nil, nil
	}
	// One step per declaration: the first Worker that lacks something, then the others.
	workers := sortedKeys(missing)
	step := &ManualStep{Tool: k.Workers.DeployedBy(workers[0]), Object: "Worker " + strings.Join(workers, ", Worker ")}
	var all workerset.Want
	for _, w := range workers {
		step.Differs = append(step.Differs, differs[w]...)
		all.Bindings = append(all.Bindings, missing[w].Bindings...)
	}
	for _, f := range wrangler.Formats {
		step.Fragments = append(step.Fragments, Fragment{File: wrangler.FileName(f), Text: wrangler.Fragment(f, all)})
	}
	return step, nil
}

// datasetColumnsSchema is the columns block: the analytics_dataset's own, and the copy of
// it that the blocks querying a dataset take (datasetOf).
var datasetColumnsSchema = BlockSchema{Attrs: []Attr{
	{Name: "index", Type: String, MaxLen: 64, Pattern: columnNameRE, PatternText: "lowercase letters, digits and `_`, not starting with a digit", Description: "Name of index1, the sampling key."},
	{Name: "blobs", Type: StringList, MaxItems: 20, Unique: true, MaxLen: 64, Pattern: columnNameRE, PatternText: "lowercase letters, digits and `_`, not starting with a digit", Description: "Names of blob1, blob2, ... in order (at most 20)."},
	{Name: "doubles", Type: StringList, MaxItems: 20, Unique: true, MaxLen: 64, Pattern: columnNameRE, PatternText: "lowercase letters, digits and `_`, not starting with a digit", Description: "Names of double1, double2, ... in order (at most 20)."},
}}

// queryColumnsBlock is the columns block of a block that queries a dataset (an SLO's
// dataset_ratio and dataset_latency, a metric rule's dataset_query). The CLI takes the
// column names from the referenced analytics_dataset block; Terraform cannot see another
// resource's attributes, so there the user passes them from the dataset resource.
var queryColumnsBlock = NestedBlock{Name: "columns", MaxItems: 1,
	Description: "The dataset's column names. Leave it out in the `flareops` CLI: they come from the `analytics_dataset` block that `dataset` refers to " +
		"(when given, they must be the same). In Terraform, pass the dataset resource's: " +
		"`columns { index = flareops_analytics_dataset.api.columns[0].index ... }` or a `dynamic \"columns\"` block over `flareops_analytics_dataset.api.columns`.",
	Schema: datasetColumnsSchema}
