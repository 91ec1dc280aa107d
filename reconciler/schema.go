package reconciler

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The schema of every kind is declared once, here in the engine, as data: the HCL loader
// validates against it and the Terraform provider builds its schema from it, so both
// front ends accept exactly the same names, types, defaults and ranges.

// AttrType is the type of an attribute as users write it.
type AttrType int

const (
	String        AttrType = iota // a string
	Int                           // a whole number
	Bool                          // true or false
	Duration                      // a string such as "30s", "5m", "4d", stored in Attr.Unit
	Ref                           // a reference to another block (queue.dlq) or a literal name
	StringList                    // a list of strings, e.g. ["service", "route"]
	Float                         // a number that may have a fraction, e.g. 0.1
	RefList                       // a list of references to blocks of RefKind (or their names): [alert_destination.ops]
	StringListMap                 // a map of string → list of strings, e.g. { product = ["worker_requests"] }
)

func (t AttrType) String() string {
	return [...]string{"string", "whole number", "bool", "duration", "reference", "list of strings", "number", "list of references", "map of lists of strings"}[t]
}

// Attr describes one attribute of a block.
type Attr struct {
	Name     string
	Type     AttrType
	Required bool
	// Default applies when the attribute is absent, in decoded units (int64 seconds or
	// ms for durations, float64 for a Float, []string for a StringList). nil means
	// "unset": the API's own default applies. See DefaultValue.
	Default any
	// Unit is the API unit of a Duration (time.Second or time.Millisecond).
	Unit time.Duration
	// Min and Max bound Int and Duration values (in decoded units). Max 0 means none.
	Min, Max int64
	// FloatMin and FloatMax bound a Float, inclusive, when FloatBounded is set. A flag
	// rather than "0 means none" (as Max is for Int): 0 is a real bound of a fraction,
	// e.g. a sampling rate from 0 to 1. Use math.Inf for a range open on one side.
	FloatMin, FloatMax float64
	FloatBounded       bool
	// Enum lists the allowed values of a String, or of each element of a StringList.
	Enum []string
	// MaxLen bounds the length of a String, or of each element of a StringList, in
	// characters (0: no bound).
	MaxLen int
	// Pattern, when set, is what a String value (each element of a StringList) must
	// match (anchor it: ^...$), and PatternText says the same in words for messages and
	// docs ("letters, digits and `-`, starting and ending with a letter or digit"). Both
	// front ends check values with CheckText (CheckList), so the HCL loader and
	// `terraform validate` reject the same names.
	Pattern     *regexp.Regexp
	PatternText string
	// MaxItems bounds the number of elements of a StringList (0: no bound).
	MaxItems int
	// Unique means the elements of a StringList must all differ.
	Unique bool
	// RefKind is the kind a Ref points to.
	RefKind string
	// RefTarget asks for the referenced block's values in RefValue.Target (the CLI's
	// language only: Terraform passes names).
	RefTarget bool
	// RefRole says in words what the referenced object is to the referring one, for
	// messages ("dead-letter queue"); empty means the attribute's name.
	RefRole string
	// ForceNew means a change replaces the object instead of updating it.
	ForceNew bool
	// Sensitive values never appear in output, plans or state in clear.
	Sensitive bool
	// LabelDefault gives an absent String the block's label in the CLI's language
	// (alert_destination "ops" is named "ops"); Terraform has no label, so there the
	// attribute is required.
	LabelDefault bool
	Description  string
}

// BlockSchema describes a block: its attributes and nested blocks.
type BlockSchema struct {
	Attrs  []Attr
	Blocks []NestedBlock
}

// NestedBlock is a repeated block inside another (e.g. consumer inside queue).
type NestedBlock struct {
	Name        string
	Schema      BlockSchema
	MaxItems    int // 0 means unlimited
	Description string
}

// Attr returns the attribute named name.
func (b BlockSchema) Attr(name string) (Attr, bool) {
	for _, a := range b.Attrs {
		if a.Name == name {
			return a, true
		}
	}
	return Attr{}, false
}

// Values are a decoded block: attribute name → string, int64, float64, bool, []string
// (never nil) or RefValue, and nested block name → []Values. Absent optional attributes
// without a default are absent. A StringList written as [] is present and empty; kinds
// treat it as they treat an absent one (strs returns no elements for both).
type Values map[string]any

// RefValue is a decoded Ref (or an element of a RefList): the address it points to, if
// any, and the name it resolves to. A reference to a block of a kind that is a RefNamer
// resolves to its RefName instead (an alert destination's id).
type RefValue struct {
	Address string // "queue.jobs_dlq", empty when the user wrote a literal name
	Name    string // the referenced object's name in the account
	// Target is the referenced block's values, when the reference is to a block of the
	// configuration (the CLI's language): an SLO reads the column names of the
	// analytics_dataset it names. Never encoded: not part of the configuration's hash.
	Target Values `json:"-"`
}

func (v Values) str(name string) string {
	s, _ := v[name].(string)
	return s
}

func (v Values) int(name string) (int64, bool) {
	n, ok := v[name].(int64)
	return n, ok
}

func (v Values) float(name string) (float64, bool) {
	f, ok := v[name].(float64)
	return f, ok
}

// strs returns the elements of a StringList; nil when absent.
func (v Values) strs(name string) []string {
	s, _ := v[name].([]string)
	return s
}

// refs returns the elements of a RefList; nil when absent.
func (v Values) refs(name string) []RefValue {
	r, _ := v[name].([]RefValue)
	return r
}

