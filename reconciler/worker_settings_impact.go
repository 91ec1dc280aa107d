package reconciler

import (
	"context"
	"fmt"
	"strings"

	"github.com/monotask/flareops/reconciler/workerset"
	"github.com/monotask/flareops/reconciler/wrangler"
)

// Impact says what a change of a Worker's settings does to its requests and its logs.
func (k WorkerSettingsKind) Impact(action Action, f FieldChange, live, desired any) string {
	have, _ := live.(WorkerSettingsSpec)
	want, _ := desired.(WorkerSettingsSpec)
	script := want.Script
	if action == Delete {
		script = have.Script
	}
	if action != Delete && want.DeployedBy == deployedByWrangler && (f.Path == "cpu_ms" || strings.HasPrefix(f.Path, "observability.")) {
		return "" // not written: the deployed_by line says so, and Plan.Manual what is lacking
	}
	if action == Delete && strings.HasPrefix(f.Path, "observability.logs.") {
		return "" // observability goes off as a whole
	}
	if action == Create && k.Workers != nil && (f.Path == "cpu_ms" || strings.HasPrefix(f.Path, "observability.")) {
		// The Worker's settings before this declaration took them over.
		if w, ok := k.Workers.Cached(script); ok {
			have = liveWorker(w)
			have.Script = script
		}
	}
	switch {
	case f.Path == "deployed_by":
		return deployedByImpact(action, want, script)
	case f.Path == "cpu_ms":
		return cpuImpact(action, f, have, want, script)
	case strings.HasPrefix(f.Path, "observability."):
		return observabilityImpact(f, have.Observability, want.Observability, script)
	case strings.HasPrefix(f.Path, "logpush."):
		return logpushImpact(f, have.Logpush, want.Logpush, script)
	}
	return ""
}

func deployedByImpact(action Action, want WorkerSettingsSpec, script string) string {
	switch {
	case action == Delete:
		return ""
	case want.DeployedBy == deployedByWrangler && action == Create:
		return fmt.Sprintf("Worker %s is deployed by wrangler: flareops writes nothing to it and shows, at every plan, what its wrangler configuration lacks", script)
	case want.DeployedBy == deployedByWrangler:
		return fmt.Sprintf("flareops stops writing the settings of Worker %s (they are left as they are): its wrangler configuration must carry them, or its next deploy drops them", script)
	case action != Create:
		return fmt.Sprintf("flareops writes the settings of Worker %s from now on: a wrangler deploy whose configuration lacks them undoes them until the next apply", script)
	}
	return ""
}

func cpuImpact(action Action, f FieldChange, have, want WorkerSettingsSpec, script string) string {
	effective := func(ms int64) int64 {
		if ms == 0 {
			return defaultCPUMs
		}
		return ms
	}
	old := formatMs(have.CPUMs) + " ms"
	if have.CPUMs == 0 {
		old = formatMs(defaultCPUMs) + " ms (the platform default)"
	}
	switch {
	case action == Delete || !f.NewSet || want.CPUMs == 0:
		return fmt.Sprintf("cpu_ms limit of %s goes back to the platform default (%s ms)", script, formatMs(defaultCPUMs))
	case effective(want.CPUMs) < effective(have.CPUMs):
		return fmt.Sprintf("cpu_ms limit %s -> %s ms on %s: requests using more CPU fail", old, formatMs(want.CPUMs), script)
	case effective(want.CPUMs) > effective(have.CPUMs):
		return fmt.Sprintf("cpu_ms limit %s -> %s ms on %s: requests may use more CPU time, which is billed", old, formatMs(want.CPUMs), script)
	}
	return ""
}

