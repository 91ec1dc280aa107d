package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/monotask/flareops/reconciler"
	"github.com/monotask/flareops/reconciler/workerset"
)

// kindResource is the flareops_<kind> resource of one engine kind. It only converts: the
// plan becomes reconciler.Values, the kind builds the desired object and does the work,
// and the state is the kind's Flatten of what is live. The <kind>_resource.go files
// declare what is particular to each kind.
//
// Every CRUD method has the same rhythm: read the plan or state, append diagnostics,
// return on error, ask the kind, set the state.
type kindResource struct {
	// schemaKind is the kind without an API client: enough for schema, validation and Build.
	schemaKind  reconciler.Kind
	description string
	// filled names the attributes the engine fills from others ("consumer.batch_size").
	filled map[string]bool
	// texts replaces the engine's description of some attributes (paths as in filled)
	// where it speaks of the CLI's language rather than Terraform's.
	texts map[string]string
	// declared, if set, reports that the kind's Flatten of spec does not give back all that
	// is declared (an SLO's SLI and destinations, a metric rule's measure: the live
	// documents hold compiled queries). The state then keeps the declaration as written
	// while the live object is what it builds (keptState).
	declared func(spec any) bool

	// Set by Configure.
	kind    reconciler.Kind
	cache   *observeCache
	account string
	workers *workerset.Set // the run's Worker merge (who last deployed a Worker)
}

var (
	_ resource.ResourceWithConfigure      = (*kindResource)(nil)
	_ resource.ResourceWithImportState    = (*kindResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*kindResource)(nil)
	_ resource.ResourceWithValidateConfig = (*kindResource)(nil)
)

func (r *kindResource) name() string { return r.schemaKind.Name() }

func (r *kindResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_" + r.name()
}

func (r *kindResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = resourceSchema(r.schemaKind, r.description, r.filled, r.texts)
}

func (r *kindResource) objectType(ctx context.Context) tftypes.Object {
	return resourceSchema(r.schemaKind, r.description, r.filled, r.texts).Type().TerraformType(ctx).(tftypes.Object)
}

func (r *kindResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if req.ProviderData == nil {
		return // validation runs before the provider is configured
	}
	pd, ok := req.ProviderData.(*providerData)
	if !ok {
		unconfigured(&resp.Diagnostics, "configure flareops_"+r.name())
		return
	}
	k, ok := pd.kinds.Kind(r.name())
	if !ok {
		unconfigured(&resp.Diagnostics, "configure flareops_"+r.name())
		return
	}
	r.kind, r.cache, r.account, r.workers = k, pd.cache, pd.accountID, pd.kinds.Workers
}

// ValidateConfig runs the kind's cross-attribute rules (Build) as soon as the configuration
// is known, so `terraform validate` reports what `flareops validate` reports.
func (r *kindResource) ValidateConfig(_ context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	if !req.Config.Raw.IsFullyKnown() {
		return
	}
	bs := r.schemaKind.Schema()
	vals, err := valuesFrom(bs, req.Config.Raw)
	if err != nil {
		return // an attribute's own validator reports it
	}
	withDefaults(bs, vals)
	if _, err := r.schemaKind.Build(vals); err != nil && !errors.Is(err, reconciler.ErrNoOpsKVNamespace) {
		// The ops KV namespace may come from the environment, which validation does not
		// see: the configured kind checks it at plan time.
		invalidConfig(&resp.Diagnostics, r.name(), err)
	}
}

// builder is the kind that builds desired objects: once the provider is configured, the
// kind given the provider's settings (the ops KV namespace), before, the schema's.
func (r *kindResource) builder() reconciler.Kind {
	if r.kind != nil {
		return r.kind
	}
	return r.schemaKind
}

