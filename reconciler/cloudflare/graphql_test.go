package cloudflare

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/emulator/graphql"
)

// gqlNow is the emulator clock of these tests: it stands still, so buckets and ranges
// are exact.
var gqlNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// gqlEmulator is an emulator on the still clock gqlNow (opts may set more), and a
// RawClient on it.
func gqlEmulator(t *testing.T, opts emulator.Options) (*RawClient, *emulator.Server) {
	t.Helper()
	emulatorOnly(t, "it seeds the emulator's analytics events on its fixed clock")
	opts.Now = func() time.Time { return gqlNow }
	if opts.RateLimit == 0 {
		opts.RateLimit = -1
	}
	srv, err := emulator.New(opts)
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("emulator Close: %v", err)
		}
	})
	return &RawClient{BaseURL: hs.URL + "/client/v4", Token: "test-token", HTTP: hs.Client()}, srv
}

// seedWorkers writes an hour of api invocations: per minute 98 successes (wall time
// 20 ms, sampled 1 in 49) and 2 exceptions (wall time 900 ms, unsampled), plus another
// script that must not be counted.
func seedWorkers(t *testing.T, srv *emulator.Server, now time.Time) {
	t.Helper()
	var evs []graphql.WorkerInvocation
	for m := 60; m >= 1; m-- {
		at := now.Add(-time.Duration(m) * time.Minute)
		evs = append(evs,
			graphql.WorkerInvocation{Datetime: at, ScriptName: "api", Status: "success", WallTimeUs: 20000, SampleInterval: 49},
			graphql.WorkerInvocation{Datetime: at.Add(time.Second), ScriptName: "api", Status: "success", WallTimeUs: 20000, SampleInterval: 49},
			graphql.WorkerInvocation{Datetime: at.Add(2 * time.Second), ScriptName: "api", Status: "scriptThrewException", WallTimeUs: 900000},
			graphql.WorkerInvocation{Datetime: at.Add(3 * time.Second), ScriptName: "api", Status: "exceededResources", WallTimeUs: 900000},
			graphql.WorkerInvocation{Datetime: at, ScriptName: "web", Status: "internalError", SampleInterval: 1000},
		)
	}
	if err := srv.AddWorkerInvocations(evs...); err != nil {
		t.Fatalf("AddWorkerInvocations: %v", err)
	}
}

func TestGraphQLWorkerInvocations(t *testing.T) {
	c, srv := gqlEmulator(t, emulator.Options{})
	now := gqlNow
	seedWorkers(t, srv, now)
	ctx := context.Background()

	hour := TimeRange{From: now.Add(-time.Hour), To: now}
	got, err := c.WorkerInvocations(ctx, rawTestAccount, WorkerInvocationsQuery{Script: "api", Range: hour, WallTimeQuantile: "P99"})
	if err != nil {
		t.Fatalf("WorkerInvocations: %v", err)
	}
	// 60 minutes × (98 + 2): the sample intervals are counted, not the samples.
	want := []WorkerInvocationsBucket{{Start: hour.From, Requests: 6000, Errors: 120,
		ByStatus: map[string]uint64{"success": 5880, "scriptThrewException": 60, "exceededResources": 60}, WallTimeUs: 900000}}
	if diff := cmp.Diff(want, got.Buckets); diff != "" {
		t.Errorf("one bucket (-want +got):\n%s", diff)
	}
	// P90 lies in the successes: 98 % of the weight is at 20 ms.
	got, err = c.WorkerInvocations(ctx, rawTestAccount, WorkerInvocationsQuery{Script: "api", Range: hour, WallTimeQuantile: "P90"})
	if err != nil || len(got.Buckets) != 1 || got.Buckets[0].WallTimeUs != 20000 {
		t.Fatalf("P90 = %+v, %v; want 20000 µs", got, err)
	}

	// Minute buckets over the last 5 minutes: five buckets of 100 requests, 2 errors.
	last5 := TimeRange{From: now.Add(-5 * time.Minute), To: now}
	got, err = c.WorkerInvocations(ctx, rawTestAccount, WorkerInvocationsQuery{Script: "api", Range: last5, Bucket: time.Minute})
	if err != nil {
		t.Fatalf("minute buckets: %v", err)
	}
	if len(got.Buckets) != 5 {
		t.Fatalf("got %d minute buckets, want 5: %+v", len(got.Buckets), got.Buckets)
	}
	for i, b := range got.Buckets {
		if !b.Start.Equal(last5.From.Add(time.Duration(i)*time.Minute)) || b.Requests != 100 || b.Errors != 2 || !math.IsNaN(b.WallTimeUs) {
			t.Errorf("bucket %d = %+v; want start %s, 100 requests, 2 errors, no wall time", i, b, last5.From.Add(time.Duration(i)*time.Minute))
		}
	}

	// Status filter: only exceptions.
	got, err = c.WorkerInvocations(ctx, rawTestAccount, WorkerInvocationsQuery{Script: "api", Range: hour, Statuses: []string{"scriptThrewException"}})
	if req, errs, ok := got.Totals(); err != nil || !ok || req != 60 || errs != 60 {
		t.Errorf("status_in: %d requests %d errors (data %v), %v; want 60/60", req, errs, ok, err)
	}

	// No invocations: no buckets, which is not zero requests.
	got, err = c.WorkerInvocations(ctx, rawTestAccount, WorkerInvocationsQuery{Script: "nobody", Range: hour})
	if _, _, ok := got.Totals(); err != nil || ok {
		t.Errorf("unknown script: data %v, %v; want no data", ok, err)
	}
}