func observabilityImpact(f FieldChange, have, want *ObservabilitySpec, script string) string {
	switch f.Path {
	case "observability.enabled":
		switch {
		case !f.NewSet:
			return fmt.Sprintf("observability of %s is turned off (flareops turned it on): no more logs or traces from it in the dashboard", script)
		case want.Enabled:
			return fmt.Sprintf("observability of %s is on: %s of requests are observed (logs and traces in the dashboard)", script, percent(want.HeadSamplingRate))
		}
		return fmt.Sprintf("observability of %s is off: no more logs or traces from it in the dashboard", script)
	case "observability.head_sampling_rate":
		if have != nil && f.OldSet && f.NewSet {
			return fmt.Sprintf("observability of %s samples %s of requests (was %s)", script, percent(want.HeadSamplingRate), percent(have.HeadSamplingRate))
		}
	case "observability.logs.enabled":
		switch {
		case !f.NewSet:
			return fmt.Sprintf("Workers Logs of %s are left as they are (no longer declared)", script)
		case want.Logs.Enabled:
			return fmt.Sprintf("Workers Logs of %s are kept for %s of requests", script, percent(want.Logs.HeadSamplingRate))
		}
		return fmt.Sprintf("Workers Logs of %s are no longer kept", script)
	case "observability.logs.invocation_logs":
		if f.NewSet && want.Logs.InvocationLogs {
			return fmt.Sprintf("one log line per invocation of %s is kept too", script)
		} else if f.NewSet {
			return fmt.Sprintf("invocation log lines of %s are no longer kept (its own logs still are)", script)
		}
	case "observability.logs.head_sampling_rate":
		if f.OldSet && f.NewSet && have != nil && have.Logs != nil {
			return fmt.Sprintf("Workers Logs of %s are kept for %s of requests (was %s)", script, percent(want.Logs.HeadSamplingRate), percent(have.Logs.HeadSamplingRate))
		}
	}
	return ""
}

func logpushImpact(f FieldChange, have, want *LogpushSpec, script string) string {
	where := func(l *LogpushSpec) string {
		if l.Path == "" {
			return "R2 bucket " + l.Bucket
		}
		return "R2 bucket " + l.Bucket + " under " + l.Path + "/"
	}
	switch {
	case f.Path == "logpush.bucket" && f.NewSet && !f.OldSet:
		if !want.Enabled {
			return fmt.Sprintf("Logpush job %s is created paused: no trace events of %s are pushed yet", logpushJobName(script), script)
		}
		return fmt.Sprintf("trace events of %s are pushed to %s (Logpush job %s)", script, where(want), logpushJobName(script))
	case f.Path == "logpush.bucket" && !f.NewSet:
		return fmt.Sprintf("trace events of %s are no longer pushed to R2: Logpush job %s is deleted (what %s holds stays)", script, logpushJobName(script), where(have))
	case want == nil || have == nil:
		return ""
	case f.Path == "logpush.bucket" || f.Path == "logpush.path":
		return fmt.Sprintf("trace events of %s go to %s instead of %s", script, where(want), where(have))
	case f.Path == "logpush.enabled" && want.Enabled:
		return fmt.Sprintf("trace events of %s are pushed to %s again", script, where(want))
	case f.Path == "logpush.enabled":
		return fmt.Sprintf("Logpush of %s is paused: its trace events are not pushed to R2 until enabled again (the job is kept)", script)
	case f.Path == "logpush.filter" && want.Filter == "":
		return fmt.Sprintf("every trace event of %s is pushed", script)
	case f.Path == "logpush.filter":
		return fmt.Sprintf("only the trace events of %s that match the filter are pushed", script)
	case f.Path == "logpush.max_upload_interval":
		return fmt.Sprintf("trace events of %s are uploaded in batches of at most %s", script, f.New)
	case f.Sensitive:
		return fmt.Sprintf("the Logpush job of %s writes to R2 with new credentials", script)
	}
	return ""
}

var _ LiveValidator = WorkerSettingsKind{}

