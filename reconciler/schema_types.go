package reconciler

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The checks and renderings of the attribute types beyond strings, numbers and durations:
// StringList and Float. Both front ends call them, so the HCL loader and `terraform
// validate` accept the same values and reject the others with the same words.

// DefaultValue is the attribute's Default as Values hold it: int64 for an Int (an int
// default is converted) and for a Duration in its unit (a time.Duration default is
// converted), float64 for a Float (an int default is converted), a fresh []string for a
// StringList; nil when there is no default.
func (a Attr) DefaultValue() any {
	switch d := a.Default.(type) {
	case nil:
		return nil
	case time.Duration:
		if a.Unit > 0 {
			return int64(d / a.Unit)
		}
		return int64(d)
	case []string:
		return append([]string{}, d...)
	case float32:
		return float64(d)
	case int:
		if a.Type == Float {
			return float64(d)
		}
		return int64(d)
	case int32:
		if a.Type == Float {
			return float64(d)
		}
		return int64(d)
	case int64:
		if a.Type == Float {
			return float64(d)
		}
	}
	return a.Default
}

// CheckFloat reports whether f is a finite number within the attribute's range.
func (a Attr) CheckFloat(f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("%s must be a finite number; got %s", a.Name, FormatFloat(f))
	}
	if !a.FloatBounded || (f >= a.FloatMin && f <= a.FloatMax) {
		return nil
	}
	return fmt.Errorf("%s must be %s; got %s", a.Name, a.FloatRule(), FormatFloat(f))
}

// FloatRule says in words what CheckFloat accepts, e.g. "between 0 and 1".
func (a Attr) FloatRule() string {
	switch {
	case !a.FloatBounded:
		return "any number"
	case math.IsInf(a.FloatMax, 1):
		return "at least " + FormatFloat(a.FloatMin)
	case math.IsInf(a.FloatMin, -1):
		return "at most " + FormatFloat(a.FloatMax)
	}
	return fmt.Sprintf("between %s and %s", FormatFloat(a.FloatMin), FormatFloat(a.FloatMax))
}

// FormatFloat renders f as users write it: the shortest decimal that reads back as f
// (0.1, not 0.10000000000000001), without an exponent unless f is very large or small.
func FormatFloat(f float64) string {
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// ItemError is a StringList value breaking one of its attribute's rules. Index is the
// element at fault, or -1 when the list as a whole is (too many elements). For a repeated
// element, Index is the later one and First the earlier one; otherwise First is -1.
type ItemError struct {
	Index, First int
	Err          error
}

func (e ItemError) Error() string { return e.Err.Error() }

func (e ItemError) Unwrap() error { return e.Err }

// Summary is the summary of a diagnostic about e, the same in both front ends.
func (e ItemError) Summary() string {
	switch {
	case e.Index < 0:
		return "Too many elements"
	case e.First >= 0:
		return "Duplicate element"
	}
	return "Invalid value"
}

// CheckList checks a StringList value: at most MaxItems elements; each element within
// Enum, MaxLen and Pattern (CheckItem); with Unique, no element equal to an earlier one.
// known, when not nil, says which elements are known yet (the provider plans with values
// known only at apply): the others are skipped. The problems come in element order, a
// problem of the whole list first; none means the value is valid.
func (a Attr) CheckList(ss []string, known func(i int) bool) []ItemError {
	var out []ItemError
	if a.MaxItems > 0 && len(ss) > a.MaxItems {
		out = append(out, ItemError{Index: -1, First: -1, Err: fmt.Errorf("%s must have at most %d %s; got %d",
			a.Name, a.MaxItems, plural(a.MaxItems, "element", "elements"), len(ss))})
	}
	first := map[string]int{}
	for i, s := range ss {
		if known != nil && !known(i) {
			continue
		}
		if err := a.CheckItem(i, s); err != nil {
			out = append(out, ItemError{Index: i, First: -1, Err: err})
			continue
		}
		if !a.Unique {
			continue
		}
		if j, seen := first[s]; seen {
			out = append(out, ItemError{Index: i, First: j, Err: fmt.Errorf("%s and %s are both %s: each element must be different",
				ItemName(a.Name, j), ItemName(a.Name, i), strconv.Quote(s))})
			continue
		}
		first[s] = i
	}
	return out
}

// CheckItem checks element i of a StringList against Enum, MaxLen and Pattern; the
// message names the element as ItemName does.
func (a Attr) CheckItem(i int, s string) error {
	e := a
	e.Name = ItemName(a.Name, i)
	if err := e.CheckEnum(s); err != nil {
		return err
	}
	return e.CheckText(s)
}

// ItemName names element i of a list attribute as messages do: "blobs[1]".
func ItemName(name string, i int) string {
	return name + "[" + strconv.Itoa(i) + "]"
}

// ListRule says in words what CheckList accepts, e.g. "at most 20 elements, each at most
// 63 characters, all different".
func (a Attr) ListRule() string {
	var parts []string
	if a.MaxItems > 0 {
		parts = append(parts, fmt.Sprintf("at most %d %s", a.MaxItems, plural(a.MaxItems, "element", "elements")))
	}
	if len(a.Enum) > 0 {
		parts = append(parts, "each one of "+strings.Join(quoteAll(a.Enum), ", "))
	}
	if a.Pattern != nil || a.MaxLen > 0 {
		parts = append(parts, "each "+a.TextRule())
	}
	if a.Unique {
		parts = append(parts, "all different")
	}
	if len(parts) == 0 {
		return "any strings"
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// CanonicalListMap is the form in which a StringListMap is compared: keys and values
// trimmed and lower-cased, each value list sorted with duplicates removed, keys without
// values left out. Both front ends compare through it, so an API that answers a map in
// another order or case, or with a value twice, shows no change.
func CanonicalListMap(m map[string][]string) map[string][]string {
	out := make(map[string][]string, len(m))
	for k, vs := range m {
		key := strings.ToLower(strings.TrimSpace(k))
		set := append([]string{}, out[key]...)
		for _, v := range vs {
			set = append(set, strings.ToLower(strings.TrimSpace(v)))
		}
		sort.Strings(set)
		set = slices.Compact(set)
		if len(set) > 0 {
			out[key] = set
		}
	}
	return out
}

// SameListMap reports whether two StringListMaps have the same canonical form.
func SameListMap(a, b map[string][]string) bool {
	ca, cb := CanonicalListMap(a), CanonicalListMap(b)
	if len(ca) != len(cb) {
		return false
	}
	for k, v := range ca {
		if !slices.Equal(v, cb[k]) {
			return false
		}
	}
	return true
}
