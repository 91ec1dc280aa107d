package aesql

import (
	"strings"
	"time"
)

// --- functions ---

var aeAggregates = map[string]bool{"count": true, "sum": true, "avg": true, "min": true, "max": true, "quantileexactweighted": true, "quantileweighted": true}

// aeStartOf are the fixed toStartOf… functions, by their interval in seconds (UTC).
var aeStartOf = map[string]int64{"tostartofminute": 60, "tostartoffiveminutes": 300, "tostartoffiveminute": 300, "tostartoffifteenminutes": 900, "tostartofhour": 3600, "tostartofday": 86400}

func (c *aeCompiler) compileArgs(nodes []*aeAST) ([]*aeExpr, []string, error) {
	args := make([]*aeExpr, len(nodes))
	keys := make([]string, len(nodes))
	for i, n := range nodes {
		e, err := c.compile(n)
		if err != nil {
			return nil, nil, err
		}
		args[i], keys[i] = e, e.key
	}
	return args, keys, nil
}

func aeArity(name string, args []*aeExpr, lo, hi int) error {
	if len(args) < lo || len(args) > hi {
		if lo == hi {
			return aeErrf("%s takes %d arguments, got %d", name, lo, len(args))
		}
		return aeErrf("%s takes %d to %d arguments, got %d", name, lo, hi, len(args))
	}
	return nil
}

// aeCheckTZ accepts an optional time zone argument only if it is UTC (the default).
func aeCheckTZ(name string, args []*aeExpr, at int) error {
	if len(args) <= at {
		return nil
	}
	tz := args[at]
	if !tz.isConst || tz.typ.kind != aeString || (tz.val.s != "UTC" && tz.val.s != "Etc/UTC") {
		return aeErrf("%s: time zones other than UTC are not supported by the emulator", name)
	}
	return nil
}

func (c *aeCompiler) call(n *aeAST) (*aeExpr, error) {
	name := strings.ToLower(n.text)
	if aeAggregates[name] {
		return c.aggregate(n, name)
	}
	if n.params != nil || n.star {
		return nil, aeErrf("%s is not a parametric aggregate function", n.text)
	}
	args, keys, err := c.compileArgs(n.args)
	if err != nil {
		return nil, err
	}
	key := n.text + "(" + strings.Join(keys, ", ") + ")"
	switch {
	case name == "if":
		return aeIfFunc(key, args)
	case name == "now":
		if err := aeArity(n.text, args, 0, 0); err != nil {
			return nil, err
		}
		return aeConst(aeDT(c.now.Unix()), key), nil
	case name == "todatetime":
		if err := aeArity(n.text, args, 1, 2); err != nil {
			return nil, err
		}
		if err := aeCheckTZ(n.text, args, 1); err != nil {
			return nil, err
		}
		e, err := aeToDateTime(args[0])
		if err != nil || e.isConst {
			return e, err
		}
		return aeNode(aeTDateTime, key, func(v []aeValue) (aeValue, error) { return v[0], nil }, e), nil
	case name == "tounixtimestamp":
		return aeToUnix(key, args)
	case name == "tostartofinterval":
		return aeStartOfIntervalFunc(key, args)
	case aeStartOf[name] > 0:
		if err := aeArity(n.text, args, 1, 2); err != nil {
			return nil, err
		}
		if err := aeCheckTZ(n.text, args, 1); err != nil {
			return nil, err
		}
		if args[0].typ.kind != aeDateTime {
			return nil, aeErrf("%s needs a DateTime, got %s", n.text, args[0].typ)
		}
		step := aeStartOf[name]
		return aeNode(aeTDateTime, key, func(v []aeValue) (aeValue, error) { return aeDT(aeFloorDiv(v[0].i, step) * step), nil }, args[0]), nil
	}
	return nil, aeErrf("unknown function %s", n.text)
}

func aeIfFunc(key string, args []*aeExpr) (*aeExpr, error) {
	if err := aeArity("if", args, 3, 3); err != nil {
		return nil, err
	}
	if !args[0].typ.numeric() {
		return nil, aeErrf("if: the condition %s has type %s, it must be a number or a comparison", args[0].key, args[0].typ)
	}
	t, ok := aeSuper(args[1].typ, args[2].typ)
	if !ok {
		return nil, aeErrf("if: the branches have no common type (%s and %s)", args[1].typ, args[2].typ)
	}
	return aeNode(t, key, func(v []aeValue) (aeValue, error) {
		if v[0].truthy() {
			return aeCast(v[1], t), nil
		}
		return aeCast(v[2], t), nil
	}, args...), nil
}

