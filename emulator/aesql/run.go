package aesql

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// --- running a query ---

// aeRow is one data point of a dataset, as the SQL columns see it.
type aeRow struct {
	p       *Point
	dataset string
}

type aeColumn struct {
	name string
	typ  aeType
}

type Result struct {
	cols []aeColumn
	rows [][]aeValue
}

// aeAllColumns is the table's column order for SELECT *.
func aeAllColumns() []string {
	cols := []string{"dataset", "timestamp", "_sample_interval", "index1"}
	for i := 1; i <= 20; i++ {
		cols = append(cols, "blob"+strconv.Itoa(i))
	}
	for i := 1; i <= 20; i++ {
		cols = append(cols, "double"+strconv.Itoa(i))
	}
	return cols
}

// aeRun evaluates a SELECT over rows (already the points of q.table).
func aeRun(q *aeQuery, rows []*aeRow, now time.Time) (*Result, error) {
	plan, err := aeCompileQuery(q, now)
	if err != nil {
		return nil, err
	}
	var kept []*aeRow
	for _, r := range rows {
		ok, err := aeTrue(plan.where, r)
		if err != nil {
			return nil, err
		}
		if ok {
			kept = append(kept, r)
		}
	}
	var out []aeOutRow
	if plan.aggregate {
		out, err = plan.runGroups(kept)
	} else {
		out, err = plan.runRows(kept)
	}
	if err != nil {
		return nil, err
	}
	plan.sort(out)
	return plan.result(out, q.offset, q.limit), nil
}

func aeTrue(e *aeExpr, r *aeRow) (bool, error) {
	if e == nil {
		return true, nil
	}
	v, err := e.evalRow(r)
	return err == nil && v.truthy(), err
}

type aeOutRow struct {
	vals []aeValue
	keys []aeValue // ORDER BY values
}

type aePlan struct {
	items     []*aeExpr
	names     []string
	where     *aeExpr
	groupBy   []*aeExpr
	having    *aeExpr
	orderBy   []*aeExpr
	desc      []bool
	aggregate bool
}

func (pl *aePlan) runRows(rows []*aeRow) ([]aeOutRow, error) {
	out := make([]aeOutRow, 0, len(rows))
	for _, r := range rows {
		o := aeOutRow{vals: make([]aeValue, len(pl.items)), keys: make([]aeValue, len(pl.orderBy))}
		for i, e := range pl.items {
			v, err := e.evalRow(r)
			if err != nil {
				return nil, err
			}
			o.vals[i] = v
		}
		for i, e := range pl.orderBy {
			v, err := e.evalRow(r)
			if err != nil {
				return nil, err
			}
			o.keys[i] = v
		}
		out = append(out, o)
	}
	return out, nil
}

