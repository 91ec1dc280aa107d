package provider

import (
	"fmt"
	"math/big"
	"reflect"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/monotask/flareops/reconciler"
)

// Conversion between Terraform values (tftypes, shaped by the schema that schema.go builds
// from the engine's BlockSchema) and the engine's reconciler.Values. It is the only place
// that knows how each engine type is spelled in Terraform:
//
//	String, Ref → string (a Ref is the referenced object's name)
//	Int         → number (int64)
//	Float       → number (float64), written as the plan or state wrote an equal one
//	Bool        → bool
//	Duration    → string as users write it ("30s"), decoded into the attribute's unit
//	StringList  → list of strings ([]string); no elements is null or [] as the user
//	              wrote it (values_lists.go)

// valuesFrom decodes obj into engine values. Null and unknown attributes are absent, as an
// attribute left out of an HCL block is (a list with an element not known yet counts as
// unknown); nested blocks become []reconciler.Values.
func valuesFrom(bs reconciler.BlockSchema, obj tftypes.Value) (reconciler.Values, error) {
	m, err := objectMap(obj)
	if err != nil {
		return nil, err
	}
	vals := reconciler.Values{}
	for _, a := range bs.Attrs {
		v, ok := m[a.Name]
		if !ok || !v.IsFullyKnown() || v.IsNull() {
			continue
		}
		dv, err := decodeAttr(a, v)
		if err != nil {
			return nil, err
		}
		vals[a.Name] = dv
	}
	for _, nb := range bs.Blocks {
		elems, err := listElems(m[nb.Name])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", nb.Name, err)
		}
		var list []reconciler.Values
		for i, e := range elems {
			ev, err := valuesFrom(nb.Schema, e)
			if err != nil {
				return nil, fmt.Errorf("%s.%d.%w", nb.Name, i, err)
			}
			list = append(list, ev)
		}
		if len(list) > 0 {
			vals[nb.Name] = list
		}
	}
	return vals, nil
}

func decodeAttr(a reconciler.Attr, v tftypes.Value) (any, error) {
	switch a.Type {
	case reconciler.Int:
		var f big.Float
		if err := v.As(&f); err != nil {
			return nil, fmt.Errorf("%s: %w", a.Name, err)
		}
		n, acc := f.Int64()
		if acc != big.Exact {
			return nil, fmt.Errorf("%s must be a whole number; got %s", a.Name, f.String())
		}
		return n, nil
	case reconciler.Bool:
		var b bool
		if err := v.As(&b); err != nil {
			return nil, fmt.Errorf("%s: %w", a.Name, err)
		}
		return b, nil
	case reconciler.Float:
		return decodeFloat(a, v)
	case reconciler.StringList:
		return decodeList(a, v)
	case reconciler.RefList:
		names, err := decodeList(a, v)
		if err != nil {
			return nil, err
		}
		refs := make([]reconciler.RefValue, len(names))
		for i, n := range names {
			refs[i] = reconciler.RefValue{Name: n}
		}
		return refs, nil
	case reconciler.StringListMap:
		return decodeListMap(a, v)
	}
	var s string
	if err := v.As(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", a.Name, err)
	}
	switch a.Type {
	case reconciler.Duration:
		n, err := a.DecodeDuration(s)
		if err != nil {
			return nil, err
		}
		return n, nil
	case reconciler.Ref:
		return reconciler.RefValue{Name: s}, nil
	}
	return s, nil
}

