package alerting

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ValueExpr is the value of a dataset_query metric rule: an aggregate over the events of
// the rule's window. Written as
//
//	count()                 events (sampling-weighted)
//	sum(col) avg(col)       sampling-weighted sum / mean of a number column
//	min(col) max(col)       smallest / largest value seen
//	p50(col) p95(col) ...   a quantile (p1 to p99, p999), sampling-weighted
type ValueExpr struct {
	Func     string  // count, sum, avg, min, max, quantile
	Column   string  // "" for count
	Quantile float64 // for quantile: 0.95
	Field    string  // the column's positional name, "double2"
}

var valueRE = regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9]*)\s*\(\s*([a-z_][a-z0-9_]*)?\s*\)\s*$`)

// ParseValue parses a value expression over cols; errors say what is allowed.
func ParseValue(s string, cols Columns, what string) (ValueExpr, error) {
	m := valueRE.FindStringSubmatch(s)
	if m == nil {
		return ValueExpr{}, fmt.Errorf("%q is not a value: write count(), sum(col), avg(col), min(col), max(col) or a quantile such as p95(col)", s)
	}
	fn, col := strings.ToLower(m[1]), m[2]
	v := ValueExpr{Func: fn, Column: col}
	switch {
	case fn == "count":
		if col != "" {
			return ValueExpr{}, fmt.Errorf("count() counts events and takes no column: filter them with where")
		}
		return v, nil
	case fn == "sum" || fn == "avg" || fn == "min" || fn == "max":
	case len(fn) > 1 && fn[0] == 'p':
		q, err := quantileOf(fn[1:])
		if err != nil {
			return ValueExpr{}, fmt.Errorf("%s is not a quantile: write p1 to p99 or p999, e.g. p95(latency_ms)", fn)
		}
		v.Func, v.Quantile = "quantile", q
	default:
		return ValueExpr{}, fmt.Errorf("%s() is not an aggregate: use count, sum, avg, min, max or a quantile such as p95", fn)
	}
	if col == "" {
		return ValueExpr{}, fmt.Errorf("%s() needs a number column, e.g. %s(latency_ms)", m[1], m[1])
	}
	c, ok := cols[col]
	if !ok {
		return ValueExpr{}, unknownColumn(col, cols, what)
	}
	if c.Type != Number {
		return ValueExpr{}, fmt.Errorf("%s is a string column (%s): %s() needs a number column", col, c.Field, m[1])
	}
	v.Field = c.Field
	return v, nil
}

func quantileOf(digits string) (float64, error) {
	if digits == "999" {
		return 0.999, nil
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 1 || n > 99 || strings.HasPrefix(digits, "0") {
		return 0, fmt.Errorf("bad quantile")
	}
	return float64(n) / 100, nil
}

// SQL is the aggregate as Analytics Engine SQL, weighted by each row's sample interval
// (analytics.md §2): a count is sum(_sample_interval), not count().
func (v ValueExpr) SQL() string {
	switch v.Func {
	case "count":
		return "sum(_sample_interval)"
	case "sum":
		return "sum(" + v.Field + " * _sample_interval)"
	case "avg":
		return "sum(" + v.Field + " * _sample_interval) / sum(_sample_interval)"
	case "min", "max":
		return v.Func + "(" + v.Field + ")"
	case "quantile":
		return "quantileExactWeighted(" + formatNumber(v.Quantile) + ")(" + v.Field + ", _sample_interval)"
	}
	return ""
}

func (v ValueExpr) String() string {
	switch v.Func {
	case "count":
		return "count()"
	case "quantile":
		if v.Quantile == 0.999 {
			return "p999(" + v.Column + ")"
		}
		return fmt.Sprintf("p%d(%s)", int(v.Quantile*100+0.5), v.Column)
	}
	return v.Func + "(" + v.Column + ")"
}
