package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler/alerting"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

// alertNow is the instant the alerting tests evaluate at, and the emulator's clock.
var alertNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

var apiColumns = alerting.Dataset{Name: "monotask_api", Index: "tenant", Blobs: []string{"worker", "route", "method", "outcome"}, Doubles: []string{"status", "latency_ms", "cpu_ms"}}

// weird is a route value holding everything that could end an SQL string literal or
// start a comment or a second statement.
const weird = `it's -- a; "route" \ with\\ '' quotes`

func mustFilter(t *testing.T, s string) *alerting.Filter {
	t.Helper()
	f, err := alerting.ParseFilter(s)
	if err != nil {
		t.Fatalf("ParseFilter(%q): %v", s, err)
	}
	return f
}

// writeAPIPoints writes a healthy month and, with outage, an hour of 2 % errors to the
// api dataset: per minute of the last hour 49 points of status 200 and 1 of 503, each
// standing for 2 events (sample interval 2); plus health checks that fail (excluded by the
// SLO's total filter) and requests on the weird route.
func writeAPIPoints(t *testing.T, c *cloudflare.Client, outage bool) {
	t.Helper()
	writePoints(t, c, outage, true)
}

// writePoints is writeAPIPoints, with or without the weird-route points.
func writePoints(t *testing.T, c *cloudflare.Client, outage, withWeird bool) {
	t.Helper()
	ctx := context.Background()
	point := func(at time.Time, route string, status float64, si int) cloudflare.AnalyticsDataPoint {
		return cloudflare.AnalyticsDataPoint{Indexes: []string{"acme"}, Blobs: []string{"api-gateway", route, "GET", "ok"}, Doubles: []float64{status, 120, 3}, Timestamp: at, SampleInterval: si}
	}
	var pts []cloudflare.AnalyticsDataPoint
	// 10 days ago: 1,000 points standing for 9,880 events in all, all good.
	for i := 0; i < 1000; i++ {
		si := 10
		if i < 2 {
			si = 4 // 998 × 10 + 2 × 4 = 9,988
		}
		pts = append(pts, point(alertNow.Add(-10*24*time.Hour+time.Duration(i)*time.Second), "/tasks", 200, si))
	}
	for m := 0; m < 60; m++ {
		at := alertNow.Add(-time.Hour + time.Duration(m)*time.Minute + 10*time.Second)
		for i := 0; i < 49; i++ {
			pts = append(pts, point(at, "/tasks", 200, 2))
		}
		status := 200.0
		if outage {
			status = 503
		}
		pts = append(pts, point(at, "/tasks", status, 2))
		pts = append(pts, point(at, "/health", 500, 1)) // not counted: route != '/health'
		if withWeird {
			pts = append(pts, point(at, weird, 200, 3))
		}
	}
	for len(pts) > 0 {
		n := min(len(pts), 500)
		if err := c.Raw().WriteDataPoints(ctx, LocalAccountID, apiColumns.Name, pts[:n]...); err != nil {
			t.Fatal(err)
		}
		pts = pts[n:]
	}
}

// postAdmin feeds the emulator's GraphQL datasets through its admin interface.
func postAdmin(t *testing.T, a *account, what string, body any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(a.url+"/__flareops/admin/analytics/"+what, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var msg bytes.Buffer
		_, _ = msg.ReadFrom(resp.Body)
		t.Fatalf("admin %s: %s %s", what, resp.Status, msg.String())
	}
}

func fixedClock() func() time.Time { return func() time.Time { return alertNow } }

