package reconciler

import (
	"sort"
	"strconv"
	"strings"
)

// This file holds what the text, Markdown and JSON renderings share: the tree of nested
// blocks drawn from FieldChange.Blocks, and how an object and a field changed outside
// flareops are described.

// nameplate says which live object a change is about: `("live-name", id q-1)`, on a
// rename `("old-name" -> "new-name", id q-1)`; "" when there is nothing to say. name and
// id format the parts for the rendering (quoted in text, code in Markdown).
func nameplate(c Change, name, id func(string) string) string {
	var parts []string
	switch {
	case c.LiveKey != "" && c.Key != "" && c.LiveKey != c.Key && c.Action != Delete && c.Action != Forget:
		parts = append(parts, name(c.LiveKey)+" -> "+name(c.Key))
	case c.LiveKey != "":
		parts = append(parts, name(c.LiveKey))
	case c.Key != "":
		parts = append(parts, name(c.Key))
	}
	if c.ID != "" {
		parts = append(parts, "id "+id(c.ID))
	}
	if len(parts) == 0 {
		return ""
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// blockNode is an object or one nested block of it, with the changed attributes it holds
// directly and its changed nested blocks.
type blockNode struct {
	step   BlockStep // zero for the object itself
	fields []FieldChange
	blocks []*blockNode
}

// fieldTree groups fields (sorted by path, as Diff returns them) into nested blocks.
// Within a block type, removed blocks come first, then changed ones, then added ones:
// a block whose key changed (another Worker) reads as the old block going and the new
// one coming.
func fieldTree(fields []FieldChange) *blockNode {
	root := &blockNode{}
	for _, f := range fields {
		n := root
		for _, s := range f.Blocks {
			n = n.child(s)
		}
		n.fields = append(n.fields, f)
	}
	root.sort()
	return root
}

func (n *blockNode) child(s BlockStep) *blockNode {
	for _, c := range n.blocks {
		if c.step.Type == s.Type && c.step.Key == s.Key {
			return c
		}
	}
	c := &blockNode{step: s}
	n.blocks = append(n.blocks, c)
	return c
}

func (n *blockNode) sort() {
	rank := map[string]int{"-": 0, "~": 1, "+": 2}
	sort.SliceStable(n.blocks, func(i, j int) bool {
		a, b := n.blocks[i], n.blocks[j]
		if a.step.Type != b.step.Type {
			return a.step.Type < b.step.Type
		}
		return rank[a.symbol()] < rank[b.symbol()]
	})
	for _, c := range n.blocks {
		c.sort()
	}
}

// symbol is "+" when every leaf of the block is added, "-" when every leaf is removed,
// "~" otherwise.
func (n *blockNode) symbol() string {
	added, removed := true, true
	n.walk(func(f FieldChange) {
		added = added && !f.OldSet && f.NewSet
		removed = removed && f.OldSet && !f.NewSet
	})
	switch {
	case added:
		return "+"
	case removed:
		return "-"
	}
	return "~"
}

func (n *blockNode) walk(fn func(FieldChange)) {
	for _, f := range n.fields {
		fn(f)
	}
	for _, c := range n.blocks {
		c.walk(fn)
	}
}

// blockTitle names a nested block for the line renderings, by the attribute that
// identifies it, never by its key: `consumer (worker = "agent-worker")`.
func blockTitle(s BlockStep) (name, ident string) {
	if s.IdentAttr == "" {
		return s.Type, ""
	}
	return s.Type, s.IdentAttr + " = " + s.Ident
}

// fieldSymbol is how a leaf changes: "+" added, "-" removed, "~" changed.
func fieldSymbol(f FieldChange) string {
	switch {
	case f.NewSet && !f.OldSet:
		return "+"
	case f.OldSet && !f.NewSet:
		return "-"
	}
	return "~"
}

// shownValues returns the renderings of f that may be printed. New is printed as the
// planner left it (the user's spelling, "60s"), never derived again from NewRaw.
func shownValues(f FieldChange) (old, new string) {
	if f.Sensitive {
		return Masked, Masked
	}
	return f.Old, f.New
}

// appliedValue is the value flareops last applied to f. A field changed outside
// flareops alone is set back to that value, so New stands in for it when the planner
// did not fill Applied.
func appliedValue(f FieldChange, origin string) (string, bool) {
	switch {
	case f.Sensitive:
		return Masked, f.AppliedSet
	case f.AppliedSet:
		return f.Applied, true
	case origin == OriginOutside && f.NewSet:
		return f.New, true
	}
	return "", false
}

// valueFormat shows one value in a rendering: v when set, a word for "absent" otherwise.
type valueFormat func(v string, set bool) string

// outsideSentence says what happened to f outside flareops and what actor ("this plan",
// "apply") does about it:
// `false -> true (changed outside flareops); this plan sets it back to false`.
func outsideSentence(f FieldChange, origin, actor string, v valueFormat) string {
	if f.Sensitive {
		if origin == OriginBoth {
			return "changed outside flareops; " + actor + " sets it to the new configured value"
		}
		return "changed outside flareops; " + actor + " sets it back"
	}
	applied, appliedSet := appliedValue(f, origin)
	old, new := shownValues(f)
	s := v(applied, appliedSet) + " -> " + v(old, f.OldSet) + " (changed outside flareops); "
	switch {
	case origin == OriginBoth && f.NewSet:
		return s + actor + " sets it to " + v(new, true) + " (changed in the configuration too)"
	case origin == OriginBoth:
		return s + actor + " removes it (removed from the configuration too)"
	case f.NewSet:
		return s + actor + " sets it back to " + v(new, true)
	}
	return s + actor + " removes it"
}

// outsideBlockSentence is outsideSentence for a nested block added or removed as a whole.
func outsideBlockSentence(symbol, actor string) string {
	if symbol == "+" {
		return "removed outside flareops; " + actor + " adds it back"
	}
	return "added outside flareops; " + actor + " removes it"
}

// driftSentence shows a configuration change in a drift report: live -> desired.
func driftSentence(f FieldChange, v valueFormat) string {
	if f.Sensitive && f.OldSet && f.NewSet {
		return "differs " + v(Masked, true)
	}
	old, new := shownValues(f)
	return v(old, f.OldSet) + " -> " + v(new, f.NewSet)
}

func driftBlockSentence(symbol string) string {
	if symbol == "+" {
		return "in the configuration, not in the account"
	}
	return "in the account, not in the configuration"
}

// noteLine is one line of a field list (the outside section, the drift report): an
// attribute with what happened to it, or a nested block, whose attributes follow one
// level deeper unless the sentence covers the whole block.
type noteLine struct {
	depth       int
	name, ident string // ident: `worker = "agent-worker"` for a nested block
	block       bool
	sentence    string // "" for a block whose attributes follow
}

// fieldNotes lists fields for people: say describes one attribute, sayBlock a nested
// block added ("+") or removed ("-") as a whole.
func fieldNotes(fields []FieldChange, say func(FieldChange) string, sayBlock func(symbol string) string) []noteLine {
	var out []noteLine
	var walk func(n *blockNode, depth int)
	walk = func(n *blockNode, depth int) {
		for _, f := range n.fields {
			out = append(out, noteLine{depth: depth, name: f.Attr(), sentence: say(f)})
		}
		for _, c := range n.blocks {
			name, ident := blockTitle(c.step)
			l := noteLine{depth: depth, name: name, ident: ident, block: true}
			if sym := c.symbol(); sym != "~" {
				l.sentence = sayBlock(sym)
				out = append(out, l)
				continue
			}
			out = append(out, l)
			walk(c, depth+1)
		}
	}
	walk(fieldTree(fields), 0)
	return out
}

// outsideNotes lists the fields of c changed outside flareops.
func outsideNotes(c Change, actor string, v valueFormat) []noteLine {
	byPath := map[string]string{}
	fields := fieldsWhere(c, isOutside)
	for _, f := range fields {
		byPath[f.Path] = fieldOrigin(c, f)
	}
	return fieldNotes(fields,
		func(f FieldChange) string { return outsideSentence(f, byPath[f.Path], actor, v) },
		func(sym string) string { return outsideBlockSentence(sym, actor) })
}

// configNotes lists the fields of c changed in the configuration only, live -> desired.
func configNotes(c Change, v valueFormat) []noteLine {
	fields := fieldsWhere(c, func(o string) bool { return !isOutside(o) })
	return fieldNotes(fields, func(f FieldChange) string { return driftSentence(f, v) }, driftBlockSentence)
}

// outsideObjectSentence describes an outside change that is about the whole object (one
// deleted outside flareops) rather than its fields.
func outsideObjectSentence(c Change) string {
	if c.Reason != "" {
		return c.Reason
	}
	switch c.Action {
	case Create:
		return "deleted outside flareops; it will be created again"
	case Delete:
		return "changed outside flareops, and removed from the configuration"
	}
	return "changed outside flareops"
}

// uniqueLines drops repeated lines, keeping the first of each.
func uniqueLines(lines []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range lines {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

// describeTarget names a plan's target for people, when the caller did not:
// "account 0123 at https://…", "local Cloudflare (.flareops/local)", plus the workspace
// when it is not the default one.
func describeTarget(t Target) string {
	var s string
	switch t.Kind {
	case "account":
		s = "account " + t.AccountID
		if t.BaseURL != "" {
			s += " at " + t.BaseURL
		}
	case "local":
		s = "local Cloudflare"
		if t.DataDir != "" {
			s += " (" + t.DataDir + ")"
		}
	default:
		return ""
	}
	if t.Workspace != "" && t.Workspace != "default" {
		s += ", workspace " + strconv.Quote(t.Workspace)
	}
	return s
}