// ModifyPlan plans the engine-filled attributes as Build will set them (batch_size is 10
// for a worker consumer, 5 for http_pull), so the plan shows real values, and a value that
// is no longer configured returns to the engine's default as it does in the CLI. Then it
// checks ownership (ownership.go), so that a change that would touch an object this
// resource does not manage fails the plan, not the apply.
func (r *kindResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy: Delete only ever deletes the object whose id the state holds
	}
	if len(r.filled) > 0 {
		planned, err := planFilled(r.builder(), r.filled, r.objectType(ctx), req.Config.Raw, req.Plan.Raw, req.State.Raw)
		if err != nil {
			invalidConfig(&resp.Diagnostics, r.name(), err)
			return
		}
		resp.Plan.Raw = planned
		resp.RequiresReplace = append(resp.RequiresReplace, r.replaceFilled(req.State.Raw, planned)...)
	}
	r.planOwnership(ctx, req.State.Raw, recordedRemote(ctx, req.Private), resp)
	r.planLiveChecks(ctx, resp)
	r.planWranglerWarning(ctx, req.State.Raw, resp)
}

// planOwnership reports a planned change that would touch an object this resource does
// not manage, and plans a managed object that is gone (its name free) to be created again.
func (r *kindResource) planOwnership(ctx context.Context, state tftypes.Value, remote string, resp *resource.ModifyPlanResponse) {
	if r.kind == nil {
		return // not configured yet (validation)
	}
	key := r.kind.KeyAttr()
	name, known := keyOf(resp.Plan.Raw, key)
	if !known {
		return // known at apply, when Terraform plans the change again
	}
	o, err := r.observeRun(ctx, state, resp.Plan.Raw)
	if err != nil {
		addAttributeError(&resp.Diagnostics, path.Root(key), fmt.Sprintf("Cannot plan %s %q", r.name(), name),
			fmt.Sprintf("Listing the %ss of account %s failed, so the plan cannot tell whether the name is free.", r.name(), r.account), apiTodo(err), err)
		return
	}
	statedName, _ := keyOf(state, key)
	if id := stateID(state); id != "" {
		r.cache.manage(r.name(), id)
	}
	w := ownershipOf(r.kind, o, stateID(state), remote, statedName, name)
	switch {
	case w.id == "" && w.taken && r.cache.managed(r.name(), w.holder.ID):
		// The create half of a replacement that keeps the name (a tainted object, or
		// -replace): Terraform plans it with no prior state, but the holder is an object
		// this configuration's state manages, which the replacement deletes first. (Were
		// it another resource's object, the create is refused at apply: see Create.)
	case w.conflict():
		addAttributeError(&resp.Diagnostics, path.Root(key), w.summary(), w.happened(), w.todo(), nil)
	case w.gone():
		// Only without refresh, or after a rename away from a taken name: Read removes a
		// gone object whose name is free, and Terraform then plans a create.
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(idAttr), types.StringUnknown())...)
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root(idAttr))
	}
}

// desired builds the engine's desired object from a plan.
func (r *kindResource) desired(plan tftypes.Value, diags *diag.Diagnostics) (reconciler.Object, bool) {
	vals, err := valuesFrom(r.schemaKind.Schema(), plan)
	if err == nil {
		var obj reconciler.Object
		if obj, err = r.builder().Build(vals); err == nil {
			return obj, true
		}
	}
	invalidConfig(diags, r.name(), err)
	return reconciler.Object{}, false
}

// setState sets state to the flattened spec of the object id, keeping the spelling of
// priors (the plan, the state) where it denotes the same value.
func (r *kindResource) setState(ctx context.Context, state *tfsdk.State, id string, spec any, priors ...tftypes.Value) error {
	typ := r.objectType(ctx)
	extra := map[string]tftypes.Value{idAttr: tftypes.NewValue(tftypes.String, id)}
	obj, err := objectFrom(r.schemaKind.Schema(), typ, r.schemaKind.Flatten(spec), extra, priors...)
	if err != nil {
		return err
	}
	state.Raw = obj
	return nil
}

// recordState records the object just written: for a kind whose Flatten is partial
// (declared), the plan as written with the new id; otherwise setState.
func (r *kindResource) recordState(ctx context.Context, state *tfsdk.State, id string, spec any, priors ...tftypes.Value) error {
	if r.declared != nil && r.declared(spec) && len(priors) > 0 {
		v, err := withStateID(priors[0], id)
		if err != nil {
			return err
		}
		state.Raw = v
		return nil
	}
	return r.setState(ctx, state, id, spec, priors...)
}

