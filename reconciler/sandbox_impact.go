package reconciler

import (
	"fmt"
	"slices"
	"strings"

	"github.com/monotask/flareops/reconciler/opsdoc"
	"github.com/monotask/flareops/reconciler/sandbox"
)

// Impact says what a sandbox change does on the Worker, the application and the policy,
// for the reviewer. Counts of the crons kept come from what this run observed.
func (k SandboxKind) Impact(action Action, f FieldChange, live, desired any) string {
	have, _ := live.(SandboxSpec)
	want, _ := desired.(SandboxSpec)
	if action == Delete {
		if f.Field == "name" {
			return k.deleteImpact(have)
		}
		return ""
	}
	if len(f.Blocks) > 0 {
		return containerImpact(action, f, have, want)
	}
	if tool := k.deployedBy(want.Worker); tool != "" && (f.Field == "cleanup_every" || f.Field == "cpu_ms") {
		return fmt.Sprintf("not written: Worker %s is deployed by %s, so its cron and CPU limit belong in its %s configuration (the plan shows what it lacks)", want.Worker, tool, tool)
	}
	switch f.Field {
	case "cleanup_every":
		if crons, ok := k.seenCrons(want.Worker); action == Create && ok && slices.Contains(crons, want.cron()) {
			return fmt.Sprintf("%s already has cron `%s`, which flareops does not manage: apply refuses to take it over; choose another cleanup_every", want.Worker, want.cron())
		}
		var old string
		if have.Worker == want.Worker {
			old = have.cron()
		}
		return k.cronImpact(want.Worker, old, want.cron())
	case "cpu_ms":
		if cur, foreign := k.foreignCPUSeen(action, have, want); foreign {
			return fmt.Sprintf("%s already has cpu_ms %s ms, which flareops does not manage: apply refuses to take it over; declare the limit in a worker_settings block, or leave cpu_ms out of the sandbox", want.Worker, formatMs(cur))
		}
		if want.CPUMs == 0 {
			return fmt.Sprintf("the CPU limit of Worker %s returns to Cloudflare's default (30000 ms per invocation): longer sandbox invocations are stopped", want.Worker)
		}
		if f.OldSet {
			return fmt.Sprintf("Worker %s may use up to %d ms of CPU per invocation (was %s)", want.Worker, want.CPUMs, f.Old)
		}
		return fmt.Sprintf("Worker %s may use up to %d ms of CPU per invocation", want.Worker, want.CPUMs)
	case "worker":
		if action == Update {
			return fmt.Sprintf("the sandbox moves from Worker %s to %s: its cron and CPU limit are set on %s first, then taken off %s", have.Worker, want.Worker, want.Worker, have.Worker)
		}
	case "execution_timeout":
		if f.OldSet && action == Update {
			return fmt.Sprintf("sandbox executions are stopped after %s instead of %s, from the sandbox code's next read of its policy", f.New, f.Old)
		}
	case "idle_timeout":
		if f.OldSet && action == Update {
			return fmt.Sprintf("idle sandboxes are stopped after %s instead of %s, from the sandbox code's next read of its policy", f.New, f.Old)
		}
	case "policy_document":
		return k.policyImpact(want.Name, have.Policy)
	}
	return ""
}

// cronImpact words a cron change on a Worker: "cron `*/5 * * * *` added to W; 2 other
// crons kept".
func (k SandboxKind) cronImpact(worker, old, next string) string {
	what := ""
	switch {
	case old == "" && next != "":
		what = fmt.Sprintf("cron `%s` added to %s", next, worker)
	case next == "" && old != "":
		what = fmt.Sprintf("cron `%s` removed from %s: sandboxes are no longer cleaned up on a schedule", old, worker)
	case old != next:
		what = fmt.Sprintf("cron `%s` replaced by `%s` on %s", old, next, worker)
	default:
		return ""
	}
	return what + "; " + k.othersKept(worker, old, next)
}

