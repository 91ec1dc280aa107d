package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/monotask/flareops/reconciler"
)

// functions are the functions expressions may call: string and collection helpers that
// cannot grow a value much beyond the size of the configuration.
var functions = map[string]function.Function{
	"lower":      stdlib.LowerFunc,
	"upper":      stdlib.UpperFunc,
	"trimspace":  stdlib.TrimSpaceFunc,
	"trimprefix": stdlib.TrimPrefixFunc,
	"trimsuffix": stdlib.TrimSuffixFunc,
	"replace":    stdlib.ReplaceFunc,
	"join":       stdlib.JoinFunc,
	"split":      stdlib.SplitFunc,
	"substr":     stdlib.SubstrFunc,
	"concat":     stdlib.ConcatFunc,
	"length":     stdlib.LengthFunc,
	"contains":   stdlib.ContainsFunc,
	"lookup":     stdlib.LookupFunc,
	"merge":      stdlib.MergeFunc,
	"coalesce":   stdlib.CoalesceFunc,
	"min":        stdlib.MinFunc,
	"max":        stdlib.MaxFunc,
	"tostring":   stdlib.MakeToFunc(cty.String),
	"tonumber":   stdlib.MakeToFunc(cty.Number),
	"tobool":     stdlib.MakeToFunc(cty.Bool),
}

// evaluate evaluates the nodes in order. A node is evaluated only when everything it refers
// to evaluated without error, so a mistake is reported where it is, not again by every user.
func (l *loader) evaluate(order []string) {
	for _, addr := range order {
		n := l.nodes[addr]
		if n.failed || !l.depsOK(n) {
			continue
		}
		if at := l.opts.Evaluating; at != nil {
			r := n.declRange
			at.Store(&r)
		}
		if n.local != nil {
			l.evalLocal(n)
			continue
		}
		l.evalBlock(n)
		n.release()
	}
}

// release drops an evaluated block's declaration (its syntax, the largest part of a
// large configuration's memory while it loads), keeping the ranges of its attributes for
// what is said about them later. Nothing evaluates a block twice.
func (n *node) release() {
	if n.decl == nil || n.decl.body == nil {
		return
	}
	n.ranges = compactRanges(n.decl)
	n.decl.body, n.decl.preventDestroy = nil, nil
}

// attrRange is where attribute path of the block is written (see compactRanges); asked
// once the block's evaluation is over, it releases the declaration.
func (n *node) attrRange(path string) (hcl.Range, bool) {
	n.release()
	for _, r := range n.ranges {
		if r.path == path {
			return r.rng, true
		}
	}
	return hcl.Range{}, false
}

func (l *loader) depsOK(n *node) bool {
	for _, d := range n.deps {
		if !l.nodes[d.addr].ok {
			return false
		}
	}
	for _, v := range n.varDeps {
		if l.vars[strings.TrimPrefix(v, "var.")].failed {
			return false
		}
	}
	return true
}

// ctxFor returns the evaluation context of a node: every variable, and the locals and blocks
// the node refers to (all of them evaluated already).
func (l *loader) ctxFor(n *node) *hcl.EvalContext {
	locals := map[string]cty.Value{}
	kinds := map[string]map[string]cty.Value{}
	for _, ref := range n.deps {
		d := l.nodes[ref.addr]
		if d.local != nil {
			locals[d.name] = d.value
			continue
		}
		if kinds[d.kind] == nil {
			kinds[d.kind] = map[string]cty.Value{}
		}
		kinds[d.kind][d.name] = d.object()
	}
	vars := map[string]cty.Value{"var": l.varObj, "local": cty.ObjectVal(locals)}
	for kind, blocks := range kinds {
		vars[kind] = cty.ObjectVal(blocks)
	}
	return &hcl.EvalContext{Variables: vars, Functions: functions}
}

// kindDepsOf returns the blocks a node depends on, directly or through locals.
func (l *loader) kindDepsOf(n *node) []string {
	viaLocal := false
	for _, ref := range n.deps {
		viaLocal = viaLocal || l.nodes[ref.addr].local != nil
	}
	if !viaLocal {
		return n.deps.addrs() // sorted and unique already
	}
	set := map[string]bool{}
	for _, ref := range n.deps {
		d := l.nodes[ref.addr]
		if d.local == nil {
			set[ref.addr] = true
			continue
		}
		for _, k := range d.kindDeps {
			set[k] = true
		}
	}
	return sortedKeys(set)
}

func (l *loader) evalLocal(n *node) {
	val, diags := n.local.Expr.Value(l.ctxFor(n))
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return
	}
	if unmarked, _ := val.UnmarkDeep(); !unmarked.IsWhollyKnown() {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid local value",
			Detail:   fmt.Sprintf("The value of local.%s cannot be known while loading the configuration. Write it from variables, locals and blocks only.", n.name),
			Subject:  n.local.Expr.Range().Ptr(),
		})
		return
	}
	if size := valueSize(val, MaxValueSize); size > MaxValueSize {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Local value too large",
			Detail: fmt.Sprintf("local.%s evaluates to more than %s, the most flareops accepts for one value (as much as the largest file it reads). "+
				"Check how it is built: a local that repeats or combines others grows with each of them.", n.name, sizeText(MaxValueSize)),
			Subject: n.local.Expr.Range().Ptr(),
		})
		return
	}
	n.value = val
	n.kindDeps = l.kindDepsOf(n)
	n.ok = true
}