// objectFrom encodes engine values as an object of type typ. Attributes of typ that the
// engine schema does not have (such as id) come from extra, or are null.
//
// priors are earlier values of the same object, most authoritative first (the plan, then
// the state). They keep the user's spelling of a duration that denotes the same value:
// configuration "60s" and a live 60 seconds stay "60s", never flip to "1m". They also
// order nested blocks: Flatten sorts them by key, Terraform keeps the order they were
// written in.
func objectFrom(bs reconciler.BlockSchema, typ tftypes.Object, vals reconciler.Values, extra map[string]tftypes.Value, priors ...tftypes.Value) (tftypes.Value, error) {
	priorMaps := make([]map[string]tftypes.Value, 0, len(priors))
	for _, p := range priors {
		if m, err := objectMap(p); err == nil && m != nil {
			priorMaps = append(priorMaps, m)
		}
	}
	out := map[string]tftypes.Value{}
	for name, t := range typ.AttributeTypes {
		if v, ok := extra[name]; ok {
			out[name] = v
		} else {
			out[name] = tftypes.NewValue(t, nil)
		}
	}
	for _, a := range bs.Attrs {
		t, ok := typ.AttributeTypes[a.Name]
		if !ok {
			return tftypes.Value{}, fmt.Errorf("the schema has no attribute %q", a.Name)
		}
		var spellings []tftypes.Value
		for _, pm := range priorMaps {
			spellings = append(spellings, pm[a.Name])
		}
		v, err := encodeAttr(a, t, vals[a.Name], spellings)
		if err != nil {
			return tftypes.Value{}, err
		}
		out[a.Name] = v
	}
	for _, nb := range bs.Blocks {
		lt, ok := typ.AttributeTypes[nb.Name].(tftypes.List)
		if !ok {
			return tftypes.Value{}, fmt.Errorf("the schema has no list %q", nb.Name)
		}
		et, ok := lt.ElementType.(tftypes.Object)
		if !ok {
			return tftypes.Value{}, fmt.Errorf("%s: elements are not objects", nb.Name)
		}
		flat, _ := vals[nb.Name].([]reconciler.Values)
		var priorElems [][]tftypes.Value
		for _, pm := range priorMaps {
			if elems, err := listElems(pm[nb.Name]); err == nil {
				priorElems = append(priorElems, elems)
			}
		}
		var ordered []reconciler.Values
		var at []int
		if len(priorElems) > 0 {
			ordered, at = align(nb.Schema, priorElems[0], flat)
		} else {
			ordered, at = flat, make([]int, len(flat))
			for i := range at {
				at[i] = -1
			}
		}
		elems := make([]tftypes.Value, 0, len(ordered))
		for i, ev := range ordered {
			var ep []tftypes.Value
			for _, pe := range priorElems {
				if at[i] >= 0 && at[i] < len(pe) {
					ep = append(ep, pe[at[i]])
				}
			}
			e, err := objectFrom(nb.Schema, et, ev, nil, ep...)
			if err != nil {
				return tftypes.Value{}, fmt.Errorf("%s.%d.%w", nb.Name, i, err)
			}
			elems = append(elems, e)
		}
		if len(elems) == 0 {
			// An empty list, not null: Terraform reads a configuration without blocks as [].
			out[nb.Name] = tftypes.NewValue(lt, []tftypes.Value{})
		} else {
			out[nb.Name] = tftypes.NewValue(lt, elems)
		}
	}
	if err := tftypes.ValidateValue(typ, out); err != nil {
		return tftypes.Value{}, err
	}
	return tftypes.NewValue(typ, out), nil
}

