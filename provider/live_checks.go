package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/monotask/flareops/reconciler"
)

// planLiveChecks makes, for a kind that lives inside Workers, the plan-time checks the
// CLI's planner makes: the Worker the resource names must exist (reconciler.LiveValidator:
// an error on the attribute that names it), and what a Worker deployed by another tool
// lacks is a warning that shows what to add to that tool's configuration
// (reconciler.ManualChecker). Both read the Worker through the run's Worker set, which
// observation has already read, so they cost no request. Kinds that list their objects
// (queues) are checked by the API at apply, as before.
// planLiveChecked is a kind whose live checks run in every plan although it is not scoped
// (an alert rule's alert type is checked against the account's available alerts).
type planLiveChecked interface{ PlanLiveChecked() }

func (r *kindResource) planLiveChecks(ctx context.Context, resp *resource.ModifyPlanResponse) {
	if r.kind == nil || resp.Diagnostics.HasError() {
		return
	}
	_, scoped := r.kind.(reconciler.ScopedObserver)
	_, planned := r.kind.(planLiveChecked)
	if !scoped && !planned {
		return
	}
	obj, ok := r.built(withoutID(resp.Plan.Raw))
	if !ok {
		return // unknown until apply, when Terraform plans again
	}
	if lv, ok := r.kind.(reconciler.LiveValidator); ok {
		vals, err := valuesFrom(r.schemaKind.Schema(), resp.Plan.Raw)
		if err != nil {
			return
		}
		problems, err := lv.ValidateLive(ctx, []reconciler.Desired{{Addr: reconciler.Address{Kind: r.name(), Name: obj.Key}, Values: vals}})
		if err != nil {
			addError(&resp.Diagnostics, fmt.Sprintf("Cannot plan %s %q", r.name(), obj.Key),
				fmt.Sprintf("Reading what the %s refers to in account %s failed.", r.name(), r.account), apiTodo(err), err)
			return
		}
		for _, p := range problems {
			addAttributeError(&resp.Diagnostics, path.Root(r.kind.KeyAttr()), fmt.Sprintf("%s %s not found", p.Object, p.Name), p.Detail+".", "", nil)
		}
		if len(problems) > 0 {
			return
		}
	}
	mc, ok := r.kind.(reconciler.ManualChecker)
	if !ok {
		return
	}
	step, err := mc.CheckManual(ctx, obj)
	if err != nil || step == nil {
		return // a failed read was reported by observation; nothing lacking
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s is deployed by %s, so flareops writes nothing to it (its next deploy would undo it), and it lacks what this resource declares:\n", step.Object, step.Tool)
	for _, d := range step.Differs {
		b.WriteString("  - " + d + "\n")
	}
	for i, f := range step.Fragments {
		verb := "Add to"
		if i > 0 {
			verb = "or to"
		}
		fmt.Fprintf(&b, "\n%s %s:\n\n%s", verb, f.File, f.Text)
	}
	resp.Diagnostics.AddWarning(fmt.Sprintf("%s lacks settings that only %s can deploy", step.Object, step.Tool), strings.TrimRight(b.String(), "\n")+"\n\nThen deploy the Worker with "+step.Tool+"; this warning goes away once it has them.")
}

// withoutID is plan with its id null: a new object's id is unknown until apply, which
// says nothing about what it declares.
func withoutID(plan tftypes.Value) tftypes.Value {
	m, err := objectMap(plan)
	if err != nil || m == nil {
		return plan
	}
	out := make(map[string]tftypes.Value, len(m))
	for k, v := range m {
		out[k] = v
	}
	if id, ok := out[idAttr]; ok {
		out[idAttr] = tftypes.NewValue(id.Type(), nil)
	}
	return tftypes.NewValue(plan.Type(), out)
}

// planWranglerWarning warns, as the CLI's plan does (reconciler.WranglerWarning), when this
// resource is about to write to a Worker that Cloudflare records as last deployed with
// wrangler: its next `wrangler deploy` removes what was written. Terraform resources do
// not see each other, so the warning cannot know of a flareops_worker_settings saying
// deployed_by = "wrangler"; the resource that says so is itself never warned. It costs one
// list of Workers per run, and only when a Worker-side resource changes.
func (r *kindResource) planWranglerWarning(ctx context.Context, state tftypes.Value, resp *resource.ModifyPlanResponse) {
	if r.kind == nil || r.workers == nil || resp.Diagnostics.HasError() || resp.Plan.Raw.Equal(state) {
		return
	}
	wc, ok := r.kind.(reconciler.WorkerClaimer)
	if !ok || !resp.Plan.Raw.IsFullyKnown() {
		return
	}
	vals, err := valuesFrom(r.schemaKind.Schema(), resp.Plan.Raw)
	if err != nil {
		return
	}
	if d, ok := r.kind.(reconciler.Deployer); ok {
		if _, tool := d.DeployedBy(vals); tool != "" {
			return // it writes nothing to that Worker
		}
	}
	obj, err := r.kind.Build(vals)
	if err != nil {
		return // reported by validation
	}
	writes := map[string][]reconciler.WorkerWrite{}
	reconciler.AddWorkerWrites(writes, fmt.Sprintf("flareops_%s %q", r.name(), obj.Key), wc.Claims(vals), r.workers.DeployedBy)
	for _, c := range reconciler.WranglerChecks(ctx, r.workers, writes, true) {
		if c.Err != nil {
			resp.Diagnostics.AddWarning("Cannot tell which tool deploys Worker "+c.Worker, fmt.Sprintf("Listing the Workers of account %s failed: %v", r.account, c.Err))
		} else {
			resp.Diagnostics.AddWarning(fmt.Sprintf("Worker %s is deployed with wrangler", c.Worker), c.Warning+".")
		}
	}
}
