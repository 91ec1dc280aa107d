package reconciler

import "fmt"

// WorkerClaimer is implemented by kinds that put things on Workers (bindings, crons,
// settings). Claims lists what one declaration sets on which Worker, so that two
// declarations setting the same thing on one Worker are refused before anything is
// applied: the Worker merge gives each entry one owner.
type WorkerClaimer interface {
	Claims(v Values) []Claim
}

// Claim is one entry a declaration sets on a Worker: "binding TASK_METRICS", "cpu_ms",
// "cron */5 * * * *", "observability".
type Claim struct {
	Worker string
	What   string
}

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
		k, ok := reg.Kind(d.Addr.Kind)
		if !ok {
			continue
		}
		wc, ok := k.(WorkerClaimer)
		if !ok {
			continue
		}
		if _, err := k.Build(d.Values); err != nil {
			continue
		}
		seen := map[Claim]bool{}
		for _, c := range wc.Claims(d.Values) {
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