func TestGraphQLWorkerInvocationsRefusals(t *testing.T) {
	c, _ := gqlEmulator(t, emulator.Options{})
	now := gqlNow
	ctx := context.Background()
	hour := TimeRange{From: now.Add(-time.Hour), To: now}
	for _, tc := range []struct {
		name string
		q    WorkerInvocationsQuery
		want string
	}{
		{"P95", WorkerInvocationsQuery{Script: "api", Range: hour, WallTimeQuantile: "P95"}, "no P95 wall time; use P90 or P99"},
		{"bucket", WorkerInvocationsQuery{Script: "api", Range: hour, Bucket: 5 * time.Minute}, "bucket 5m0s is not one of"},
		{"empty range", WorkerInvocationsQuery{Script: "api", Range: TimeRange{From: now, To: now}}, "is empty"},
		{"range too large", WorkerInvocationsQuery{Script: "api", Range: TimeRange{From: now.Add(-40 * 24 * time.Hour), To: now}}, "query time range is too large"},
		{"too old", WorkerInvocationsQuery{Script: "api", Range: TimeRange{From: now.Add(-100 * 24 * time.Hour), To: now.Add(-99 * 24 * time.Hour)}}, "cannot request data older than 7948800s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.WorkerInvocations(ctx, rawTestAccount, tc.q)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want it to say %q", err, tc.want)
			}
		})
	}
	// The emulator's refusals arrive as *GraphQLError with the documented status.
	_, err := c.WorkerInvocations(ctx, rawTestAccount, WorkerInvocationsQuery{Script: "api", Range: TimeRange{From: now.Add(-40 * 24 * time.Hour), To: now}})
	var ge *GraphQLError
	if !errors.As(err, &ge) || ge.Status != http.StatusBadRequest || ge.Paths[0] != "viewer.accounts.0.rows" {
		t.Fatalf("err = %#v; want a 400 GraphQLError at viewer.accounts.0.rows", err)
	}
}

const (
	gqlQueue = "0123456789abcdef0123456789abcdef"
	gqlIdle  = "fedcba9876543210fedcba9876543210"
	gqlDB    = "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"
)

