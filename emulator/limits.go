package emulator

import (
	"fmt"
	"sync"
	"time"
)

// rateLimiter is Cloudflare's per-token client API limit: at most `limit` requests in any
// sliding `window`. Going over blocks the token for a whole window, as the docs say
// ("all calls are blocked for the next 5 minutes"); that is the strictest reading, and a
// client that paces itself never sees it.
type rateLimiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	tokens map[string]*tokenLog
}

type tokenLog struct {
	times        []time.Time // accepted requests inside the window, oldest first
	blockedUntil time.Time
}

func newRateLimiter(limit int, window time.Duration) *rateLimiter {
	return &rateLimiter{limit: limit, window: window, tokens: map[string]*tokenLog{}}
}

func (l *rateLimiter) enabled() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit > 0
}

// policy is the Ratelimit-Policy header, as Cloudflare names it ("burst"). The window is
// in whole seconds, rounded up, so a client never reads a shorter window than ours.
func (l *rateLimiter) policy() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf(`"burst";q=%d;w=%d`, l.limit, ceilSeconds(l.window))
}

// remaining is the Ratelimit header: r requests left, t seconds until the oldest counted
// request leaves the window (rounded up, so that a client waiting t is not early).
func remaining(r int, reset time.Duration) string {
	return fmt.Sprintf(`"default";r=%d;t=%d`, r, ceilSeconds(reset))
}

func ceilSeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}

// allow records a request at now. It returns whether it may proceed; if not, how long
// until the token is unblocked; if so, the remaining quota and time to the window reset.
func (l *rateLimiter) allow(token string, now time.Time) (ok bool, retry time.Duration, remaining int, reset time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.tokens[token]
	if t == nil {
		t = &tokenLog{}
		l.tokens[token] = t
	}
	if now.Before(t.blockedUntil) {
		return false, t.blockedUntil.Sub(now), 0, 0
	}
	cut := 0
	for cut < len(t.times) && now.Sub(t.times[cut]) >= l.window {
		cut++
	}
	t.times = t.times[cut:]
	if len(t.times) >= l.limit {
		t.blockedUntil = now.Add(l.window)
		t.times = t.times[:0]
		return false, l.window, 0, 0
	}
	t.times = append(t.times, now)
	return true, 0, l.limit - len(t.times), l.window - now.Sub(t.times[0])
}

// setLimit changes the limit (admin interface); counting starts afresh.
func (l *rateLimiter) setLimit(limit int, window time.Duration) {
	l.mu.Lock()
	l.limit, l.window, l.tokens = limit, window, map[string]*tokenLog{}
	l.mu.Unlock()
}
