package reconciler

import (
	"fmt"
	"sort"
	"strings"
)

// Referrer is implemented by kinds whose declarations refer to objects that are not
// declared in the configuration: a queue consumer's Worker, the Workers a dataset is
// bound in, a sandbox's Worker and containers application, a backup's source database
// and destination bucket. `flareops graph` draws each such object as an external node
// with an edge from the declaration; references between declared blocks (queue.x in an
// attribute) need no code: the graph finds them in the configuration itself.
//
// Contracts:
//   - External reads only the spec (the Spec of the Object that Build returned for one
//     declaration); it never calls the API and never fails: a reference it cannot tell
//     is left out.
//   - It returns every object the declaration needs or writes to that flareops does not
//     declare, once each, in a stable order (the graph is pinned by golden files).
//   - ExternalRef.Kind is a short, stable, lower-case noun: "worker",
//     "containers_application", "kv_namespace", "r2_bucket", "d1_database". When the
//     object may also be declared by a flareops kind (a dead-letter queue given by name),
//     use that kind's name ("queue") and its key as Name: the graph then links to the
//     declaration when there is one, and draws an external node only when there is none.
//   - Role says what the object is to the declaration, as an edge label: "consumer",
//     "dead-letter queue", "bound as API_METRICS", "backup source".
//
// Kinds implement it beside their other methods; the graph (BuildGraph) is the only
// caller, and a kind that does not implement it simply has no external edges.
type Referrer interface {
	External(spec any) []ExternalRef
}

// ExternalRef is one object outside the configuration that a declaration refers to.
type ExternalRef struct {
	Kind string // "worker", "containers_application", "r2_bucket", ..., or a kind's name
	Name string // its name in the account
	Role string // what it is to the referring declaration, for the edge label
}

// Graph is what the configuration declares and what each declaration refers to, for
// `flareops graph`: nodes sorted by ID, edges sorted by From, To, Label.
type Graph struct {
	Nodes []GraphNode
	Edges []GraphEdge
}

// GraphNode is a declared block (ID is its address), an object of the account the
// configuration refers to (ID "KIND:NAME", External), or an object the plan deletes
// (ID its address, Action Delete, no longer declared).
type GraphNode struct {
	ID       string
	Kind     string // the block type, or ExternalRef.Kind
	Name     string // the block name, or the external object's name
	Key      string // a declared object's name in the account ("" when unknown)
	External bool
	// Action is what the plan does to the object (GraphOptions.Plan); "" without a plan.
	Action Action
}

// GraphEdge is a reference: From refers to To. Label says what To is to From.
type GraphEdge struct {
	From, To, Label string
}

// GraphOptions tune BuildGraph.
type GraphOptions struct {
	// Plan, when set, gives each declared node the action of its change, and adds the
	// objects it deletes (no longer declared) as nodes.
	Plan *Plan
	// Secrets are values that must not appear in the graph (the values of sensitive
	// variables): a name or label holding one is shown as "(sensitive)".
	Secrets []string
}

// BuildGraph draws desired: one node per declaration, an edge for every reference between
// declarations (Desired.Deps, labelled by the attribute that makes it when it is a
// reference attribute), and the external objects each Referrer kind names. The kinds'
// Build gives the specs; a declaration that does not build is drawn without external
// edges (validate reports why).
func BuildGraph(reg *Registry, desired []Desired, o GraphOptions) *Graph {
	g := &graphBuilder{nodes: map[string]*GraphNode{}, edges: map[GraphEdge]bool{}, secrets: o.Secrets}
	type built struct {
		d    Desired
		kind Kind
		obj  Object
		ok   bool
	}
	var all []built
	byKey := map[string]string{} // "kind\x00key" → address of the declaration
	for _, d := range desired {
		b := built{d: d}
		if k, ok := reg.Kind(d.Addr.Kind); ok {
			b.kind = k
			if obj, err := k.Build(d.Values); err == nil {
				b.obj, b.ok = obj, true
				byKey[d.Addr.Kind+"\x00"+obj.Key] = d.Addr.String()
			}
		}
		g.node(GraphNode{ID: d.Addr.String(), Kind: d.Addr.Kind, Name: d.Addr.Name, Key: b.obj.Key})
		all = append(all, b)
	}
	for _, b := range all {
		from := b.d.Addr.String()
		labelled := map[string]bool{}
		for _, r := range refAttrs(b.d.Values, schemaOf(b.kind)) {
			if r.to != "" && g.nodes[r.to] != nil {
				g.edge(from, r.to, r.label)
				labelled[r.to] = true
			}
		}
		for _, dep := range b.d.Deps {
			if to := dep.String(); !labelled[to] && g.nodes[to] != nil {
				g.edge(from, to, "refers to")
			}
		}
		rf, ok := b.kind.(Referrer)
		if !ok || !b.ok {
			continue
		}
		for _, ref := range rf.External(b.obj.Spec) {
			if ref.Name == "" {
				continue
			}
			if to, declared := byKey[ref.Kind+"\x00"+ref.Name]; declared {
				if !labelled[to] {
					g.edge(from, to, ref.Role)
				}
				continue
			}
			id := ref.Kind + ":" + ref.Name
			g.node(GraphNode{ID: id, Kind: ref.Kind, Name: ref.Name, External: true})
			g.edge(from, id, ref.Role)
		}
	}
	if o.Plan != nil {
		for _, c := range o.Plan.Changes {
			if n := g.nodes[c.Address]; n != nil {
				n.Action = c.Action
				continue
			}
			if c.Action == Delete || c.Action == Forget {
				g.node(GraphNode{ID: c.Address, Kind: c.Kind, Name: c.Name, Key: c.LiveKey, Action: c.Action})
			}
		}
	}
	return g.graph()
}

