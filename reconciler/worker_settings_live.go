package reconciler

import (
	"context"
	"fmt"

	"github.com/monotask/flareops/reconciler/cloudflare"
	"github.com/monotask/flareops/reconciler/workerset"
)

// wsPrivate is what ObserveScoped keeps about live settings: the spec last applied (what
// Update and Delete may take back) and the Logpush job's id (0: none).
type wsPrivate struct {
	applied *WorkerSettingsSpec
	jobID   int64
}

// ObserveScoped reads the Workers that the declared and the managed settings name (once
// each per run, shared with the other Worker-side kinds) and lists the Logpush jobs once.
// Managed settings exist while their Worker does. Declared settings that are not managed
// exist only when their Logpush job does: a Worker's settings are no object of their own
// (a declaration takes them over by creating), but a job named flareops-<script> is, and
// the planner refuses to take over one this state does not know.
//
// The live spec shows only what flareops owns (see liveSettings), so that a setting
// nobody declared is never a change.
func (k WorkerSettingsKind) ObserveScoped(ctx context.Context, scope Scope) ([]Object, error) {
	type target struct {
		desired, applied *WorkerSettingsSpec
		managed          bool
	}
	targets := map[string]*target{}
	get := func(script string) *target {
		if targets[script] == nil {
			targets[script] = &target{}
		}
		return targets[script]
	}
	for _, o := range scope.Desired {
		if s, ok := o.Spec.(WorkerSettingsSpec); ok {
			get(s.Script).desired = &s
		}
	}
	for _, en := range scope.Managed {
		t := get(en.Key)
		t.managed = true
		if a, ok := decodeApplied(en.Applied, WorkerSettingsSpec{}); ok {
			s := a.(WorkerSettingsSpec)
			t.applied = &s
			if s.DeployedBy == deployedByFlareops && k.Workers != nil {
				k.Workers.RecordApplied(en.Key, s.CPUMs) // the limit is flareops's: a sandbox may take its place
			}
		}
	}
	if len(targets) == 0 {
		return nil, nil
	}
	jobs, err := k.Logpush.ListLogpushJobs(ctx)
	if err != nil {
		return nil, err
	}
	var out []Object
	for _, script := range sortedKeys(targets) {
		t := targets[script]
		w, err := k.Workers.Read(ctx, script)
		if err != nil {
			return nil, fmt.Errorf("cannot read Worker %s: %w", script, err)
		}
		job := findJob(jobs, script)
		if !w.Exists || (!t.managed && job == nil) {
			continue
		}
		priv := wsPrivate{applied: t.applied}
		if job != nil {
			priv.jobID = job.ID
		}
		spec := k.liveSettings(w, job, t.desired, t.applied)
		out = append(out, Object{Key: script, ID: script, Spec: spec, Private: priv})
	}
	return out, nil
}

// Observe is ObserveScoped with nothing in scope: there is no Worker to read without
// declarations or state.
func (k WorkerSettingsKind) Observe(ctx context.Context) ([]Object, error) {
	return k.ObserveScoped(ctx, Scope{})
}

