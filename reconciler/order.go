package reconciler

import (
	"container/heap"
)

// order sorts changes so that every change comes after what it depends on: creates and
// updates after the objects they reference, deletes after every change to an object that
// referenced them. It also rewrites DependsOn to the changes apply must wait for.
func order(p *Plan) {
	idx := map[string]int{}
	for i, c := range p.Changes {
		idx[c.Address] = i
	}
	deps := make([][]string, len(p.Changes))
	for i, c := range p.Changes {
		set := map[string]bool{}
		switch c.Action {
		case Delete, Forget:
			// Wait for everything that referenced this object when it was last applied.
			for j, o := range p.Changes {
				if j != i && o.Action != NoOp && contains(o.entry.Deps, c.Address) {
					set[o.Address] = true
				}
			}
		default:
			for _, d := range c.DependsOn {
				if j, ok := idx[d]; ok && p.Changes[j].Action != NoOp {
					set[d] = true
				}
			}
		}
		deps[i] = sortedKeys(set)
	}
	// Kahn's algorithm; among ready changes, non-deletes first, then by address.
	indeg := make([]int, len(p.Changes))
	users := map[string][]int{}
	for i, ds := range deps {
		indeg[i] = len(ds)
		for _, d := range ds {
			users[d] = append(users[d], i)
		}
	}
	ready := &rankHeap{}
	for i, c := range p.Changes {
		r := "0" + c.Address
		if c.Action == Delete || c.Action == Forget {
			r = "1" + c.Address
		}
		ready.rank = append(ready.rank, r)
		if indeg[i] == 0 {
			ready.items = append(ready.items, i)
		}
	}
	heap.Init(ready)
	var sorted []int
	for ready.Len() > 0 {
		i := heap.Pop(ready).(int)
		sorted = append(sorted, i)
		for _, u := range users[p.Changes[i].Address] {
			indeg[u]--
			if indeg[u] == 0 {
				heap.Push(ready, u)
			}
		}
	}
	// A cycle cannot come from the configuration (the loader rejects them); if the state
	// holds one, keep the remaining changes in address order rather than dropping them.
	if len(sorted) < len(p.Changes) {
		placed := map[int]bool{}
		for _, i := range sorted {
			placed[i] = true
		}
		for i := range p.Changes {
			if !placed[i] {
				sorted = append(sorted, i)
				deps[i] = nil
			}
		}
	}
	out := make([]Change, len(sorted))
	for n, i := range sorted {
		c := p.Changes[i]
		c.DependsOn = deps[i]
		out[n] = c
	}
	p.Changes = out
}

// rankHeap is a min-heap of change indexes by rank.
type rankHeap struct {
	items []int
	rank  []string
}

func (h *rankHeap) Len() int           { return len(h.items) }
func (h *rankHeap) Less(a, b int) bool { return h.rank[h.items[a]] < h.rank[h.items[b]] }
func (h *rankHeap) Swap(a, b int)      { h.items[a], h.items[b] = h.items[b], h.items[a] }
func (h *rankHeap) Push(x any)         { h.items = append(h.items, x.(int)) }
func (h *rankHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
