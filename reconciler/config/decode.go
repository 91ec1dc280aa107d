package config

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/monotask/flareops/reconciler"
)

// blockEval decodes the attributes of one kind block against its schema.
type blockEval struct {
	l         *loader
	node      *node
	ctx       *hcl.EvalContext  // made by evalCtx when an expression needs it
	sensitive map[string]bool   // attribute paths whose values derive from sensitive variables
	spelling  map[string]string // see Block.Spelling
	label     string            // the block's label, for attributes with LabelDefault
}

// evalCtx is the context to evaluate expr in: none for a literal, which needs nothing,
// else the node's (ctxFor), made once. Most attributes of a large configuration are
// literals, and a context holds the object of every block the node refers to.
func (ev *blockEval) evalCtx(expr hcl.Expression) *hcl.EvalContext {
	switch e := expr.(type) {
	case *hclsyntax.LiteralValueExpr:
		return nil
	case *hclsyntax.TemplateExpr:
		if e.IsStringLiteral() {
			return nil
		}
	}
	if ev.ctx == nil {
		ev.ctx = ev.l.ctxFor(ev.node)
	}
	return ev.ctx
}

// body decodes a block body into Values: attributes by the schema, defaults where absent,
// nested blocks as []Values in source order. path prefixes sensitive attribute paths.
func (ev *blockEval) body(bd *bodyDecl, path string) (reconciler.Values, bool) {
	vals := reconciler.Values{}
	ok := true
	for _, a := range bd.schema.Attrs {
		present := false
		if attr := bd.attrs.get(a.Name); attr != nil {
			v, p, good := ev.attr(a, attr.Expr, path)
			if !good {
				ok = false
				continue
			}
			if p {
				vals[a.Name], present = v, true
			} else if a.Required {
				ev.l.diags = append(ev.l.diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Missing required argument",
					Detail:   fmt.Sprintf("%s is required in a %s block, but its value is null. Give it a value.", a.Name, bd.typeName),
					Subject:  attr.Expr.Range().Ptr(),
				})
				ok = false
				continue
			}
		}
		if present {
			continue
		}
		if a.Required && bd.misspelt[a.Name] {
			ok = false
			continue
		}
		if a.LabelDefault && path == "" && ev.label != "" {
			vals[a.Name] = ev.label
			continue
		}
		if a.Required {
			ev.l.diags = append(ev.l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Missing required argument",
				Detail:   fmt.Sprintf("The argument %q is required in a %s block: add %s = %s.", a.Name, bd.typeName, a.Name, example(a)),
				Subject:  bd.defRange.Ptr(),
			})
			ok = false
			continue
		}
		if d := a.DefaultValue(); d != nil {
			vals[a.Name] = d
		}
	}
	counts := map[string]int{}
	for _, nb := range bd.nested {
		i := counts[nb.typeName]
		counts[nb.typeName]++
		v, good := ev.body(nb.body, fmt.Sprintf("%s%s.%d.", path, nb.typeName, i))
		if !good {
			ok = false
			continue
		}
		list, _ := vals[nb.typeName].([]reconciler.Values)
		vals[nb.typeName] = append(list, v)
	}
	return vals, ok
}

// example is a placeholder value of an attribute's type, for details that say what to write.
func example(a reconciler.Attr) string {
	switch a.Type {
	case reconciler.Int:
		return strconv.FormatInt(max(a.Min, 1), 10)
	case reconciler.Bool:
		return "true"
	case reconciler.Duration:
		return `"30s"`
	case reconciler.Ref:
		return a.RefKind + ".example"
	case reconciler.Float:
		return floatExample(a)
	case reconciler.StringList:
		if len(a.Enum) > 0 {
			return "[" + strconv.Quote(a.Enum[0]) + "]"
		}
		return `["..."]`
	case reconciler.RefList:
		return "[" + a.RefKind + ".example]"
	case reconciler.StringListMap:
		return `{ key = ["value"] }`
	default:
		if len(a.Enum) > 0 {
			return strconv.Quote(a.Enum[0])
		}
		return `"..."`
	}
}