// liveSettings is the live spec of a Worker's settings as far as flareops owns them.
//   - With flareops deploying, a Worker setting shows when declared, or when the state
//     says flareops applied it and it is still as applied (removing it from the
//     configuration then takes it back; a value someone else set since is theirs).
//   - With wrangler deploying, the Worker's settings are not flareops's to compare: they
//     show as declared, and CheckManual reports what the Worker lacks.
//   - Without declaration or state (import), every setting the Worker has shows.
//
// The Logpush block shows when the job exists and the declaration or the state has one.
// Its secret is known to be the declared one only when the hash the state recorded is
// the hash of the declared secret with the live access key id; otherwise it is unknown
// (empty), and so differs from any declared secret.
func (k WorkerSettingsKind) liveSettings(w workerset.Worker, job *cloudflare.LogpushJob, desired, applied *WorkerSettingsSpec) WorkerSettingsSpec {
	// shown is who deployed the settings as far as flareops knows (the state), so that a
	// change of deployed_by is a change; writer is who does from now on.
	shown, writer := deployedByFlareops, deployedByFlareops
	switch {
	case applied != nil && desired != nil:
		shown, writer = applied.DeployedBy, desired.DeployedBy
	case applied != nil:
		shown, writer = applied.DeployedBy, applied.DeployedBy
	case desired != nil:
		shown, writer = desired.DeployedBy, desired.DeployedBy
	}
	s := WorkerSettingsSpec{Script: w.Script, DeployedBy: shown}
	cur := liveWorker(w)
	ours := func(declared, wasApplied, equalApplied bool) bool {
		switch {
		case desired == nil && applied == nil:
			return true // import: everything the Worker has
		case desired != nil && desired.DeployedBy == deployedByFlareops && declared:
			return true
		}
		return applied != nil && applied.DeployedBy == deployedByFlareops && wasApplied && equalApplied
	}
	if desired != nil && desired.DeployedBy == deployedByWrangler {
		s.CPUMs, s.Observability = desired.CPUMs, desired.Observability
	} else {
		if ours(desired != nil && desired.CPUMs != 0, applied != nil && applied.CPUMs != 0, applied != nil && cur.CPUMs == applied.CPUMs) {
			s.CPUMs = cur.CPUMs
		}
		s.Observability = k.liveObservability(cur.Observability, desired, applied, ours)
	}
	declaresLogpush := desired != nil && desired.Logpush != nil
	if job != nil && (declaresLogpush || (applied != nil && applied.Logpush != nil) || (desired == nil && applied == nil)) {
		l := k.liveLogpush(*job, w)
		if writer == deployedByFlareops && !w.Settings.Logpush {
			l.Enabled = false // the job pushes nothing while the Worker's logpush is off
		}
		if applied != nil && applied.Logpush != nil {
			l.Credentials = applied.Logpush.Credentials
			if declaresLogpush && credentialsHash(l.AccessKeyID, desired.Logpush.SecretAccessKey) == l.Credentials {
				l.SecretAccessKey = desired.Logpush.SecretAccessKey
			}
		}
		s.Logpush = &l
	}
	return s
}

// liveWorker is the Worker's settings as a spec, before ownership is applied.
func liveWorker(w workerset.Worker) WorkerSettingsSpec {
	s := WorkerSettingsSpec{CPUMs: w.Settings.CPUMs}
	if o := w.Settings.Observability; o != nil {
		s.Observability = &ObservabilitySpec{Enabled: o.Enabled, HeadSamplingRate: o.HeadSamplingRate}
		if l := o.Logs; l != nil {
			s.Observability.Logs = &LogsSpec{Enabled: l.Enabled, InvocationLogs: l.InvocationLogs, HeadSamplingRate: l.HeadSamplingRate}
		}
	}
	return s
}

// liveObservability applies ownership to the observability block and, inside it, to
// Workers Logs, which a declaration may leave out.
func (WorkerSettingsKind) liveObservability(cur *ObservabilitySpec, desired, applied *WorkerSettingsSpec, ours func(declared, wasApplied, equalApplied bool) bool) *ObservabilitySpec {
	var want, was *ObservabilitySpec
	if desired != nil {
		want = desired.Observability
	}
	if applied != nil {
		was = applied.Observability
	}
	if cur == nil || !ours(want != nil, was != nil, was != nil && cur.equal(was)) {
		return nil
	}
	o := *cur
	wantLogs := want != nil && want.Logs != nil
	wasLogs := was != nil && was.Logs != nil
	if !ours(wantLogs, wasLogs, wasLogs && o.Logs != nil && *o.Logs == *was.Logs) {
		o.Logs = nil
	}
	return &o
}

