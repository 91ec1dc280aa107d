package config

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/monotask/flareops/reconciler"
)

// Decoding of the list and fractional attribute types: a StringList from any list, tuple
// or set whose elements convert to strings (as Terraform converts to list(string): 3 is
// "3"), with each problem reported at the element when the list is written in brackets;
// a Float from any number.

func (ev *blockEval) strList(a reconciler.Attr, expr hcl.Expression, val cty.Value, sens bool) (any, bool) {
	ty := val.Type()
	if !ty.IsListType() && !ty.IsTupleType() && !ty.IsSetType() {
		ev.typeError(a, expr, val, sens)
		return nil, false
	}
	n := val.LengthInt()
	at := elementExprs(expr, n)
	ss := make([]string, 0, n)
	ok := true
	for i, it := 0, val.ElementIterator(); it.Next(); i++ {
		_, e := it.Element()
		conv, err := convert.Convert(e, cty.String)
		if err != nil || e.IsNull() || !e.Type().IsPrimitiveType() {
			ev.fail(at[i], "Incorrect attribute value type", fmt.Sprintf("%s must be a string; got %s. Write each element as text in quotes, e.g. %s = %s.",
				reconciler.ItemName(a.Name, i), describe(e, sens), a.Name, example(a)))
			ok = false
			continue
		}
		ss = append(ss, conv.AsString())
	}
	if !ok {
		return nil, false
	}
	problems := a.CheckList(ss, nil)
	if len(problems) > 0 && sens {
		ev.fail(expr, "Invalid value", fmt.Sprintf("%s must be %s; the value (sensitive, not shown) is not.", a.Name, a.ListRule()))
		return nil, false
	}
	for _, p := range problems {
		subject, detail := expr, p.Error()+"."
		if p.Index >= 0 {
			subject = at[p.Index]
			if len(a.Enum) > 0 && a.CheckEnum(ss[p.Index]) != nil {
				detail += didYouMean(ss[p.Index], a.Enum)
			}
		}
		if p.First >= 0 {
			detail += " Remove one of them."
		}
		ev.fail(subject, p.Summary(), detail)
	}
	return ss, len(problems) == 0
}

// elementExprs returns the expression of each of the n elements of expr's value: the
// elements themselves for a list written in brackets, else expr (a variable, a local, a
// function call) for every one.
func elementExprs(expr hcl.Expression, n int) []hcl.Expression {
	if exprs, diags := hcl.ExprList(expr); !diags.HasErrors() && len(exprs) == n {
		return exprs
	}
	out := make([]hcl.Expression, n)
	for i := range out {
		out[i] = expr
	}
	return out
}

// listHint says how to write a list, from the user's own string where there is one:
// "service" becomes ["service"], and "service, route" becomes ["service", "route"].
func listHint(a reconciler.Attr, val cty.Value, sens bool) string {
	if sens || val.Type() != cty.String || val.IsNull() || len(val.AsString()) > 60 {
		return fmt.Sprintf("Write the strings in brackets, e.g. %s = %s.", a.Name, example(a))
	}
	var elems []string
	for _, s := range strings.Split(val.AsString(), ",") {
		elems = append(elems, strconv.Quote(strings.TrimSpace(s)))
	}
	return fmt.Sprintf("Write the strings in brackets: %s = [%s].", a.Name, strings.Join(elems, ", "))
}

func (ev *blockEval) float(a reconciler.Attr, expr hcl.Expression, val cty.Value, sens bool) (any, bool) {
	conv, err := convert.Convert(val, cty.Number)
	if err != nil {
		ev.typeError(a, expr, val, sens)
		return nil, false
	}
	f, _ := conv.AsBigFloat().Float64()
	if err := a.CheckFloat(f); err != nil {
		ev.fail(expr, "Value out of range", hideIf(err.Error(), sens)+".")
		return nil, false
	}
	return f, true
}