// keptState is the state to keep on a read of a kind whose Flatten is partial: the
// state as it is, when the object it declares is exactly the live one (the documents'
// hashes included). When they differ (a document edited, deleted or not written by
// flareops, or just imported), ok is false and the state becomes what Flatten gives back,
// so that the plan shows an update that publishes the declaration again.
func (r *kindResource) keptState(state tftypes.Value, id string, live reconciler.Object) (tftypes.Value, bool) {
	if r.declared == nil || !r.declared(live.Spec) {
		return tftypes.Value{}, false
	}
	obj, ok := r.built(state)
	if !ok || obj.Key != live.Key || len(reconciler.Diff(live.Spec, obj.Spec)) > 0 {
		return tftypes.Value{}, false
	}
	v, err := withStateID(state, id)
	return v, err == nil
}

// withStateID is v with its id attribute set to id.
func withStateID(v tftypes.Value, id string) (tftypes.Value, error) {
	m, err := objectMap(v)
	if err != nil || m == nil {
		return tftypes.Value{}, fmt.Errorf("no object to record (%v)", err)
	}
	out := make(map[string]tftypes.Value, len(m))
	for k, x := range m {
		out[k] = x
	}
	out[idAttr] = tftypes.NewValue(tftypes.String, id)
	return tftypes.NewValue(v.Type(), out), nil
}

func (r *kindResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if r.kind == nil {
		unconfigured(&resp.Diagnostics, "create a flareops_"+r.name())
		return
	}
	desired, ok := r.desired(req.Plan.Raw, &resp.Diagnostics)
	if !ok {
		return
	}
	id, err := r.create(ctx, desired)
	if err != nil {
		r.createFailed(ctx, resp, req.Plan.Raw, desired, id, err)
		return
	}
	if err := r.recordState(ctx, &resp.State, id, desired.Spec, req.Plan.Raw); err != nil {
		addError(&resp.Diagnostics, "Cannot record the new "+r.name(), fmt.Sprintf("The %s %q was created (id %s), but its state could not be recorded.", r.name(), desired.Key, id),
			fmt.Sprintf("This is a bug in the flareops provider; import the %s with its id to manage it.", r.name()), err)
		return
	}
	r.recordCreatedRemote(ctx, desired, id, resp)
}

// recordCreatedRemote keeps, for a kind whose ids are names, Cloudflare's id of the object
// just created in the resource's private state (one lookup): an object later found under
// the same name with another Cloudflare id is someone else's.
func (r *kindResource) recordCreatedRemote(ctx context.Context, desired reconciler.Object, id string, resp *resource.CreateResponse) {
	if _, ok := r.kind.(reconciler.RemoteIdentifier); !ok {
		return
	}
	objs, err := reconciler.ObserveFor(ctx, r.kind, reconciler.Scope{Desired: []reconciler.Object{desired}})
	if err == nil {
		for _, o := range objs {
			if o.ID == id {
				setRemote(ctx, resp.Private, r.kind, o, &resp.Diagnostics)
				return
			}
		}
	}
	resp.Diagnostics.AddWarning("Cannot record the new "+r.name()+"'s Cloudflare id",
		fmt.Sprintf("The %s %q was created (id %s), but reading it back failed (%v); the next refresh records its Cloudflare id.", r.name(), desired.Key, id, err))
}

// create creates desired through the engine's CreateNew, which consults the run's shared
// observation (no list per create) and relies on the API to refuse a name taken since,
// and writes the new object through to the observation.
func (r *kindResource) create(ctx context.Context, desired reconciler.Object) (string, error) {
	var seen reconciler.Seen
	if _, scoped := r.kind.(reconciler.ScopedObserver); !scoped {
		o, err := r.cache.observeRun(ctx, r.kind)
		if err != nil {
			return "", fmt.Errorf("cannot tell whether the name is free: %w", err)
		}
		seen = o.key
	}
	id, err := reconciler.CreateNew(ctx, r.kind, desired, seen)
	if id != "" {
		r.cache.written(r.name(), id, reconciler.Object{Key: desired.Key, ID: id, Spec: desired.Spec})
		r.cache.manage(r.name(), id)
	} else if err != nil {
		r.cache.invalidate(r.name())
	}
	return id, err
}

