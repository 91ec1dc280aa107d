package cloudflare

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Pacer is an http.RoundTripper that keeps a client within the account's request budget:
// at most limit requests in any window. Cloudflare blocks a token for five minutes once it
// goes over, so it is far cheaper to wait for a slot than to draw a 429.
//
// A slot is released one window after the response to the request that used it arrived
// (not after it was sent): the server counts arrival times, which are later than send
// times, so counting from the response keeps us under the limit whatever the latency.
type Pacer struct {
	next   http.RoundTripper
	slots  chan struct{}
	window time.Duration
	sent   atomic.Int64
}

// NewPacer paces next to limit requests per window.
func NewPacer(limit int, window time.Duration, next http.RoundTripper) *Pacer {
	p := &Pacer{next: next, slots: make(chan struct{}, limit), window: window}
	for i := 0; i < limit; i++ {
		p.slots <- struct{}{}
	}
	return p
}

// RoundTrip waits for a slot, sends the request, and schedules the slot's release.
func (p *Pacer) RoundTrip(req *http.Request) (*http.Response, error) {
	select {
	case <-p.slots:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	p.sent.Add(1)
	resp, err := p.next.RoundTrip(req)
	time.AfterFunc(p.window, func() { p.slots <- struct{}{} })
	return resp, err
}

// Sent counts the requests sent.
func (p *Pacer) Sent() int64 { return p.sent.Load() }

// ParseRateLimit parses a request budget written "requests/window" ("1200/5m"); empty means
// Cloudflare's client API limit, 1,200 requests per 5 minutes.
func ParseRateLimit(s string) (int, time.Duration, error) {
	if s == "" {
		return 1200, 5 * time.Minute, nil
	}
	n, w, ok := strings.Cut(s, "/")
	limit, err := strconv.Atoi(n)
	if !ok || err != nil || limit <= 0 {
		return 0, 0, fmt.Errorf("%q is not requests/window, e.g. 1200/5m", s)
	}
	window, err := time.ParseDuration(w)
	if err != nil || window <= 0 {
		return 0, 0, fmt.Errorf("%q is not requests/window: the window must be a positive duration such as 5m", s)
	}
	return limit, window, nil
}
