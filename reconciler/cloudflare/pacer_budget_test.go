package cloudflare

import (
	"net/http"
	"testing"
	"time"
)

// Budget reports the requests left under the quota that leaves the fewest, what the server
// says is left when that is lower, and none while a 429 blocks.
func TestPacerBudget(t *testing.T) {
	pc := newPacerClock(t, 0, 0)
	if b := pc.p.Budget(); b.Left != 1200 || b.Quota != 1200 || b.Window != 5*time.Minute {
		t.Errorf("before any answer: %+v, want Cloudflare's documented 1200 per 5m", b)
	}
	pc.send(1)
	pc.answer(200, "Ratelimit-Policy", `"burst";q=60;w=60`, "Ratelimit", `"default";r=40;t=30`)
	pc.send(3)
	// Our own count: 60 - 1 answered - 3 in flight = 56; the server said 40 were left
	// when 0 were in flight, and 3 left since: 37.
	if b := pc.p.Budget(); b.Left != 37 || b.Quota != 60 || b.Window != time.Minute {
		t.Errorf("Budget = %+v, want 37 left of 60 per 1m", b)
	}
	pc.answer(429, "Retry-After", "10")
	if b := pc.p.Budget(); b.Left != 0 || b.Throttled != 1 {
		t.Errorf("blocked by a 429: %+v, want 0 left and 1 throttled", b)
	}
}

type okTransport struct{}

func (okTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody}, nil
}

// A request that has to wait for the budget is counted once, with the time it waited.
func TestPacerCountsWaits(t *testing.T) {
	p := NewPacer(1, 30*time.Millisecond, okTransport{})
	for i := range 3 {
		req, err := http.NewRequest(http.MethodGet, "http://example.invalid/", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.RoundTrip(req); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	b := p.Budget()
	if b.Waits != 2 || b.Waited <= 0 || b.Sent != 3 {
		t.Errorf("Budget = %+v, want 2 waits (the second and third request), some time waited, 3 sent", b)
	}
}
