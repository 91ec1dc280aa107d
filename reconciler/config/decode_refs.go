package config

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/monotask/flareops/reconciler"
)

// Decoding of the collection types of reference lists and maps: a RefList from a list
// written in brackets whose elements are each a reference to a block of its kind (or a
// literal name, as a Ref may be), or from any list of strings; a StringListMap from an
// object or map whose values are lists of strings (each value's elements checked against
// the attribute's MaxLen and Pattern, and its keys too).

// refList decodes a RefList. Elements are decoded one by one, so that each may be a
// reference to a block (which resolves to the block's name or RefName) or a name.
func (ev *blockEval) refList(a reconciler.Attr, expr hcl.Expression, path string) (any, bool, bool) {
	exprs, diags := hcl.ExprList(expr)
	if diags.HasErrors() {
		// Not written in brackets: a variable, local or function giving names.
		val, vdiags := expr.Value(ev.evalCtx(expr))
		ev.l.diags = append(ev.l.diags, vdiags...)
		if vdiags.HasErrors() {
			return nil, false, false
		}
		val, marks := val.UnmarkDeep()
		_, sens := marks[sensitiveMark]
		if val.IsNull() {
			return nil, false, true
		}
		if !val.IsWhollyKnown() {
			ev.fail(expr, "Invalid value", fmt.Sprintf("The value of %s cannot be known while loading the configuration.", a.Name))
			return nil, false, false
		}
		ty := val.Type()
		if !ty.IsListType() && !ty.IsTupleType() && !ty.IsSetType() {
			ev.typeError(a, expr, val, sens)
			return nil, false, false
		}
		var out []reconciler.RefValue
		for it := val.ElementIterator(); it.Next(); {
			_, e := it.Element()
			conv, err := convert.Convert(e, cty.String)
			if err != nil || e.IsNull() || conv.AsString() == "" {
				ev.typeError(a, expr, val, sens)
				return nil, false, false
			}
			out = append(out, reconciler.RefValue{Name: conv.AsString()})
		}
		return ev.checkRefList(a, expr, nil, out)
	}
	out := make([]reconciler.RefValue, 0, len(exprs))
	ok := true
	for i, e := range exprs {
		el := a
		el.Type, el.Name = reconciler.Ref, reconciler.ItemName(a.Name, i)
		if ref, sens, found := ev.blockRef(el, e); found {
			if sens {
				ev.sensitive[path+a.Name] = true
			}
			out = append(out, ref)
			continue
		}
		val, d := e.Value(ev.evalCtx(e))
		ev.l.diags = append(ev.l.diags, d...)
		if d.HasErrors() {
			ok = false
			continue
		}
		val, marks := val.UnmarkDeep()
		_, sens := marks[sensitiveMark]
		if sens {
			ev.sensitive[path+a.Name] = true
		}
		v, good := ev.literalRef(el, e, val, sens)
		if !good {
			ok = false
			continue
		}
		out = append(out, v.(reconciler.RefValue))
	}
	if !ok {
		return nil, false, false
	}
	return ev.checkRefList(a, expr, exprs, out)
}

// checkRefList refuses a destination named twice and a list longer than MaxItems.
func (ev *blockEval) checkRefList(a reconciler.Attr, expr hcl.Expression, exprs []hcl.Expression, refs []reconciler.RefValue) (any, bool, bool) {
	if a.MaxItems > 0 && len(refs) > a.MaxItems {
		ev.fail(expr, "Too many elements", fmt.Sprintf("%s must have at most %d elements; got %d.", a.Name, a.MaxItems, len(refs)))
		return nil, false, false
	}
	seen := map[string]int{}
	for i, r := range refs {
		if j, dup := seen[r.Name]; dup {
			subject := expr
			if i < len(exprs) {
				subject = exprs[i]
			}
			ev.fail(subject, "Duplicate element", fmt.Sprintf("%s and %s name the same %s. Remove one of them.",
				reconciler.ItemName(a.Name, j), reconciler.ItemName(a.Name, i), a.RefKind))
			return nil, false, false
		}
		seen[r.Name] = i
	}
	return refs, true, true
}

// listMap decodes a StringListMap: an object or map of lists of strings.
func (ev *blockEval) listMap(a reconciler.Attr, expr hcl.Expression, val cty.Value, sens bool) (any, bool) {
	ty := val.Type()
	if !ty.IsObjectType() && !ty.IsMapType() {
		ev.typeError(a, expr, val, sens)
		return nil, false
	}
	out := map[string][]string{}
	ok := true
	for it := val.ElementIterator(); it.Next(); {
		k, v := it.Element()
		key := k.AsString()
		item := a
		item.Type, item.Name = reconciler.StringList, a.Name+"."+key
		if err := item.CheckText(key); err != nil {
			ev.fail(expr, "Invalid value", fmt.Sprintf("%s: the key %s", a.Name, hideIf(err.Error(), sens)+"."))
			ok = false
			continue
		}
		vt := v.Type()
		if v.IsNull() || (!vt.IsListType() && !vt.IsTupleType() && !vt.IsSetType()) {
			ev.fail(expr, "Incorrect attribute value type", fmt.Sprintf("%s must be a list of strings; got %s. Write it in brackets, e.g. %s = [\"value\"].",
				item.Name, describe(v, sens), key))
			ok = false
			continue
		}
		var ss []string
		for eit := v.ElementIterator(); eit.Next(); {
			_, e := eit.Element()
			conv, err := convert.Convert(e, cty.String)
			if err != nil || e.IsNull() || !e.Type().IsPrimitiveType() {
				ev.fail(expr, "Incorrect attribute value type", fmt.Sprintf("%s must hold strings; got %s.", item.Name, describe(e, sens)))
				ok = false
				continue
			}
			ss = append(ss, conv.AsString())
		}
		for _, p := range item.CheckList(ss, nil) {
			ev.fail(expr, p.Summary(), hideIf(p.Error(), sens)+".")
			ok = false
		}
		if ss == nil {
			ss = []string{}
		}
		out[key] = ss
	}
	if a.MaxItems > 0 && len(out) > a.MaxItems {
		ev.fail(expr, "Too many elements", fmt.Sprintf("%s must have at most %d keys; got %d.", a.Name, a.MaxItems, len(out)))
		ok = false
	}
	return out, ok
}

// refListObject and listMapObject are how other blocks see a RefList and a StringListMap.
func refListObject(v any, present bool) cty.Value {
	refs, ok := v.([]reconciler.RefValue)
	switch {
	case !present || !ok:
		return cty.NullVal(cty.List(cty.String))
	case len(refs) == 0:
		return cty.ListValEmpty(cty.String)
	}
	elems := make([]cty.Value, len(refs))
	for i, r := range refs {
		elems[i] = cty.StringVal(r.Name)
	}
	return cty.ListVal(elems)
}

func listMapObject(v any, present bool) cty.Value {
	m, ok := v.(map[string][]string)
	if !present || !ok {
		return cty.NullVal(cty.Map(cty.List(cty.String)))
	}
	if len(m) == 0 {
		return cty.MapValEmpty(cty.List(cty.String))
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := map[string]cty.Value{}
	for _, k := range keys {
		out[k] = listObject(m[k], true)
	}
	return cty.MapVal(out)
}
