package alerting

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Source runs the queries rules are made of. The CLI adapts the Cloudflare client to it;
// tests use fakes.
type Source interface {
	// SQL runs an Analytics Engine SQL query and returns its rows (FORMAT JSON's data:
	// numbers as JSON numbers or, for 64-bit integers, strings).
	SQL(ctx context.Context, query string) ([]map[string]any, error)
	// GraphQL runs a GraphQL Analytics query and returns its data; an answer with errors
	// is an error.
	GraphQL(ctx context.Context, query string, variables map[string]any) (json.RawMessage, error)
}

// Resolver finds the ids GraphQL filters need from the names the configuration uses.
type Resolver interface {
	QueueID(ctx context.Context, name string) (string, error)
	D1DatabaseID(ctx context.Context, name string) (string, error)
}

// Evaluator evaluates SLOs and rules at one instant against a source.
type Evaluator struct {
	Source   Source
	Resolver Resolver // may be nil when no rule names a queue or database without its id
	Account  string   // the account tag GraphQL queries are scoped to
	Now      time.Time
	// MaxRange is the longest time range one GraphQL query asks for; longer ranges are
	// split and summed. Zero means 31 days (analytics.md §1.2). Queries grouped by
	// minute are split by day whatever it says, to stay under the 10,000-row page.
	MaxRange time.Duration
}

// Counts are the good and total events (or time slices) of an SLI over a range.
type Counts struct {
	Good  float64 `json:"good"`
	Total float64 `json:"total"`
}

// ErrorRatio is 1 − good/total, NaN when there is no data.
func (c Counts) ErrorRatio() float64 {
	if c.Total <= 0 {
		return math.NaN()
	}
	return (c.Total - c.Good) / c.Total
}

func (c Counts) add(o Counts) Counts { return Counts{c.Good + o.Good, c.Total + o.Total} }

// WindowBurn is the burn rate over one alert window ending now.
type WindowBurn struct {
	Window     time.Duration
	Counts     Counts
	ErrorRatio float64 // NaN: no data
	BurnRate   float64 // error ratio / budget; NaN: no data
}

// Point is one bucket of an SLO's chart: the SLI within the bucket, and the error
// budget left counting the events from the window's start to the bucket's end.
type Point struct {
	Time       time.Time // the bucket's start
	End        time.Time
	Counts     Counts
	SLI        float64 // NaN: no data in the bucket
	BudgetLeft float64 // 1 with no data yet (Pyrra's convention)
}

// SLOStatus is an SLO evaluated now.
type SLOStatus struct {
	SLO        SLO
	Start, End time.Time // the window
	Budget     float64   // 1 − objective, a fraction
	Counts     Counts    // over the window
	SLI        float64   // good/total over the window; NaN: no data
	BudgetLeft float64   // 1 − (error ratio / budget); 1 with no traffic (Pyrra's convention); negative when overspent
	Burns      []WindowBurn
	Rules      []RuleResult
	Series     []Point
}

// RuleResult is one rule evaluated now.
type RuleResult struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Kind     string   `json:"kind"` // burn_rate or threshold
	Severity Severity `json:"severity"`
	Firing   bool     `json:"firing"`
	NoData   bool     `json:"no_data"`
	Runbook  string   `json:"runbook,omitempty"`
	To       []string `json:"to"`

	// burn_rate
	Factor    float64       `json:"factor,omitempty"`
	Long      time.Duration `json:"-"`
	Short     time.Duration `json:"-"`
	LongBurn  float64       `json:"-"`
	ShortBurn float64       `json:"-"`

	// threshold
	Value float64       `json:"-"`
	Above *float64      `json:"above,omitempty"`
	Below *float64      `json:"below,omitempty"`
	For   time.Duration `json:"-"`
}

func (e *Evaluator) now() time.Time {
	if e.Now.IsZero() {
		return time.Now().UTC().Truncate(time.Second)
	}
	return e.Now.UTC().Truncate(time.Second)
}