// TestAlertingQueriesOverHTTP runs the alerting package's queries through the Cloudflare
// client against the emulator over HTTP: Analytics Engine SQL for dataset SLIs and metric
// rules, GraphQL for Worker availability, queue backlog and D1 query time; the expected
// numbers are worked out by hand from the events written.
func TestAlertingQueriesOverHTTP(t *testing.T) {
	a := newAccount(t, emulator.Options{Now: fixedClock()})
	c := a.client(t)
	ctx := context.Background()
	writeAPIPoints(t, c, true)

	src := cfSource{c}
	ev := &alerting.Evaluator{Source: src, Resolver: src, Account: LocalAccountID, Now: alertNow}
	slo := alerting.SLO{Name: "api_errors", Objective: 99.9, Window: 30 * 24 * time.Hour, PageTo: []string{"oncall"}, TicketTo: []string{"slack"},
		Runbook: "https://runbooks.example/api-errors",
		SLI:     alerting.SLI{DatasetRatio: &alerting.DatasetRatio{Dataset: apiColumns, Good: mustFilter(t, "status < 500"), Total: mustFilter(t, "route != '/health'")}}}
	if err := slo.Validate(); err != nil {
		t.Fatal(err)
	}
	st, err := ev.SLOStatus(ctx, slo, true)
	if err != nil {
		t.Fatal(err)
	}
	// By hand. Last hour, per minute: 50 × 2 = 100 /tasks events, 2 of them bad, and 3
	// weird-route events (good); health checks excluded. An hour: 6,000 + 180 = 6,180
	// events, 120 bad. 10 days ago: 9,988 good. Window: 16,168 events, 120 bad.
	if st.Counts.Total != 16168 || st.Counts.Good != 16048 {
		t.Errorf("window counts %+v, want 16048 good of 16168", st.Counts)
	}
	wantLeft := 1 - (120.0/16168)/0.001 // −6.42...: the budget is overspent
	if math.Abs(st.BudgetLeft-wantLeft) > 1e-9 {
		t.Errorf("budget left %v, want %v", st.BudgetLeft, wantLeft)
	}
	// Over 5 m: 5 × 103 events, 10 bad: 10/515 = 1.94 %, burn 19.4; over 1 h: 120/6180.
	for _, b := range st.Burns {
		var want float64
		switch b.Window {
		case 5 * time.Minute:
			want = 10.0 / 515 / 0.001
		case 30 * time.Minute:
			want = 60.0 / 3090 / 0.001
		default:
			want = 120.0 / 6180 / 0.001
		}
		if math.Abs(b.BurnRate-want) > 1e-6 {
			t.Errorf("burn over %s = %v, want %v", fmtDuration(b.Window), b.BurnRate, want)
		}
	}
	if len(st.Series) == 0 || st.Series[len(st.Series)-1].BudgetLeft != st.BudgetLeft {
		t.Errorf("the chart's last bucket does not end with the window's budget")
	}

	// A filter value with quotes, backslashes, -- and ; reaches the emulator as a
	// literal: count() where route = <weird> is exactly the weird points (60 × 3).
	thresh := 100.0
	rule := alerting.MetricRule{Name: "weird_traffic", Metric: alerting.Metric{DatasetQuery: &alerting.DatasetQuery{Dataset: apiColumns, Value: "count()",
		Where: mustFilter(t, "route = "+alerting.QuoteString(weird))}}, Above: &thresh, For: time.Hour, Severity: alerting.Ticket, To: []string{"slack"}}
	if err := rule.Validate(); err != nil {
		t.Fatal(err)
	}
	res, err := ev.CheckMetric(ctx, rule)
	if err != nil {
		t.Fatal(err)
	}
	if res.Value != 180 || !res.Firing {
		t.Errorf("count() where route = %q: %v (firing %v), want 180", weird, res.Value, res.Firing)
	}
	// The same value with one character less matches nothing, so the match above is exact.
	rule.Metric.DatasetQuery.Where = mustFilter(t, "route = "+alerting.QuoteString(strings.TrimSuffix(weird, "s")))
	if res, err := ev.CheckMetric(ctx, rule); err != nil || res.Value != 0 {
		t.Errorf("near-miss route: %v, %v; want 0", res.Value, err)
	}
	// p95 of latency (all 120) and avg weighted by sampling.
	rule.Metric.DatasetQuery = &alerting.DatasetQuery{Dataset: apiColumns, Value: "p95(latency_ms)", Where: mustFilter(t, "route in ('/tasks', '/health') and status >= 500")}
	if res, err := ev.CheckMetric(ctx, rule); err != nil || res.Value != 120 {
		t.Errorf("p95(latency_ms): %v, %v; want 120", res.Value, err)
	}
}

