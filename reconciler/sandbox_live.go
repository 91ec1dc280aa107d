package reconciler

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/monotask/flareops/reconciler/cloudflare"
	"github.com/monotask/flareops/reconciler/opsdoc"
	"github.com/monotask/flareops/reconciler/sandbox"
	"github.com/monotask/flareops/reconciler/suggest"
)

// Observing a sandbox costs the document store's one listing (shared with every kind that
// publishes documents), one read of its Worker's settings and one of its crons (shared with
// every kind on that Worker), and one list of containers applications per run. A document
// is read only when its hash matches neither the configuration's nor the last applied one:
// then the plan shows what it says.

// sandboxSeen is one sandbox in the scope of a plan.
type sandboxSeen struct {
	desired *SandboxSpec // from the configuration
	applied *SandboxSpec // as last applied, from the state
	managed bool
}

// ObserveScoped observes the sandboxes the configuration declares and the state manages.
func (k SandboxKind) ObserveScoped(ctx context.Context, scope Scope) ([]Object, error) {
	seen := map[string]*sandboxSeen{}
	get := func(name string) *sandboxSeen {
		if seen[name] == nil {
			seen[name] = &sandboxSeen{}
		}
		return seen[name]
	}
	for _, o := range scope.Desired {
		s := o.Spec.(SandboxSpec)
		get(s.Name).desired = &s
	}
	for _, en := range scope.Managed {
		sn := get(en.Key)
		sn.managed = true
		if a, ok := decodeApplied(en.Applied, SandboxSpec{}); ok {
			s := a.(SandboxSpec)
			sn.applied = &s
			if k.Workers != nil {
				k.Workers.RecordApplied(s.Worker, s.CPUMs)
			}
			if k.run != nil {
				k.run.mu.Lock()
				k.run.applied[en.Key] = &s
				k.run.mu.Unlock()
			}
		}
	}
	if k.Workers != nil {
		for w, tool := range scope.Deployed {
			k.Workers.SetDeployedBy(w, tool)
		}
	}
	docs, err := k.Docs.Observe(ctx)
	if err != nil {
		return nil, err
	}
	var out []Object
	for _, name := range sortedKeys(seen) {
		sn := seen[name]
		doc, hasDoc := docs[opsdoc.Key("sandbox", name)]
		// Without its document, a sandbox exists only if flareops manages it and knows
		// where it lives (the state or the configuration says): what is missing of it
		// then shows as fields to set again. A bare id (just imported) needs the document.
		if !hasDoc && !(sn.managed && (sn.applied != nil || sn.desired != nil)) {
			if sn.desired != nil { // to be created: the plan counts the crons it keeps
				if _, err := k.crons(ctx, sn.desired.Worker); err != nil {
					return nil, err
				}
			}
			continue
		}
		live, err := k.observe(ctx, name, sn, doc, hasDoc)
		if err != nil {
			return nil, fmt.Errorf("sandbox %s: %w", name, err)
		}
		out = append(out, Object{Key: name, ID: name, Spec: live, Private: sandboxPrivate{applied: sn.applied}})
	}
	return out, nil
}

// Observe lists every sandbox that has a policy document, reading each document to learn
// its Worker and application: for import, not for plans (which observe their scope).
func (k SandboxKind) Observe(ctx context.Context) ([]Object, error) {
	docs, err := k.Docs.Observe(ctx)
	if err != nil {
		return nil, err
	}
	var out []Object
	for _, key := range sortedKeys(docs) {
		name, ok := strings.CutPrefix(key, opsdoc.Key("sandbox", ""))
		if !ok || name == "" || strings.Contains(name, "/") {
			continue
		}
		live, err := k.observe(ctx, name, &sandboxSeen{}, docs[key], true)
		if err != nil {
			return nil, fmt.Errorf("sandbox %s: %w", name, err)
		}
		out = append(out, Object{Key: name, ID: name, Spec: live})
	}
	return out, nil
}