// othersKept counts the Worker's crons that are not the sandbox's.
func (k SandboxKind) othersKept(worker string, ours ...string) string {
	crons, ok := k.seenCrons(worker)
	if !ok {
		return "its other crons are kept"
	}
	n := 0
	for _, c := range crons {
		if !slices.Contains(ours, c) {
			n++
		}
	}
	if n == 1 {
		return "1 other cron kept"
	}
	return fmt.Sprintf("%d other crons kept", n)
}

func (k SandboxKind) policyImpact(name, old string) string {
	where := "the ops KV namespace"
	if k.Docs != nil && k.Docs.Title() != "" {
		where = fmt.Sprintf("KV namespace %q", k.Docs.Title())
	}
	key := opsdoc.Key("sandbox", name)
	if old == "" {
		return fmt.Sprintf("policy document %s published in %s, where the sandbox code reads its limits", key, where)
	}
	return fmt.Sprintf("policy document %s rewritten in %s: the sandbox code reads the new limits at its next read", key, where)
}

func containerImpact(action Action, f FieldChange, have, want SandboxSpec) string {
	app := f.Blocks[0].Key
	wc, inWant := want.Container[app]
	hc, inHave := have.Container[app]
	switch {
	case !inWant && inHave && f.Field == "application":
		return fmt.Sprintf("containers application %s is no longer managed by flareops: it keeps its current instance size and max instances", app)
	case !inWant:
		return ""
	case f.Field == "max_instances" && wc.MaxInstances != 0:
		if inHave && hc.MaxInstances > wc.MaxInstances {
			return fmt.Sprintf("at most %d instances of %s run at once (was %d): sandbox requests beyond that wait or fail", wc.MaxInstances, app, hc.MaxInstances)
		}
		return fmt.Sprintf("at most %d instances of %s run at once, i.e. %d concurrent sandboxes", wc.MaxInstances, app, wc.MaxInstances)
	case (f.Field == "instance_type" || f.Field == "vcpu" || f.Field == "memory_mib") && wc.managesSize():
		size := sandbox.Describe(wc.InstanceType, wc.VCPU, wc.MemoryMiB)
		if inHave && hc.managesSize() && action == Update {
			return fmt.Sprintf("instances of %s become %s (were %s); running instances keep their size until they are replaced", app, size, sandbox.Describe(hc.InstanceType, hc.VCPU, hc.MemoryMiB))
		}
		return fmt.Sprintf("instances of %s are %s", app, size)
	}
	return ""
}

func (k SandboxKind) deleteImpact(s SandboxSpec) string {
	var parts []string
	if c := s.cron(); c != "" {
		parts = append(parts, fmt.Sprintf("cron `%s` removed from %s (%s)", c, s.Worker, k.othersKept(s.Worker, c)))
	}
	if s.CPUMs != 0 {
		parts = append(parts, fmt.Sprintf("the CPU limit of %s returns to Cloudflare's default", s.Worker))
	}
	parts = append(parts, fmt.Sprintf("policy document %s deleted: the sandbox code finds no limits there", opsdoc.Key("sandbox", s.Name)))
	if c, ok := s.container(); ok {
		parts = append(parts, fmt.Sprintf("containers application %s is left as it is", c.Application))
	}
	return "sandbox removed: " + strings.Join(parts, "; ")
}

// foreignCPUSeen reports, for the plan's impact lines (no request), whether apply refuses
// to set the CPU limit (foreignCPU): the Worker had one when this run observed it that
// no declaration flareops manages applied, and the sandbox does not own it.
func (k SandboxKind) foreignCPUSeen(action Action, have, want SandboxSpec) (int64, bool) {
	if want.CPUMs == 0 || k.Workers == nil || k.deployedBy(want.Worker) != "" {
		return 0, false
	}
	var applied *SandboxSpec
	if k.run != nil && action != Create {
		k.run.mu.Lock()
		applied = k.run.applied[want.Name]
		k.run.mu.Unlock()
	}
	if action != Create && ownsCPU(have, want, applied) {
		return 0, false
	}
	cur, ok := k.observedCPU(want.Worker)
	if !ok || cur == 0 || k.Workers.AppliedCPU(want.Worker, cur) {
		return 0, false
	}
	return cur, true
}