func (l *loader) evalBlock(n *node) {
	ev := &blockEval{l: l, node: n, sensitive: map[string]bool{}, label: n.name}
	values, ok := ev.body(n.decl.body, "")
	pd := false
	if a := n.decl.preventDestroy; a != nil {
		v, present, good := ev.attr(reconciler.Attr{Name: preventDestroy, Type: reconciler.Bool}, a.Expr, "")
		ok = ok && good
		if present {
			pd = v.(bool)
		}
	}
	if !ok {
		return
	}
	n.values = values
	n.preventDestroy = pd
	n.sensitive = sortedKeys(ev.sensitive)
	n.spelling = ev.spelling
	n.kindDeps = l.kindDepsOf(n)
	n.ok = !n.invalid
}

// object is how other blocks see an evaluated block (objectFor), made the first time an
// expression needs it: most references name a block whole (dead_letter_queue =
// queue.jobs_dlq) and are resolved without it, and a large configuration would otherwise
// hold an object beside the values of every block.
func (n *node) object() cty.Value {
	if !n.hasValue {
		sens := make(map[string]bool, len(n.sensitive))
		for _, p := range n.sensitive {
			sens[p] = true
		}
		n.value, n.hasValue = objectFor(n.decl.kind.Schema, n.values, sens, ""), true
	}
	return n.value
}

// objectFor is how other blocks see a block: an object of its attributes as users write
// them (durations as "4d", references as the name, lists of strings as lists), absent
// ones null, nested blocks as tuples of objects.
func objectFor(s reconciler.BlockSchema, vals reconciler.Values, sensitive map[string]bool, path string) cty.Value {
	attrs := map[string]cty.Value{}
	for _, a := range s.Attrs {
		v, present := vals[a.Name]
		var cv cty.Value
		switch a.Type {
		case reconciler.String:
			cv = cty.NullVal(cty.String)
			if s, ok := v.(string); present && ok {
				cv = cty.StringVal(s)
			}
		case reconciler.Int:
			cv = cty.NullVal(cty.Number)
			if n, ok := v.(int64); present && ok {
				cv = cty.NumberIntVal(n)
			}
		case reconciler.Bool:
			cv = cty.NullVal(cty.Bool)
			if b, ok := v.(bool); present && ok {
				cv = cty.BoolVal(b)
			}
		case reconciler.Duration:
			cv = cty.NullVal(cty.String)
			if n, ok := v.(int64); present && ok {
				cv = cty.StringVal(reconciler.FormatDuration(time.Duration(n) * a.Unit))
			}
		case reconciler.Ref:
			cv = cty.NullVal(cty.String)
			if r, ok := v.(reconciler.RefValue); present && ok {
				cv = cty.StringVal(r.Name)
			}
		case reconciler.StringList:
			cv = listObject(v, present)
		case reconciler.Float:
			cv = floatObject(v, present)
		case reconciler.RefList:
			cv = refListObject(v, present)
		case reconciler.StringListMap:
			cv = listMapObject(v, present)
		default:
			cv = cty.NullVal(cty.DynamicPseudoType)
		}
		attrs[a.Name] = markIf(cv, sensitive[path+a.Name])
	}
	for _, nb := range s.Blocks {
		list, _ := vals[nb.Name].([]reconciler.Values)
		elems := make([]cty.Value, 0, len(list))
		for i, item := range list {
			elems = append(elems, objectFor(nb.Schema, item, sensitive, fmt.Sprintf("%s%s.%d.", path, nb.Name, i)))
		}
		attrs[nb.Name] = cty.TupleVal(elems)
	}
	return cty.ObjectVal(attrs)
}

// checkKeys reports two blocks of a kind with the same key (two queues with one name): they
// would be one object in the account. The later-declared block is reported.
func (l *loader) checkKeys() {
	for _, k := range l.opts.Kinds {
		if k.KeyAttr == "" {
			continue
		}
		seen := map[string]*node{}
		for _, n := range l.blocks {
			if n.kind != k.Name || !n.ok {
				continue
			}
			v, present := n.values[k.KeyAttr]
			if !present {
				continue
			}
			key := fmt.Sprint(v)
			first := seen[key]
			if first == nil {
				seen[key] = n
				continue
			}
			subject := n.declRange
			if r, ok := n.attrRange(k.KeyAttr); ok {
				subject = r
			}
			shown := strconv.Quote(key)
			if slices.Contains(n.sensitive, k.KeyAttr) {
				shown = "(sensitive)"
			}
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Duplicate %s %s", k.Name, k.KeyAttr),
				Detail: fmt.Sprintf("%s and %s (declared at %s) both have %s = %s, but they would be one %s in the account. Give each its own %s.",
					n.addr, first.addr, lineOf(first.declRange), k.KeyAttr, shown, k.Name, k.KeyAttr),
				Subject: subject.Ptr(),
			})
			n.ok = false
		}
	}
}