// runGroups groups rows by the GROUP BY values (in order of first appearance); with no
// GROUP BY, all rows form one group, which exists even when empty.
func (pl *aePlan) runGroups(rows []*aeRow) ([]aeOutRow, error) {
	var order []string
	groups := map[string][]*aeRow{}
	if len(pl.groupBy) == 0 {
		order, groups[""] = []string{""}, rows
	}
	for _, r := range rows {
		if len(pl.groupBy) == 0 {
			break
		}
		var key strings.Builder
		for _, e := range pl.groupBy {
			v, err := e.evalRow(r)
			if err != nil {
				return nil, err
			}
			key.WriteString(v.key())
			key.WriteByte(0)
		}
		k := key.String()
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	out := make([]aeOutRow, 0, len(order))
	for _, k := range order {
		g := groups[k]
		if pl.having != nil {
			v, err := pl.having.evalGroup(g)
			if err != nil {
				return nil, err
			}
			if !v.truthy() {
				continue
			}
		}
		o := aeOutRow{vals: make([]aeValue, len(pl.items)), keys: make([]aeValue, len(pl.orderBy))}
		for i, e := range append(append([]*aeExpr{}, pl.items...), pl.orderBy...) {
			v, err := e.evalGroup(g)
			if err != nil {
				return nil, err
			}
			if i < len(pl.items) {
				o.vals[i] = v
			} else {
				o.keys[i-len(pl.items)] = v
			}
		}
		out = append(out, o)
	}
	return out, nil
}

func (pl *aePlan) sort(out []aeOutRow) {
	if len(pl.orderBy) == 0 {
		return
	}
	sort.SliceStable(out, func(i, j int) bool {
		for k := range pl.orderBy {
			c := aeCompareForSort(out[i].keys[k], out[j].keys[k], pl.desc[k])
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
}

// aeCompareForSort orders a before b (<0) for one ORDER BY key; NaN sorts last either way.
func aeCompareForSort(a, b aeValue, desc bool) int {
	an, bn := a.isNaN(), b.isNaN()
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	c := aeCompare(a, b)
	if desc {
		c = -c
	}
	return c
}

func (pl *aePlan) result(out []aeOutRow, offset, limit int64) *Result {
	res := &Result{rows: [][]aeValue{}}
	for i, e := range pl.items {
		res.cols = append(res.cols, aeColumn{name: pl.names[i], typ: e.typ})
	}
	start := min(offset, int64(len(out)))
	end := int64(len(out))
	if limit >= 0 {
		end = min(end, start+limit)
	}
	for _, o := range out[start:end] {
		res.rows = append(res.rows, o.vals)
	}
	return res
}

// --- aggregates ---

type aeAgg struct {
	name  string // lower case
	args  []*aeExpr
	level float64 // quantiles
	typ   aeType
}

func (a *aeAgg) run(rows []*aeRow) (aeValue, error) {
	if a.name == "count" {
		return aeU(aeTUInt64, uint64(len(rows))), nil
	}
	vals, err := a.column(0, rows)
	if err != nil {
		return aeValue{}, err
	}
	switch a.name {
	case "sum":
		return aeSum(vals, a.typ), nil
	case "avg":
		if len(vals) == 0 {
			return aeF(math.NaN()), nil
		}
		return aeF(aeSum(vals, aeTFloat).f / float64(len(vals))), nil
	case "min", "max":
		return aeExtreme(vals, a.name == "max", a.typ), nil
	}
	weights, err := a.column(1, rows)
	if err != nil {
		return aeValue{}, err
	}
	return aeQuantile(vals, weights, a.level, a.typ), nil
}

func (a *aeAgg) column(i int, rows []*aeRow) ([]aeValue, error) {
	vals := make([]aeValue, len(rows))
	for j, r := range rows {
		v, err := a.args[i].evalRow(r)
		if err != nil {
			return nil, err
		}
		vals[j] = v
	}
	return vals, nil
}

func aeSum(vals []aeValue, t aeType) aeValue {
	var f float64
	var i int64
	var u uint64
	for _, v := range vals {
		f += v.float()
		i += v.int64()
		u += v.uint64()
	}
	switch {
	case t.kind == aeFloat:
		return aeF(f)
	case t.signed:
		return aeI(t, i)
	}
	return aeU(t, u)
}

// aeExtreme is min or max; an empty set gives the type's default value, as ClickHouse does.
func aeExtreme(vals []aeValue, max bool, t aeType) aeValue {
	if len(vals) == 0 {
		return aeValue{t: t}
	}
	best := vals[0]
	for _, v := range vals[1:] {
		if c := aeCompare(v, best); (max && c > 0) || (!max && c < 0) {
			best = v
		}
	}
	return best
}

// aeQuantile is ClickHouse's QuantileExactWeighted: sum the weight of each distinct
// value, sort by value, and return the first value whose running weight reaches
// ceil(total × level). An empty set gives NaN for floats, 0 otherwise.
func aeQuantile(vals, weights []aeValue, level float64, t aeType) aeValue {
	type pair struct {
		v aeValue
		w uint64
	}
	index := map[string]int{}
	var pairs []pair
	for i, v := range vals {
		k := v.key()
		if j, ok := index[k]; ok {
			pairs[j].w += weights[i].uint64()
			continue
		}
		index[k] = len(pairs)
		pairs = append(pairs, pair{v, weights[i].uint64()})
	}
	if len(pairs) == 0 {
		if t.kind == aeFloat {
			return aeF(math.NaN())
		}
		return aeValue{t: t}
	}
	sort.Slice(pairs, func(i, j int) bool { return aeCompare(pairs[i].v, pairs[j].v) < 0 })
	var total float64
	for _, p := range pairs {
		total += float64(p.w)
	}
	threshold := math.Ceil(total * level)
	var acc float64
	for _, p := range pairs {
		acc += float64(p.w)
		if acc >= threshold {
			return aeCast(p.v, t)
		}
	}
	return aeCast(pairs[len(pairs)-1].v, t)
}
