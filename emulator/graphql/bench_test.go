package graphql

import (
	"testing"
	"time"
)

// BenchmarkWorkers30Days is the largest query an SLO makes: 30 days of a Worker's
// invocations (one success and one error sample per minute, 86,400 events) in hourly
// buckets by status.
func BenchmarkWorkers30Days(b *testing.B) {
	var ev Events
	var in []WorkerInvocation
	for m := 1; m <= 30*24*60; m++ {
		at := testNow.Add(-time.Duration(m) * time.Minute)
		in = append(in,
			WorkerInvocation{Datetime: at, ScriptName: "api", Status: "success", WallTimeUs: float64(m % 977), SampleInterval: 50},
			WorkerInvocation{Datetime: at, ScriptName: "api", Status: "scriptThrewException", WallTimeUs: 900000})
	}
	if err := ev.AddWorkers(testNow, in); err != nil {
		b.Fatal(err)
	}
	q := workers(`limit: 10000, filter: {scriptName: "api", datetime_geq: "2026-02-08T12:00:00Z", datetime_lt: "2026-03-10T12:00:00Z"}`,
		`dimensions { datetimeHour status } sum { requests errors } quantiles { wallTimeP99 }`)
	svc := NewService(-1, 0)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if got := serve(b, svc, ev, q, nil); got.status != 200 {
			b.Fatalf("HTTP %d %.300s", got.status, got.body)
		}
	}
}
