package reconciler

import (
	"context"
	"fmt"
	"strings"

	"github.com/monotask/flareops/reconciler/workerset"
)

// A Worker deployed with wrangler gets its bindings, crons and settings from its wrangler
// file on every `wrangler deploy`: what flareops writes there is gone after the next
// deploy. A configuration that says so (worker_settings with deployed_by = "wrangler")
// makes flareops check instead of write. deployWarnings covers the Worker nobody said
// that about: when this plan writes to a Worker that Cloudflare records as last deployed
// from wrangler (the script's last_deployed_from), the plan carries a warning naming the
// Worker, what is written there and by which blocks, and what to do. The Terraform
// provider warns the same way at plan time (WranglerWarning).
//
// It costs one list of the account's Workers, and only in plans that write to a Worker.

// WorkerWrite is one thing a declaration (Addr) writes on a Worker (What, a Claim's).
type WorkerWrite struct{ Addr, What string }

// deployWarnings returns the warnings for the Workers that the plan's creates, updates and
// replaces write to.
func (e *Engine) deployWarnings(ctx context.Context, p *Plan, byAddr map[string]*Desired) []string {
	reg := e.Registry
	if reg == nil || reg.Workers == nil {
		return nil
	}
	writes := map[string][]WorkerWrite{}
	for _, c := range p.Changes {
		if c.Action != Create && c.Action != Update && c.Action != Replace {
			continue
		}
		if d, ok := byAddr[c.Address]; ok {
			AddWorkerWrites(writes, c.Address, claimsOf(reg, *d), reg.Workers.DeployedBy)
		}
	}
	var out []string
	for _, c := range WranglerChecks(ctx, reg.Workers, writes, false) {
		if c.Err != nil {
			out = append(out, fmt.Sprintf("could not check which tool last deployed Worker %s, which this plan writes to: %v", c.Worker, c.Err))
		} else {
			out = append(out, c.Warning)
		}
	}
	return out
}

// WranglerCheck is what WranglerChecks found for one Worker: a warning, or why it could
// not tell who last deployed it.
type WranglerCheck struct {
	Worker, Warning string
	Err             error
}

// WranglerChecks asks, in Worker order, who last deployed each Worker written to (writes,
// by Worker) and returns a check for each one wrangler deployed (WranglerWarning) or that
// could not be asked about; terraform words the advice for the provider.
func WranglerChecks(ctx context.Context, workers *workerset.Set, writes map[string][]WorkerWrite, terraform bool) []WranglerCheck {
	var out []WranglerCheck
	for _, w := range sortedKeys(writes) {
		from, err := workers.LastDeployedFrom(ctx, w)
		if err != nil {
			out = append(out, WranglerCheck{Worker: w, Err: err})
			continue
		}
		if s := WranglerWarning(w, from, writes[w], terraform); s != "" {
			out = append(out, WranglerCheck{Worker: w, Warning: s})
		}
	}
	return out
}

// AddWorkerWrites adds to writes (by Worker) what the claims of the declaration at addr
// write: bindings, crons and settings, not queue consumers (a consumer is the queue's
// setting, which wrangler deploy does not remove), and nothing on a Worker deployedBy
// names a tool for (the configuration says who deploys it: that kind checks instead).
func AddWorkerWrites(writes map[string][]WorkerWrite, addr string, claims []Claim, deployedBy func(worker string) string) {
	consumer := QueueConsumerClaim("")
	for _, c := range claims {
		if strings.HasPrefix(c.What, consumer) || deployedBy(c.Worker) != "" {
			continue
		}
		writes[c.Worker] = append(writes[c.Worker], WorkerWrite{Addr: addr, What: c.What})
	}
}

// WranglerWarning is the warning for writes (what, by which address) to Worker w, whose
// last deployment came from the client from; "" when from is not wrangler. terraform
// words the advice for the provider, whose resources cannot see a worker_settings block.
func WranglerWarning(w, from string, writes []WorkerWrite, terraform bool) string {
	if from != "wrangler" {
		return ""
	}
	var what []string
	seen := map[string]bool{}
	for _, x := range writes {
		s := fmt.Sprintf("%s (%s)", x.What, x.Addr)
		if !seen[s] {
			seen[s] = true
			what = append(what, s)
		}
	}
	advice := fmt.Sprintf("Add them to the Worker's wrangler file and declare worker_settings { script = %q, deployed_by = \"wrangler\" } (flareops then checks them instead of writing them), "+
		"or deploy the Worker without wrangler", w)
	if terraform {
		advice = "Declare them in the Worker's wrangler file instead of in Terraform, or deploy the Worker without wrangler"
	}
	return fmt.Sprintf("Worker %s was last deployed with wrangler (Cloudflare's last_deployed_from), and this plan writes to it: %s. "+
		"`wrangler deploy` replaces a Worker's bindings, crons and settings with its wrangler file's, so the next deploy removes them. %s",
		w, strings.Join(what, ", "), advice)
}