// observe reads one sandbox. The live spec shows, of what others own (the Worker's CPU
// limit, its crons, the application), only what the sandbox manages by its configuration
// or its last apply, so that a value it does not manage is never a difference.
func (k SandboxKind) observe(ctx context.Context, name string, sn *sandboxSeen, doc opsdoc.Doc, hasDoc bool) (SandboxSpec, error) {
	live := SandboxSpec{Name: name, Container: map[string]SandboxContainer{}}
	var stored *sandbox.Policy
	ref := sn.applied
	if ref == nil {
		ref = sn.desired
	}
	if ref == nil && hasDoc {
		p, err := k.readPolicy(ctx, doc.Key)
		if err != nil {
			return live, err
		}
		stored = p
		if p != nil {
			s := specFromPolicy(name, *p)
			ref = &s
		}
	}
	if ref == nil {
		return live, nil // a document flareops cannot read, and nothing else says more
	}
	live.Worker = ref.Worker
	same := []*SandboxSpec{ref} // the specs that say what is managed on ref's Worker
	if d := sn.desired; d != nil && d != ref && d.Worker == ref.Worker {
		same = append(same, d)
	}
	// A declared cron other than the one last applied is the sandbox's own only when the
	// update that puts it there got as far as publishing the declared policy (which an
	// update writes before such a cron: see apply). Without that, the Worker has it from
	// someone else (a deploy that rewrote its crons), and the plan shows it to be added.
	newCronOurs := sn.applied == nil || (hasDoc && sn.desired != nil && shortHash(doc.Hash) == sn.desired.Policy)
	if err := k.observeWorker(ctx, &live, same, sn.desired, newCronOurs); err != nil {
		return live, err
	}
	if err := k.observeContainer(ctx, &live, ref, sn.desired); err != nil {
		return live, err
	}
	if !hasDoc {
		return live, nil // no policy published: timeouts and hash stay zero
	}
	live.Policy = shortHash(doc.Hash)
	if live.Policy == "" {
		live.Policy = "(written without flareops's metadata)"
	}
	switch {
	case sn.desired != nil && live.Policy == sn.desired.Policy:
		live.ExecutionTimeout, live.IdleTimeout = sn.desired.ExecutionTimeout, sn.desired.IdleTimeout
	case sn.applied != nil && live.Policy == sn.applied.Policy:
		live.ExecutionTimeout, live.IdleTimeout = sn.applied.ExecutionTimeout, sn.applied.IdleTimeout
	default:
		if stored == nil {
			p, err := k.readPolicy(ctx, doc.Key)
			if err != nil {
				return live, err
			}
			stored = p
		}
		if stored != nil {
			live.ExecutionTimeout, live.IdleTimeout = stored.ExecutionTimeoutMs/1000, stored.IdleTimeoutMs/1000
		}
	}
	return live, nil
}

// readPolicy reads a stored document; nil when it is gone or is not a policy flareops can
// read (its timeouts then show as not published, and the next apply rewrites it).
func (k SandboxKind) readPolicy(ctx context.Context, key string) (*sandbox.Policy, error) {
	b, found, err := k.Docs.Get(ctx, key)
	if err != nil || !found {
		return nil, err
	}
	p, err := sandbox.ParsePolicy(b)
	if err != nil {
		return nil, nil
	}
	return &p, nil
}

// observeWorker reads the CPU limit and the cleanup cron on the sandbox's Worker. The
// declared cron counts as the sandbox's own when it is the one in same[0] (the spec last
// applied, or declared), or newCronOurs says so.
func (k SandboxKind) observeWorker(ctx context.Context, live *SandboxSpec, same []*SandboxSpec, desired *SandboxSpec, newCronOurs bool) error {
	w, err := k.Workers.Read(ctx, live.Worker)
	if err != nil {
		return fmt.Errorf("cannot read Worker %s: %w", live.Worker, err)
	}
	crons, err := k.crons(ctx, live.Worker)
	if err != nil {
		return err
	}
	if desired != nil && desired.Worker != live.Worker {
		if _, err := k.crons(ctx, desired.Worker); err != nil { // for the plan text of a move
			return err
		}
	}
	if !w.Exists {
		return nil
	}
	if k.deployedBy(live.Worker) != "" {
		// Another tool deploys the Worker: flareops writes neither the cron nor the CPU
		// limit there, so they are no part of the diff; CheckManual says whether the
		// Worker has them.
		for _, s := range same {
			if live.CPUMs == 0 {
				live.CPUMs = s.CPUMs
			}
			if live.CleanupEvery == "" {
				live.CleanupEvery = s.CleanupEvery
			}
		}
		if desired != nil && desired.Worker == live.Worker {
			live.CPUMs, live.CleanupEvery = desired.CPUMs, desired.CleanupEvery
		}
		return nil
	}
	for _, s := range same {
		if s.CPUMs != 0 {
			live.CPUMs = w.Settings.CPUMs
		}
		if s != same[0] && !newCronOurs && s.cron() != same[0].cron() {
			continue
		}
		if c := s.cron(); c != "" && live.CleanupEvery == "" && slices.Contains(crons, c) {
			live.CleanupEvery = s.CleanupEvery
		}
	}
	return nil
}

// crons reads a Worker's crons (once per run, through the Worker set) and remembers them.
func (k SandboxKind) crons(ctx context.Context, worker string) ([]string, error) {
	crons, err := k.Workers.Crons(ctx, worker)
	if err != nil {
		return nil, fmt.Errorf("cannot read the cron triggers of Worker %s: %w", worker, err)
	}
	if k.run != nil {
		k.run.mu.Lock()
		k.run.crons[worker] = slices.Clone(crons)
		k.run.mu.Unlock()
	}
	return crons, nil
}

