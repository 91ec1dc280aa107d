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