// createFailed explains a failed create. An object that already exists is never taken
// over (CreateNew refuses; the plan reported the objects it saw, so this one is newer):
// the user imports it. An object created halfway is recorded, so that Terraform marks it
// tainted and replaces it rather than forgetting it.
func (r *kindResource) createFailed(ctx context.Context, resp *resource.CreateResponse, plan tftypes.Value, desired reconciler.Object, id string, err error) {
	if id != "" {
		_ = r.setState(ctx, &resp.State, id, desired.Spec, plan)
		addError(&resp.Diagnostics, "Cannot finish creating "+r.name()+" "+desired.Key,
			fmt.Sprintf("The %s %q was created (id %s) but could not be fully configured.", r.name(), desired.Key, id),
			apiTodo(err)+" Terraform marks it tainted and replaces it on the next apply.", err)
		return
	}
	var exists *reconciler.ExistsError
	if errors.As(err, &exists) {
		// Made since the plan: the same diagnostic as the plan's.
		holder := reconciler.Object{Key: exists.Key, ID: exists.ID}
		if holder.ID == "" {
			holder.ID = exists.Key // the API refused the name, and the lookup of its holder failed: import takes the name too
		}
		w := ownership{kind: r.name(), name: desired.Key, holder: holder, taken: true}
		addAttributeError(&resp.Diagnostics, path.Root(r.kind.KeyAttr()), w.summary(), w.happened(), w.todo(), nil)
		return
	}
	addError(&resp.Diagnostics, "Cannot create "+r.name()+" "+desired.Key,
		fmt.Sprintf("Creating the %s %q failed; nothing was created.", r.name(), desired.Key), apiTodo(err), err)
}

func (r *kindResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if r.kind == nil {
		unconfigured(&resp.Diagnostics, "read a flareops_"+r.name())
		return
	}
	id := stateID(req.State.Raw)
	if id == "" {
		resp.State.RemoveResource(ctx)
		return
	}
	r.cache.manage(r.name(), id)
	// The state's own declaration stands for what the resource declares: a scoped kind
	// shows the settings it declares, and knows secrets the API never returns.
	o, err := r.observe(ctx, req.State.Raw, req.State.Raw, "")
	if err != nil {
		addError(&resp.Diagnostics, "Cannot read "+r.name()+" "+id,
			fmt.Sprintf("Listing the %ss of account %s failed.", r.name(), r.account), apiTodo(err), err)
		return
	}
	live, found := o.id(id)
	if found && !reconciler.SameRemote(r.kind, recordedRemote(ctx, req.Private), live) {
		found = false // someone else's object under the name (a kind whose ids are names)
	}
	if !found {
		// Gone from the account. If its name is free, Terraform plans to create it again.
		// If another object holds the name now, the state is kept as it is, for the plan
		// to say so (ownership.go) rather than plan a create that cannot succeed; destroy
		// still just forgets it, since Delete of a gone id succeeds.
		name, _ := keyOf(req.State.Raw, r.kind.KeyAttr())
		if _, taken := o.key(name); !taken {
			resp.State.RemoveResource(ctx)
		}
		return
	}
	setRemote(ctx, resp.Private, r.kind, live, &resp.Diagnostics)
	if kept, ok := r.keptState(req.State.Raw, id, live); ok {
		resp.State.Raw = kept
		return
	}
	if err := r.setState(ctx, &resp.State, id, live.Spec, req.State.Raw); err != nil {
		addError(&resp.Diagnostics, "Cannot read "+r.name()+" "+id, "The live object could not be converted to Terraform state.",
			"This is a bug in the flareops provider: please report it.", err)
	}
}