// ValidateLive checks that each declaration's Worker exists, through the run's Worker set
// (one read per Worker, shared with observation), and that the destination bucket of its
// Logpush job does (one read per bucket): Cloudflare refuses a job whose bucket is missing
// only at apply, after other changes of the run were made.
func (k WorkerSettingsKind) ValidateLive(ctx context.Context, desired []Desired) ([]LiveProblem, error) {
	var out []LiveProblem
	buckets := map[string]bool{}
	for _, d := range desired {
		if obj, err := k.Build(d.Values); err == nil && k.Buckets != nil {
			if l := obj.Spec.(WorkerSettingsSpec).Logpush; l != nil {
				found, seen := buckets[l.Bucket]
				if !seen {
					_, ok, err := k.Buckets.R2Bucket(ctx, l.Bucket)
					if err != nil {
						return nil, err
					}
					found, buckets[l.Bucket] = ok, ok
				}
				if !found {
					out = append(out, LiveProblem{Addr: d.Addr, Source: d.Source, Object: "R2 bucket", Name: l.Bucket,
						Detail: fmt.Sprintf("R2 bucket %s, the destination of the Logpush job of Worker %s, does not exist in the account: create it (wrangler r2 bucket create %s), or correct logpush.bucket", l.Bucket, obj.Key, l.Bucket)})
				}
			}
		}
	}
	for _, d := range desired {
		obj, err := k.Build(d.Values)
		if err != nil {
			continue
		}
		script := obj.Key
		w, err := k.Workers.Read(ctx, script)
		if err != nil {
			return nil, fmt.Errorf("cannot read Worker %s: %w", script, err)
		}
		if !w.Exists {
			out = append(out, LiveProblem{Addr: d.Addr, Source: d.Source, Object: "Worker", Name: script,
				Detail: fmt.Sprintf("Worker %s does not exist in the account: deploy it first (flareops never uploads Worker code), or correct script to the name of a deployed Worker (a Worker deployed to a wrangler environment is named <name>-<env>)", script)})
		}
	}
	return out, nil
}

var _ ManualChecker = WorkerSettingsKind{}

// CheckManual reports what a Worker deployed by wrangler lacks of its declared settings,
// with the wrangler.toml and wrangler.jsonc lines that give it to the Worker's deploys.
func (k WorkerSettingsKind) CheckManual(ctx context.Context, desired Object) (*ManualStep, error) {
	want := desired.Spec.(WorkerSettingsSpec)
	if want.DeployedBy != deployedByWrangler {
		return nil, nil
	}
	w, err := k.Workers.Read(ctx, want.Script)
	if err != nil {
		return nil, fmt.Errorf("cannot read Worker %s: %w", want.Script, err)
	}
	if !w.Exists {
		return nil, nil
	}
	asks, cur := want.wants(), liveWorker(w)
	var missing workerset.Want
	var differs []string
	if asks.CPUMs != 0 && cur.CPUMs != asks.CPUMs {
		missing.CPUMs = asks.CPUMs
		have := formatMs(cur.CPUMs) + " ms"
		if cur.CPUMs == 0 {
			have = formatMs(defaultCPUMs) + " ms (the platform default)"
		}
		differs = append(differs, fmt.Sprintf("cpu_ms is %s, not %s", have, formatMs(asks.CPUMs)))
	}
	if o := want.Observability; o != nil && !observabilityHas(cur.Observability, o) {
		missing.Observability = asks.Observability
		differs = append(differs, fmt.Sprintf("observability is %s instead of %s", describeObservability(cur.Observability), describeObservability(o)))
	}
	if asks.Logpush && !w.Settings.Logpush {
		missing.Logpush = true
		differs = append(differs, "logpush is off, so Logpush job "+logpushJobName(want.Script)+" receives none of its trace events")
	}
	if len(differs) == 0 {
		return nil, nil
	}
	step := &ManualStep{Tool: deployedByWrangler, Object: "Worker " + want.Script, Differs: differs}
	for _, f := range wrangler.Formats {
		step.Fragments = append(step.Fragments, Fragment{File: wrangler.FileName(f), Text: wrangler.Fragment(f, missing)})
	}
	return step, nil
}

// observabilityHas reports whether the Worker's observability is as declared; Workers
// Logs count only when declared.
func observabilityHas(cur, want *ObservabilitySpec) bool {
	if cur == nil || cur.Enabled != want.Enabled || cur.HeadSamplingRate != want.HeadSamplingRate {
		return false
	}
	return want.Logs == nil || (cur.Logs != nil && *cur.Logs == *want.Logs)
}

func describeObservability(o *ObservabilitySpec) string {
	switch {
	case o == nil:
		return "not set"
	case !o.Enabled:
		return "off"
	}
	s := "on for " + percent(o.HeadSamplingRate) + " of requests"
	if l := o.Logs; l != nil {
		switch {
		case !l.Enabled:
			s += ", Workers Logs off"
		case l.InvocationLogs:
			s += fmt.Sprintf(", Workers Logs with invocation logs for %s", percent(l.HeadSamplingRate))
		default:
			s += fmt.Sprintf(", Workers Logs for %s", percent(l.HeadSamplingRate))
		}
	}
	return s
}