// SLOStatus evaluates s now: its SLI and budget over the window, the burn rate over every
// alert window, which of its rules fire, and with series a chart of buckets over the
// window. Call Validate first.
func (e *Evaluator) SLOStatus(ctx context.Context, s SLO, series bool) (SLOStatus, error) {
	q, err := e.sloQuery(ctx, s)
	if err != nil {
		return SLOStatus{}, err
	}
	end := e.now()
	st := SLOStatus{SLO: s, Start: end.Add(-s.Window), End: end, Budget: Budget(s.Objective)}
	if series {
		st.Series, err = e.series(ctx, s.SLI, q, st.Start, end, seriesStep(s.Window))
		if err != nil {
			return SLOStatus{}, fmt.Errorf("slo %s: %w", s.Name, err)
		}
		for _, p := range st.Series {
			st.Counts = st.Counts.add(p.Counts)
		}
		cum := Counts{}
		for i := range st.Series {
			cum = cum.add(st.Series[i].Counts)
			st.Series[i].BudgetLeft = budgetLeft(cum, st.Budget)
		}
	} else if st.Counts, err = e.counts(ctx, s.SLI, q, st.Start, end); err != nil {
		return SLOStatus{}, fmt.Errorf("slo %s: %w", s.Name, err)
	}
	st.SLI = math.NaN()
	if st.Counts.Total > 0 {
		st.SLI = st.Counts.Good / st.Counts.Total
	}
	st.BudgetLeft = budgetLeft(st.Counts, st.Budget)

	rules := s.BurnRules()
	burns := map[time.Duration]WindowBurn{}
	for _, r := range rules {
		for _, w := range []time.Duration{r.Short, r.Long} {
			if _, done := burns[w]; done {
				continue
			}
			c, err := e.counts(ctx, s.SLI, q, end.Add(-w), end)
			if err != nil {
				return SLOStatus{}, fmt.Errorf("slo %s over %s: %w", s.Name, formatDuration(w), err)
			}
			er := c.ErrorRatio()
			burns[w] = WindowBurn{Window: w, Counts: c, ErrorRatio: er, BurnRate: round12(er / st.Budget)}
		}
	}
	for _, w := range sortedDurations(burns) {
		st.Burns = append(st.Burns, burns[w])
	}
	for _, r := range rules {
		long, short := burns[r.Long].BurnRate, burns[r.Short].BurnRate
		to := r.To
		if to == nil {
			to = []string{}
		}
		st.Rules = append(st.Rules, RuleResult{
			ID: "slo/" + s.Name + "/" + r.ID, Name: s.Name, Kind: "burn_rate", Severity: r.Severity,
			// NaN compares false: no data never fires.
			Firing:  long > r.Factor && short > r.Factor,
			NoData:  math.IsNaN(long) || math.IsNaN(short),
			Runbook: s.Runbook, To: to,
			Factor: r.Factor, Long: r.Long, Short: r.Short, LongBurn: long, ShortBurn: short,
		})
	}
	return st, nil
}

// budgetLeft is 1 − error ratio / budget: 1 with no traffic (Pyrra), negative when
// overspent.
func budgetLeft(c Counts, budget float64) float64 {
	if c.Total <= 0 {
		return 1
	}
	return round12(1 - c.ErrorRatio()/budget)
}

func sortedDurations(m map[time.Duration]WindowBurn) []time.Duration {
	ds := make([]time.Duration, 0, len(m))
	for d := range m {
		ds = append(ds, d)
	}
	slices.Sort(ds)
	return ds
}

// seriesStep is the chart's bucket: 120 buckets over the window, in whole hours when
// the window allows (6 h for 30 days), else whole minutes.
func seriesStep(window time.Duration) time.Duration {
	step := window / 120
	if step >= time.Hour {
		return step.Truncate(time.Hour)
	}
	return max(time.Minute, step.Truncate(time.Minute))
}

func (e *Evaluator) sloQuery(ctx context.Context, s SLO) (Query, error) {
	q, err := s.SLI.Query()
	if err != nil {
		return Query{}, fmt.Errorf("slo %s: %w", s.Name, err)
	}
	kind, name, id, field := s.SLI.entity()
	return e.resolve(ctx, q, kind, name, id, field)
}

