package reconciler

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/monotask/flareops/reconciler/cloudflare"
	"github.com/monotask/flareops/reconciler/opsdoc"
	"github.com/monotask/flareops/reconciler/workerset"
)

// The writes of a sandbox go in the order that leaves least behind when one is refused:
//
//  1. the cleanup cron on the Worker: the likeliest refusal (the account's limit of cron
//     triggers), so it goes first, and a refusal leaves the account as it was;
//  2. the Worker's CPU limit;
//  3. the application's instance size and max instances;
//  4. the policy document, last, so that the sandbox code never reads limits that are not
//     in force yet;
//  5. for a sandbox that moved to another Worker, its cron and CPU limit are taken off the
//     old one (after the new one has them: cleanups never stop).
//
// An update of a managed sandbox that changes its cron on the same Worker sets the cron
// after the policy document instead (step 1 moves after step 4): observation takes a
// declared cron that is not the one last applied for the sandbox's own only when the
// declared policy is published, so a cron someone else put there (a deploy that rewrote
// the Worker's crons) is never taken over, while an update that failed halfway is still
// retried (it failed before the cron, or after writing both). The policy then announces
// the new cleanup interval a moment before its cron is in force.
//
// Nothing is written where someone else's entry would be taken over: a cron or a CPU
// limit the Worker has that flareops did not put there is refused (foreignCron,
// foreignCPU) before the first write.
//
// Every Worker write goes through the run's Worker set (workerset.Set.Change), which keeps
// every cron, binding and setting the sandbox does not own.
//
// On a Worker that another tool deploys (worker_settings' deployed_by = "wrangler"),
// steps 1, 2 and 5 write nothing: its next deploy would undo them. The plan shows instead
// what the tool's configuration lacks (CheckManual). A failure after a write says what was
// done; the sandbox is then recorded as it is (a sandbox flareops manages always
// exists), and the next plan shows what is left to do.

// Create puts the sandbox on its Worker and application and publishes its policy.
func (k SandboxKind) Create(ctx context.Context, desired Object) (string, error) {
	want := desired.Spec.(SandboxSpec)
	if err := k.foreignCron(ctx, want); err != nil {
		return "", err
	}
	if err := k.foreignCPU(ctx, want); err != nil {
		return "", err
	}
	done, err := k.apply(ctx, SandboxSpec{Name: want.Name, Worker: want.Worker}, want, nil)
	if err != nil && len(done) == 0 {
		return "", err // nothing was written: nothing to record
	}
	return want.Name, err
}

// Update changes what differs between live and desired.
func (k SandboxKind) Update(ctx context.Context, _ string, live, desired Object) error {
	priv, _ := live.Private.(sandboxPrivate)
	_, err := k.apply(ctx, live.Spec.(SandboxSpec), desired.Spec.(SandboxSpec), priv.applied)
	return err
}

// Delete takes the sandbox's cron and CPU limit off its Worker (where they are still as
// flareops set them) and deletes its policy document. The application is left as it is.
// Deleting what is gone is success.
func (k SandboxKind) Delete(ctx context.Context, _ string, live Object) error {
	s := live.Spec.(SandboxSpec)
	priv, _ := live.Private.(sandboxPrivate)
	if err := k.takeOff(ctx, s, priv.applied); err != nil {
		return err
	}
	return k.Docs.Delete(ctx, opsdoc.Key("sandbox", s.Name))
}

// takeOff removes the sandbox's cron and CPU limit from its Worker, where they are still
// as flareops set them: the CPU limit goes back to the platform default only while it is
// the one last applied (applied; without a record, the one observed), never one that
// someone else set since.
func (k SandboxKind) takeOff(ctx context.Context, s SandboxSpec, applied *SandboxSpec) error {
	if s.Worker == "" {
		return nil // a document flareops could not read: nothing known to take off
	}
	if c := s.cron(); c != "" {
		if err := k.Workers.Change(ctx, s.Worker, workerset.Want{Crons: []string{c}}, workerset.Want{}); err != nil {
			return fmt.Errorf("cannot remove cron `%s` from Worker %s: %w", c, s.Worker, err)
		}
	}
	cpu := s.CPUMs
	if applied != nil && applied.Worker == s.Worker {
		cpu = applied.CPUMs
	}
	if s.CPUMs != 0 && cpu != 0 {
		if err := k.Workers.Change(ctx, s.Worker, workerset.Want{CPUMs: cpu}, workerset.Want{}); err != nil {
			return fmt.Errorf("cannot reset the CPU limit of Worker %s: %w", s.Worker, err)
		}
	}
	return nil
}

