package cloudflare

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// paceRequests sends n requests through the pacer's bookkeeping (admit, then the answer)
// at the pace its bound allows, on a simulated clock, and returns the wall time it took.
func paceRequests(tb testing.TB, limit int, window time.Duration, n int) time.Duration {
	tb.Helper()
	p := NewPacer(limit, window, nil)
	now := time.Unix(1_700_000_000, 0)
	step := window / time.Duration(limit) * 101 / 100
	if step <= 0 {
		step = time.Nanosecond
	}
	resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{}}
	start := time.Now()
	for i := 0; i < n; i++ {
		for {
			wait, ok := p.reserve(now)
			if ok {
				break
			}
			if wait <= 0 {
				tb.Fatalf("request %d refused with no wait and nothing in flight", i)
			}
			now = now.Add(wait)
		}
		now = now.Add(step)
		p.answered(now, resp)
	}
	return time.Since(start)
}

// BenchmarkPacerCostPerRequest is the pacer's own cost of one request (ns/op) under a
// bound of 1,200 per 5 minutes (Cloudflare's) and of 100,000,000 per 5 minutes, where every
// answer of the run stays within the window. Its cost must not depend on the limit.
func BenchmarkPacerCostPerRequest(b *testing.B) {
	for _, limit := range []int{1200, 100_000_000} {
		b.Run(fmt.Sprintf("limit=%d/5m", limit), func(b *testing.B) {
			b.ReportAllocs()
			paceRequests(b, limit, 5*time.Minute, b.N)
		})
	}
}

// BenchmarkPacerLimitRatio times 50,000 requests under each bound and reports the ratio
// of the high limit's time to Cloudflare's (about 1 when the cost does not depend on the
// limit; with a slice copied on every answer it was in the hundreds).
func BenchmarkPacerLimitRatio(b *testing.B) {
	const n = 50_000
	var low, high time.Duration
	for i := 0; i < b.N; i++ {
		low += paceRequests(b, 1200, 5*time.Minute, n)
		high += paceRequests(b, 100_000_000, 5*time.Minute, n)
	}
	b.ReportMetric(float64(high)/float64(low), "high/low-time")
	b.ReportMetric(float64(low.Nanoseconds())/float64(b.N*n), "ns/request@1200")
	b.ReportMetric(float64(high.Nanoseconds())/float64(b.N*n), "ns/request@1e8")
}