func (r *kindResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	if r.kind == nil {
		unconfigured(&resp.Diagnostics, "update a flareops_"+r.name())
		return
	}
	desired, ok := r.desired(req.Plan.Raw, &resp.Diagnostics)
	if !ok {
		return
	}
	id := stateID(req.State.Raw)
	live, found, err := r.fresh(ctx, id, req.State.Raw)
	if err != nil {
		addError(&resp.Diagnostics, "Cannot update "+r.name()+" "+desired.Key,
			fmt.Sprintf("Listing the %ss of account %s failed; nothing was changed.", r.name(), r.account), apiTodo(err), err)
		return
	}
	if found && !reconciler.SameRemote(r.kind, recordedRemote(ctx, req.Private), live) {
		addError(&resp.Diagnostics, "Cannot update "+r.name()+" "+desired.Key,
			fmt.Sprintf("The %s %s was deleted outside Terraform after the plan was made, and another one was created under its name; this resource does not manage that one.", r.name(), id),
			"Run terraform plan again: it says how to go on.", nil)
		return
	}
	if !found {
		addError(&resp.Diagnostics, "Cannot update "+r.name()+" "+desired.Key,
			fmt.Sprintf("The %s %s was deleted outside Terraform after the plan was made.", r.name(), id),
			"Run terraform apply again: its refresh sees that the object is gone and plans to create it.", nil)
		return
	}
	err = r.kind.Update(ctx, id, live, desired)
	if err != nil {
		r.cache.invalidate(r.name())
		addError(&resp.Diagnostics, "Cannot update "+r.name()+" "+desired.Key,
			fmt.Sprintf("Updating the %s %q (id %s) failed; it may be partly updated.", r.name(), desired.Key, id), apiTodo(err), err)
		return
	}
	r.cache.written(r.name(), id, reconciler.Object{Key: desired.Key, ID: id, Spec: desired.Spec})
	if err := r.recordState(ctx, &resp.State, id, desired.Spec, req.Plan.Raw, req.State.Raw); err != nil {
		addError(&resp.Diagnostics, "Cannot record "+r.name()+" "+desired.Key, "The update succeeded, but its state could not be recorded.",
			"This is a bug in the flareops provider: please report it. Run terraform apply again to record it.", err)
	}
}

func (r *kindResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	if r.kind == nil {
		unconfigured(&resp.Diagnostics, "delete a flareops_"+r.name())
		return
	}
	id := stateID(req.State.Raw)
	live, found, err := r.fresh(ctx, id, req.State.Raw)
	if err != nil {
		addError(&resp.Diagnostics, "Cannot delete "+r.name()+" "+id,
			fmt.Sprintf("Listing the %ss of account %s failed; nothing was deleted.", r.name(), r.account), apiTodo(err), err)
		return
	}
	if !found || !reconciler.SameRemote(r.kind, recordedRemote(ctx, req.Private), live) {
		return // already gone (another object under its name is not this resource's): deleting is idempotent
	}
	err = r.kind.Delete(ctx, id, live)
	if err != nil {
		r.cache.invalidate(r.name())
		addError(&resp.Diagnostics, "Cannot delete "+r.name()+" "+live.Key,
			fmt.Sprintf("Deleting the %s %q (id %s) failed.", r.name(), live.Key, id), apiTodo(err), err)
		return
	}
	r.cache.written(r.name(), id, reconciler.Object{})
}

// ImportState takes the object's id (as `terraform import` and import blocks give it), or
// its name; Read fills in the rest.
func (r *kindResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if r.kind == nil {
		resource.ImportStatePassthroughID(ctx, path.Root(idAttr), req, resp)
		return
	}
	o, err := r.observe(ctx, tftypes.Value{}, tftypes.Value{}, req.ID)
	if err != nil {
		addError(&resp.Diagnostics, fmt.Sprintf("Cannot import %s %q", r.name(), req.ID),
			fmt.Sprintf("Listing the %ss of account %s failed; nothing was imported.", r.name(), r.account), apiTodo(err), err)
		return
	}
	live, found := o.id(req.ID)
	if !found {
		live, found = o.key(req.ID)
	}
	if !found {
		addError(&resp.Diagnostics, fmt.Sprintf("Cannot import %s %q", r.name(), req.ID),
			fmt.Sprintf("Account %s has no %s with the id or the name %q.", r.account, r.name(), req.ID),
			fmt.Sprintf("Give the %s's id or its exact name (names are case-sensitive).", r.name()), nil)
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(idAttr), live.ID)...)
	setRemote(ctx, resp.Private, r.kind, live, &resp.Diagnostics)
}

// stateID is the id attribute of a state, "" if absent.
func stateID(state tftypes.Value) string {
	id, _ := keyOf(state, idAttr)
	return id
}