func TestAlertingGraphQLOverHTTP(t *testing.T) {
	a := newAccount(t, emulator.Options{Now: fixedClock()})
	c := a.client(t)
	ctx := context.Background()
	// Worker invocations: per minute of the last hour 49 successes and 1 exception, each
	// standing for 2 invocations; a day ago 500 successes.
	var inv []map[string]any
	for m := 0; m < 60; m++ {
		at := alertNow.Add(-time.Hour + time.Duration(m)*time.Minute + 5*time.Second).Format(time.RFC3339)
		for i := 0; i < 49; i++ {
			inv = append(inv, map[string]any{"datetime": at, "scriptName": "api-gateway-prod", "status": "success", "sampleInterval": 2})
		}
		inv = append(inv, map[string]any{"datetime": at, "scriptName": "api-gateway-prod", "status": "scriptThrewException", "sampleInterval": 2})
		inv = append(inv, map[string]any{"datetime": at, "scriptName": "other", "status": "internalError"})
	}
	inv = append(inv, map[string]any{"datetime": alertNow.Add(-24 * time.Hour).Format(time.RFC3339), "scriptName": "api-gateway-prod", "status": "success", "sampleInterval": 500})
	postAdmin(t, a, "workers", inv)

	q, err := c.CreateQueue(ctx, "agent-jobs")
	if err != nil {
		t.Fatal(err)
	}
	// Backlog samples: 800 and 1,400 within the last 10 minutes, 0 before.
	postAdmin(t, a, "queues", map[string]any{"backlog": []map[string]any{
		{"datetime": alertNow.Add(-30 * time.Minute).Format(time.RFC3339), "queueId": q.ID, "messages": 0},
		{"datetime": alertNow.Add(-8 * time.Minute).Format(time.RFC3339), "queueId": q.ID, "messages": 800},
		{"datetime": alertNow.Add(-3 * time.Minute).Format(time.RFC3339), "queueId": q.ID, "messages": 1400},
	}})

	src := cfSource{c}
	ev := &alerting.Evaluator{Source: src, Resolver: src, Account: LocalAccountID, Now: alertNow}
	slo := alerting.SLO{Name: "gateway", Objective: 99.9, Window: 30 * 24 * time.Hour, PageTo: []string{"oncall"},
		SLI: alerting.SLI{WorkerAvailability: &alerting.WorkerAvailability{Script: "api-gateway-prod"}}}
	st, err := ev.SLOStatus(ctx, slo, false)
	if err != nil {
		t.Fatal(err)
	}
	// 6,000 invocations in the last hour, 120 exceptions; 500 a day ago: 6,500, 120 bad.
	if st.Counts != (alerting.Counts{Good: 6380, Total: 6500}) {
		t.Errorf("window counts %+v, want 6380 of 6500", st.Counts)
	}
	for _, r := range st.Rules {
		if r.ID == "slo/gateway/page-1h" && (!r.Firing || math.Abs(r.LongBurn-20) > 1e-9 || math.Abs(r.ShortBurn-20) > 1e-9) {
			t.Errorf("page-1h: %+v, want firing at burn 20", r)
		}
	}

	backlog := 1000.0
	rule := alerting.MetricRule{Name: "agent_backlog", Metric: alerting.Metric{QueueBacklog: &alerting.QueueMetric{Queue: "agent-jobs"}}, Above: &backlog, For: 10 * time.Minute, Severity: alerting.Ticket, To: []string{"slack"}}
	res, err := ev.CheckMetric(ctx, rule)
	if err != nil {
		t.Fatal(err)
	}
	if res.Value != 1100 || !res.Firing {
		t.Errorf("backlog: %v (firing %v), want 1100", res.Value, res.Firing)
	}
	// A queue without samples in the window: no data, never zero.
	if _, err := c.CreateQueue(ctx, "quiet-jobs"); err != nil {
		t.Fatal(err)
	}
	rule.Metric.QueueBacklog.Queue = "quiet-jobs"
	if res, err := ev.CheckMetric(ctx, rule); err != nil || !res.NoData || res.Firing {
		t.Errorf("quiet queue: %+v, %v", res, err)
	}
	rule.Metric.QueueBacklog.Queue = "missing"
	if _, err := ev.CheckMetric(ctx, rule); err == nil || !strings.Contains(err.Error(), `no queue named "missing"`) {
		t.Errorf("missing queue: %v", err)
	}
}