// observeContainer reads the application the sandbox was applied with (or is declared
// with, before its first apply): only the fields either of them manages.
func (k SandboxKind) observeContainer(ctx context.Context, live *SandboxSpec, ref, desired *SandboxSpec) error {
	rc, ok := ref.container()
	if !ok {
		return nil
	}
	app, found, err := k.application(ctx, rc.Application)
	if err != nil || !found {
		return err
	}
	managesMax, managesSize := rc.MaxInstances != 0, rc.managesSize()
	if desired != nil {
		if dc, ok := desired.container(); ok && dc.Application == rc.Application {
			managesMax = managesMax || dc.MaxInstances != 0
			managesSize = managesSize || dc.managesSize()
		}
	}
	lc := SandboxContainer{Application: app.Name}
	if managesMax {
		lc.MaxInstances = int64(app.MaxInstances)
	}
	if cfg := app.Configuration; managesSize && cfg.InstanceType != "" {
		lc.InstanceType = cfg.InstanceType
	} else if managesSize {
		lc.VCPU, lc.MemoryMiB = cfg.VCPU, int64(cfg.MemoryMiB)
	}
	live.Container[lc.Application] = lc
	return nil
}

// applications lists the account's containers applications, once per run (writes drop
// the list).
func (k SandboxKind) applications(ctx context.Context) ([]cloudflare.ContainerApplication, error) {
	if k.run != nil {
		k.run.mu.Lock()
		defer k.run.mu.Unlock()
		if k.run.fresh {
			return k.run.apps, nil
		}
	}
	if k.Containers == nil {
		return nil, fmt.Errorf("no containers API")
	}
	apps, err := k.Containers.ContainerApplications(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot list containers applications: %w", err)
	}
	if k.run != nil {
		k.run.apps, k.run.fresh = apps, true
	}
	return apps, nil
}

// application finds an application by name. A name missing from the run's list is looked
// up once more in a fresh list: it may have been made since the plan (on the built-in
// local Cloudflare, apply stands in for a missing one before it writes).
func (k SandboxKind) application(ctx context.Context, name string) (cloudflare.ContainerApplication, bool, error) {
	for attempt := 0; attempt < 2; attempt++ {
		apps, err := k.applications(ctx)
		if err != nil {
			return cloudflare.ContainerApplication{}, false, err
		}
		for _, a := range apps {
			if a.Name == name {
				return a, true, nil
			}
		}
		if k.run == nil {
			break
		}
		k.run.mu.Lock()
		k.run.fresh = false
		k.run.mu.Unlock()
	}
	return cloudflare.ContainerApplication{}, false, nil
}

// seenCrons returns the crons a Worker had when this run observed it.
func (k SandboxKind) seenCrons(worker string) ([]string, bool) {
	if k.run == nil {
		return nil, false
	}
	k.run.mu.Lock()
	defer k.run.mu.Unlock()
	c, ok := k.run.crons[worker]
	return c, ok
}

var _ LiveValidator = SandboxKind{}

// ValidateLive checks that each sandbox's Worker and application exist. Workers are read
// through the run's Worker set, applications with the run's one list.
func (k SandboxKind) ValidateLive(ctx context.Context, desired []Desired) ([]LiveProblem, error) {
	var out []LiveProblem
	named := map[string]Desired{}
	for _, d := range desired {
		obj, err := k.Build(d.Values)
		if err != nil {
			continue
		}
		s := obj.Spec.(SandboxSpec)
		if first, dup := named[s.Name]; dup {
			out = append(out, LiveProblem{Addr: d.Addr, Source: d.Source, Object: "sandbox name", Name: s.Name,
				Detail: fmt.Sprintf("%s (%s) is named %q too, and a name has one policy document (%s); set name on one of them (a sandbox is named after its Worker by default)",
					first.Addr, first.Source, s.Name, opsdoc.Key("sandbox", s.Name))})
			continue
		}
		named[s.Name] = d
		w, err := k.Workers.Read(ctx, s.Worker)
		if err != nil {
			return nil, fmt.Errorf("cannot read Worker %s: %w", s.Worker, err)
		}
		if !w.Exists {
			out = append(out, LiveProblem{Addr: d.Addr, Source: d.Source, Object: "Worker", Name: s.Worker,
				Detail: fmt.Sprintf("Worker %s does not exist in the account; deploy it first (flareops never uploads Worker code), or fix the name", s.Worker)})
		}
		c, ok := s.container()
		if !ok {
			continue
		}
		apps, err := k.applications(ctx)
		if err != nil {
			return nil, err
		}
		names := make([]string, 0, len(apps))
		for _, a := range apps {
			names = append(names, a.Name)
		}
		if !slices.Contains(names, c.Application) {
			out = append(out, LiveProblem{Addr: d.Addr, Source: d.Source, Object: "containers application", Name: c.Application,
				Detail: fmt.Sprintf("containers application %q does not exist in the account.%s flareops manages only existing applications and never creates one: deploy it first (wrangler deploy creates it from the Worker's containers configuration), or fix the name",
					c.Application, suggest.DidYouMean(c.Application, names))})
		}
	}
	return out, nil
}
