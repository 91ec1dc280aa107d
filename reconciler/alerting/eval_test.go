package alerting

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// event is n events at t, of which bad are bad (status or SLI-wise).
type event struct {
	t       time.Time
	n, bad  float64
	status  string  // GraphQL Workers events: the status of all n
	value   float64 // queue backlog
	outcome string
	lagMs   float64
	wallUs  float64
}

// fakeSource answers the queries the evaluator generates from events, by their time
// bounds alone: the SQL and GraphQL semantics are the emulator's business (tested over
// HTTP in reconciler/cli); this is the math.
type fakeSource struct {
	sql     map[string][]event // by dataset
	workers []event
	backlog []event
	queries []string
}

var (
	sqlRangeRE  = regexp.MustCompile(`FROM (\w+) WHERE timestamp >= toDateTime\((\d+)\) AND timestamp < toDateTime\((\d+)\)`)
	sqlBucketRE = regexp.MustCompile(`INTERVAL '(\d+)' MINUTE`)
)

func in(e event, start, end time.Time) bool { return !e.t.Before(start) && e.t.Before(end) }

func (f *fakeSource) SQL(_ context.Context, q string) ([]map[string]any, error) {
	f.queries = append(f.queries, q)
	m := sqlRangeRE.FindStringSubmatch(q)
	if m == nil {
		return nil, fmt.Errorf("fake: unexpected SQL %s", q)
	}
	s, _ := strconv.ParseInt(m[2], 10, 64)
	e, _ := strconv.ParseInt(m[3], 10, 64)
	start, end := time.Unix(s, 0), time.Unix(e, 0)
	if b := sqlBucketRE.FindStringSubmatch(q); b != nil {
		mins, _ := strconv.Atoi(b[1])
		step := int64(mins * 60)
		buckets := map[int64][2]float64{}
		for _, ev := range f.sql[m[1]] {
			if in(ev, start, end) {
				t := ev.t.Unix() - floorMod(ev.t.Unix(), step)
				c := buckets[t]
				buckets[t] = [2]float64{c[0] + ev.n - ev.bad, c[1] + ev.n}
			}
		}
		var rows []map[string]any
		for t, c := range buckets {
			rows = append(rows, map[string]any{"t": float64(t), "good": fmt.Sprint(c[0]), "total": fmt.Sprint(c[1])})
		}
		return rows, nil
	}
	var good, total float64
	for _, ev := range f.sql[m[1]] {
		if in(ev, start, end) {
			good, total = good+ev.n-ev.bad, total+ev.n
		}
	}
	if strings.Contains(q, "AS value") {
		return []map[string]any{{"value": fmt.Sprint(total), "events": fmt.Sprint(total)}}, nil
	}
	// 64-bit sums arrive as strings, as from Cloudflare.
	return []map[string]any{{"good": fmt.Sprint(good), "total": fmt.Sprint(total)}}, nil
}

func (f *fakeSource) GraphQL(_ context.Context, q string, vars map[string]any) (json.RawMessage, error) {
	f.queries = append(f.queries, q)
	filter := vars["filter"].(map[string]any)
	var start, end time.Time
	for k, v := range filter {
		if strings.HasSuffix(k, "_geq") {
			start, _ = time.Parse(time.RFC3339, v.(string))
		}
		if strings.HasSuffix(k, "_lt") {
			end, _ = time.Parse(time.RFC3339, v.(string))
		}
	}
	var groups []map[string]any
	switch {
	case strings.Contains(q, "workersInvocationsAdaptive"):
		if filter["scriptName"] != "api" {
			return nil, fmt.Errorf("fake: filter %v", filter)
		}
		byStatus := map[string]float64{}
		for _, ev := range f.workers {
			if in(ev, start, end) {
				byStatus[ev.status] += ev.n
			}
		}
		for s, n := range byStatus {
			groups = append(groups, map[string]any{"dimensions": map[string]any{"status": s}, "sum": map[string]any{"requests": n}})
		}
		sort.Slice(groups, func(i, j int) bool { return fmt.Sprint(groups[i]) < fmt.Sprint(groups[j]) })
		return json.Marshal(map[string]any{"viewer": map[string]any{"accounts": []any{map[string]any{"workersInvocationsAdaptive": groups}}}})
	case strings.Contains(q, "queueBacklogAdaptiveGroups"):
		if filter["queueId"] != "q-123" {
			return nil, fmt.Errorf("fake: filter %v", filter)
		}
		var sum, n float64
		for _, ev := range f.backlog {
			if in(ev, start, end) {
				sum, n = sum+ev.value, n+1
			}
		}
		if n > 0 {
			groups = append(groups, map[string]any{"count": n, "avg": map[string]any{"messages": sum / n}})
		}
		return json.Marshal(map[string]any{"viewer": map[string]any{"accounts": []any{map[string]any{"queueBacklogAdaptiveGroups": groups}}}})
	}
	return nil, fmt.Errorf("fake: unexpected GraphQL %s", q)
}