// withDefaults fills absent attributes with their schema defaults, as the HCL loader does
// (a Terraform configuration holds no defaults; the plan does).
func withDefaults(bs reconciler.BlockSchema, vals reconciler.Values) {
	for _, a := range bs.Attrs {
		if _, ok := vals[a.Name]; ok || a.Default == nil {
			continue
		}
		vals[a.Name] = a.DefaultValue()
	}
	for _, nb := range bs.Blocks {
		list, _ := vals[nb.Name].([]reconciler.Values)
		for _, ev := range list {
			withDefaults(nb.Schema, ev)
		}
	}
}

// observe returns the live objects of the kind that a call needs: for most kinds the
// run's shared list; for a kind that lives inside Workers (reconciler.ScopedObserver),
// what the resource's state, its plan or the id being imported name.
func (r *kindResource) observe(ctx context.Context, state, plan tftypes.Value, importID string) (*observation, error) {
	so, ok := r.kind.(reconciler.ScopedObserver)
	if !ok {
		return r.cache.observe(ctx, r.kind)
	}
	var scope reconciler.Scope
	if obj, ok := r.built(state); ok && obj.Key != "" {
		scope.Managed = append(scope.Managed, reconciler.ManagedEntry(r.name(), stateID(state), obj.Key, obj.Spec))
	} else if id := stateID(state); id != "" {
		// Just imported: only the id is known, and a scoped kind's id is its key.
		scope.Managed = append(scope.Managed, reconciler.StateEntry{Kind: r.name(), ID: id, Key: id})
	}
	if obj, ok := r.built(withoutID(plan)); ok && obj.Key != "" { // a new object's id is unknown
		scope.Desired = append(scope.Desired, obj)
	}
	if importID != "" {
		scope.Managed = append(scope.Managed, reconciler.StateEntry{Kind: r.name(), ID: importID, Key: importID})
	}
	return observeScoped(ctx, so, scope)
}

// observeRun is observe for the plan-time ownership check: for a listed kind, the run's
// shared observation whatever its age (observeCache.observeRun).
func (r *kindResource) observeRun(ctx context.Context, state, plan tftypes.Value) (*observation, error) {
	if _, scoped := r.kind.(reconciler.ScopedObserver); !scoped {
		return r.cache.observeRun(ctx, r.kind)
	}
	return r.observe(ctx, state, plan, "")
}

// built is the engine's object for a state or plan value, when it is known and builds.
func (r *kindResource) built(v tftypes.Value) (reconciler.Object, bool) {
	if v.Type() == nil || v.IsNull() || !v.IsFullyKnown() {
		return reconciler.Object{}, false
	}
	vals, err := valuesFrom(r.schemaKind.Schema(), v)
	if err != nil {
		return reconciler.Object{}, false
	}
	obj, err := r.builder().Build(vals)
	return obj, err == nil
}

// fresh reads the live object id afresh before a write: the whole kind's list, or for a
// kind that lives inside Workers, what the resource's state names.
func (r *kindResource) fresh(ctx context.Context, id string, state tftypes.Value) (reconciler.Object, bool, error) {
	if _, scoped := r.kind.(reconciler.ScopedObserver); !scoped {
		return fresh(ctx, r.kind, id)
	}
	o, err := r.observe(ctx, state, tftypes.Value{}, "")
	if err != nil {
		return reconciler.Object{}, false, err
	}
	obj, ok := o.id(id)
	return obj, ok, nil
}

// replaceFilled lists the engine-filled attributes that cannot change in place and that
// the plan changes (see filledRequiresReplace).
func (r *kindResource) replaceFilled(state, plan tftypes.Value) path.Paths {
	if state.Type() == nil || state.IsNull() {
		return nil
	}
	sm, err := objectMap(state)
	if err != nil {
		return nil
	}
	pm, err := objectMap(plan)
	if err != nil {
		return nil
	}
	var out path.Paths
	for _, a := range r.schemaKind.Schema().Attrs {
		if a.ForceNew && r.filled[a.Name] && pm[a.Name].IsKnown() && !pm[a.Name].Equal(sm[a.Name]) {
			out = append(out, path.Root(a.Name))
		}
	}
	return out
}