// resolve adds the id of a named queue or database to the query's filter.
func (e *Evaluator) resolve(ctx context.Context, q Query, kind, name, id, field string) (Query, error) {
	if field == "" || id != "" {
		return q, nil
	}
	if e.Resolver == nil {
		return Query{}, fmt.Errorf("cannot look up %s %q: no resolver", kind, name)
	}
	var err error
	if kind == "queue" {
		id, err = e.Resolver.QueueID(ctx, name)
	} else {
		id, err = e.Resolver.D1DatabaseID(ctx, name)
	}
	if err != nil {
		return Query{}, fmt.Errorf("cannot look up %s %q: %w", kind, name, err)
	}
	return withEntity(q, id, field), nil
}

// counts is the SLI's good and total over [start, end).
func (e *Evaluator) counts(ctx context.Context, sli SLI, q Query, start, end time.Time) (Counts, error) {
	if q.Source == SourceSQL {
		rows, err := e.Source.SQL(ctx, q.SQL(start, end))
		if err != nil {
			return Counts{}, err
		}
		var c Counts
		for _, row := range rows {
			rc, err := rowCounts(row)
			if err != nil {
				return Counts{}, err
			}
			c = c.add(rc)
		}
		return c, nil
	}
	var c Counts
	for _, r := range e.chunks(q, start, end) {
		groups, err := e.graphQL(ctx, q, r[0], r[1])
		if err != nil {
			return Counts{}, err
		}
		gc, err := reduceSLI(sli, groups)
		if err != nil {
			return Counts{}, err
		}
		c = c.add(gc)
	}
	return c, nil
}

// series is the SLI's counts in buckets of step over [start, end).
func (e *Evaluator) series(ctx context.Context, sli SLI, q Query, start, end time.Time, step time.Duration) ([]Point, error) {
	var points []Point
	if q.Source == SourceSQL {
		rows, err := e.Source.SQL(ctx, q.SQLSeries(start, end, step))
		if err != nil {
			return nil, err
		}
		byBucket := map[int64]Counts{}
		for _, row := range rows {
			t, err := cell(row, "t")
			if err != nil {
				return nil, err
			}
			c, err := rowCounts(row)
			if err != nil {
				return nil, err
			}
			byBucket[int64(t)] = byBucket[int64(t)].add(c)
		}
		// Buckets are aligned to the epoch; the first starts at or before start.
		first := start.Unix() - floorMod(start.Unix(), int64(step/time.Second))
		for t := first; t < end.Unix(); t += int64(step / time.Second) {
			b := time.Unix(t, 0).UTC()
			points = append(points, point(b, b.Add(step), byBucket[t]))
		}
		return points, nil
	}
	for t := start; t.Before(end); t = t.Add(step) {
		to := t.Add(step)
		if to.After(end) {
			to = end
		}
		c, err := e.counts(ctx, sli, q, t, to)
		if err != nil {
			return nil, err
		}
		points = append(points, point(t, to, c))
	}
	return points, nil
}

func point(start, end time.Time, c Counts) Point {
	p := Point{Time: start, End: end, Counts: c, SLI: math.NaN()}
	if c.Total > 0 {
		p.SLI = c.Good / c.Total
	}
	return p
}

func floorMod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

func rowCounts(row map[string]any) (Counts, error) {
	good, err := cell(row, "good")
	if err != nil {
		return Counts{}, err
	}
	total, err := cell(row, "total")
	if err != nil {
		return Counts{}, err
	}
	if math.IsNaN(good) || math.IsNaN(total) {
		return Counts{}, nil
	}
	return Counts{Good: good, Total: total}, nil
}

// cell reads a numeric cell: a number, a 64-bit integer as a string, or null (NaN).
func cell(row map[string]any, col string) (float64, error) {
	v, ok := row[col]
	if !ok {
		return 0, fmt.Errorf("the answer has no column %q", col)
	}
	switch x := v.(type) {
	case nil:
		return math.NaN(), nil
	case float64:
		return x, nil
	case json.Number:
		return x.Float64()
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return 0, fmt.Errorf("column %q: %q is not a number", col, x)
		}
		return f, nil
	}
	return 0, fmt.Errorf("column %q: %v is not a number", col, v)
}

