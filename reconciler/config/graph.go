package config

import (
	"container/heap"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/monotask/flareops/internal/keyed"
	"github.com/monotask/flareops/reconciler"
)

// node is a local value or a kind block: something evaluated in dependency order.
type node struct {
	addr      string // "local.prefix", "queue.agent_jobs"
	kind      string // "local" or the kind's name
	name      string
	declRange hcl.Range
	local     *hcl.Attribute // for a local
	decl      *blockDecl     // for a kind block

	deps    depList  // node addresses referred to, with the first reference's range
	varDeps []string // variables referred to
	failed  bool     // cannot be evaluated: a reference is invalid or on a cycle
	invalid bool     // evaluated for its own errors, but never used by others

	// Set by evaluation.
	ok             bool
	value          cty.Value // a local's value, or the object a block is seen as by others (see object)
	hasValue       bool      // a block's value has been made
	kindDeps       []string  // blocks depended on, directly or through locals
	values         reconciler.Values
	sensitive      []string
	spelling       map[string]string
	preventDestroy bool
	ranges         []attrRange // of a released declaration (see release)
}

// expressions returns every expression of the node, in source order.
func (n *node) expressions() []hcl.Expression {
	if n.local != nil {
		return []hcl.Expression{n.local.Expr}
	}
	var exprs []hcl.Expression
	if n.decl.preventDestroy != nil {
		exprs = append(exprs, n.decl.preventDestroy.Expr)
	}
	var walk func(b *bodyDecl)
	walk = func(b *bodyDecl) {
		if b == nil {
			return
		}
		for _, a := range b.attrs {
			exprs = append(exprs, a.Expr)
		}
		for _, nb := range b.nested {
			walk(nb.body)
		}
	}
	walk(n.decl.body)
	sort.SliceStable(exprs, func(i, j int) bool { return rangeLess(exprs[i].Range(), exprs[j].Range()) })
	return exprs
}

// buildGraph resolves the references of every node and returns the nodes in evaluation order.
// Nodes on a cycle are reported and left out, as are the nodes that depend on them.
func (l *loader) buildGraph() []string {
	addrs := make([]string, 0, len(l.nodes))
	for addr := range l.nodes {
		addrs = append(addrs, addr)
	}
	sort.Strings(addrs)
	for _, addr := range addrs {
		l.resolveRefs(l.nodes[addr])
	}
	order, rest := topoSort(addrs, func(addr string) []string { return l.nodes[addr].deps.addrs() })
	if len(rest) > 0 {
		l.reportCycles(rest)
	}
	return order
}

// depList is a node's references to other nodes, by address (sorted, unique), each with
// the range of its first reference. A slice: most nodes refer to none or one, and a map
// per node was a tenth of a large configuration's memory.
type depList []depRef

type depRef struct {
	addr string
	rng  hcl.Range
}

func (d depRef) keyOf() string { return d.addr }

func (ds depList) find(addr string) (int, bool) { return keyed.Find(ds, addr, depRef.keyOf) }

// add records a reference to addr at rng, unless addr is referred to already.
func (ds *depList) add(addr string, rng hcl.Range) {
	if i, seen := ds.find(addr); !seen {
		*ds = slices.Insert(*ds, i, depRef{addr, rng})
	}
}

// rangeOf is where addr is first referred to.
func (ds depList) rangeOf(addr string) hcl.Range {
	if i, ok := ds.find(addr); ok {
		return ds[i].rng
	}
	return hcl.Range{}
}

// addrs returns the addresses referred to, sorted (nil for none).
func (ds depList) addrs() []string {
	if len(ds) == 0 {
		return nil
	}
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.addr
	}
	return out
}

func (l *loader) resolveRefs(n *node) {
	n.deps = nil
	reported := map[string]bool{}
	varSeen := map[string]bool{}
	self := l.selfRefs(n)
	for _, expr := range n.expressions() {
		if a := self[expr]; a != nil {
			l.reportSelfRef(n, a)
			continue
		}
		for _, tr := range expr.Variables() {
			addr, isVar, diag := l.refAddr(tr)
			if diag != nil {
				n.failed = true
				if key := diag.Summary + "\x00" + diag.Detail; !reported[key] {
					reported[key] = true
					l.diags = append(l.diags, diag)
				}
				continue
			}
			if isVar {
				if !varSeen[addr] {
					varSeen[addr] = true
					n.varDeps = append(n.varDeps, addr)
				}
				continue
			}
			n.deps.add(addr, tr.SourceRange())
		}
	}
	sort.Strings(n.varDeps)
}