// attr evaluates one attribute. present is false when its value is null, which counts as absent.
func (ev *blockEval) attr(a reconciler.Attr, expr hcl.Expression, path string) (v any, present, ok bool) {
	if a.Type == reconciler.RefList {
		return ev.refList(a, expr, path)
	}
	if a.Type == reconciler.Ref {
		if ref, sens, found := ev.blockRef(a, expr); found {
			if sens {
				ev.sensitive[path+a.Name] = true
			}
			return ref, true, true
		}
	}
	val, diags := expr.Value(ev.evalCtx(expr))
	ev.l.diags = append(ev.l.diags, diags...)
	if diags.HasErrors() {
		return nil, false, false
	}
	val, marks := val.UnmarkDeep()
	_, sens := marks[sensitiveMark]
	if !val.IsWhollyKnown() {
		ev.fail(expr, "Invalid value", fmt.Sprintf("The value of %s cannot be known while loading the configuration. Write it from variables, locals and blocks only.", a.Name))
		return nil, false, false
	}
	if val.IsNull() {
		return nil, false, true
	}
	if sens {
		ev.sensitive[path+a.Name] = true
	}
	switch a.Type {
	case reconciler.String:
		v, ok = ev.str(a, expr, val, sens)
	case reconciler.Int:
		v, ok = ev.integer(a, expr, val, sens)
	case reconciler.Bool:
		conv, err := convert.Convert(val, cty.Bool)
		if err != nil {
			ev.typeError(a, expr, val, sens)
			return nil, false, false
		}
		v, ok = conv.True(), true
	case reconciler.Duration:
		v, ok = ev.duration(a, expr, val, sens)
	case reconciler.Ref:
		v, ok = ev.literalRef(a, expr, val, sens)
	case reconciler.StringList:
		v, ok = ev.strList(a, expr, val, sens)
	case reconciler.Float:
		v, ok = ev.float(a, expr, val, sens)
	case reconciler.StringListMap:
		v, ok = ev.listMap(a, expr, val, sens)
	}
	return v, ok, ok
}

// blockRef decodes a Ref written as a reference to a block of its kind: queue.x or
// queue.x.<key attribute>. found is false for any other expression.
func (ev *blockEval) blockRef(a reconciler.Attr, expr hcl.Expression) (ref reconciler.RefValue, sensitive, found bool) {
	k := ev.l.kinds[a.RefKind]
	if k == nil {
		return ref, false, false
	}
	tr, diags := hcl.AbsTraversalForExpr(expr)
	if diags.HasErrors() || len(tr) < 2 || len(tr) > 3 || tr.RootName() != k.Name {
		return ref, false, false
	}
	name, named := stepName(tr[1])
	if !named {
		return ref, false, false
	}
	if len(tr) == 3 {
		if attr, ok := stepName(tr[2]); !ok || attr != k.KeyAttr || k.KeyAttr == "" {
			return ref, false, false
		}
	}
	target := ev.l.nodes[k.Name+"."+name]
	if target == nil || !target.ok {
		return ref, false, false // cannot happen: references were resolved and evaluated first
	}
	ref.Address = target.addr
	if a.RefTarget {
		ref.Target = target.values
	}
	if k.RefName != nil {
		ref.Name = k.RefName(target.values)
		sensitive = slices.Contains(target.sensitive, k.KeyAttr)
	} else if k.KeyAttr != "" {
		if v, present := target.values[k.KeyAttr]; present {
			ref.Name = fmt.Sprint(v)
		}
		sensitive = slices.Contains(target.sensitive, k.KeyAttr)
	}
	return ref, sensitive, true
}