// chunks splits [start, end) into the ranges one GraphQL query may ask for.
func (e *Evaluator) chunks(q Query, start, end time.Time) [][2]time.Time {
	size := e.MaxRange
	if size <= 0 {
		size = 31 * 24 * time.Hour
	}
	if byMinute(q) {
		size = min(size, 24*time.Hour)
	}
	var out [][2]time.Time
	for t := start; t.Before(end); t = t.Add(size) {
		out = append(out, [2]time.Time{t, minTime(t.Add(size), end)})
	}
	return out
}

// byMinute says whether q groups by minute (one row per minute and group).
func byMinute(q Query) bool {
	return q.Source == SourceGraphQL && strings.Contains(q.GraphQL, "datetimeMinute }")
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// graphQL runs q over [start, end) and returns the groups of its one dataset.
func (e *Evaluator) graphQL(ctx context.Context, q Query, start, end time.Time) ([]map[string]any, error) {
	data, err := e.Source.GraphQL(ctx, q.GraphQL, q.Variables(e.Account, start, end))
	if err != nil {
		return nil, err
	}
	var answer struct {
		Viewer struct {
			Accounts []map[string][]map[string]any `json:"accounts"`
		} `json:"viewer"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&answer); err != nil {
		return nil, fmt.Errorf("unexpected GraphQL answer: %w", err)
	}
	if len(answer.Viewer.Accounts) != 1 {
		return nil, fmt.Errorf("GraphQL answer has %d accounts, want 1", len(answer.Viewer.Accounts))
	}
	for _, groups := range answer.Viewer.Accounts[0] {
		return groups, nil
	}
	return nil, nil
}

// num reads group[block][field] (block "" for a top-level field such as count).
func num(group map[string]any, block, field string) (float64, bool) {
	v := any(group)
	if block != "" {
		m, ok := group[block].(map[string]any)
		if !ok {
			return 0, false
		}
		v = m
	}
	f, err := cell(v.(map[string]any), field)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func dim(group map[string]any, field string) string {
	m, _ := group["dimensions"].(map[string]any)
	s, _ := m[field].(string)
	return s
}

// reduceSLI turns an SLI's GraphQL groups into good and total.
func reduceSLI(sli SLI, groups []map[string]any) (Counts, error) {
	var c Counts
	switch {
	case sli.WorkerAvailability != nil:
		bad := sli.WorkerAvailability.BadOutcomes
		if len(bad) == 0 {
			bad = DefaultBadOutcomes
		}
		for _, g := range groups {
			n, ok := num(g, "sum", "requests")
			if !ok {
				return Counts{}, fmt.Errorf("GraphQL group without sum.requests")
			}
			c.Total += n
			if !slices.Contains(bad, dim(g, "status")) {
				c.Good += n
			}
		}
	case sli.WorkerLatency != nil:
		limit := float64(sli.WorkerLatency.Threshold / time.Microsecond)
		for _, g := range groups {
			if n, _ := num(g, "sum", "requests"); n <= 0 {
				continue
			}
			q, ok := num(g, "quantiles", "wallTime"+sli.WorkerLatency.Quantile)
			if !ok {
				continue
			}
			c.Total++
			if q <= limit {
				c.Good++
			}
		}
	case sli.QueueDelivery != nil:
		lag := float64(sli.QueueDelivery.LagThreshold / time.Millisecond)
		for _, g := range groups {
			n, ok := num(g, "", "count")
			if !ok {
				return Counts{}, fmt.Errorf("GraphQL group without count")
			}
			c.Total += n
			l, hasLag := num(g, "avg", "lagTime")
			if dim(g, "outcome") == "success" && (lag <= 0 || !hasLag || l <= lag) {
				c.Good += n
			}
		}
	default:
		return Counts{}, fmt.Errorf("the SLI is not read with GraphQL")
	}
	return c, nil
}

// CheckMetric evaluates a metric rule now: its value over the last For, and whether it
// fires. Call Validate first.
func (e *Evaluator) CheckMetric(ctx context.Context, r MetricRule) (RuleResult, error) {
	q, err := r.Metric.Query()
	if err != nil {
		return RuleResult{}, fmt.Errorf("alert_rule %s: %w", r.Name, err)
	}
	kind, name, id, field := r.Metric.entity()
	if q, err = e.resolve(ctx, q, kind, name, id, field); err != nil {
		return RuleResult{}, fmt.Errorf("alert_rule %s: %w", r.Name, err)
	}
	end := e.now()
	v, err := e.metricValue(ctx, r.Metric, q, end.Add(-r.For), end)
	if err != nil {
		return RuleResult{}, fmt.Errorf("alert_rule %s: %w", r.Name, err)
	}
	to := r.To
	if to == nil {
		to = []string{}
	}
	res := RuleResult{ID: "metric/" + r.Name, Name: r.Name, Kind: "threshold", Severity: r.Severity, Runbook: r.Runbook, To: to,
		Value: v, Above: r.Above, Below: r.Below, For: r.For, NoData: math.IsNaN(v)}
	switch {
	case r.Above != nil:
		res.Firing = v > *r.Above
	case r.Below != nil:
		res.Firing = v < *r.Below
	}
	return res, nil
}

// metricValue is the metric over [start, end); NaN when there is no data (no rows is
// never zero, except for a dataset's count()).
func (e *Evaluator) metricValue(ctx context.Context, m Metric, q Query, start, end time.Time) (float64, error) {
	if q.Source == SourceSQL {
		rows, err := e.Source.SQL(ctx, q.SQL(start, end))
		if err != nil {
			return 0, err
		}
		if len(rows) == 0 {
			return math.NaN(), nil
		}
		v, err := cell(rows[0], "value")
		if err != nil {
			return 0, err
		}
		if math.IsInf(v, 0) {
			return math.NaN(), nil
		}
		return v, nil
	}
	groups, err := e.graphQL(ctx, q, start, end)
	if err != nil {
		return 0, err
	}
	if len(groups) == 0 {
		return math.NaN(), nil
	}
	switch {
	case m.QueueBacklog != nil:
		return weightedAvg(groups, "messages"), nil
	case m.QueueLag != nil:
		return weightedAvg(groups, "lagTime"), nil
	case m.QueueDLQRatio != nil:
		var dlq, total float64
		for _, g := range groups {
			n, _ := num(g, "", "count")
			total += n
			if dim(g, "outcome") == "dlq" {
				dlq += n
			}
		}
		if total <= 0 {
			return math.NaN(), nil
		}
		return dlq / total, nil
	case m.D1QueryTime != nil:
		if len(groups) != 1 {
			return 0, fmt.Errorf("D1 answer has %d groups, want 1", len(groups))
		}
		v, ok := num(groups[0], "quantiles", "queryBatchTimeMs"+m.D1QueryTime.Quantile)
		if !ok {
			return math.NaN(), nil
		}
		return v, nil
	}
	return 0, fmt.Errorf("unknown metric")
}

// weightedAvg is the mean of avg.field over groups, weighted by their count.
func weightedAvg(groups []map[string]any, field string) float64 {
	var sum, n float64
	for _, g := range groups {
		v, ok := num(g, "avg", field)
		if !ok {
			continue
		}
		w, ok := num(g, "", "count")
		if !ok || w <= 0 {
			w = 1
		}
		sum += v * w
		n += w
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / n
}

// CheckResult is every rule of a configuration evaluated now.
type CheckResult struct {
	Rules []RuleResult
}

// Pages and Tickets say whether a page or a ticket rule fires.
func (c CheckResult) Pages() bool   { return c.any(Page) }
func (c CheckResult) Tickets() bool { return c.any(Ticket) }

func (c CheckResult) any(s Severity) bool {
	for _, r := range c.Rules {
		if r.Firing && r.Severity == s {
			return true
		}
	}
	return false
}

// Check evaluates every SLO's burn-rate rules and every metric rule now, sorted by id.
func (e *Evaluator) Check(ctx context.Context, slos []SLO, rules []MetricRule) (CheckResult, error) {
	var out CheckResult
	for _, s := range slos {
		st, err := e.SLOStatus(ctx, s, false)
		if err != nil {
			return CheckResult{}, err
		}
		out.Rules = append(out.Rules, st.Rules...)
	}
	for _, r := range rules {
		res, err := e.CheckMetric(ctx, r)
		if err != nil {
			return CheckResult{}, err
		}
		out.Rules = append(out.Rules, res)
	}
	sort.SliceStable(out.Rules, func(i, j int) bool { return out.Rules[i].ID < out.Rules[j].ID })
	return out, nil
}
