package reconciler

import (
	"context"
	"fmt"
)

// ManualChecker is implemented by kinds whose declarations may set things on an object
// that another tool deploys, and redeploys without them: a Worker declared with
// deployed_by = "wrangler", whose next `wrangler deploy` would undo any setting flareops
// wrote. flareops never writes those things, so they are no part of the kind's spec (apply
// would otherwise plan them forever); the planner asks the kind instead, at every plan,
// whether the object has them, and the plan shows what is missing with what to add to the
// tool's configuration (Plan.Manual). Drift counts a missing one as drift.
//
// Contract: CheckManual never mutates, and reads only what observation reads (a Worker is
// read once per run, see workerset.Set). It returns nil when desired leaves nothing to a
// tool, or when the object has everything desired asks of the tool. A declaration whose
// object does not exist is the kind's LiveValidator's to report, not CheckManual's.
type ManualChecker interface {
	CheckManual(ctx context.Context, desired Object) (*ManualStep, error)
}

// ManualStep is what one declaration asks of an object another tool deploys, and the
// object lacks.
type ManualStep struct {
	// Address and Source name the declaration (set by the planner).
	Address string `json:"address"`
	Source  string `json:"source"`
	// Tool deploys the object ("wrangler"); Object names it ("Worker monotask-api-gateway").
	Tool   string `json:"tool"`
	Object string `json:"object"`
	// Differs says what the object lacks, one line each ("cpu_ms is 30,000 ms (the
	// platform default), not 50").
	Differs []string `json:"differs"`
	// Fragments are what to add to the tool's configuration, one per file format.
	Fragments []Fragment `json:"fragments"`
}

// Fragment is text to add to one configuration file of a tool.
type Fragment struct {
	File string `json:"file"` // "wrangler.toml", "wrangler.jsonc"
	Text string `json:"text"`
}

// checkManual asks every ManualChecker kind about its declarations, in address order.
func (e *Engine) checkManual(ctx context.Context, desired map[string]*Desired, built map[string]Object) ([]ManualStep, error) {
	var out []ManualStep
	for _, addr := range sortedKeys(built) {
		d := desired[addr]
		k, _ := e.Registry.Kind(d.Addr.Kind)
		mc, ok := k.(ManualChecker)
		if !ok {
			continue
		}
		step, err := mc.CheckManual(ctx, built[addr])
		if err != nil {
			return nil, fmt.Errorf("%s (%s): cannot check what its deployer must carry: %w", addr, d.Source, err)
		}
		if step != nil {
			step.Address, step.Source = addr, d.Source
			out = append(out, *step)
		}
	}
	return out, nil
}