func (ev *blockEval) str(a reconciler.Attr, expr hcl.Expression, val cty.Value, sens bool) (any, bool) {
	conv, err := convert.Convert(val, cty.String)
	if err != nil {
		ev.typeError(a, expr, val, sens)
		return nil, false
	}
	s := conv.AsString()
	if err := a.CheckEnum(s); err != nil {
		detail := err.Error() + "."
		if sens {
			detail = fmt.Sprintf("%s must be one of %s.", a.Name, strings.Join(quoted(a.Enum), ", "))
		}
		ev.fail(expr, "Invalid value", detail+didYouMean(s, a.Enum))
		return nil, false
	}
	if err := a.CheckText(s); err != nil {
		detail := err.Error() + "."
		if sens {
			detail = fmt.Sprintf("%s must be %s; the value (sensitive, not shown) is not.", a.Name, a.TextRule())
		}
		ev.fail(expr, "Invalid value", detail)
		return nil, false
	}
	return s, true
}

func quoted(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

func (ev *blockEval) integer(a reconciler.Attr, expr hcl.Expression, val cty.Value, sens bool) (any, bool) {
	conv, err := convert.Convert(val, cty.Number)
	if err != nil {
		ev.typeError(a, expr, val, sens)
		return nil, false
	}
	bf := conv.AsBigFloat()
	if bf.IsInf() || !bf.IsInt() {
		ev.fail(expr, "Invalid value", fmt.Sprintf("%s must be a whole number; got %s.", a.Name, describe(conv, sens)))
		return nil, false
	}
	n, acc := bf.Int64()
	if acc != big.Exact {
		ev.fail(expr, "Value out of range", fmt.Sprintf("%s is far outside its range; got %s.", a.Name, describe(conv, sens)))
		return nil, false
	}
	if err := a.CheckRange(n); err != nil {
		ev.fail(expr, "Value out of range", hideIf(err.Error(), sens)+".")
		return nil, false
	}
	return n, true
}

func (ev *blockEval) duration(a reconciler.Attr, expr hcl.Expression, val cty.Value, sens bool) (any, bool) {
	suffix := "s"
	if a.Unit == time.Millisecond {
		suffix = "ms"
	}
	hint := fmt.Sprintf(`Write a whole number and a unit (ms, s, m, h, d) in quotes, e.g. %s = "30%s".`, a.Name, suffix)
	if val.Type() == cty.Number && !val.RawEquals(cty.Zero) {
		detail := fmt.Sprintf("%s must be a duration with a unit; got %s. ", a.Name, describe(val, sens))
		if !sens {
			detail += fmt.Sprintf(`Add the unit and quotes, e.g. "%s%s".`, numberText(val), suffix)
		} else {
			detail += hint
		}
		ev.fail(expr, "Incorrect attribute value type", detail)
		return nil, false
	}
	conv, err := convert.Convert(val, cty.String)
	if err != nil {
		ev.typeError(a, expr, val, sens)
		return nil, false
	}
	s := conv.AsString()
	d, err := reconciler.ParseDuration(s)
	if err != nil && !errors.Is(err, reconciler.ErrDurationTooLong) {
		ev.fail(expr, "Invalid duration", hideIf(err.Error(), sens)+". "+hint)
		return nil, false
	}
	n, err := a.DecodeDuration(s)
	if err != nil {
		summary := "Value out of range"
		if d%a.Unit != 0 {
			summary = "Invalid duration"
		}
		ev.fail(expr, summary, hideIf(err.Error(), sens)+".")
		return nil, false
	}
	if canonical := reconciler.FormatDuration(time.Duration(n) * a.Unit); val.Type() == cty.String && !sens && s != canonical {
		key := a.Name + "=" + canonical
		if _, seen := ev.spelling[key]; !seen {
			if ev.spelling == nil {
				ev.spelling = map[string]string{}
			}
			ev.spelling[key] = s
		}
	}
	return n, true
}

func (ev *blockEval) literalRef(a reconciler.Attr, expr hcl.Expression, val cty.Value, sens bool) (any, bool) {
	conv, err := convert.Convert(val, cty.String)
	if err != nil || !val.Type().IsPrimitiveType() {
		ev.typeError(a, expr, val, sens)
		return nil, false
	}
	s := conv.AsString()
	if s == "" {
		ev.fail(expr, "Invalid value", fmt.Sprintf("%s must name a %s; got an empty string. Refer to a block (%s.<name>) or write the name of an existing %s.", a.Name, a.RefKind, a.RefKind, a.RefKind))
		return nil, false
	}
	return reconciler.RefValue{Name: s}, true
}

// hideIf replaces a message that may quote a sensitive value.
func hideIf(msg string, sensitive bool) string {
	if sensitive {
		return "the value (sensitive, not shown) is not valid here"
	}
	return msg
}

func (ev *blockEval) typeError(a reconciler.Attr, expr hcl.Expression, val cty.Value, sens bool) {
	var want, hint string
	number := meantNumber(a, val, sens)
	if number == "" {
		number = example(a)
	}
	switch a.Type {
	case reconciler.String:
		want, hint = "a string", fmt.Sprintf(`Write text in quotes, e.g. %s = "example".`, a.Name)
	case reconciler.Int:
		want, hint = "a number", fmt.Sprintf("Write a whole number without quotes, e.g. %s = %s.", a.Name, number)
	case reconciler.Bool:
		want, hint = "true or false", fmt.Sprintf("Write true or false without quotes, e.g. %s = true.", a.Name)
	case reconciler.Duration:
		want, hint = `a duration such as "30s"`, `Write a whole number and a unit (ms, s, m, h, d) in quotes.`
	case reconciler.Ref:
		want = fmt.Sprintf("a reference to a %s or the name of one", a.RefKind)
		hint = fmt.Sprintf(`Refer to a block, e.g. %s = %s.example, or write the name of an existing %s in quotes.`, a.Name, a.RefKind, a.RefKind)
	case reconciler.StringList:
		want, hint = "a list of strings", listHint(a, val, sens)
	case reconciler.Float:
		want, hint = "a number", fmt.Sprintf("Write a number without quotes, e.g. %s = %s.", a.Name, number)
	case reconciler.RefList:
		want = fmt.Sprintf("a list of references to %s blocks", a.RefKind)
		hint = fmt.Sprintf("Write them in brackets, e.g. %s = %s.", a.Name, example(a))
	case reconciler.StringListMap:
		want, hint = "a map of lists of strings", fmt.Sprintf("Write each key with a list of strings, e.g. %s = %s.", a.Name, example(a))
	}
	ev.fail(expr, "Incorrect attribute value type", fmt.Sprintf("%s must be %s; got %s. %s", a.Name, want, describe(val, sens), hint))
}

func (ev *blockEval) fail(expr hcl.Expression, summary, detail string) {
	ev.l.diags = append(ev.l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   detail,
		Subject:  expr.Range().Ptr(),
	})
}

// describe renders a value for a diagnostic: its type and, unless sensitive, the value.
func describe(v cty.Value, sensitive bool) string {
	v, _ = v.UnmarkDeep()
	ty := v.Type()
	switch {
	case v.IsNull():
		return "null"
	case !v.IsKnown():
		return "an unknown value"
	case sensitive:
		return "a sensitive " + ty.FriendlyName() + " (not shown)"
	case ty == cty.String:
		s := v.AsString()
		if len(s) > 60 {
			s = strings.ToValidUTF8(s[:57], "") + "..."
		}
		return fmt.Sprintf("string %q", s)
	case ty == cty.Number:
		return "number " + numberText(v)
	case ty == cty.Bool:
		return "bool " + strconv.FormatBool(v.True())
	default:
		return ty.FriendlyName()
	}
}

func numberText(v cty.Value) string {
	bf := v.AsBigFloat()
	if bf.IsInt() {
		if n, acc := bf.Int64(); acc == big.Exact {
			return strconv.FormatInt(n, 10)
		}
	}
	return bf.Text('g', 10)
}