// aeToDateTime converts unix seconds or 'YYYY-MM-DD hh:mm:ss' text to a DateTime.
func aeToDateTime(e *aeExpr) (*aeExpr, error) {
	var conv func(v aeValue) (aeValue, error)
	switch {
	case e.typ.kind == aeDateTime:
		return e, nil
	case e.typ.kind == aeString:
		conv = func(v aeValue) (aeValue, error) { return aeParseDateTime(v.s) }
	case e.typ.numeric():
		conv = func(v aeValue) (aeValue, error) { return aeDT(v.int64()), nil }
	default:
		return nil, aeErrf("cannot convert %s of type %s to DateTime", e.key, e.typ)
	}
	key := "toDateTime(" + e.key + ")"
	if e.isConst {
		v, err := conv(e.val)
		if err != nil {
			return nil, err
		}
		return aeConst(v, key), nil
	}
	return aeNode(aeTDateTime, key, func(v []aeValue) (aeValue, error) { return conv(v[0]) }, e), nil
}

func aeToUnix(key string, args []*aeExpr) (*aeExpr, error) {
	if err := aeArity("toUnixTimestamp", args, 1, 2); err != nil {
		return nil, err
	}
	if err := aeCheckTZ("toUnixTimestamp", args, 1); err != nil {
		return nil, err
	}
	if args[0].typ.kind != aeDateTime && args[0].typ.kind != aeString {
		return nil, aeErrf("toUnixTimestamp needs a DateTime or a String, got %s", args[0].typ)
	}
	t, err := aeToDateTime(args[0])
	if err != nil {
		return nil, err
	}
	return aeNode(aeTUInt32, key, func(v []aeValue) (aeValue, error) { return aeU(aeTUInt32, uint64(v[0].i)), nil }, t), nil
}

func aeStartOfIntervalFunc(key string, args []*aeExpr) (*aeExpr, error) {
	if err := aeArity("toStartOfInterval", args, 2, 3); err != nil {
		return nil, err
	}
	if err := aeCheckTZ("toStartOfInterval", args, 2); err != nil {
		return nil, err
	}
	iv := args[1]
	switch {
	case args[0].typ.kind != aeDateTime:
		return nil, aeErrf("toStartOfInterval needs a DateTime first, got %s", args[0].typ)
	case !iv.isConst || iv.typ.kind != aeInterval:
		return nil, aeErrf("toStartOfInterval needs an INTERVAL constant second, got %s", iv.key)
	case iv.val.i <= 0:
		return nil, aeErrf("toStartOfInterval needs a positive interval, got %s", iv.key)
	case iv.typ.unit == "WEEK":
		return nil, aeErrf("toStartOfInterval with a WEEK interval is not supported by the emulator")
	}
	n, unit := iv.val.i, iv.typ.unit
	return aeNode(aeTDateTime, key, func(v []aeValue) (aeValue, error) { return aeDT(aeStartOfInterval(v[0].i, n, unit)), nil }, args[0]), nil
}

// aggregate compiles count, sum, avg, min, max and the weighted quantiles; their
// arguments may not hold aggregates.
func (c *aeCompiler) aggregate(n *aeAST, name string) (*aeExpr, error) {
	if !c.allowAgg {
		return nil, aeErrf("aggregate function %s is not allowed in WHERE, GROUP BY or inside another aggregate", n.text)
	}
	c.allowAgg = false
	args, keys, err := c.compileArgs(n.args)
	var params []*aeExpr
	var pkeys []string
	if err == nil && n.params != nil {
		params, pkeys, err = c.compileArgs(n.params)
	}
	c.allowAgg = true
	if err != nil {
		return nil, err
	}
	key := n.text + "(" + strings.Join(keys, ", ") + ")"
	if n.params != nil {
		key = n.text + "(" + strings.Join(pkeys, ", ") + ")(" + strings.Join(keys, ", ") + ")"
	}
	a := &aeAgg{name: name, args: args}
	if err := a.check(n.text, params); err != nil {
		return nil, err
	}
	return &aeExpr{typ: a.typ, key: key, agg: a, hasAgg: true}, nil
}