// selfRefs finds the reference attributes of a block that point at the block itself
// (dead_letter_queue = queue.self inside queue "self"), by expression. Such a reference
// is a mistake of its own, reported as such rather than as a reference cycle.
func (l *loader) selfRefs(n *node) map[hcl.Expression]*selfRef {
	if n.decl == nil {
		return nil
	}
	out := map[hcl.Expression]*selfRef{}
	var walk func(b *bodyDecl)
	walk = func(b *bodyDecl) {
		for _, a := range b.schema.Attrs {
			attr := b.attrs.get(a.Name)
			if attr == nil || a.Type != reconciler.Ref || a.RefKind != n.kind {
				continue
			}
			tr, diags := hcl.AbsTraversalForExpr(attr.Expr)
			if diags.HasErrors() || len(tr) < 2 || tr.RootName() != n.kind {
				continue
			}
			if name, ok := stepName(tr[1]); ok && name == n.name {
				out[attr.Expr] = &selfRef{schema: a, attr: attr}
			}
		}
		for _, nb := range b.nested {
			walk(nb.body)
		}
	}
	walk(n.decl.body)
	return out
}

type selfRef struct {
	schema reconciler.Attr
	attr   *hcl.Attribute
}

func (l *loader) reportSelfRef(n *node, r *selfRef) {
	n.failed = true
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("A %s cannot be its own %s", n.kind, r.schema.Role()),
		Detail: fmt.Sprintf("A %s cannot be its own %s: %s sets %s to itself. Refer to another %s, or leave %s out.",
			n.kind, r.schema.Role(), n.addr, r.schema.Name, r.schema.RefKind, r.schema.Name),
		Subject: r.attr.Range.Ptr(),
	})
}

// refAddr returns the address a reference points to: "var.x" (isVar), "local.x" or
// "<kind>.x"; or a diagnostic when it points nowhere.
func (l *loader) refAddr(tr hcl.Traversal) (addr string, isVar bool, diag *hcl.Diagnostic) {
	root := tr.RootName()
	name, named := "", false
	if len(tr) > 1 {
		name, named = stepName(tr[1])
	}
	bad := func(summary, detail string) (string, bool, *hcl.Diagnostic) {
		return "", false, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: tr.SourceRange().Ptr()}
	}
	switch {
	case root == "var":
		if !named {
			return bad("Invalid reference", "A variable is referred to as var.<name>, e.g. var.env.")
		}
		if l.vars[name] == nil {
			return bad("Reference to undeclared input variable",
				fmt.Sprintf("No variable %q is declared.%s Declare it with a variable %q block.", name, didYouMean(name, l.varNames), name))
		}
		return "var." + name, true, nil
	case root == "local":
		if !named {
			return bad("Invalid reference", "A local value is referred to as local.<name>, e.g. local.prefix.")
		}
		if l.nodes["local."+name] == nil {
			return bad("Reference to undeclared local value",
				fmt.Sprintf("No local value %q is defined.%s Define it in a locals block.", name, didYouMean(name, l.localNames())))
		}
		return "local." + name, false, nil
	case l.kinds[root] != nil:
		if !named {
			return bad("Invalid reference", fmt.Sprintf("A %s is referred to by its block name, e.g. %s.example.", root, root))
		}
		if l.nodes[root+"."+name] == nil {
			return bad(fmt.Sprintf("Reference to undeclared %s %q", root, name),
				fmt.Sprintf("No %s %q is declared in this configuration.%s Declare it with a %s %q block, or, for a %s that exists in the account but is not managed here, write its name as a string.",
					root, name, didYouMean(name, l.blockNames(root)), root, name, root))
		}
		return root + "." + name, false, nil
	default:
		roots := []string{"local", "var"}
		for _, k := range l.opts.Kinds {
			roots = append(roots, k.Name)
		}
		sort.Strings(roots)
		return bad("Unknown variable",
			fmt.Sprintf("There is no variable named %q.%s A reference starts with var., local. or a block type (%s).", root, didYouMean(root, roots), strings.Join(roots, ", ")))
	}
}

