package reconciler

import (
	"context"
	"fmt"
	"slices"

	"github.com/monotask/flareops/reconciler/workerset"
	"github.com/monotask/flareops/reconciler/wrangler"
)

// deployedBy is the tool that deploys worker when it is not flareops ("" otherwise), as
// the run's configuration says (worker_settings' deployed_by).
func (k SandboxKind) deployedBy(worker string) string {
	if k.Workers == nil || worker == "" {
		return ""
	}
	return k.Workers.DeployedBy(worker)
}

var _ ManualChecker = SandboxKind{}

// CheckManual reports what a Worker that another tool deploys lacks of a sandbox: its
// cleanup cron and its CPU limit, with the wrangler.toml and wrangler.jsonc lines that
// give them to the Worker's deploys. The application and the policy document are
// flareops's to write wherever the Worker comes from.
func (k SandboxKind) CheckManual(ctx context.Context, desired Object) (*ManualStep, error) {
	want := desired.Spec.(SandboxSpec)
	tool := k.deployedBy(want.Worker)
	if tool == "" {
		return nil, nil
	}
	w, err := k.Workers.Read(ctx, want.Worker)
	if err != nil {
		return nil, fmt.Errorf("cannot read Worker %s: %w", want.Worker, err)
	}
	if !w.Exists {
		return nil, nil // the LiveValidator reports it
	}
	var missing workerset.Want
	var differs []string
	if c := want.cron(); c != "" {
		crons, err := k.crons(ctx, want.Worker)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(crons, c) {
			missing.Crons = []string{c}
			differs = append(differs, fmt.Sprintf("cron `%s` (cleanup every %s) is missing", c, want.CleanupEvery))
		}
	}
	if want.CPUMs != 0 && w.Settings.CPUMs != want.CPUMs {
		missing.CPUMs = want.CPUMs
		have := formatMs(w.Settings.CPUMs) + " ms"
		if w.Settings.CPUMs == 0 {
			have = formatMs(defaultCPUMs) + " ms (the platform default)"
		}
		differs = append(differs, fmt.Sprintf("cpu_ms is %s, not %s", have, formatMs(want.CPUMs)))
	}
	if len(differs) == 0 {
		return nil, nil
	}
	step := &ManualStep{Tool: tool, Object: "Worker " + want.Worker, Differs: differs}
	for _, f := range wrangler.Formats {
		step.Fragments = append(step.Fragments, Fragment{File: wrangler.FileName(f), Text: wrangler.Fragment(f, missing)})
	}
	return step, nil
}