// apply turns have (live) into want, in the order above, and returns what it did. applied
// is the spec last applied (nil for a new sandbox, or a state that does not record it).
func (k SandboxKind) apply(ctx context.Context, have, want SandboxSpec, applied *SandboxSpec) (done []string, err error) {
	defer func() {
		if err != nil && len(done) > 0 {
			err = fmt.Errorf("%w (already done: %s; the next plan shows what is left)", err, strings.Join(done, "; "))
		}
	}()
	moved := have.Worker != want.Worker
	old := have
	if moved {
		old = SandboxSpec{} // nothing of the sandbox is on the new Worker yet
		if err := k.foreignCron(ctx, want); err != nil {
			return done, err
		}
	} else if o, n := old.cron(), want.cron(); n != "" && o != n && (o != "" || applied != nil) {
		// Observation read the new cron as the sandbox's own if it was (its own cron
		// still there, or an update of it that got as far as its policy document), so a
		// Worker that has it has it from someone else: the change would take it over.
		if err := k.foreignCron(ctx, want); err != nil {
			return done, err
		}
	}
	if want.CPUMs != 0 && !ownsCPU(have, want, applied) {
		if err := k.foreignCPU(ctx, want); err != nil {
			return done, err
		}
	}
	onWorker := k.deployedBy(want.Worker) == "" // another tool deploys it: nothing is written there
	setCron := func() error {
		if o, n := old.cron(), want.cron(); o != n && onWorker {
			if err := k.Workers.Change(ctx, want.Worker, workerset.Want{Crons: nonEmpty(o)}, workerset.Want{Crons: nonEmpty(n)}); err != nil {
				return k.cronError(ctx, want.Worker, n, len(done) == 0, err)
			}
			done = append(done, cronDone(want.Worker, o, n))
		}
		return nil
	}
	// An update of a sandbox flareops manages sets a changed cron on the same Worker after
	// its policy document, so that a cron found there with the document not yet the
	// declared one is someone else's (observation), not one a half-failed update left.
	cronLast := applied != nil && !moved
	if !cronLast {
		if err := setCron(); err != nil {
			return done, err
		}
	}
	if old.CPUMs != want.CPUMs && onWorker {
		if err := k.Workers.Change(ctx, want.Worker, workerset.Want{CPUMs: old.CPUMs}, workerset.Want{CPUMs: want.CPUMs}); err != nil {
			return done, fmt.Errorf("cannot set the CPU limit of Worker %s: %w", want.Worker, err)
		}
		done = append(done, fmt.Sprintf("CPU limit of Worker %s set", want.Worker))
	}
	if d, err := k.resize(ctx, have, want); err != nil {
		return done, err
	} else if d != "" {
		done = append(done, d)
	}
	if have.Policy != want.Policy {
		if err := k.Docs.Put(ctx, opsdoc.Key("sandbox", want.Name), want.policy()); err != nil {
			return done, err
		}
		done = append(done, "policy document published")
	}
	if cronLast {
		if err := setCron(); err != nil {
			return done, err
		}
	}
	if moved {
		if err := k.takeOff(ctx, have, applied); err != nil {
			return done, err
		}
	}
	return done, nil
}

// foreignCron refuses a new sandbox, or one moving to another Worker, whose cleanup cron
// the Worker already has: that cron is someone else's, and removing the sandbox would
// remove it. (Once a sandbox is managed,
// its cron on its Worker is its own: an apply that failed halfway may have added it.) The
// crons are those this run observed, so that a create retried after a lost answer does
// not take its own cron for someone else's.
func (k SandboxKind) foreignCron(ctx context.Context, want SandboxSpec) error {
	c := want.cron()
	if c == "" || k.deployedBy(want.Worker) != "" {
		return nil // on a Worker another tool deploys, its cron is that tool's to carry
	}
	crons, seen := k.seenCrons(want.Worker)
	if !seen {
		var err error
		if crons, err = k.crons(ctx, want.Worker); err != nil {
			return err
		}
	}
	if !slices.Contains(crons, c) {
		return nil
	}
	return Refused(fmt.Errorf("Worker %s already has cron `%s`, which flareops does not manage: a sandbox never takes a cron over (removing the sandbox would remove it). "+
		"Choose another cleanup_every, or remove that cron from the Worker (if an earlier apply of this sandbox failed halfway and left it there, that is the way out: remove it, then apply again); nothing was changed", want.Worker, c))
}

// ownsCPU reports whether the CPU limit on want's Worker is the sandbox's own: it applied
// one there (the state says; without a record, observation showed one on the same Worker).
func ownsCPU(have, want SandboxSpec, applied *SandboxSpec) bool {
	if applied != nil {
		return applied.Worker == want.Worker && applied.CPUMs != 0
	}
	return have.Worker == want.Worker && have.CPUMs != 0
}

