package reconciler

import (
	"fmt"
	"strings"
)

// WorkerClaimer is implemented by kinds that put things on Workers (bindings, crons,
// settings). Claims lists what one declaration sets on which Worker, so that two
// declarations setting the same thing on one Worker are refused before anything is
// applied: the Worker merge gives each entry one owner.
type WorkerClaimer interface {
	Claims(v Values) []Claim
}

// Claim is one entry a declaration sets on a Worker: "binding TASK_METRICS", "cpu_ms",
// "cron */5 * * * *", "observability".
//
// What is compared as a string, by CheckClaims and by `flareops validate -wrangler`, which
// matches what wrangler files declare against it; so its forms are stable:
//
//	binding NAME             a binding, by its JS name (BindingClaim): bindings of every
//	                         type share one namespace on a Worker
//	cron EXPR                a cron trigger, by its expression (CronClaim)
//	queue consumer of QUEUE  the Worker consumes the queue named QUEUE (QueueConsumerClaim)
//	cpu_ms, observability    a setting, by its name
type Claim struct {
	Worker string
	What   string
}

// BindingClaim is the What of the binding name on a Worker.
func BindingClaim(name string) string { return "binding " + name }

// CronClaim is the What of a cron trigger: the expression with its fields separated by
// one space.
func CronClaim(expr string) string { return "cron " + strings.Join(strings.Fields(expr), " ") }

// QueueConsumerClaim is the What of a Worker consuming the queue named queue.
func QueueConsumerClaim(queue string) string { return "queue consumer of " + queue }

// ClaimConflict is two declarations that set the same thing on one Worker.
type ClaimConflict struct {
	Claim       Claim
	First, Then Desired
}

func (c ClaimConflict) String() string {
	return fmt.Sprintf("%s (%s) and %s (%s) both set %s on Worker %s: one entry has one owner; keep it in one of them", c.First.Addr, c.First.Source, c.Then.Addr, c.Then.Source, c.Claim.What, c.Claim.Worker)
}

// CheckClaims finds declarations that set the same thing on one Worker. Declarations that
// do not build are skipped (their own errors are reported).
func CheckClaims(reg *Registry, desired []Desired) []ClaimConflict {
	owner := map[Claim]Desired{}
	var out []ClaimConflict
	for _, d := range desired {
		seen := map[Claim]bool{}
		for _, c := range claimsOf(reg, d) {
			if seen[c] {
				continue
			}
			seen[c] = true
			if first, taken := owner[c]; taken {
				out = append(out, ClaimConflict{Claim: c, First: first, Then: d})
				continue
			}
			owner[c] = d
		}
	}
	return out
}

// Deployer is implemented by kinds that say who deploys a Worker: worker_settings with
// deployed_by = "wrangler". Tool is "" when flareops may write to the Worker.
type Deployer interface {
	DeployedBy(v Values) (worker, tool string)
}

// DeployerConflict is a declaration that would write to a Worker another tool deploys.
type DeployerConflict struct {
	Decl  Desired
	Claim Claim
	By    Desired // the block that says Tool deploys the Worker
	Tool  string
}

func (c DeployerConflict) String() string {
	return fmt.Sprintf("%s (%s) sets %s on Worker %s, which %s (%s) says %s deploys: its next deploy would undo it, so flareops does not write it. Declare it in the Worker's %s configuration instead (`flareops validate -wrangler PATH` checks both agree), or set deployed_by = \"flareops\"",
		c.Decl.Addr, c.Decl.Source, c.Claim.What, c.Claim.Worker, c.By.Addr, c.By.Source, c.Tool, c.Tool)
}

// CheckDeployers refuses declarations of other blocks that would write to a Worker that
// another tool deploys (a binding, a cron, a limit): its next deploy would undo them, and
// flareops promises never to write there. They belong in the tool's configuration.
//
// Kinds that check such Workers themselves (ManualChecker: the plan shows what the tool's
// configuration lacks) are not refused: their writes are skipped by the Worker merge.
func CheckDeployers(reg *Registry, desired []Desired) []DeployerConflict {
	deployer := deployers(reg, desired)
	if len(deployer) == 0 {
		return nil
	}
	var out []DeployerConflict
	for _, d := range desired {
		if k, ok := reg.Kind(d.Addr.Kind); ok {
			if _, checks := k.(ManualChecker); checks {
				continue
			}
		}
		for _, c := range claimsOf(reg, d) {
			by, managed := deployer[c.Worker]
			if !managed || by.decl.Addr == d.Addr {
				continue
			}
			out = append(out, DeployerConflict{Decl: d, Claim: c, By: by.decl, Tool: by.tool})
		}
	}
	return out
}

// claimsOf is what a declaration claims on Workers; nothing for kinds that put nothing on
// Workers, or for a declaration that does not build (its own errors are reported).
func claimsOf(reg *Registry, d Desired) []Claim {
	k, ok := reg.Kind(d.Addr.Kind)
	if !ok {
		return nil
	}
	wc, ok := k.(WorkerClaimer)
	if !ok {
		return nil
	}
	if _, err := k.Build(d.Values); err != nil {
		return nil
	}
	return wc.Claims(d.Values)
}

// deployment is a Worker's deployer, as one declaration says.
type deployment struct {
	tool string
	decl Desired
}

// deployers maps each Worker that a declaration says another tool deploys to that tool
// and declaration.
func deployers(reg *Registry, desired []Desired) map[string]deployment {
	out := map[string]deployment{}
	for _, d := range desired {
		k, ok := reg.Kind(d.Addr.Kind)
		if !ok {
			continue
		}
		if dk, ok := k.(Deployer); ok {
			if w, tool := dk.DeployedBy(d.Values); tool != "" && w != "" {
				out[w] = deployment{tool: tool, decl: d}
			}
		}
	}
	return out
}

// deployedWorkers maps each Worker that another tool deploys to that tool.
func deployedWorkers(reg *Registry, desired []Desired) map[string]string {
	out := map[string]string{}
	for w, dep := range deployers(reg, desired) {
		out[w] = dep.tool
	}
	return out
}
