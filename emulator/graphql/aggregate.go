package graphql

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// group is the rows of one combination of the selected dimensions.
type group struct {
	keys []string // rowKey of each group dimension, for ordering
	vals []string // rendered dimension values
	rows []*row
}

// dataset evaluates one dataset node: checks its arguments against the limits, filters,
// groups, orders, truncates and renders.
func (x *exec) dataset(d *datasetSpec, f *ast.Field, path []any) ([]obj, *qerror) {
	bad := func(status int, format string, args ...any) *qerror {
		return &qerror{status: status, path: path, msg: fmt.Sprintf(format, args...)}
	}
	args := f.ArgumentMap(x.vars)
	limit, err := toInt(args["limit"])
	if err != nil || limit <= 0 || limit > d.limits.MaxPageSize {
		return nil, bad(http.StatusBadRequest, "limit must be positive number and not greater than %d", d.limits.MaxPageSize)
	}
	if n := countLeaves(f.SelectionSet); n > d.limits.MaxNumberOfFields {
		return nil, bad(http.StatusBadRequest, "number of fields can't be more than %d", d.limits.MaxNumberOfFields)
	}
	filter, _ := args["filter"].(map[string]any)
	keep, err := compileFilter(d, filter, "filter")
	if err != nil {
		return nil, bad(http.StatusBadRequest, "error parsing args: %v", err)
	}
	lo, hi, hasLo := timeRange(d, filter, x.now)
	maxDur := time.Duration(d.limits.MaxDuration) * time.Second
	switch {
	case !hasLo:
		// Unknown upstream: what Cloudflare does without a lower time bound. The
		// strictest plausible answer: the range is unbounded, hence too large.
		return nil, bad(http.StatusBadRequest, "query time range is too large: the filter sets no lower time bound (e.g. %s_geq), and at most %ds may be queried", d.timeDim(), d.limits.MaxDuration)
	case lo.Before(x.now.Add(-time.Duration(d.limits.NotOlderThan) * time.Second)):
		return nil, bad(http.StatusBadRequest, "cannot request data older than %ds", d.limits.NotOlderThan)
	case hi.Sub(lo) > maxDur:
		return nil, bad(http.StatusBadRequest, "query time range is too large: %ds asked, at most %ds", int64(hi.Sub(lo)/time.Second), d.limits.MaxDuration)
	}

	dims := groupDims(d, f.SelectionSet)
	groups := x.group(d, keep, dims)
	if qe := orderGroups(d, groups, dims, args["orderBy"]); qe != nil {
		qe.path = path
		return nil, qe
	}
	if int64(len(groups)) > limit {
		groups = groups[:limit]
	}
	out := make([]obj, len(groups))
	for i, g := range groups {
		out[i] = renderGroup(d, g, dims, f.SelectionSet)
	}
	return out, nil
}

func (d *datasetSpec) timeDim() string {
	for _, dm := range d.dims {
		if dm.kind == dimTime {
			return dm.name
		}
	}
	return "date"
}

func toInt(v any) (int64, error) {
	switch n := v.(type) {
	case int64:
		return n, nil
	case json.Number:
		return strconv.ParseInt(n.String(), 10, 64)
	case float64:
		if n == math.Trunc(n) {
			return int64(n), nil
		}
	case string:
		return strconv.ParseInt(n, 10, 64)
	}
	return 0, fmt.Errorf("%v is not an integer", v)
}

func countLeaves(set ast.SelectionSet) int {
	n := 0
	for _, f := range fields(set) {
		if len(f.SelectionSet) == 0 {
			n++
		} else {
			n += countLeaves(f.SelectionSet)
		}
	}
	return n
}

// groupDims are the selected dimensions, in selection order, each once.
func groupDims(d *datasetSpec, set ast.SelectionSet) []dimSpec {
	var out []dimSpec
	seen := map[string]bool{}
	for _, f := range fields(set) {
		if f.Name != "dimensions" {
			continue
		}
		for _, sub := range fields(f.SelectionSet) {
			if dm, ok := d.dim(sub.Name); ok && !seen[dm.name] {
				seen[dm.name] = true
				out = append(out, dm)
			}
		}
	}
	return out
}

func (x *exec) group(d *datasetSpec, keep pred, dims []dimSpec) []*group {
	rows, ok := x.rows[d]
	if !ok {
		rows = d.rows(&x.ev)
		x.rows[d] = rows
	}
	byKey := map[string]*group{}
	var order []*group
	for i := range rows {
		r := &rows[i]
		if !keep(r) {
			continue
		}
		keys := make([]string, len(dims))
		for j, dm := range dims {
			keys[j] = rowKey(dm, r)
		}
		k := strings.Join(keys, "\x00")
		g := byKey[k]
		if g == nil {
			g = &group{keys: keys}
			for _, dm := range dims {
				g.vals = append(g.vals, dm.value(r))
			}
			byKey[k] = g
			order = append(order, g)
		}
		g.rows = append(g.rows, r)
	}
	return order
}