func TestGraphQLQueueDelivery(t *testing.T) {
	c, srv := gqlEmulator(t, emulator.Options{})
	now := gqlNow
	ctx := context.Background()
	op := func(ago time.Duration, action, consumer, outcome string, lag, retries float64, si uint32) graphql.QueueOperation {
		return graphql.QueueOperation{Datetime: now.Add(-ago), QueueID: gqlQueue, ActionType: action, ConsumerType: consumer, Outcome: outcome, LagTimeMs: lag, RetryCount: retries, SampleInterval: si}
	}
	if err := srv.AddQueueOperations(
		op(50*time.Minute, "WriteMessage", "", "", 0, 0, 100),
		op(49*time.Minute, "ReadMessage", "worker", "", 400, 0, 100),
		op(48*time.Minute, "DeleteMessage", "worker", "success", 1000, 0, 90),
		op(47*time.Minute, "DeleteMessage", "worker", "dlq", 4000, 3, 6),
		op(10*time.Minute, "DeleteMessage", "worker", "fail", 2000, 3, 4),
		op(2*time.Hour, "DeleteMessage", "worker", "dlq", 9000, 3, 50), // outside the hour
	); err != nil {
		t.Fatalf("AddQueueOperations: %v", err)
	}
	hour := TimeRange{From: now.Add(-time.Hour), To: now}
	got, err := c.QueueDelivery(ctx, rawTestAccount, QueueMetricsQuery{QueueID: gqlQueue, Range: hour})
	if err != nil {
		t.Fatalf("QueueDelivery: %v", err)
	}
	delivered, dlq, failed, ok := got.Totals()
	if !ok || delivered != 90 || dlq != 6 || failed != 4 {
		t.Errorf("Totals = %d/%d/%d (data %v); want 90 delivered, 6 DLQ, 4 failed", delivered, dlq, failed, ok)
	}
	b := got.Buckets[0]
	if b.Written != 100 || b.Read != 100 {
		t.Errorf("written %d read %d; want 100 and 100", b.Written, b.Read)
	}
	// Lag weighted by messages over reads and deletes: (100·400 + 90·1000 + 6·4000 + 4·2000) / 200.
	if wantLag := (100*400.0 + 90*1000 + 6*4000 + 4*2000) / 200; math.Abs(b.LagMs-wantLag) > 1e-9 {
		t.Errorf("lag = %v ms; want %v", b.LagMs, wantLag)
	}
	if wantRetries := (6*3.0 + 4*3) / 100; math.Abs(b.RetryCount-wantRetries) > 1e-9 {
		t.Errorf("retries = %v; want %v", b.RetryCount, wantRetries)
	}

	// Hour buckets over two hours: the older DLQ burst is its own bucket.
	got, err = c.QueueDelivery(ctx, rawTestAccount, QueueMetricsQuery{QueueID: gqlQueue, Range: TimeRange{From: now.Add(-2 * time.Hour), To: now}, Bucket: time.Hour})
	if err != nil || len(got.Buckets) != 2 || got.Buckets[0].DLQ != 50 || got.Buckets[1].DLQ != 6 {
		t.Fatalf("hour buckets = %+v, %v; want DLQ 50 then 6", got, err)
	}

	// A queue without operations: no data, not zero.
	got, err = c.QueueDelivery(ctx, rawTestAccount, QueueMetricsQuery{QueueID: gqlIdle, Range: hour})
	if _, _, _, ok := got.Totals(); err != nil || ok || len(got.Buckets) != 0 {
		t.Errorf("idle queue: %+v, %v; want no buckets", got, err)
	}
	if _, ok := got.Lag(); ok {
		t.Error("idle queue has a lag; want none")
	}
}

func TestGraphQLQueueBacklog(t *testing.T) {
	c, srv := gqlEmulator(t, emulator.Options{})
	now := gqlNow
	ctx := context.Background()
	var samples []graphql.QueueBacklog
	for m := 1; m <= 10; m++ {
		samples = append(samples, graphql.QueueBacklog{Datetime: now.Add(-time.Duration(m) * time.Minute), QueueID: gqlQueue, Messages: float64(1000 + 100*m), Bytes: 10})
	}
	if err := srv.AddQueueBacklog(samples...); err != nil {
		t.Fatalf("AddQueueBacklog: %v", err)
	}
	got, err := c.QueueBacklog(ctx, rawTestAccount, QueueMetricsQuery{QueueID: gqlQueue, Range: TimeRange{From: now.Add(-5 * time.Minute), To: now}, Bucket: time.Minute})
	if err != nil {
		t.Fatalf("QueueBacklog: %v", err)
	}
	want := []QueueBacklogPoint{}
	for m := 5; m >= 1; m-- {
		want = append(want, QueueBacklogPoint{Start: now.Add(-time.Duration(m) * time.Minute), Messages: float64(1000 + 100*m), Bytes: 10})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("backlog (-want +got):\n%s", diff)
	}
	got, err = c.QueueBacklog(ctx, rawTestAccount, QueueMetricsQuery{QueueID: gqlIdle, Range: TimeRange{From: now.Add(-5 * time.Minute), To: now}})
	if err != nil || len(got) != 0 {
		t.Errorf("idle queue backlog = %+v, %v; want no points (no data)", got, err)
	}
}