// stepName returns the name a traversal step selects: .name or ["name"].
func stepName(step hcl.Traverser) (string, bool) {
	switch s := step.(type) {
	case hcl.TraverseAttr:
		return s.Name, true
	case hcl.TraverseIndex:
		k := s.Key
		if k.Type() == cty.String && k.IsKnown() && !k.IsNull() && !k.IsMarked() {
			return k.AsString(), true
		}
	}
	return "", false
}

func (l *loader) localNames() []string {
	var names []string
	for _, n := range l.locals {
		names = append(names, n.name)
	}
	return names
}

func (l *loader) blockNames(kind string) []string {
	var names []string
	for _, n := range l.blocks {
		if n.kind == kind {
			names = append(names, n.name)
		}
	}
	return names
}

// topoSort orders addrs so that every address comes after its dependencies (Kahn's
// algorithm, taking the smallest ready address first). Addresses left over are on a cycle
// or depend on one. Dependencies outside addrs are ignored.
func topoSort(addrs []string, deps func(string) []string) (order, rest []string) {
	known := make(map[string]bool, len(addrs))
	for _, a := range addrs {
		known[a] = true
	}
	waiting := make(map[string]int, len(addrs))
	dependents := map[string][]string{}
	ready := &stringHeap{}
	for _, a := range addrs {
		for _, d := range deps(a) {
			if known[d] {
				waiting[a]++
				dependents[d] = append(dependents[d], a)
			}
		}
		if waiting[a] == 0 {
			heap.Push(ready, a)
		}
	}
	for ready.Len() > 0 {
		a := heap.Pop(ready).(string)
		order = append(order, a)
		for _, dep := range dependents[a] {
			waiting[dep]--
			if waiting[dep] == 0 {
				heap.Push(ready, dep)
			}
		}
	}
	for _, a := range addrs {
		if waiting[a] > 0 {
			rest = append(rest, a)
		}
	}
	sort.Strings(rest)
	return order, rest
}

type stringHeap []string

func (h stringHeap) Len() int           { return len(h) }
func (h stringHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h stringHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *stringHeap) Push(x any)        { *h = append(*h, x.(string)) }
func (h *stringHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// reportCycles reports each cycle among the nodes topoSort left over, once, with its path.
// Every left-over node still waits on another left-over node, so following dependencies
// from any of them ends on a cycle.
func (l *loader) reportCycles(rest []string) {
	inRest := map[string]bool{}
	for _, a := range rest {
		inRest[a] = true
	}
	done := map[string]bool{}
	for _, start := range rest {
		pos := map[string]int{}
		var path []string
		for cur := start; cur != "" && !done[cur]; {
			if i, seen := pos[cur]; seen {
				l.reportCycle(path[i:])
				break
			}
			pos[cur] = len(path)
			path = append(path, cur)
			next := ""
			for _, d := range l.nodes[cur].deps.addrs() {
				if inRest[d] {
					next = d
					break
				}
			}
			cur = next
		}
		for _, a := range path {
			done[a] = true
		}
	}
}

func (l *loader) reportCycle(cycle []string) {
	// Start at the smallest address, so the same cycle always reads the same.
	first := 0
	for i, a := range cycle {
		if a < cycle[first] {
			first = i
		}
	}
	cycle = append(append([]string{}, cycle[first:]...), cycle[:first]...)
	path := strings.Join(append(append([]string{}, cycle...), cycle[0]), " → ")
	next := cycle[0]
	if len(cycle) > 1 {
		next = cycle[1]
	}
	rng := l.nodes[cycle[0]].deps.rangeOf(next)
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Reference cycle",
		Detail: fmt.Sprintf("%s: each refers to the next, so none of them can be evaluated first. Break the cycle by removing one of these references, e.g. by writing the value itself instead.",
			path),
		Subject: rng.Ptr(),
	})
	for _, a := range cycle {
		l.nodes[a].failed = true
	}
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