type fakeResolver struct{}

func (fakeResolver) QueueID(_ context.Context, name string) (string, error) {
	if name == "jobs" {
		return "q-123", nil
	}
	return "", fmt.Errorf("no queue %q", name)
}
func (fakeResolver) D1DatabaseID(context.Context, string) (string, error) {
	return "", fmt.Errorf("none")
}

var evalNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// outage: 940,000 good events 10 days ago, 48,000 good events 5 hours ago, and over the
// last hour 200 events a minute of which 4 are bad (2 %).
func outage() []event {
	evs := []event{{t: evalNow.Add(-10 * day), n: 940000}, {t: evalNow.Add(-5 * time.Hour), n: 48000}}
	for i := 0; i < 60; i++ {
		evs = append(evs, event{t: evalNow.Add(-time.Hour + time.Duration(i)*time.Minute + 30*time.Second), n: 200, bad: 4})
	}
	return evs
}

func ratioSLO() SLO {
	s := seedSLOs()[5]
	s.Objective = 99.9
	return s
}

func TestSLOStatusMath(t *testing.T) {
	src := &fakeSource{sql: map[string][]event{"monotask_production_api": outage()}}
	e := &Evaluator{Source: src, Now: evalNow}
	st, err := e.SLOStatus(context.Background(), ratioSLO(), true)
	if err != nil {
		t.Fatal(err)
	}
	// By hand: 30 d: 1,000,000 events, 240 bad: error ratio 0.00024 against a budget of
	// 0.001, so 24 % of the budget is spent and 76 % left; the SLI is 99.976 %.
	if st.Counts != (Counts{Good: 999760, Total: 1000000}) || !near(st.BudgetLeft, 0.76) || !near(st.SLI, 0.99976) {
		t.Errorf("window: counts %+v, budget left %v, SLI %v; want 999760/1000000, 0.76, 0.99976", st.Counts, st.BudgetLeft, st.SLI)
	}
	// 5 m, 30 m, 1 h: only the outage, 2 % errors, burn 0.02 / 0.001 = 20. 6 h and 3 d:
	// 240 bad of 60,000: 0.004, burn 4.
	want := map[time.Duration]float64{5 * time.Minute: 20, 30 * time.Minute: 20, time.Hour: 20, 6 * time.Hour: 4, 3 * day: 4}
	if len(st.Burns) != len(want) {
		t.Fatalf("burns %+v", st.Burns)
	}
	for _, b := range st.Burns {
		if !near(b.BurnRate, want[b.Window]) {
			t.Errorf("burn over %s = %v, want %v", formatDuration(b.Window), b.BurnRate, want[b.Window])
		}
	}
	// page-1h: 20 > 14.4 over 1 h and 5 m: fires. page-6h: 4 over 6 h is not > 6: quiet
	// although 30 m burns at 20. ticket-3d: 4 > 1 over 3 d and 4 > 1 over 6 h: fires.
	firing := map[string]bool{}
	for _, r := range st.Rules {
		firing[r.ID] = r.Firing
	}
	if !firing["slo/api_errors/page-1h"] || firing["slo/api_errors/page-6h"] || !firing["slo/api_errors/ticket-3d"] {
		t.Errorf("firing: %v", firing)
	}
	// The chart: 120 buckets of 6 h; the budget left at the end is the window's.
	if len(st.Series) != 121 && len(st.Series) != 120 {
		t.Errorf("%d buckets", len(st.Series))
	}
	last := st.Series[len(st.Series)-1]
	if !near(last.BudgetLeft, 0.76) {
		t.Errorf("last bucket's budget left %v, want 0.76", last.BudgetLeft)
	}
	// Before the outage the budget was whole: the bucket holding 10 days ago.
	for _, p := range st.Series {
		if p.End.Before(evalNow.Add(-2*time.Hour)) && p.BudgetLeft != 1 {
			t.Errorf("bucket %s: budget left %v before any error", p.Time, p.BudgetLeft)
		}
	}

	res, err := e.Check(context.Background(), []SLO{ratioSLO()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Pages() || !res.Tickets() {
		t.Errorf("check: pages %v tickets %v", res.Pages(), res.Tickets())
	}
}

func TestSLOStatusNoTraffic(t *testing.T) {
	e := &Evaluator{Source: &fakeSource{}, Now: evalNow}
	st, err := e.SLOStatus(context.Background(), ratioSLO(), true)
	if err != nil {
		t.Fatal(err)
	}
	// Pyrra's convention: no traffic leaves the whole budget; no data never fires.
	if st.BudgetLeft != 1 || !math.IsNaN(st.SLI) {
		t.Errorf("budget left %v, SLI %v", st.BudgetLeft, st.SLI)
	}
	for _, r := range st.Rules {
		if r.Firing || !r.NoData {
			t.Errorf("%s: firing %v, no data %v", r.ID, r.Firing, r.NoData)
		}
	}
}

func TestWorkerAvailabilityMath(t *testing.T) {
	// 30 d: 99,000 successes and 1,000 exceptions 3 days ago and, over the last hour,
	// 100 invocations a minute: 97 successes, 1 clientDisconnected (good: not an error
	// status), 2 exceededResources.
	evs := []event{{t: evalNow.Add(-3*day - time.Hour), n: 99000, status: "success"}, {t: evalNow.Add(-3*day - time.Hour), n: 1000, status: "scriptThrewException"}}
	for i := 0; i < 60; i++ {
		at := evalNow.Add(-time.Hour + time.Duration(i)*time.Minute)
		evs = append(evs, event{t: at, n: 97, status: "success"}, event{t: at, n: 1, status: "clientDisconnected"}, event{t: at, n: 2, status: "exceededResources"})
	}
	s := SLO{Name: "avail", Objective: 99, Window: 30 * day, PageTo: []string{"p"}, SLI: SLI{WorkerAvailability: &WorkerAvailability{Script: "api"}}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{workers: evs}
	e := &Evaluator{Source: src, Now: evalNow, MaxRange: 10 * day}
	st, err := e.SLOStatus(context.Background(), s, false)
	if err != nil {
		t.Fatal(err)
	}
	// Window: 106,000 invocations, 1,120 bad: error ratio 0.0105660..., budget 0.01:
	// left 1 − 1.0566 = −0.0566 (overspent).
	if st.Counts != (Counts{Good: 104880, Total: 106000}) || !near(st.BudgetLeft, 1-1120.0/106000/0.01) {
		t.Errorf("counts %+v budget left %v", st.Counts, st.BudgetLeft)
	}
	// 1 h: 2 % bad, burn 2; 3 d (the old exceptions are 1 h older than 3 d): burn 2.
	for _, b := range st.Burns {
		if !near(b.BurnRate, 2) {
			t.Errorf("burn over %s = %v, want 2", formatDuration(b.Window), b.BurnRate)
		}
	}
	// The 30-day window was asked for in 3 ranges of at most 10 days (MaxRange).
	n := 0
	for _, q := range src.queries {
		if strings.Contains(q, "workersInvocationsAdaptive") {
			n++
		}
	}
	if want := 3 + 5; n != want { // window in 3 chunks, then 5m, 30m, 1h, 6h, 3d
		t.Errorf("%d GraphQL queries, want %d", n, want)
	}
}

func TestCheckMetric(t *testing.T) {
	thousand, half := 1000.0, 0.5
	backlog := MetricRule{Name: "backlog", Metric: Metric{QueueBacklog: &QueueMetric{Queue: "jobs"}}, Above: &thousand, For: 10 * time.Minute, Severity: Ticket, To: []string{"t"}}
	// Backlog samples of 900 and 1,300 in the last 10 minutes: mean 1,100 > 1,000. An
	// older sample of 0 is outside `for`.
	src := &fakeSource{backlog: []event{{t: evalNow.Add(-20 * time.Minute), value: 0}, {t: evalNow.Add(-8 * time.Minute), value: 900}, {t: evalNow.Add(-2 * time.Minute), value: 1300}},
		sql: map[string][]event{"monotask_api": {{t: evalNow.Add(-30 * time.Minute), n: 3}}}}
	e := &Evaluator{Source: src, Resolver: fakeResolver{}, Now: evalNow}
	res, err := e.CheckMetric(context.Background(), backlog)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Firing || res.Value != 1100 || res.NoData {
		t.Errorf("backlog: %+v", res)
	}
	// No rows is no data, never zero: nothing fires.
	e.Now = evalNow.Add(time.Hour)
	if res, err := e.CheckMetric(context.Background(), backlog); err != nil || res.Firing || !res.NoData {
		t.Errorf("backlog without data: %+v, %v", res, err)
	}
	// count() of a dataset over 5 m with no events is 0, below 0.5: traffic stopped.
	traffic := MetricRule{Name: "traffic", Metric: Metric{DatasetQuery: &DatasetQuery{Dataset: apiDataset, Value: "count()"}}, Below: &half, For: 5 * time.Minute, Severity: Page, To: []string{"p"}}
	e.Now = evalNow
	if res, err := e.CheckMetric(context.Background(), traffic); err != nil || !res.Firing || res.Value != 0 {
		t.Errorf("traffic: %+v, %v", res, err)
	}
	backlog.Metric.QueueBacklog.Queue = "nope"
	if _, err := e.CheckMetric(context.Background(), backlog); err == nil || !strings.Contains(err.Error(), `cannot look up queue "nope"`) {
		t.Errorf("unknown queue: %v", err)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