func TestGraphQLD1QueryTime(t *testing.T) {
	c, srv := gqlEmulator(t, emulator.Options{})
	now := gqlNow
	ctx := context.Background()
	var evs []graphql.D1Query
	// Per minute: 9 fast batches of 2 ms standing for 10 each, one slow one of 250 ms.
	for m := 1; m <= 15; m++ {
		at := now.Add(-time.Duration(m) * time.Minute)
		for i := 0; i < 9; i++ {
			evs = append(evs, graphql.D1Query{Datetime: at, DatabaseID: gqlDB, ReadQueries: 1, QueryBatchTimeMs: 2, SampleInterval: 10})
		}
		evs = append(evs, graphql.D1Query{Datetime: at, DatabaseID: gqlDB, WriteQueries: 3, QueryBatchTimeMs: 250})
	}
	if err := srv.AddD1Queries(evs...); err != nil {
		t.Fatalf("AddD1Queries: %v", err)
	}
	got, err := c.D1QueryTime(ctx, rawTestAccount, D1QueryTimeQuery{DatabaseID: gqlDB, Range: TimeRange{From: now.Add(-15 * time.Minute), To: now}, Bucket: 5 * time.Minute})
	if err != nil {
		t.Fatalf("D1QueryTime: %v", err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d buckets, want 3: %+v", len(got), got)
	}
	for _, b := range got {
		// 5 minutes × (90 + 1) batches; the slow one weighs 1 of 91, so P90 is fast.
		wantAvg := (90*2.0 + 250) / 91
		if b.Batches != 455 || b.ReadQueries != 450 || b.WriteQueries != 15 || b.P50Ms != 2 || b.P90Ms != 2 || math.Abs(b.AvgMs-wantAvg) > 1e-9 {
			t.Errorf("bucket %+v; want 455 batches, 450 reads, 15 writes, P50 = P90 = 2 ms, avg %v", b, wantAvg)
		}
	}
	got, err = c.D1QueryTime(ctx, rawTestAccount, D1QueryTimeQuery{DatabaseID: "00000000-0000-4000-8000-000000000000", Range: TimeRange{From: now.Add(-15 * time.Minute), To: now}})
	if err != nil || len(got) != 0 {
		t.Errorf("idle database = %+v, %v; want no buckets", got, err)
	}
}

// Values travel as variables: quotes, backslashes, -- and ; in a script name reach the
// emulator as a literal value that matches nothing, instead of changing the query.
func TestGraphQLValuesAreLiteral(t *testing.T) {
	c, srv := gqlEmulator(t, emulator.Options{})
	seedWorkers(t, srv, gqlNow)
	hour := TimeRange{From: gqlNow.Add(-time.Hour), To: gqlNow}
	for _, script := range []string{`api" , scriptName_neq: "x`, `api\`, `api'--`, `api"; } } }`, `%`} {
		got, err := c.WorkerInvocations(context.Background(), rawTestAccount, WorkerInvocationsQuery{Script: script, Range: hour, Statuses: []string{`success") {`}})
		if err != nil {
			t.Fatalf("script %q: %v", script, err)
		}
		if _, _, ok := got.Totals(); ok {
			t.Errorf("script %q matched invocations: %+v", script, got.Buckets)
		}
	}
}

func TestGraphQLErrors(t *testing.T) {
	c, srv := gqlEmulator(t, emulator.Options{})
	ctx := context.Background()

	// A query the schema refuses: *GraphQLError with the status and Cloudflare's words.
	err := c.GraphQL(ctx, `{ viewer { accounts(filter: {accountTag: "`+rawTestAccount+`"}) { workersInvocationsAdaptive(limit: 1, filter: {}) { quantiles { wallTimeP95 } } } } }`, nil, nil)
	var ge *GraphQLError
	if !errors.As(err, &ge) || ge.Status != http.StatusBadRequest || !strings.Contains(ge.Messages[0], `unknown field "wallTimeP95"`) || ge.RateLimited() {
		t.Fatalf("err = %v; want a 400 GraphQLError about wallTimeP95", err)
	}

	// The budget: IsGraphQLRateLimited, after the retries the client is allowed.
	srv.SetGraphQLBudget(1, 5*time.Minute)
	q := WorkerInvocationsQuery{Script: "api", Range: TimeRange{From: gqlNow.Add(-time.Hour), To: gqlNow}}
	if _, err := c.WorkerInvocations(ctx, rawTestAccount, q); err != nil {
		t.Fatalf("first query: %v", err)
	}
	_, err = c.WorkerInvocations(ctx, rawTestAccount, q)
	if !IsGraphQLRateLimited(err) || !strings.Contains(err.Error(), "rate limiter budget depleted") {
		t.Fatalf("err = %v; want the budget error", err)
	}
	srv.SetGraphQLBudget(-1, 0)

	// A bad token: 401 Unauthorized, in the GraphQL shape.
	bad, _ := gqlEmulator(t, emulator.Options{Token: "right"})
	bad.Token = "wrong"
	err = bad.GraphQL(ctx, `{ viewer { accounts(filter: {accountTag: "`+rawTestAccount+`"}) { settings { d1AnalyticsAdaptiveGroups { maxPageSize } } } } }`, nil, nil)
	if !errors.As(err, &ge) || ge.Status != http.StatusUnauthorized || ge.Messages[0] != "Unauthorized" {
		t.Fatalf("bad token: %v; want a 401 GraphQLError Unauthorized", err)
	}
	// An answer in the v4 envelope (here an injected 503 of the API's front door) is an
	// *APIError.
	srv.SetFaults(emulator.Faults{Seed: 1, FailRate: 1})
	err = c.GraphQL(ctx, `{ viewer { __typename } }`, nil, nil)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable {
		t.Fatalf("front-door 503: %v; want an *APIError 503", err)
	}
}

// The GraphQL readers go through the Client's pacer and retrier like every request: a
// 429 injected by the emulator is retried, and the requests are counted.
func TestGraphQLPacedLikeEveryRequest(t *testing.T) {
	_, srv := gqlEmulator(t, emulator.Options{RateLimit: 1200, RateWindow: 5 * time.Minute})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	client, err := New(Config{BaseURL: hs.URL + "/client/v4", Token: "tok", AccountID: rawTestAccount})
	if err != nil {
		t.Fatal(err)
	}
	seedWorkers(t, srv, gqlNow)
	srv.SetFaults(emulator.Faults{Seed: 1, Burst429: 1})
	got, err := client.WorkerInvocations(context.Background(), WorkerInvocationsQuery{Script: "api", Range: TimeRange{From: gqlNow.Add(-time.Hour), To: gqlNow}})
	if err != nil {
		t.Fatalf("WorkerInvocations through Client: %v", err)
	}
	if req, _, _ := got.Totals(); req != 6000 {
		t.Errorf("requests = %d; want 6000", req)
	}
	if client.Requests() != 2 || client.Throttled() != 1 {
		t.Errorf("client sent %d requests with %d throttled; want 2 and 1 (the injected 429 retried)", client.Requests(), client.Throttled())
	}
}

// A spent GraphQL budget is GraphQL's own: the client neither retries the query for
// minutes nor stops its REST requests for it.
func TestGraphQLBudgetDoesNotStopTheClient(t *testing.T) {
	srv, err := emulator.New(emulator.Options{Now: func() time.Time { return gqlNow }})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	c, err := New(Config{BaseURL: hs.URL + "/client/v4", Token: "test-token", AccountID: rawTestAccount}) // default retries
	if err != nil {
		t.Fatal(err)
	}
	srv.SetGraphQLBudget(1, 5*time.Minute)
	q := WorkerInvocationsQuery{Script: "api", Range: TimeRange{From: gqlNow.Add(-time.Hour), To: gqlNow}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.WorkerInvocations(ctx, q); err != nil {
		t.Fatalf("first query: %v", err)
	}
	if _, err := c.WorkerInvocations(ctx, q); !IsGraphQLRateLimited(err) {
		t.Fatalf("second query: %v; want the budget error", err)
	}
	if _, err := c.ListQueues(ctx); err != nil {
		t.Fatalf("a REST request after the GraphQL budget ran out: %v (the pacer must not block on GraphQL's 429)", err)
	}
	if n := srv.Counts().ByRoute["POST /client/v4/graphql"]; n != 2 {
		t.Errorf("GraphQL requests = %d, want 2 (a spent budget is not retried)", n)
	}
}
