package cloudflare

import (
	"context"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/emulator"
)

// analyticsSeedRequests writes an hour and a half of request events: blob1 = service,
// blob2 = outcome, double1 = latency in ms, with sample intervals other than 1 (the
// emulator's clock is the wall clock here, so times are relative to srv.Now()).
func analyticsSeedRequests(t *testing.T, c *RawClient, now time.Time) {
	t.Helper()
	at := func(ago time.Duration, svc, outcome string, ms float64, si int) AnalyticsDataPoint {
		return AnalyticsDataPoint{Blobs: []string{svc, outcome}, Doubles: []float64{ms}, Indexes: []string{svc}, Timestamp: now.Add(-ago), SampleInterval: si}
	}
	points := []AnalyticsDataPoint{
		at(80*time.Minute, "api", "ok", 90, 5), // older than the last hour
		at(50*time.Minute, "api", "ok", 120, 4),
		at(40*time.Minute, "api", "ok", 480, 2),
		at(30*time.Minute, "api", "error", 900, 1),
		at(20*time.Minute, "api", "ok", 700, 3),
		at(10*time.Minute, "web", "ok", 50, 10),
		at(5*time.Minute, "web", "ok", 650, 1),
	}
	if err := c.WriteDataPoints(context.Background(), rawTestAccount, "requests", points...); err != nil {
		t.Fatalf("WriteDataPoints: %v", err)
	}
}

func TestAnalyticsSLOQueries(t *testing.T) {
	c, srv := rawEmulator(t, 0)
	ctx := context.Background()
	analyticsSeedRequests(t, c, srv.Now())

	// Latency SLI: good (under 500 ms) over total events in the last hour, weighted.
	res, err := c.QuerySQL(ctx, rawTestAccount, `
		SELECT sum(if(double1 < 500, _sample_interval, 0)) AS good,
		       sum(_sample_interval) AS total,
		       sum(if(double1 < 500, _sample_interval, 0)) / sum(_sample_interval) AS ratio
		FROM requests
		WHERE timestamp > NOW() - INTERVAL '1' HOUR`)
	if err != nil {
		t.Fatalf("QuerySQL: %v", err)
	}
	wantMeta := []SQLColumn{{"good", "UInt64"}, {"total", "UInt64"}, {"ratio", "Float64"}}
	if diff := cmp.Diff(wantMeta, res.Meta); diff != "" {
		t.Errorf("meta (-want +got):\n%s", diff)
	}
	// good = 4 + 2 + 10 = 16 of total 4 + 2 + 1 + 3 + 10 + 1 = 21; UInt64 comes as strings.
	if diff := cmp.Diff([]map[string]any{{"good": "16", "total": "21", "ratio": 16.0 / 21.0}}, res.Data); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
	if good, err := res.Float(0, "good"); err != nil || good != 16 {
		t.Errorf("Float(good) = %v, %v; want 16", good, err)
	}

	// Weighted p95 latency per service.
	res, err = c.QuerySQL(ctx, rawTestAccount, `
		SELECT blob1 AS service, quantileExactWeighted(0.95)(double1, _sample_interval) AS p95,
		       sum(_sample_interval) AS events
		FROM requests
		WHERE timestamp > NOW() - INTERVAL '1' HOUR
		GROUP BY service
		ORDER BY p95 DESC`)
	if err != nil {
		t.Fatalf("QuerySQL p95: %v", err)
	}
	wantP95 := []map[string]any{
		{"service": "api", "p95": 900.0, "events": "10"},
		{"service": "web", "p95": 650.0, "events": "11"},
	}
	if diff := cmp.Diff(wantP95, res.Data); diff != "" {
		t.Errorf("p95 by service (-want +got):\n%s", diff)
	}

	// Availability over the whole window, including the older point.
	res, err = c.QuerySQL(ctx, rawTestAccount, `SELECT sum(if(blob2 = 'error', _sample_interval, 0)) AS bad, sum(_sample_interval) AS total FROM requests`)
	if err != nil {
		t.Fatalf("QuerySQL availability: %v", err)
	}
	if diff := cmp.Diff([]map[string]any{{"bad": "1", "total": "26"}}, res.Data); diff != "" {
		t.Errorf("availability (-want +got):\n%s", diff)
	}

	res, err = c.QuerySQL(ctx, rawTestAccount, "SHOW TABLES")
	if err != nil {
		t.Fatalf("SHOW TABLES: %v", err)
	}
	if diff := cmp.Diff([]map[string]any{{"dataset": "requests"}}, res.Data); diff != "" {
		t.Errorf("SHOW TABLES (-want +got):\n%s", diff)
	}
}