type graphBuilder struct {
	nodes   map[string]*GraphNode
	edges   map[GraphEdge]bool
	secrets []string
}

func (g *graphBuilder) node(n GraphNode) {
	if g.nodes[n.ID] == nil {
		g.nodes[n.ID] = &n
	}
}

func (g *graphBuilder) edge(from, to, label string) {
	if from != to {
		g.edges[GraphEdge{From: from, To: to, Label: label}] = true
	}
}

// graph sorts what was built, and masks secrets.
func (g *graphBuilder) graph() *Graph {
	out := &Graph{}
	rename := map[string]string{}
	for _, n := range g.nodes {
		m := *n
		m.Name, m.Key = g.mask(m.Name), g.mask(m.Key)
		if m.External {
			id := m.Kind + ":" + m.Name
			rename[n.ID] = id
			m.ID = id
		}
		out.Nodes = append(out.Nodes, m)
	}
	sort.Slice(out.Nodes, func(i, j int) bool { return out.Nodes[i].ID < out.Nodes[j].ID })
	// Two secrets masked alike are one node.
	out.Nodes = dedupNodes(out.Nodes)
	id := func(s string) string {
		if r, ok := rename[s]; ok {
			return r
		}
		return s
	}
	seen := map[GraphEdge]bool{}
	for e := range g.edges {
		e = GraphEdge{From: id(e.From), To: id(e.To), Label: g.mask(e.Label)}
		if !seen[e] {
			seen[e] = true
			out.Edges = append(out.Edges, e)
		}
	}
	sort.Slice(out.Edges, func(i, j int) bool {
		a, b := out.Edges[i], out.Edges[j]
		if a.From != b.From {
			return a.From < b.From
		}
		if a.To != b.To {
			return a.To < b.To
		}
		return a.Label < b.Label
	})
	return out
}

func dedupNodes(ns []GraphNode) []GraphNode {
	var out []GraphNode
	for i, n := range ns {
		if i == 0 || n.ID != ns[i-1].ID {
			out = append(out, n)
		}
	}
	return out
}

func (g *graphBuilder) mask(s string) string {
	for _, secret := range g.secrets {
		if secret != "" && strings.Contains(s, secret) {
			return Masked
		}
	}
	return s
}

type refAttr struct{ to, label string }

// refAttrs finds the references of v (Ref and RefList attributes, also in nested blocks)
// that point at a declaration, labelled by their role ("dead-letter queue",
// "destinations").
func refAttrs(v Values, s BlockSchema) []refAttr {
	var out []refAttr
	for _, a := range s.Attrs {
		if r, ok := v[a.Name].(RefValue); ok && r.Address != "" {
			out = append(out, refAttr{to: r.Address, label: a.Role()})
		}
		for _, r := range v.refs(a.Name) { // a RefList
			if r.Address != "" {
				out = append(out, refAttr{to: r.Address, label: a.Role()})
			}
		}
	}
	for _, nb := range s.Blocks {
		for _, child := range v.blocks(nb.Name) {
			out = append(out, refAttrs(child, nb.Schema)...)
		}
	}
	return out
}

func schemaOf(k Kind) BlockSchema {
	if k == nil {
		return BlockSchema{}
	}
	return k.Schema()
}

// String is the node's label: the address (or kind and name of an external object) and,
// when it differs, the name in the account.
func (n GraphNode) String() string {
	if n.External {
		return fmt.Sprintf("%s\n%s", strings.ReplaceAll(n.Kind, "_", " "), n.Name)
	}
	if n.Key != "" && n.Key != n.Name {
		return n.ID + "\n" + n.Key
	}
	return n.ID
}