// check validates an aggregate's parameters and arguments and sets its result type.
func (a *aeAgg) check(name string, params []*aeExpr) error {
	if params != nil && a.name != "quantileexactweighted" {
		return aeErrf("%s is not a parametric aggregate function", name)
	}
	switch a.name {
	case "count":
		a.typ = aeTUInt64
		return aeArity(name, a.args, 0, 1)
	case "sum", "avg", "min", "max":
		if err := aeArity(name, a.args, 1, 1); err != nil {
			return err
		}
		return a.checkSimple(name)
	case "quantileweighted": // quantileWeighted(q, x, w), Analytics Engine's legacy form
		if err := aeArity(name, a.args, 3, 3); err != nil {
			return err
		}
		params, a.args = a.args[:1], a.args[1:]
	case "quantileexactweighted":
		if len(params) != 1 {
			return aeErrf("%s needs one level parameter: %s(0.95)(value, weight)", name, name)
		}
		if err := aeArity(name, a.args, 2, 2); err != nil {
			return err
		}
	}
	return a.checkQuantile(name, params[0])
}

func (a *aeAgg) checkSimple(name string) error {
	t := a.args[0].typ
	switch {
	case a.name == "min" || a.name == "max":
		if t.kind == aeInterval {
			return aeErrf("%s cannot aggregate %s", name, t)
		}
		a.typ = t
	case !t.numeric():
		return aeErrf("%s needs a number, got %s of type %s", name, a.args[0].key, t)
	case a.name == "avg" || t.kind == aeFloat:
		a.typ = aeTFloat
	case t.signed:
		a.typ = aeTInt64
	default:
		a.typ = aeTUInt64
	}
	return nil
}

// checkQuantile: the level is a constant in [0, 1]; the value a number or DateTime; the
// weight an unsigned integer such as _sample_interval. quantileExactWeighted returns
// the value's type. Unknown upstream: quantileWeighted's algorithm and type; we compute
// it as quantileExactWeighted and return Float64.
func (a *aeAgg) checkQuantile(name string, level *aeExpr) error {
	if !level.isConst || !level.typ.numeric() || level.val.float() < 0 || level.val.float() > 1 {
		return aeErrf("%s: the level must be a constant between 0 and 1, got %s", name, level.key)
	}
	a.level = level.val.float()
	x, w := a.args[0].typ, a.args[1].typ
	if !x.numeric() && x.kind != aeDateTime {
		return aeErrf("%s needs a numeric value, got %s", name, x)
	}
	if w.kind != aeInt || w.signed {
		return aeErrf("%s: the weight must be an unsigned integer such as _sample_interval, got %s", name, w)
	}
	a.typ = x
	if a.name == "quantileweighted" {
		a.typ = aeTFloat
	}
	return nil
}

// --- time ---

func aeFloorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

var aeUnitSeconds = map[string]int64{"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400, "WEEK": 7 * 86400}
var aeUnitMonths = map[string]int64{"MONTH": 1, "QUARTER": 3, "YEAR": 12}

// aeAddInterval adds n units to unix seconds; months clamp the day to the month's end,
// as ClickHouse's addMonths does.
func aeAddInterval(sec, n int64, unit string) int64 {
	if s, ok := aeUnitSeconds[unit]; ok {
		return sec + n*s
	}
	t := time.Unix(sec, 0).UTC()
	idx := int64(t.Year())*12 + int64(t.Month()-1) + n*aeUnitMonths[unit]
	y, m := int(aeFloorDiv(idx, 12)), time.Month(idx-aeFloorDiv(idx, 12)*12+1)
	last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return time.Date(y, m, min(t.Day(), last), t.Hour(), t.Minute(), t.Second(), 0, time.UTC).Unix()
}

// aeStartOfInterval rounds down as ClickHouse's toStartOfInterval does in UTC: seconds,
// minutes and days from the epoch, hours from midnight, months from year 0, years from
// year 0. WEEK is refused at compile time.
func aeStartOfInterval(sec, n int64, unit string) int64 {
	switch unit {
	case "SECOND", "MINUTE", "DAY":
		step := n * aeUnitSeconds[unit]
		return aeFloorDiv(sec, step) * step
	case "HOUR":
		day := aeFloorDiv(sec, 86400) * 86400
		return day + (sec-day)/(n*3600)*(n*3600)
	}
	t := time.Unix(sec, 0).UTC()
	if unit == "YEAR" {
		return time.Date(t.Year()/int(n)*int(n), 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	}
	k := n * aeUnitMonths[unit]
	idx := (int64(t.Year())*12 + int64(t.Month()-1)) / k * k
	return time.Date(int(idx/12), time.Month(idx%12+1), 1, 0, 0, 0, 0, time.UTC).Unix()
}