// TestAlertingMoreGraphQLOverHTTP: every other GraphQL query the rules make is accepted by
// the emulator's schema and reduced to the numbers worked out by hand.
func TestAlertingMoreGraphQLOverHTTP(t *testing.T) {
	a := newAccount(t, emulator.Options{Now: fixedClock()})
	c := a.client(t)
	ctx := context.Background()
	q, err := c.CreateQueue(ctx, "task-jobs")
	if err != nil {
		t.Fatal(err)
	}
	// Deliveries in the last 10 minutes: 90 acked (lag 2 s), 6 dead-lettered, 4 failed;
	// reads with lag 1,000 ms and 3,000 ms. One minute (8 minutes ago) had 4 s lag acks:
	// 10 of the 90.
	ts := func(d time.Duration) string { return alertNow.Add(-d).Format(time.RFC3339) }
	ops := []map[string]any{
		{"datetime": ts(5 * time.Minute), "queueId": q.ID, "actionType": "DeleteMessage", "consumerType": "worker", "outcome": "success", "lagTime": 2000, "sampleInterval": 80},
		{"datetime": ts(8 * time.Minute), "queueId": q.ID, "actionType": "DeleteMessage", "consumerType": "worker", "outcome": "success", "lagTime": 4000, "sampleInterval": 10},
		{"datetime": ts(5 * time.Minute), "queueId": q.ID, "actionType": "DeleteMessage", "consumerType": "worker", "outcome": "dlq", "sampleInterval": 6},
		{"datetime": ts(5 * time.Minute), "queueId": q.ID, "actionType": "DeleteMessage", "consumerType": "worker", "outcome": "fail", "sampleInterval": 4},
		{"datetime": ts(4 * time.Minute), "queueId": q.ID, "actionType": "ReadMessage", "consumerType": "worker", "outcome": "none", "lagTime": 1000},
		{"datetime": ts(4 * time.Minute), "queueId": q.ID, "actionType": "ReadMessage", "consumerType": "worker", "outcome": "none", "lagTime": 3000},
		{"datetime": ts(4 * time.Minute), "queueId": q.ID, "actionType": "WriteMessage", "consumerType": "", "outcome": "none"},
	}
	postAdmin(t, a, "queues", map[string]any{"operations": ops})

	var db struct {
		UUID string `json:"uuid"`
	}
	if _, err := c.Raw().Do(ctx, http.MethodPost, "accounts/"+LocalAccountID+"/d1/database", nil, map[string]any{"name": "monotask"}, &db); err != nil {
		t.Fatal(err)
	}
	var d1 []map[string]any
	for i := 1; i <= 10; i++ { // 100 ms .. 1,000 ms: nearest-rank P90 is 900 ms
		d1 = append(d1, map[string]any{"datetime": ts(time.Duration(i) * time.Minute), "databaseId": db.UUID, "queryBatchTimeMs": float64(i * 100)})
	}
	postAdmin(t, a, "d1", d1)

	// Wall time P99 per minute: 3 minutes at 150 ms, 1 at 400 ms.
	var inv []map[string]any
	for i, wall := range []float64{150000, 150000, 400000, 150000} {
		inv = append(inv, map[string]any{"datetime": ts(time.Duration(i+1)*time.Minute + 30*time.Second), "scriptName": "task-worker", "status": "success", "wallTimeUs": wall})
	}
	postAdmin(t, a, "workers", inv)

	src := cfSource{c}
	ev := &alerting.Evaluator{Source: src, Resolver: src, Account: LocalAccountID, Now: alertNow}
	ten := 10 * time.Minute
	check := func(name string, m alerting.Metric, want float64) {
		t.Helper()
		zero := 0.0
		res, err := ev.CheckMetric(ctx, alerting.MetricRule{Name: name, Metric: m, Above: &zero, For: ten, Severity: alerting.Ticket, To: []string{"x"}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if math.Abs(res.Value-want) > 1e-6 {
			t.Errorf("%s = %v, want %v", name, res.Value, want)
		}
	}
	check("dlq_ratio", alerting.Metric{QueueDLQRatio: &alerting.QueueMetric{Queue: "task-jobs"}}, 6.0/100)
	check("lag", alerting.Metric{QueueLag: &alerting.QueueMetric{Queue: "task-jobs"}}, 2000)
	check("d1_p90", alerting.Metric{D1QueryTime: &alerting.D1QueryTime{Database: "monotask", Quantile: "P90"}}, 900)

	window := 30 * 24 * time.Hour
	delivery := alerting.SLO{Name: "delivery", Objective: 95, Window: window, TicketTo: []string{"x"},
		SLI: alerting.SLI{QueueDelivery: &alerting.QueueDelivery{Queue: "task-jobs", LagThreshold: 3 * time.Second}}}
	st, err := ev.SLOStatus(ctx, delivery, false)
	if err != nil {
		t.Fatal(err)
	}
	// 100 deletes; good: the 80 acked within 3 s (the 10 at 4 s lag are late).
	if st.Counts != (alerting.Counts{Good: 80, Total: 100}) {
		t.Errorf("queue delivery counts %+v, want 80 of 100", st.Counts)
	}
	latency := alerting.SLO{Name: "task_p99", Objective: 99, Window: window, PageTo: []string{"x"},
		SLI: alerting.SLI{WorkerLatency: &alerting.WorkerLatency{Script: "task-worker", Quantile: "P99", Threshold: 200 * time.Millisecond}}}
	if err := latency.Validate(); err != nil {
		t.Fatal(err)
	}
	st, err = ev.SLOStatus(ctx, latency, false)
	if err != nil {
		t.Fatal(err)
	}
	// Four minutes with invocations, one of them over 200 ms.
	if st.Counts != (alerting.Counts{Good: 3, Total: 4}) {
		t.Errorf("worker latency slices %+v, want 3 of 4", st.Counts)
	}
}

func runIO() (IO, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}, &out, &errOut
}

// TestAlertsCheckAndStatusReports: a healthy hour is quiet (exit 0); an outage of 2 %
// errors over the last hour under a 99.9 % SLO burns the budget 20 times too fast: alerts
// check exits 3 naming the 1h/5m page rule and the burn rate 20.0, and slo status prints
// the budget left worked out by hand. Data goes over HTTP to the emulator.
func TestAlertsCheckAndStatusReports(t *testing.T) {
	slo := alerting.SLO{Name: "api_errors", Objective: 99.9, Window: 30 * 24 * time.Hour, PageTo: []string{"oncall"}, TicketTo: []string{"slack"},
		Runbook: "https://runbooks.example/api-errors",
		SLI:     alerting.SLI{DatasetRatio: &alerting.DatasetRatio{Dataset: apiColumns, Good: mustFilter(t, "status < 500"), Total: mustFilter(t, "route != '/health'")}}}
	ctx := context.Background()
	for _, outage := range []bool{false, true} {
		a := newAccount(t, emulator.Options{Now: fixedClock()})
		c := a.client(t)
		writePoints(t, c, outage, false)
		src := cfSource{c}
		ev := &alerting.Evaluator{Source: src, Resolver: src, Account: LocalAccountID, Now: alertNow}

		io, out, errOut := runIO()
		code := checkAndReport(ctx, ev, []alerting.SLO{slo}, nil, "text", io)
		if !outage {
			if code != ExitOK || !strings.Contains(out.String(), "Quiet: none of 3 rules fires (exit 0: quiet).") {
				t.Errorf("healthy: exit %d\n%s%s", code, out, errOut)
			}
			continue
		}
		// Last hour: 100 events a minute, 2 bad: 2 % over 1 h and over 5 m; budget 0.1 %:
		// burn rate 0.02 / 0.001 = 20. 6 h and 3 d hold only that hour too: 20 > 6, 20 > 1.
		if code != ExitPage {
			t.Errorf("outage: exit %d, want 3\n%s%s", code, out, errOut)
		}
		for _, want := range []string{
			"PAGE slo.api_errors page-1h: burn rate 20.0 over 1h and 20.0 over 5m, above 14.4\n  runbook: https://runbooks.example/api-errors\n  to: oncall\n",
			"PAGE slo.api_errors page-6h: burn rate 20.0 over 6h and 20.0 over 30m, above 6\n",
			"TICKET slo.api_errors ticket-3d: burn rate 20.0 over 3d and 20.0 over 6h, above 1\n",
			"3 of 3 rules fire (exit 3: page).",
		} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("alerts check output lacks %q:\n%s", want, out)
			}
		}
		io, out, _ = runIO()
		if code := checkAndReport(ctx, ev, []alerting.SLO{slo}, nil, "json", io); code != ExitPage {
			t.Errorf("json: exit %d", code)
		}
		var report struct {
			Schema string
			Exit   int
			Rules  []struct {
				ID           string
				Firing       bool
				LongBurnRate float64 `json:"long_burn_rate"`
			}
		}
		if err := json.Unmarshal(out.Bytes(), &report); err != nil || report.Schema != "flareops.alerts-check/v1" || report.Exit != 3 ||
			len(report.Rules) != 3 || report.Rules[0].ID != "slo/api_errors/page-1h" || !report.Rules[0].Firing || report.Rules[0].LongBurnRate != 20 {
			t.Errorf("json report %+v (%v):\n%s", report, err, out)
		}

		// Budget left by hand: 10 days ago 9,988 good events; the last hour 6,000 (health
		// checks excluded), 120 bad. 120 / 15,988 of a 0.001 budget: 1 − 7.5056... = −650.56 %.
		left := 1 - (120.0/15988)/0.001
		io, out, errOut = runIO()
		if code := statusAndReport(ctx, ev, []alerting.SLO{slo}, "text", "", io); code != ExitOK {
			t.Fatalf("slo status: exit %d\n%s", code, errOut)
		}
		wantLeft := fmt.Sprintf("budget left: %.3f %% of 0.1 %%", left*100)
		for _, want := range []string{"slo.api_errors: 99.9 % over 30d", "SLI:         99.249 % (15868 good of 15988)", wantLeft,
			"burn rates:  5m 20.0, 30m 20.0, 1h 20.0, 6h 20.0, 3d 20.0", "page-1h   FIRING  burn 20.0 over 1h and 20.0 over 5m, fires above 14.4"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("slo status lacks %q:\n%s", want, out)
			}
		}
		// A breached SLO is news, not an error: exit 0, also as HTML written to a file.
		file := t.TempDir() + "/status.html"
		io, _, errOut = runIO()
		if code := statusAndReport(ctx, ev, []alerting.SLO{slo}, "html", file, io); code != ExitOK {
			t.Fatalf("slo status -format html: exit %d\n%s", code, errOut)
		}
		page, err := os.ReadFile(file)
		if err != nil || !bytes.Contains(page, []byte("<svg")) || bytes.Contains(page, []byte("<script")) {
			t.Errorf("html report: %v, %d bytes", err, len(page))
		}
	}
}