func (o *ObservabilitySpec) equal(p *ObservabilitySpec) bool {
	if o == nil || p == nil {
		return o == p
	}
	if o.Enabled != p.Enabled || o.HeadSamplingRate != p.HeadSamplingRate || (o.Logs == nil) != (p.Logs == nil) {
		return false
	}
	return o.Logs == nil || *o.Logs == *p.Logs
}

// api is the observability setting as the Worker API takes it.
func (o *ObservabilitySpec) api() *cloudflare.Observability {
	out := &cloudflare.Observability{Enabled: o.Enabled, HeadSamplingRate: o.HeadSamplingRate}
	if l := o.Logs; l != nil {
		out.Logs = &cloudflare.ObservabilityLogs{Enabled: l.Enabled, InvocationLogs: l.InvocationLogs, HeadSamplingRate: l.HeadSamplingRate}
	}
	return out
}

// Create takes over the declared settings of the Worker and creates its Logpush job. It
// refuses (ErrNameTaken) when a job of that name exists already: the engine decides
// whether an earlier attempt of its own made it. The settings written, a failed job
// create returns the id with the error: the next plan shows the job still to make.
func (k WorkerSettingsKind) Create(ctx context.Context, desired Object) (string, error) {
	want := desired.Spec.(WorkerSettingsSpec)
	if want.Logpush != nil {
		jobs, err := k.Logpush.ListLogpushJobs(ctx)
		if err != nil {
			return "", err
		}
		if j := findJob(jobs, want.Script); j != nil {
			return "", fmt.Errorf("Logpush job %s (id %d) already exists: %w", j.Name, j.ID, ErrNameTaken)
		}
	}
	if w := want.writes(); !w.Empty() {
		if err := k.Workers.Change(ctx, want.Script, workerset.Want{}, w); err != nil {
			return "", err
		}
	}
	if want.Logpush != nil {
		if err := k.createJob(ctx, want); err != nil {
			return want.Script, err
		}
	}
	return want.Script, nil
}

// Update changes what differs: the Worker's settings through the Worker merge (taking
// back only what was applied and is still as applied), then the Logpush job. Once
// wrangler deploys the Worker, its settings are left as they are: its deploys carry them.
func (k WorkerSettingsKind) Update(ctx context.Context, _ string, live, desired Object) error {
	have, want := live.Spec.(WorkerSettingsSpec), desired.Spec.(WorkerSettingsSpec)
	priv, _ := live.Private.(wsPrivate)
	var old workerset.Want
	if priv.applied != nil {
		old = priv.applied.writes()
	}
	if next := want.writes(); want.DeployedBy == deployedByFlareops && !(old.Empty() && next.Empty()) {
		if err := k.Workers.Change(ctx, want.Script, old, next); err != nil {
			return err
		}
	}
	switch {
	case want.Logpush == nil && priv.jobID != 0:
		return k.deleteJob(ctx, priv.jobID)
	case want.Logpush == nil:
	case priv.jobID == 0:
		return k.createJob(ctx, want)
	case have.Logpush == nil || !sameLogpush(*have.Logpush, *want.Logpush):
		j := k.job(want.Script, *want.Logpush)
		j.ID = priv.jobID
		return k.Logpush.UpdateLogpushJob(ctx, j)
	}
	return nil
}

// Delete removes the Logpush job and hands the Worker's settings back: what flareops
// applied and is still as applied returns to the platform's default (cpu_ms), off
// (observability, logpush); nothing else of the Worker is touched.
func (k WorkerSettingsKind) Delete(ctx context.Context, _ string, live Object) error {
	priv, _ := live.Private.(wsPrivate)
	if priv.jobID != 0 {
		if err := k.deleteJob(ctx, priv.jobID); err != nil {
			return err
		}
	}
	if priv.applied == nil || priv.applied.writes().Empty() {
		return nil
	}
	return k.Workers.Change(ctx, live.Key, priv.applied.writes(), workerset.Want{})
}
