package reconciler

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// actionColors fill the nodes of a graph drawn with a plan, and its legend, in this order.
var actionColors = []struct {
	action Action
	label  string
	fill   string
}{
	{Create, "create", "#b7e4c7"},
	{Update, "update", "#ffe8a3"},
	{Replace, "replace", "#ffc078"},
	{Delete, "delete", "#ffa8a8"},
	{NoOp, "no change", "#ffffff"},
}

func actionFill(a Action) string {
	switch a {
	case Adopt:
		a = Update
	case Forget:
		a = Delete
	}
	for _, c := range actionColors {
		if c.action == a {
			return c.fill
		}
	}
	return "#ffffff"
}

// WriteDOT writes the graph in the DOT language, the same bytes for the same graph:
// declared objects as filled rounded boxes (colored by the plan's action when drawn with a
// plan, with a legend), objects outside the configuration as dashed grey boxes, one edge
// per reference labelled with what the target is to the source. withPlan adds the legend.
func (g *Graph) WriteDOT(w io.Writer, withPlan bool) error {
	var b bytes.Buffer
	b.WriteString("digraph flareops {\n")
	b.WriteString("  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=11, nodesep=0.25, ranksep=0.6, bgcolor=\"#ffffff\"];\n")
	b.WriteString("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10, fillcolor=\"#ffffff\", color=\"#343a40\"];\n")
	b.WriteString("  edge [fontname=\"Helvetica\", fontsize=9, color=\"#495057\", fontcolor=\"#495057\"];\n")
	for _, n := range g.Nodes {
		attrs := []string{"label=" + dotQuote(n.String())}
		switch {
		case n.External:
			attrs = append(attrs, `style="rounded,dashed"`, `color="#868e96"`, `fontcolor="#495057"`)
		case withPlan:
			fill := actionFill(n.Action)
			if n.Action == "" {
				fill = actionFill(NoOp)
			}
			attrs = append(attrs, "fillcolor="+dotQuote(fill))
			if n.Action == Delete || n.Action == Forget {
				attrs = append(attrs, `style="rounded,filled,dashed"`)
			}
		}
		fmt.Fprintf(&b, "  %s [%s];\n", dotQuote(n.ID), strings.Join(attrs, ", "))
	}
	external := map[string]bool{}
	for _, n := range g.Nodes {
		external[n.ID] = n.External
	}
	for _, e := range g.Edges {
		attrs := []string{"label=" + dotQuote(e.Label)}
		if external[e.To] {
			attrs = append(attrs, "style=dashed")
		}
		fmt.Fprintf(&b, "  %s -> %s [%s];\n", dotQuote(e.From), dotQuote(e.To), strings.Join(attrs, ", "))
	}
	if withPlan {
		b.WriteString("  subgraph cluster_legend {\n    label=\"Plan\"; style=\"rounded\"; color=\"#adb5bd\";\n")
		ids := []string{}
		for _, c := range actionColors {
			id := dotQuote("legend:" + c.label)
			fmt.Fprintf(&b, "    %s [label=%s, fillcolor=%s];\n", id, dotQuote(c.label), dotQuote(c.fill))
			ids = append(ids, id)
		}
		id := dotQuote("legend:external")
		fmt.Fprintf(&b, "    %s [label=\"outside the configuration\", style=\"rounded,dashed\", color=\"#868e96\"];\n", id)
		ids = append(ids, id)
		fmt.Fprintf(&b, "    { rank=same; %s; }\n", strings.Join(ids, "; "))
		b.WriteString("  }\n")
	}
	b.WriteString("}\n")
	_, err := w.Write(b.Bytes())
	return err
}

// dotQuote makes s a DOT double-quoted string; a newline becomes a centered line break.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "")
	return `"` + r.Replace(s) + `"`
}
