package aesql

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var aeTestNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// aeTestPoints: latency points of two services over the last two hours, with sample
// intervals other than 1 so that unweighted arithmetic gives wrong answers.
func aeTestPoints() []*aeRow {
	mk := func(ago time.Duration, svc string, status string, ms float64, si uint32) *aeRow {
		return &aeRow{dataset: "api_requests", p: &Point{
			Timestamp: aeTestNow.Add(-ago), SampleInterval: si, Index: svc,
			Blobs: []string{svc, status}, Doubles: []float64{ms},
		}}
	}
	return []*aeRow{
		mk(90*time.Minute, "api", "ok", 100, 1), // outside the last hour
		mk(50*time.Minute, "api", "ok", 120, 4),
		mk(40*time.Minute, "api", "ok", 480, 2),
		mk(30*time.Minute, "api", "error", 900, 1),
		mk(20*time.Minute, "api", "ok", 700, 3),
		mk(10*time.Minute, "web", "ok", 50, 10),
		mk(5*time.Minute, "web", "ok", 650, 1),
	}
}

func aeTestQuery(t *testing.T, sql string) (*Result, error) {
	t.Helper()
	q, err := aeParse(sql)
	if err != nil {
		return nil, err
	}
	return aeRun(q, aeTestPoints(), aeTestNow)
}

// aeRender runs sql and renders it in its FORMAT.
func aeRender(t *testing.T, sql string) string {
	t.Helper()
	q, err := aeParse(sql)
	if err != nil {
		t.Fatalf("parse %q: %v", sql, err)
	}
	res, err := aeRun(q, aeTestPoints(), aeTestNow)
	if err != nil {
		t.Fatalf("run %q: %v", sql, err)
	}
	f, err := aeLookupFormat(q.format)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	f.write(rec, res)
	return rec.Body.String()
}