// foreignCPU refuses to set the CPU limit of a Worker that has one flareops did not set
// (not the one a declaration it manages applied there): the sandbox would take it over,
// and removing the sandbox would reset it to the platform default. A limit equal to the
// declared one is refused too, for that reason; a worker_settings block is the way to
// take a Worker's limit over, and its plan shows the limit it replaces. The limit is the
// one this run first observed, so that a create retried after a lost answer does not
// take its own write for someone else's.
func (k SandboxKind) foreignCPU(ctx context.Context, want SandboxSpec) error {
	if want.CPUMs == 0 || k.deployedBy(want.Worker) != "" {
		return nil // on a Worker another tool deploys, its limit is that tool's to carry
	}
	cur, ok := k.observedCPU(want.Worker)
	if !ok {
		w, err := k.Workers.Read(ctx, want.Worker)
		if err != nil {
			return fmt.Errorf("cannot read Worker %s: %w", want.Worker, err)
		}
		cur = w.Settings.CPUMs
	}
	if cur == 0 || k.Workers.AppliedCPU(want.Worker, cur) {
		return nil
	}
	return Refused(fmt.Errorf("%s; nothing was changed", foreignCPUText(want, cur)))
}

// observedCPU is the CPU limit of the Worker as this run first read it.
func (k SandboxKind) observedCPU(worker string) (int64, bool) {
	if k.Workers == nil {
		return 0, false
	}
	w, ok := k.Workers.Observed(worker)
	return w.Settings.CPUMs, ok
}

// foreignCPUText says why a sandbox does not set the CPU limit cur on its Worker.
func foreignCPUText(want SandboxSpec, cur int64) string {
	same := ""
	if cur == want.CPUMs {
		same = " (the value this sandbox declares)"
	}
	return fmt.Sprintf("Worker %s already has cpu_ms %s ms%s, which flareops does not manage: a sandbox never takes a Worker's CPU limit over (removing the sandbox would reset it to the platform default). "+
		"Declare the limit in a worker_settings block for Worker %s instead of the sandbox's cpu_ms (its plan shows the limit it replaces), leave cpu_ms out of the sandbox, or remove the limit from the Worker",
		want.Worker, formatMs(cur), same, want.Worker)
}

// resize sets the application's max instances and instance size where they differ.
func (k SandboxKind) resize(ctx context.Context, have, want SandboxSpec) (string, error) {
	wc, ok := want.container()
	if !ok {
		return "", nil // a removed container block leaves the application as it is
	}
	hc := have.Container[wc.Application]
	var size cloudflare.ContainerSize
	if wc.MaxInstances != 0 && wc.MaxInstances != hc.MaxInstances {
		size.MaxInstances = int(wc.MaxInstances)
	}
	if wc.managesSize() && (wc.InstanceType != hc.InstanceType || !sameFloat(wc.VCPU, hc.VCPU) || wc.MemoryMiB != hc.MemoryMiB) {
		size.InstanceType, size.VCPU, size.MemoryMiB = wc.InstanceType, wc.VCPU, int(wc.MemoryMiB)
	}
	if size == (cloudflare.ContainerSize{}) {
		return "", nil
	}
	app, found, err := k.application(ctx, wc.Application)
	if err != nil {
		return "", err
	}
	if !found {
		return "", Refused(fmt.Errorf("containers application %q does not exist: flareops manages only existing applications; deploy it, or fix the name", wc.Application))
	}
	if k.run != nil {
		defer func() {
			k.run.mu.Lock()
			k.run.fresh = false
			k.run.mu.Unlock()
		}()
	}
	if err := k.Containers.ResizeContainerApplication(ctx, app.ID, size); err != nil {
		return "", fmt.Errorf("cannot set the size of containers application %s: %w", wc.Application, err)
	}
	return fmt.Sprintf("containers application %s resized", wc.Application), nil
}

// cronError says why a cron could not be set, naming the Worker and its crons.
func (k SandboxKind) cronError(ctx context.Context, worker, cron string, nothingDone bool, err error) error {
	if !cloudflare.IsTooManyCrons(err) {
		return fmt.Errorf("cannot set the cleanup cron of Worker %s: %w", worker, err)
	}
	have := "unknown: they could not be read"
	if crons, rerr := k.Workers.Crons(ctx, worker); rerr == nil {
		have = quoteCrons(crons)
	}
	nothing := "Nothing of this sandbox was changed. "
	if !nothingDone {
		nothing = ""
	}
	return fmt.Errorf("cannot add cron `%s` to Worker %s, whose crons are %s: the account has reached its limit of cron triggers (%w). "+
		"%sRemove cron triggers the account no longer needs, on any Worker, or ask Cloudflare for a higher limit; then apply again",
		cron, worker, have, err, nothing)
}

func quoteCrons(crons []string) string {
	if len(crons) == 0 {
		return "none"
	}
	q := make([]string, len(crons))
	for i, c := range crons {
		q[i] = "`" + c + "`"
	}
	return strings.Join(q, ", ")
}

func cronDone(worker, old, next string) string {
	switch {
	case old == "":
		return fmt.Sprintf("cron `%s` added to Worker %s", next, worker)
	case next == "":
		return fmt.Sprintf("cron `%s` removed from Worker %s", old, worker)
	}
	return fmt.Sprintf("cron `%s` replaced by `%s` on Worker %s", old, next, worker)
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