// TestStatusExitsOneWhenItCannotReport: a query the API refuses (a dataset nobody wrote
// to has no table) is an error: exit 1 with the reason, for both commands.
func TestStatusExitsOneWhenItCannotReport(t *testing.T) {
	a := newAccount(t, emulator.Options{Now: fixedClock()})
	src := cfSource{a.client(t)}
	ev := &alerting.Evaluator{Source: src, Resolver: src, Account: LocalAccountID, Now: alertNow}
	ds := apiColumns
	ds.Name = "never_written"
	slo := alerting.SLO{Name: "x", Objective: 99, Window: 24 * time.Hour, PageTo: []string{"p"},
		SLI: alerting.SLI{DatasetRatio: &alerting.DatasetRatio{Dataset: ds, Good: mustFilter(t, "status < 500")}}}
	io, out, errOut := runIO()
	if code := statusAndReport(context.Background(), ev, []alerting.SLO{slo}, "text", "", io); code != ExitError || out.Len() != 0 || !strings.Contains(errOut.String(), "cannot evaluate slo x") {
		t.Errorf("slo status: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	io, _, errOut = runIO()
	if code := checkAndReport(context.Background(), ev, []alerting.SLO{slo}, nil, "text", io); code != ExitError {
		t.Errorf("alerts check: exit %d\n%s", code, errOut)
	}
}