func TestAnalyticsSQLOutput(t *testing.T) {
	tests := []struct {
		name, sql, want string
	}{
		{
			name: "SLO good/total over the last hour, weighted by _sample_interval",
			sql: `SELECT sum(if(double1 < 500, _sample_interval, 0)) AS good, sum(_sample_interval) AS total,
				sum(if(double1 < 500, _sample_interval, 0)) / sum(_sample_interval) AS ratio
				FROM api_requests WHERE timestamp > NOW() - INTERVAL '1' HOUR AND blob1 = 'api'`,
			// good = 4 + 2 = 6, total = 4 + 2 + 1 + 3 = 10; UInt64 sums are JSON strings.
			want: `{"meta":[{"name":"good","type":"UInt64"},{"name":"total","type":"UInt64"},{"name":"ratio","type":"Float64"}],` +
				`"data":[{"good":"6","total":"10","ratio":0.6}],"rows":1}` + "\n",
		},
		{
			name: "weighted p95 of double1 grouped by blob1",
			sql: `SELECT blob1 AS service, quantileExactWeighted(0.95)(double1, _sample_interval) AS p95
				FROM api_requests WHERE timestamp > now() - INTERVAL 1 HOUR GROUP BY service ORDER BY service FORMAT JSONEachRow`,
			// api: 120×4, 480×2, 700×3, 900×1 → total 10, threshold ceil(9.5)=10 → 900.
			// web: 50×10, 650×1 → total 11, threshold ceil(10.45)=11 → 650.
			want: `{"service":"api","p95":900}` + "\n" + `{"service":"web","p95":650}` + "\n",
		},
		{
			name: "time buckets with toStartOfInterval, positional ORDER BY, DESC",
			sql: `SELECT toStartOfInterval(timestamp, INTERVAL '30' MINUTE) AS bucket, count() AS n, sum(_sample_interval) AS weighted
				FROM api_requests GROUP BY bucket ORDER BY 1 DESC`,
			want: `{"meta":[{"name":"bucket","type":"DateTime"},{"name":"n","type":"UInt64"},{"name":"weighted","type":"UInt64"}],` +
				`"data":[{"bucket":"2026-03-10 11:30:00","n":"4","weighted":"15"},{"bucket":"2026-03-10 11:00:00","n":"2","weighted":"6"},` +
				`{"bucket":"2026-03-10 10:30:00","n":"1","weighted":"1"}],"rows":3}` + "\n",
		},
		{
			name: "unaliased columns are named like ClickHouse names them",
			sql:  `SELECT count(), sum(_sample_interval), avg(double1) > 400 FROM api_requests WHERE blob2 IN ('ok') FORMAT JSON`,
			want: `{"meta":[{"name":"count()","type":"UInt64"},{"name":"sum(_sample_interval)","type":"UInt64"},{"name":"greater(avg(double1), 400)","type":"UInt8"}],` +
				`"data":[{"count()":"6","sum(_sample_interval)":"21","greater(avg(double1), 400)":0}],"rows":1}` + "\n",
		},
		{
			name: "aggregates over no rows give one row",
			sql:  `SELECT count() AS n, sum(double1) AS s, avg(double1) AS a FROM api_requests WHERE blob1 = 'none'`,
			want: `{"meta":[{"name":"n","type":"UInt64"},{"name":"s","type":"Float64"},{"name":"a","type":"Float64"}],"data":[{"n":"0","s":0,"a":null}],"rows":1}` + "\n",
		},
		{
			name: "GROUP BY over no rows gives none; JSONEachRow is then empty",
			sql:  `SELECT blob1, count() FROM api_requests WHERE double1 > 10000 GROUP BY blob1 FORMAT JSONEachRow`,
			want: ``,
		},
		{
			name: "TabSeparated, LIMIT and OFFSET, BETWEEN and NOT IN",
			sql: `SELECT blob1, double1, timestamp FROM api_requests
				WHERE double1 BETWEEN 100 AND 700 AND blob2 NOT IN ('error') ORDER BY double1 DESC LIMIT 2 OFFSET 1 FORMAT TabSeparated`,
			want: "web\t650\t2026-03-10 11:55:00\napi\t480\t2026-03-10 11:20:00\n",
		},
		{
			name: "SELECT * lists every column in table order",
			sql:  `SELECT * FROM api_requests WHERE double1 = 50 FORMAT JSONEachRow`,
			want: `{"dataset":"api_requests","timestamp":"2026-03-10 11:50:00","_sample_interval":10,"index1":"web","blob1":"web","blob2":"ok",` +
				aeEmptyBlobs(3) + `"double1":50,` + aeZeroDoubles(2) + "}\n",
		},
		{
			name: "toDateTime of text, HAVING, NOT and OR",
			sql: `SELECT blob1 AS s, max(double1) AS worst FROM api_requests
				WHERE timestamp >= toDateTime('2026-03-10 11:00:00') AND NOT (blob2 = 'error' OR double1 < 60)
				GROUP BY s HAVING sum(_sample_interval) > 1 ORDER BY worst FORMAT JSONEachRow`,
			// web keeps only its 650 ms point (weight 1), which HAVING drops.
			want: `{"s":"api","worst":700}` + "\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, aeRender(t, tc.sql)); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

func aeEmptyBlobs(from int) string {
	var b strings.Builder
	for i := from; i <= 20; i++ {
		b.WriteString(`"blob` + strconv.Itoa(i) + `":"",`)
	}
	return b.String()
}

func aeZeroDoubles(from int) string {
	var parts []string
	for i := from; i <= 20; i++ {
		parts = append(parts, `"double`+strconv.Itoa(i)+`":0`)
	}
	return strings.Join(parts, ",")
}

func TestAnalyticsSQLQuantileExactWeighted(t *testing.T) {
	vals := []aeValue{aeF(30), aeF(10), aeF(20), aeF(30)}
	weights := []aeValue{aeU(aeTUInt32, 5), aeU(aeTUInt32, 1), aeU(aeTUInt32, 1), aeU(aeTUInt32, 3)}
	// Distinct values: 10×1, 20×1, 30×8 → total 10.
	for level, want := range map[float64]float64{0: 10, 0.1: 10, 0.15: 20, 0.2: 20, 0.21: 30, 0.5: 30, 1: 30} {
		if got := aeQuantile(vals, weights, level, aeTFloat); got.f != want {
			t.Errorf("quantile(%v) = %v, want %v", level, got.f, want)
		}
	}
	if got := aeQuantile(nil, nil, 0.5, aeTFloat); !got.isNaN() {
		t.Errorf("quantile of nothing = %v, want NaN", got.f)
	}
}

func TestAnalyticsSQLTime(t *testing.T) {
	ts := func(s string) int64 {
		tt, err := time.Parse("2006-01-02 15:04:05", s)
		if err != nil {
			t.Fatal(err)
		}
		return tt.Unix()
	}
	tests := []struct {
		name string
		got  int64
		want string
	}{
		{"minus one month clamps the day", aeAddInterval(ts("2026-03-31 10:00:00"), -1, "MONTH"), "2026-02-28 10:00:00"},
		{"plus one year", aeAddInterval(ts("2024-02-29 00:00:00"), 1, "YEAR"), "2025-02-28 00:00:00"},
		{"minus 90 minutes", aeAddInterval(ts("2026-03-10 00:30:00"), -90, "MINUTE"), "2026-03-09 23:00:00"},
		{"5-hour buckets count from midnight", aeStartOfInterval(ts("2026-03-10 23:30:00"), 5, "HOUR"), "2026-03-10 20:00:00"},
		{"15-minute buckets", aeStartOfInterval(ts("2026-03-10 23:44:59"), 15, "MINUTE"), "2026-03-10 23:30:00"},
		{"quarters", aeStartOfInterval(ts("2026-08-10 01:00:00"), 1, "QUARTER"), "2026-07-01 00:00:00"},
		{"2-day buckets from the epoch", aeStartOfInterval(ts("1970-01-04 12:00:00"), 2, "DAY"), "1970-01-03 00:00:00"},
	}
	for _, tc := range tests {
		if got := time.Unix(tc.got, 0).UTC().Format("2006-01-02 15:04:05"); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestAnalyticsSQLTypes(t *testing.T) {
	tests := []struct{ sql, want string }{
		{"SELECT 1 AS x FROM api_requests LIMIT 1", "UInt8"},
		{"SELECT -1 AS x FROM api_requests LIMIT 1", "Int8"},
		{"SELECT 300 + 1 AS x FROM api_requests LIMIT 1", "UInt32"},
		{"SELECT _sample_interval - 1 AS x FROM api_requests LIMIT 1", "Int64"},
		{"SELECT if(double1 > 1, _sample_interval, 0) AS x FROM api_requests LIMIT 1", "UInt32"},
		{"SELECT sum(double1 * _sample_interval) AS x FROM api_requests", "Float64"},
		{"SELECT count() / 2 AS x FROM api_requests", "Float64"},
		{"SELECT min(timestamp) AS x FROM api_requests", "DateTime"},
		{"SELECT toUnixTimestamp(timestamp) AS x FROM api_requests LIMIT 1", "UInt32"},
	}
	for _, tc := range tests {
		res, err := aeTestQuery(t, tc.sql)
		if err != nil {
			t.Errorf("%s: %v", tc.sql, err)
			continue
		}
		if got := res.cols[0].typ.String(); got != tc.want {
			t.Errorf("%s: type %s, want %s", tc.sql, got, tc.want)
		}
	}
}

// Anything outside the subset is refused with a message naming the problem.
func TestAnalyticsSQLRefusals(t *testing.T) {
	tests := []struct{ sql, want string }{
		{"SELECT count() FROM api_requests JOIN other ON 1", "JOIN"},
		{"SELECT count() FROM api_requests, other", "JOIN"},
		{"SELECT count() FROM api_requests UNION ALL SELECT count() FROM api_requests", "UNION"},
		{"SELECT median(double1) FROM api_requests", "unknown function median"},
		{"SELECT blob21 FROM api_requests", `unknown column or alias "blob21"`},
		{"SELECT double0 FROM api_requests", `unknown column or alias "double0"`},
		{"SELECT blob1, count() FROM api_requests", "blob1 is neither aggregated nor in GROUP BY"},
		{"SELECT count() FROM api_requests WHERE sum(double1) > 1", "not allowed in WHERE"},
		{"SELECT sum(count()) FROM api_requests", "inside another aggregate"},
		{"SELECT toStartOfInterval(timestamp, INTERVAL 1 WEEK) FROM api_requests", "WEEK"},
		{"SELECT count() FROM api_requests WHERE blob1 LIKE 'a%'", "LIKE"},
		{"SELECT count() FROM (SELECT * FROM api_requests)", "subqueries"},
		{"SELECT count() FROM api_requests WHERE blob1 = 1", "cannot compare"},
		{"SELECT quantileExactWeighted(1.5)(double1, _sample_interval) FROM api_requests", "between 0 and 1"},
		{"SELECT quantileExactWeighted(0.5)(double1, double2) FROM api_requests", "unsigned integer"},
		{"SELECT count() FROM api_requests ORDER BY 3", "out of range"},
		{"SELECT toDateTime(timestamp, 'Europe/Paris') FROM api_requests", "time zones"},
		{"SELECT count() FROM api_requests WHERE timestamp > '2026-03-10T10:00:00Z'", "cannot parse"},
		{"DELETE FROM api_requests", "only SELECT and SHOW TABLES"},
		{"SELECT count() FROM api_requests LIMIT -1", "non-negative integer"},
	}
	for _, tc := range tests {
		_, err := aeTestQuery(t, tc.sql)
		if _, ok := err.(*Error); !ok || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want an *Error containing %q", tc.sql, err, tc.want)
		}
	}
}

func TestAnalyticsSQLGroupedConversions(t *testing.T) {
	// A column wrapped in a conversion is still a column: not grouped, refused.
	if _, err := aeTestQuery(t, "SELECT toDateTime(timestamp), count() FROM api_requests"); err == nil || !strings.Contains(err.Error(), "timestamp is neither aggregated") {
		t.Errorf("ungrouped toDateTime(timestamp): error %v, want a refusal", err)
	}
	// The same conversion in GROUP BY is grouped.
	res, err := aeTestQuery(t, "SELECT toStartOfHour(timestamp) AS h, count() FROM api_requests GROUP BY toStartOfHour(timestamp)")
	if err != nil || len(res.rows) != 2 {
		t.Errorf("grouped toStartOfHour: %v rows, error %v; want 2 rows", res, err)
	}
}
