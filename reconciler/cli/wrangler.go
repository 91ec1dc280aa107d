package cli

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/monotask/flareops/reconciler"
	"github.com/monotask/flareops/reconciler/wrangler"
)

// loadWrangler reads every wrangler file named, printing the errors of those that cannot be
// read; ok is false when there is any.
func loadWrangler(paths []string, io IO) ([]*wrangler.Config, bool) {
	var out []*wrangler.Config
	ok := true
	for _, p := range paths {
		c, err := wrangler.Load(p)
		if err != nil {
			errorf(io, "%v", err)
			ok = false
			continue
		}
		out = append(out, c)
	}
	return out, ok
}

// wranglerClash is one thing on a Worker declared both by flareops and in a wrangler file:
// a wrangler deploy and a flareops apply would each undo the other's change.
type wranglerClash struct {
	claim  reconciler.Claim
	by     reconciler.Desired // the flareops declaration
	worker wrangler.Worker    // the Worker the wrangler file deploys
	decl   wrangler.Declaration
}

// wranglerClashes matches what the wrangler files declare with the configuration's claims,
// by Worker and What. A queue has one consumer, so a consumer of the same queue clashes
// whichever Worker each side names.
func wranglerClashes(reg *reconciler.Registry, desired []reconciler.Desired, configs []*wrangler.Config) []wranglerClash {
	type claimed struct {
		claim reconciler.Claim
		by    reconciler.Desired
	}
	owners := map[reconciler.Claim]claimed{}
	consumers := map[string]claimed{} // by What, whatever the Worker
	for _, d := range desired {
		k, ok := reg.Kind(d.Addr.Kind)
		if !ok {
			continue
		}
		wc, ok := k.(reconciler.WorkerClaimer)
		if !ok {
			continue
		}
		for _, c := range wc.Claims(d.Values) {
			if expr, isCron := strings.CutPrefix(c.What, "cron "); isCron {
				c.What = reconciler.CronClaim(expr) // one space between fields, as on the wrangler side
			}
			owners[c] = claimed{c, d}
			if strings.HasPrefix(c.What, reconciler.QueueConsumerClaim("")) {
				consumers[c.What] = claimed{c, d}
			}
		}
	}
	var out []wranglerClash
	for _, cfg := range configs {
		for _, w := range cfg.Workers {
			for _, decl := range w.Declarations {
				what := declWhat(decl)
				o, found := owners[reconciler.Claim{Worker: w.Name, What: what}]
				if !found && decl.Kind == wrangler.QueueConsumer {
					o, found = consumers[what]
				}
				if found {
					out = append(out, wranglerClash{claim: o.claim, by: o.by, worker: w, decl: decl})
				}
			}
		}
	}
	return out
}

// declWhat is the claim's What for a wrangler declaration.
func declWhat(d wrangler.Declaration) string {
	switch d.Kind {
	case wrangler.Binding:
		return reconciler.BindingClaim(d.Name)
	case wrangler.Cron:
		return reconciler.CronClaim(d.Name)
	case wrangler.QueueConsumer:
		return reconciler.QueueConsumerClaim(d.Name)
	}
	return d.Name
}

// deployedByWrangler are the Workers whose worker_settings say deployed_by = "wrangler":
// for them the wrangler file is the place to keep what both declare.
func deployedByWrangler(desired []reconciler.Desired) map[string]reconciler.Desired {
	out := map[string]reconciler.Desired{}
	for _, d := range desired {
		script, _ := d.Values["script"].(string)
		if by, _ := d.Values["deployed_by"].(string); d.Addr.Kind == "worker_settings" && by == "wrangler" && script != "" {
			out[script] = d
		}
	}
	return out
}

// clashDiagnostics turns each clash into a diagnostic on the flareops block, naming the
// wrangler file's line and which side should keep the declaration.
func clashDiagnostics(clashes []wranglerClash, cfg *loaded) hcl.Diagnostics {
	ranges := map[string]hcl.Range{}
	for _, b := range cfg.cfg.Blocks {
		ranges[reconciler.Address{Kind: b.Kind, Name: b.Name}.String()] = b.DeclRange
	}
	byWrangler := deployedByWrangler(cfg.desired)
	var diags hcl.Diagnostics
	for _, c := range clashes {
		rng := ranges[c.by.Addr.String()]
		where := fmt.Sprintf("%s (%s)", c.decl.Pos, wranglerKey(c.worker, c.decl))
		d := &hcl.Diagnostic{Severity: hcl.DiagError, Subject: &rng}
		if c.claim.Worker != c.worker.Name { // a queue's one consumer, on two Workers
			queue := c.decl.Name
			d.Summary = fmt.Sprintf("queue %s has a consumer here (Worker %s) and in %s (Worker %s)", queue, c.claim.Worker, c.decl.Pos, c.worker.Name)
			d.Detail = fmt.Sprintf("%s makes Worker %s the consumer of queue %s; %s makes Worker %s its consumer. A queue has one consumer, and a wrangler deploy and a flareops apply would each replace the other's: decide which Worker consumes it and remove the other declaration.",
				c.by.Addr, c.claim.Worker, queue, where, c.worker.Name)
			diags = append(diags, d)
			continue
		}
		d.Summary = fmt.Sprintf("%s on Worker %s is declared here and in %s", c.claim.What, c.claim.Worker, c.decl.Pos)
		advice := fmt.Sprintf("keep it here and remove it from %s.", c.decl.Pos)
		if c.decl.Inherited { // removing it at the top level would take it from that Worker too
			section := strings.Split(c.decl.Key, ".")[0]
			advice = fmt.Sprintf("keep it here, and give env.%s its own %s without it in %s (it inherits the top level's, line %d).",
				c.worker.Env, section, c.decl.Pos.File, c.decl.Pos.Line)
		}
		if ws, ok := byWrangler[c.claim.Worker]; ok {
			advice = fmt.Sprintf("Worker %s is deployed by wrangler (deployed_by = \"wrangler\" in %s, %s), so keep it in %s and remove it from %s.",
				c.claim.Worker, ws.Addr, ws.Source, c.decl.Pos, c.by.Addr)
		}
		d.Detail = fmt.Sprintf("%s sets %s on Worker %s, and %s declares it too. A wrangler deploy and a flareops apply would each undo the other's change; %s",
			c.by.Addr, c.claim.What, c.claim.Worker, where, advice)
		diags = append(diags, d)
	}
	return diags
}

// wranglerKey says where in the wrangler file the declaration is, environment included:
// "env.production.analytics_engine_datasets", "triggers.crons, inherited by env.staging".
func wranglerKey(w wrangler.Worker, d wrangler.Declaration) string {
	switch {
	case w.Env == "":
		return d.Key
	case d.Inherited:
		return d.Key + ", inherited by env." + w.Env
	}
	return "env." + w.Env + "." + d.Key
}