// orderGroups sorts by the orderBy keys; without one (or after it) by the dimensions
// ascending. Unknown upstream: Cloudflare documents no default order; a fixed one keeps
// the emulator deterministic.
func orderGroups(d *datasetSpec, groups []*group, dims []dimSpec, orderBy any) *qerror {
	list, ok := orderBy.([]any)
	if !ok && orderBy != nil {
		list = []any{orderBy}
	}
	type orderKey struct {
		dim  int // index into dims, or -1
		agg  func(g *group) float64
		desc bool
	}
	var keys []orderKey
	for _, item := range list {
		s, _ := item.(string)
		// Variables may spell an enum value in any case (the parser's coercion
		// accepts that); the schema's spelling is the one to act on.
		for _, key := range d.orderKeys() {
			for _, dir := range []string{"_ASC", "_DESC"} {
				if strings.EqualFold(s, key+dir) {
					s = key + dir
				}
			}
		}
		name, desc := strings.CutSuffix(s, "_DESC")
		if !desc {
			name = strings.TrimSuffix(name, "_ASC")
		}
		k := orderKey{dim: -1, desc: desc}
		if dm, ok := d.dim(name); ok {
			for i, g := range dims {
				if g.name == dm.name {
					k.dim = i
				}
			}
			if k.dim < 0 {
				// Unknown upstream: ordering by a dimension that is not grouped on.
				// The strictest plausible answer is a refusal.
				return &qerror{status: http.StatusBadRequest, msg: fmt.Sprintf("error parsing args: cannot order by %s: select it in dimensions", name)}
			}
		} else if name == "count" {
			k.agg = func(g *group) float64 { return weight(g.rows) }
		} else {
			block, metric, _ := strings.Cut(name, "_")
			b, _ := d.block(block)
			m, _ := b.metric(metric)
			k.agg = func(g *group) float64 { return aggregate(b.name, m, g.rows) }
		}
		keys = append(keys, k)
	}
	sort.SliceStable(groups, func(i, j int) bool {
		a, b := groups[i], groups[j]
		for _, k := range keys {
			var c int
			if k.dim >= 0 {
				c = strings.Compare(a.keys[k.dim], b.keys[k.dim])
			} else {
				x, y := k.agg(a), k.agg(b)
				c = cmpFloat(x, y)
			}
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c < 0
			}
		}
		for n := range a.keys {
			if c := strings.Compare(a.keys[n], b.keys[n]); c != 0 {
				return c < 0
			}
		}
		return false
	})
	return nil
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func renderGroup(d *datasetSpec, g *group, dims []dimSpec, set ast.SelectionSet) obj {
	out := obj{}
	for _, f := range fields(set) {
		switch f.Name {
		case "__typename":
			out = append(out, kv{f.Alias, d.typ})
		case "count":
			out = append(out, kv{f.Alias, uint64(math.Round(weight(g.rows)))})
		case "dimensions":
			o := obj{}
			for _, sub := range fields(f.SelectionSet) {
				if sub.Name == "__typename" {
					o = append(o, kv{sub.Alias, d.typ + "Dimensions"})
					continue
				}
				for i, dm := range dims {
					if dm.name == sub.Name {
						o = append(o, kv{sub.Alias, g.vals[i]})
					}
				}
			}
			out = append(out, kv{f.Alias, o})
		default:
			b, _ := d.block(f.Name)
			o := obj{}
			for _, sub := range fields(f.SelectionSet) {
				if sub.Name == "__typename" {
					o = append(o, kv{sub.Alias, d.typ + upperFirst(b.name)})
					continue
				}
				m, _ := b.metric(sub.Name)
				o = append(o, kv{sub.Alias, render(b.name, m.kind, aggregate(b.name, m, g.rows))})
			}
			out = append(out, kv{f.Alias, o})
		}
	}
	return out
}

// render gives a value its schema type. An average typed as an integer is truncated
// (Unknown upstream: how Cloudflare makes it one; ClickHouse's toUInt64 truncates);
// sums of integers are integers already, up to float rounding.
func render(block string, kind metricKind, v float64) any {
	switch kind {
	case mUint64, mUint32:
		if block == "avg" {
			return uint64(math.Trunc(v))
		}
		return uint64(math.Round(v))
	case mFloat32:
		// The shortest text of the float32, as a float32 field renders.
		return json.Number(strconv.FormatFloat(float64(float32(v)), 'g', -1, 32))
	}
	return v
}

// weight is the estimated number of events the rows stand for.
func weight(rows []*row) float64 {
	w := 0.0
	for _, r := range rows {
		w += r.si
	}
	return w
}

// aggregate computes one metric of a block over a group's rows, as Cloudflare's adaptive
// datasets estimate it (analytics.md §1.4): sums and averages weighted by the sample
// interval, avg.sampleInterval the plain mean of it, max and min over the samples,
// quantiles weighted nearest-rank.
func aggregate(block string, m metricSpec, rows []*row) float64 {
	if len(rows) == 0 {
		return 0
	}
	switch block {
	case "sum":
		s := 0.0
		for _, r := range rows {
			s += r.v[m.vi] * r.si
		}
		return s
	case "avg":
		if m.src == "" {
			return weight(rows) / float64(len(rows))
		}
		s := 0.0
		for _, r := range rows {
			s += r.v[m.vi] * r.si
		}
		return s / weight(rows)
	case "max", "min":
		out := rows[0].v[m.vi]
		for _, r := range rows[1:] {
			if v := r.v[m.vi]; (block == "max") == (v > out) && v != out {
				out = v
			}
		}
		return out
	case "quantiles":
		return quantile(m.vi, m.q, rows)
	}
	return 0
}

func quantile(vi int, q float64, rows []*row) float64 {
	sorted := append([]*row(nil), rows...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].v[vi] < sorted[j].v[vi] })
	rank := math.Ceil(q * weight(sorted))
	acc := 0.0
	for _, r := range sorted {
		acc += r.si
		if acc >= rank {
			return r.v[vi]
		}
	}
	return sorted[len(sorted)-1].v[vi]
}