// floatExample is a valid value of a Float for messages: the middle of its range, to six
// significant digits (0.001 to 99.999 gives 50, not 49.99999999999999).
func floatExample(a reconciler.Attr) string {
	lo, hi := !math.IsInf(a.FloatMin, 0), !math.IsInf(a.FloatMax, 0)
	switch {
	case !a.FloatBounded:
		return "0.5"
	case lo && hi:
		mid, _ := strconv.ParseFloat(strconv.FormatFloat(a.FloatMin+(a.FloatMax-a.FloatMin)/2, 'g', 6, 64), 64)
		return reconciler.FormatFloat(mid)
	case lo:
		return reconciler.FormatFloat(a.FloatMin)
	case hi:
		return reconciler.FormatFloat(a.FloatMax)
	}
	return "0.5"
}

// decimalRE is a number as the user may have meant it inside a string: "99.9", "5e3".
var decimalRE = regexp.MustCompile(`^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$`)

// meantNumber is the number a string that failed to convert to one was meant to be, for
// the example of the type error: "99.9%" and "99.9 %" are 99.9, or 0.999 when only that
// is in the attribute's range; "" when there is none in range (or the value is sensitive).
func meantNumber(a reconciler.Attr, val cty.Value, sens bool) string {
	if sens || val.Type() != cty.String || val.IsNull() || !val.IsKnown() {
		return ""
	}
	s := strings.TrimSpace(val.AsString())
	pct := strings.HasSuffix(s, "%")
	s = strings.TrimSpace(strings.TrimSuffix(s, "%"))
	if len(s) > 40 || !decimalRE.MatchString(s) {
		return ""
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return ""
	}
	candidates := []float64{f}
	if pct {
		candidates = append(candidates, f/100)
	}
	for _, c := range candidates {
		text := reconciler.FormatFloat(c)
		switch a.Type {
		case reconciler.Float:
			if a.CheckFloat(c) == nil {
				return text
			}
		case reconciler.Int:
			if n, err := strconv.ParseInt(text, 10, 64); err == nil && a.CheckRange(n) == nil {
				return text
			}
		}
	}
	return ""
}

// listObject and floatObject are how other blocks see a StringList and a Float.
func listObject(v any, present bool) cty.Value {
	ss, ok := v.([]string)
	switch {
	case !present || !ok:
		return cty.NullVal(cty.List(cty.String))
	case len(ss) == 0:
		return cty.ListValEmpty(cty.String)
	}
	elems := make([]cty.Value, len(ss))
	for i, s := range ss {
		elems[i] = cty.StringVal(s)
	}
	return cty.ListVal(elems)
}

func floatObject(v any, present bool) cty.Value {
	if f, ok := v.(float64); present && ok {
		return cty.NumberFloatVal(f)
	}
	return cty.NullVal(cty.Number)
}

// checkTypes reports the settings of a that its type cannot honour (bugs in a kind's
// schema): list settings on a non-list, a range on a non-Float, a default of another type.
func checkTypes(a reconciler.Attr) []string {
	var msgs []string
	if (a.MaxItems != 0 || a.Unique) && a.Type != reconciler.StringList && a.Type != reconciler.RefList && a.Type != reconciler.StringListMap {
		msgs = append(msgs, fmt.Sprintf("attribute %q has MaxItems or Unique but is no list", a.Name))
	}
	if a.FloatBounded && (a.Type != reconciler.Float || !(a.FloatMin <= a.FloatMax)) {
		msgs = append(msgs, fmt.Sprintf("attribute %q has a float range but is no Float, or its range is empty", a.Name))
	}
	switch d := a.DefaultValue(); a.Type {
	case reconciler.StringList:
		if ss, ok := d.([]string); d != nil && (!ok || len(a.CheckList(ss, nil)) > 0) {
			msgs = append(msgs, fmt.Sprintf("the default of %q is no valid list of strings", a.Name))
		}
	case reconciler.Float:
		if f, ok := d.(float64); d != nil && (!ok || a.CheckFloat(f) != nil) {
			msgs = append(msgs, fmt.Sprintf("the default of %q is no valid number", a.Name))
		}
	}
	return msgs
}