func TestAnalyticsGoWriter(t *testing.T) {
	c, srv := rawEmulator(t, 0)
	err := srv.WriteDataPoints("jobs", []emulator.DataPoint{
		{Blobs: []string{"done"}, Doubles: []float64{1.5}, SampleInterval: 4},
		{Blobs: []string{"failed"}, Doubles: []float64{0.5}},
	})
	if err != nil {
		t.Fatalf("WriteDataPoints: %v", err)
	}
	if err := srv.WriteDataPoints("jobs", []emulator.DataPoint{{Doubles: make([]float64, 21)}}); err == nil {
		t.Errorf("21 doubles were accepted, want an error")
	}
	res, err := c.QuerySQL(context.Background(), rawTestAccount, "SELECT blob1, _sample_interval AS si, double1 FROM jobs ORDER BY blob1")
	if err != nil {
		t.Fatalf("QuerySQL: %v", err)
	}
	want := []map[string]any{{"blob1": "done", "si": 4.0, "double1": 1.5}, {"blob1": "failed", "si": 1.0, "double1": 0.5}}
	if diff := cmp.Diff(want, res.Data); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestAnalyticsRetention(t *testing.T) {
	c, srv := rawEmulator(t, 0)
	now := srv.Now()
	err := srv.WriteDataPoints("jobs", []emulator.DataPoint{{Timestamp: now.AddDate(0, 0, -80)}, {Timestamp: now.AddDate(0, 0, -10)}})
	if err != nil {
		t.Fatalf("WriteDataPoints: %v", err)
	}
	if err := srv.WriteDataPoints("jobs", []emulator.DataPoint{{Timestamp: now.AddDate(0, -4, 0)}}); err == nil {
		t.Errorf("a point older than the 3-month retention was accepted")
	}
	srv.Advance(20 * 24 * time.Hour) // the 80-day-old point is now past 3 months
	res, err := c.QuerySQL(context.Background(), rawTestAccount, "SELECT count() AS n FROM jobs")
	if err != nil {
		t.Fatalf("QuerySQL: %v", err)
	}
	if n, _ := res.Float(0, "n"); n != 1 {
		t.Errorf("points after 20 more days = %v, want 1", n)
	}
}

func TestAnalyticsEmptyWindowIsNaN(t *testing.T) {
	c, srv := rawEmulator(t, 0)
	analyticsSeedRequests(t, c, srv.Now().Add(-2*time.Hour))
	res, err := c.QuerySQL(context.Background(), rawTestAccount, `SELECT sum(_sample_interval) AS total,
		sum(if(double1 < 500, _sample_interval, 0)) / sum(_sample_interval) AS ratio
		FROM requests WHERE timestamp > NOW() - INTERVAL '1' HOUR`)
	if err != nil {
		t.Fatalf("QuerySQL: %v", err)
	}
	if ratio, err := res.Float(0, "ratio"); err != nil || !math.IsNaN(ratio) {
		t.Errorf("ratio over no events = %v, %v; want NaN (0/0, sent as null)", ratio, err)
	}
}

func TestAnalyticsErrors(t *testing.T) {
	c, srv := rawEmulator(t, 0)
	ctx := context.Background()
	analyticsSeedRequests(t, c, srv.Now())
	tests := []struct {
		name, sql, want string
	}{
		{"unknown dataset", "SELECT count() FROM nowhere", `unknown table "nowhere"`},
		{"join", "SELECT count() FROM requests JOIN other USING (blob1)", "JOIN is not supported"},
		{"unknown function", "SELECT countIf(double1 > 1) FROM requests", "unknown function countIf"},
		{"unknown column", "SELECT blob99 FROM requests", `unknown column or alias "blob99"`},
		{"not FORMAT JSON", "SELECT count() FROM requests FORMAT JSONEachRow", "not FORMAT JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.QuerySQL(ctx, rawTestAccount, tc.sql)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if tc.name != "not FORMAT JSON" {
				rawWantAPIError(t, err, http.StatusUnprocessableEntity, 0)
			}
		})
	}

	t.Run("write limits", func(t *testing.T) {
		tooMany := make([]string, 21)
		err := c.WriteDataPoints(ctx, rawTestAccount, "requests", AnalyticsDataPoint{Blobs: tooMany})
		rawWantAPIError(t, err, http.StatusBadRequest, 10001)
		err = c.WriteDataPoints(ctx, rawTestAccount, "requests", AnalyticsDataPoint{Indexes: []string{strings.Repeat("x", 97)}})
		rawWantAPIError(t, err, http.StatusBadRequest, 10001)
		err = c.WriteDataPoints(ctx, rawTestAccount, "bad-name", AnalyticsDataPoint{})
		rawWantAPIError(t, err, http.StatusBadRequest, 10001)
	})
}