// listMap returns a StringListMap; nil when absent.
func (v Values) listMap(name string) map[string][]string {
	m, _ := v[name].(map[string][]string)
	return m
}

func (v Values) boolean(name string) bool {
	b, _ := v[name].(bool)
	return b
}

func (v Values) blocks(name string) []Values {
	b, _ := v[name].([]Values)
	return b
}

// ParseDuration parses a duration as users write it: a whole number followed by one of
// ms, s, m, h, d (e.g. "500ms", "30s", "4d"), or a sum of them ("1h30m"), up to
// MaxDuration. Its errors say what is wrong, not how to write a duration: callers add
// that, with the attribute's name.
func ParseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if s == "0" {
		return 0, nil
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			if rest[0] == '-' {
				return 0, fmt.Errorf("%q is not a duration: durations are never negative", s)
			}
			return 0, fmt.Errorf("%q is not a duration", s)
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		rest = rest[i:]
		j := 0
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		unit, ok := durationUnits[rest[:j]]
		if !ok {
			return 0, fmt.Errorf("%q is not a duration: unit %q is not one of ms, s, m, h, d", s, rest[:j])
		}
		rest = rest[j:]
		// Digits past int64 (err) are too long a duration as well.
		if err != nil || n > int64(MaxDuration/unit) || time.Duration(n)*unit > MaxDuration-total {
			return 0, fmt.Errorf("%q is too long a duration: %w", s, ErrDurationTooLong)
		}
		total += time.Duration(n) * unit
	}
	return total, nil
}

// MaxDuration is the longest duration ParseDuration reads (about 146 years), far past
// every attribute's range.
const MaxDuration = 53375 * 24 * time.Hour

// ErrDurationTooLong is ParseDuration's error for a duration past MaxDuration: callers
// report it as out of the attribute's range.
var ErrDurationTooLong = errors.New("the longest is 53375d")

var durationUnits = map[string]time.Duration{
	"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour,
}

// FormatDuration renders d the way users write it, in the largest exact unit.
func FormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	default:
		return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
	}
}

// DecodeDuration converts a user-written duration into the attribute's unit, checking
// that it is exact and within range.
func (a Attr) DecodeDuration(s string) (int64, error) {
	d, err := ParseDuration(s)
	if errors.Is(err, ErrDurationTooLong) && a.Max > 0 {
		lo, hi := FormatDuration(time.Duration(a.Min)*a.Unit), FormatDuration(time.Duration(a.Max)*a.Unit)
		return 0, fmt.Errorf("%s must be between %s and %s; got %q", a.Name, lo, hi, s)
	}
	if err != nil {
		return 0, err
	}
	if d%a.Unit != 0 {
		return 0, fmt.Errorf("%s must be a whole number of %s; got %q", a.Name, unitName(a.Unit), s)
	}
	n := int64(d / a.Unit)
	if err := a.CheckRange(n); err != nil {
		return 0, err
	}
	return n, nil
}

// CheckRange reports whether n (in decoded units) is within the attribute's range, with a
// message that says what is allowed.
func (a Attr) CheckRange(n int64) error {
	if n >= a.Min && (a.Max == 0 || n <= a.Max) {
		return nil
	}
	if a.Type == Duration {
		lo, hi := FormatDuration(time.Duration(a.Min)*a.Unit), FormatDuration(time.Duration(a.Max)*a.Unit)
		return fmt.Errorf("%s must be between %s and %s; got %s", a.Name, lo, hi, FormatDuration(time.Duration(n)*a.Unit))
	}
	if a.Max == 0 {
		return fmt.Errorf("%s must be at least %d; got %d", a.Name, a.Min, n)
	}
	return fmt.Errorf("%s must be between %d and %d; got %d", a.Name, a.Min, a.Max, n)
}

// CheckEnum reports whether s is one of the attribute's allowed values.
func (a Attr) CheckEnum(s string) error {
	if len(a.Enum) == 0 {
		return nil
	}
	for _, e := range a.Enum {
		if s == e {
			return nil
		}
	}
	return fmt.Errorf("%s must be one of %s; got %q", a.Name, strings.Join(quoteAll(a.Enum), ", "), s)
}

// CheckText reports whether s satisfies the attribute's MaxLen and Pattern, with a message
// that says what is allowed.
func (a Attr) CheckText(s string) error {
	n := utf8.RuneCountInString(s)
	if a.MaxLen > 0 && n > a.MaxLen {
		return fmt.Errorf("%s must be at most %d characters; got %d characters", a.Name, a.MaxLen, n)
	}
	if a.Pattern != nil && !a.Pattern.MatchString(s) {
		return fmt.Errorf("%s must be %s; got %s", a.Name, a.TextRule(), strconv.Quote(s))
	}
	return nil
}

// TextRule says in words what CheckText accepts, e.g. "at most 63 characters".
func (a Attr) TextRule() string {
	switch {
	case a.PatternText != "":
		return a.PatternText
	case a.Pattern != nil:
		return "text matching " + a.Pattern.String()
	case a.MaxLen > 0:
		return fmt.Sprintf("at most %d characters", a.MaxLen)
	}
	return "any text"
}

// Role is what a Ref attribute's object is to the referring one, in words.
func (a Attr) Role() string {
	if a.RefRole != "" {
		return a.RefRole
	}
	return a.Name
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

func unitName(u time.Duration) string {
	if u == time.Millisecond {
		return "milliseconds"
	}
	return "seconds"
}