// encodeAttr encodes one engine value; nil is null (for a StringList, see encodeList).
func encodeAttr(a reconciler.Attr, t tftypes.Type, v any, spellings []tftypes.Value) (tftypes.Value, error) {
	switch a.Type {
	case reconciler.StringList:
		return encodeList(a, t, v, spellings)
	case reconciler.RefList:
		var names []string
		if refs, ok := v.([]reconciler.RefValue); ok {
			for _, r := range refs {
				names = append(names, r.Name)
			}
		} else if v != nil {
			return tftypes.Value{}, fmt.Errorf("%s: engine value %T is not a list of references", a.Name, v)
		}
		return encodeList(a, t, sameSetOrder(names, spellings), spellings)
	case reconciler.StringListMap:
		return encodeListMap(a, t, v, spellings)
	}
	if v == nil {
		return tftypes.NewValue(t, nil), nil
	}
	switch a.Type {
	case reconciler.Float:
		return encodeFloat(a, t, v, spellings)
	case reconciler.Int:
		n, ok := v.(int64)
		if !ok {
			return tftypes.Value{}, fmt.Errorf("%s: engine value %T is not int64", a.Name, v)
		}
		return tftypes.NewValue(t, new(big.Float).SetInt64(n)), nil
	case reconciler.Bool:
		b, ok := v.(bool)
		if !ok {
			return tftypes.Value{}, fmt.Errorf("%s: engine value %T is not bool", a.Name, v)
		}
		return tftypes.NewValue(t, b), nil
	case reconciler.Duration:
		n, ok := v.(int64)
		if !ok {
			return tftypes.Value{}, fmt.Errorf("%s: engine value %T is not int64", a.Name, v)
		}
		return tftypes.NewValue(t, spellDuration(a, n, spellings)), nil
	case reconciler.Ref:
		switch r := v.(type) {
		case reconciler.RefValue:
			return tftypes.NewValue(t, r.Name), nil
		case string:
			return tftypes.NewValue(t, r), nil
		}
		return tftypes.Value{}, fmt.Errorf("%s: engine value %T is not a reference", a.Name, v)
	}
	s, ok := v.(string)
	if !ok {
		return tftypes.Value{}, fmt.Errorf("%s: engine value %T is not a string", a.Name, v)
	}
	return tftypes.NewValue(t, s), nil
}

// spellDuration writes n (in a's unit) the way an earlier value wrote it if that denotes the
// same duration, and otherwise in the largest exact unit ("4d").
func spellDuration(a reconciler.Attr, n int64, spellings []tftypes.Value) string {
	want := time.Duration(n) * a.Unit
	for _, p := range spellings {
		if !p.IsKnown() || p.IsNull() {
			continue
		}
		var s string
		if p.As(&s) != nil {
			continue
		}
		if d, err := reconciler.ParseDuration(s); err == nil && d == want {
			return s
		}
	}
	return reconciler.FormatDuration(want)
}

// sameDuration reports whether two spellings denote the same duration.
func sameDuration(x, y string) bool {
	dx, errx := reconciler.ParseDuration(x)
	dy, erry := reconciler.ParseDuration(y)
	return errx == nil && erry == nil && dx == dy
}

// align orders flat (nested blocks as Flatten returns them) like prior (the same blocks as
// Terraform holds them): each prior element takes the unused flat element that agrees with
// it on the most attributes. Flat elements that match none come last. at[i] is the index
// in prior of ordered[i], or -1.
func align(bs reconciler.BlockSchema, prior []tftypes.Value, flat []reconciler.Values) (ordered []reconciler.Values, at []int) {
	used := make([]bool, len(flat))
	for i, p := range prior {
		pv, err := valuesFrom(bs, p)
		if err != nil {
			continue
		}
		best, bestScore := -1, -1
		for j, f := range flat {
			if used[j] {
				continue
			}
			if s := agreement(bs, pv, f); s > bestScore {
				best, bestScore = j, s
			}
		}
		if best >= 0 {
			used[best] = true
			ordered, at = append(ordered, flat[best]), append(at, i)
		}
	}
	for j, f := range flat {
		if !used[j] {
			ordered, at = append(ordered, f), append(at, -1)
		}
	}
	return ordered, at
}

func agreement(bs reconciler.BlockSchema, x, y reconciler.Values) int {
	n := 0
	for _, a := range bs.Attrs {
		if xv, ok := x[a.Name]; ok && reflect.DeepEqual(xv, y[a.Name]) {
			n++
		}
	}
	return n
}

// objectMap returns the attributes of a known, non-null object; nil for null or unknown.
func objectMap(v tftypes.Value) (map[string]tftypes.Value, error) {
	if v.Type() == nil || !v.IsKnown() || v.IsNull() {
		return nil, nil
	}
	var m map[string]tftypes.Value
	if err := v.As(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// listElems returns the elements of a known, non-null list; nil for null or unknown.
func listElems(v tftypes.Value) ([]tftypes.Value, error) {
	if v.Type() == nil || !v.IsKnown() || v.IsNull() {
		return nil, nil
	}
	var elems []tftypes.Value
	if err := v.As(&elems); err != nil {
		return nil, err
	}
	return elems, nil
}
