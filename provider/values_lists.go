package provider

import (
	"fmt"
	"math/big"

	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/monotask/flareops/reconciler"
)

// StringList and Float values in Terraform.
//
// The engine does not tell an empty list from an absent one, but Terraform does: null and
// [] are different values, and a state that flipped from one to the other would be a
// perpetual diff (or, after apply, "inconsistent result"). So a list with no elements is
// written the way the value it replaces had it: the plan's on create and update, the
// state's on refresh. Without such a value (import, a data source), it is [] for an
// attribute with a default (whose plan is never null) and null otherwise. Leaving a list
// out and writing [] thus mean the same to the engine and each stays as written; the one
// visible difference is that importing an object whose configuration says [] (and which
// has no default) plans one update from null to [], which changes nothing live.
//
// A Float is written as an earlier value wrote it when that is the same float64, so the
// state holds the configuration's number digit for digit (0.12345678901234567890 stays
// that, not float64's 0.12345678901234568).

// decodeList reads a known list of strings; the validator has rejected null elements.
func decodeList(a reconciler.Attr, v tftypes.Value) ([]string, error) {
	var elems []tftypes.Value
	if err := v.As(&elems); err != nil {
		return nil, fmt.Errorf("%s: %w", a.Name, err)
	}
	out := make([]string, 0, len(elems))
	for i, e := range elems {
		if e.IsNull() {
			return nil, fmt.Errorf("%s must be a string; got null", reconciler.ItemName(a.Name, i))
		}
		var s string
		if err := e.As(&s); err != nil {
			return nil, fmt.Errorf("%s: %w", reconciler.ItemName(a.Name, i), err)
		}
		out = append(out, s)
	}
	return out, nil
}

// encodeList writes an engine list (nil when absent); priors are the attribute's earlier
// values, most authoritative first.
func encodeList(a reconciler.Attr, t tftypes.Type, v any, priors []tftypes.Value) (tftypes.Value, error) {
	ss, ok := v.([]string)
	if v != nil && !ok {
		return tftypes.Value{}, fmt.Errorf("%s: engine value %T is not a list of strings", a.Name, v)
	}
	if len(ss) == 0 {
		return emptyList(a, t, priors), nil
	}
	elems := make([]tftypes.Value, len(ss))
	for i, s := range ss {
		elems[i] = tftypes.NewValue(tftypes.String, s)
	}
	return tftypes.NewValue(t, elems), nil
}

// emptyList is a list without elements as the first known prior has it: null or [].
func emptyList(a reconciler.Attr, t tftypes.Type, priors []tftypes.Value) tftypes.Value {
	empty, null := tftypes.NewValue(t, []tftypes.Value{}), tftypes.NewValue(t, nil)
	for _, p := range priors {
		switch {
		case p.Type() == nil || !p.IsKnown():
			continue
		case p.IsNull():
			return null
		}
		return empty
	}
	if a.Default != nil {
		return empty
	}
	return null
}

func decodeFloat(a reconciler.Attr, v tftypes.Value) (float64, error) {
	var f big.Float
	if err := v.As(&f); err != nil {
		return 0, fmt.Errorf("%s: %w", a.Name, err)
	}
	x, _ := f.Float64()
	return x, nil
}

// encodeFloat writes f as the first prior that reads as the same float64, else as f.
func encodeFloat(a reconciler.Attr, t tftypes.Type, v any, priors []tftypes.Value) (tftypes.Value, error) {
	f, ok := v.(float64)
	if !ok {
		return tftypes.Value{}, fmt.Errorf("%s: engine value %T is not float64", a.Name, v)
	}
	for _, p := range priors {
		if p.Type() == nil || !p.Type().Is(tftypes.Number) || !p.IsKnown() || p.IsNull() {
			continue
		}
		if x, err := decodeFloat(a, p); err == nil && x == f {
			return p, nil
		}
	}
	return tftypes.NewValue(t, big.NewFloat(f)), nil
}

// decodeListMap reads a known map of lists of strings.
func decodeListMap(a reconciler.Attr, v tftypes.Value) (map[string][]string, error) {
	var m map[string]tftypes.Value
	if err := v.As(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", a.Name, err)
	}
	out := make(map[string][]string, len(m))
	for k, lv := range m {
		item := a
		item.Name = a.Name + "." + k
		if lv.IsNull() {
			return nil, fmt.Errorf("%s must be a list of strings; got null", item.Name)
		}
		ss, err := decodeList(item, lv)
		if err != nil {
			return nil, err
		}
		out[k] = ss
	}
	return out, nil
}

// encodeListMap writes an engine map (nil when absent). A StringListMap means its
// canonical form (reconciler.CanonicalListMap: keys and values case-folded, values a
// sorted set), so the first prior with the same canonical form is kept as it is: the
// state holds the configuration as written, whatever order or case the API answers in.
func encodeListMap(a reconciler.Attr, t tftypes.Type, v any, priors []tftypes.Value) (tftypes.Value, error) {
	m, ok := v.(map[string][]string)
	if v != nil && !ok {
		return tftypes.Value{}, fmt.Errorf("%s: engine value %T is not a map of lists of strings", a.Name, v)
	}
	for _, p := range priors {
		if p.Type() == nil || !p.IsKnown() || !p.IsFullyKnown() {
			continue
		}
		if p.IsNull() {
			if len(m) == 0 {
				return p, nil
			}
			continue
		}
		pm, err := decodeListMap(a, p)
		if err == nil && reconciler.SameListMap(pm, m) {
			return p, nil
		}
	}
	if m == nil {
		return tftypes.NewValue(t, nil), nil
	}
	mt, ok := t.(tftypes.Map)
	if !ok {
		return tftypes.Value{}, fmt.Errorf("%s: the schema's type is not a map", a.Name)
	}
	out := make(map[string]tftypes.Value, len(m))
	for k, ss := range m {
		elems := make([]tftypes.Value, len(ss))
		for i, s := range ss {
			elems[i] = tftypes.NewValue(tftypes.String, s)
		}
		out[k] = tftypes.NewValue(mt.ElementType, elems)
	}
	return tftypes.NewValue(t, out), nil
}

// sameSetOrder returns names in the order of the first prior list that holds the same
// names (a RefList is a set: the engine sorts it, Terraform keeps the order written).
func sameSetOrder(names []string, priors []tftypes.Value) []string {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for _, p := range priors {
		if p.Type() == nil || !p.IsFullyKnown() || p.IsNull() {
			continue
		}
		prior, err := decodeList(reconciler.Attr{Name: "prior"}, p)
		if err != nil || len(prior) != len(names) {
			continue
		}
		same := true
		for _, n := range prior {
			same = same && want[n]
		}
		if same {
			return prior
		}
	}
	return names
}
