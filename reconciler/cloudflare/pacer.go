package cloudflare

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Pacer is an http.RoundTripper that keeps a client within the account's request budget,
// as the server states it. Cloudflare blocks a token for every user of it (for five
// minutes) once it goes over, so it is far cheaper to wait than to draw a 429.
//
// What it learns from every answer (draft-ietf-httpapi-ratelimit-headers, as Cloudflare
// sends them):
//   - Ratelimit-Policy: "burst";q=1200;w=300 — the quota q per window w seconds. Every
//     policy listed is kept; a request is sent only when each would allow it. Until the
//     server states one, Cloudflare's documented 1,200 per 5 minutes is assumed.
//   - Ratelimit: "default";r=50;t=30 — r more requests until t seconds from now. This is
//     how requests of other clients of the same token (or of an earlier run) are seen.
//     Answers can overtake each other, so a new statement only ever lowers the budget,
//     and requests still in flight are taken as not yet counted in it (the server may
//     have counted them: then part of a window goes unused, the price of never going
//     over). When the budget runs out we wait for t, then probe with one request.
//   - 429: nothing is sent until Retry-After-Ms / Retry-After (or, without them, t or the
//     window); if the answer says the quota is exhausted, the quota estimate is halved
//     for the rest of the client's life.
//
// Its own requests are counted from the arrival of their answers (not from sending):
// the server counts arrival times, which are later than send times, so counting from the
// answer keeps us under the quota whatever the latency. Requests in flight count too.
//
// Before the first answer only one request is in flight: with parallelism 10 the other
// nine would otherwise leave before anyone knows the limit.
type Pacer struct {
	next  http.RoundTripper
	bound policy // explicit upper bound (FLAREOPS_RATE_LIMIT); q == 0: none
	now   func() time.Time

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced when an answer arrives
	told      bool          // an answer has arrived since the start
	stale     bool          // the budget statement expired: probe for a fresh one
	server    []policy      // the latest Ratelimit-Policy
	penalty   policy        // the lowered estimate after a quota 429; q == 0: none
	inflight  int
	done      answers // arrival times of answers within the longest window
	budget    int     // requests left until budgetEnd, when budgetOK
	budgetOK  bool
	budgetEnd time.Time
	blocked   time.Time // nothing is sent before this (after a 429)

	sent      atomic.Int64
	throttled atomic.Int64
	waits     atomic.Int64  // requests that had to wait for the budget (see Budget)
	waiting   int           // requests waiting now; under mu
	waitFrom  time.Time     // since when some request has been waiting; under mu
	waited    time.Duration // time during which some request waited, before waitFrom; under mu
}

// NewPacer paces next to what the server allows, and never more than limit requests per
// window when limit > 0 (an explicit bound, e.g. to leave room for other clients).
func NewPacer(limit int, window time.Duration, next http.RoundTripper) *Pacer {
	p := &Pacer{next: next, now: time.Now, changed: make(chan struct{})}
	if limit > 0 && window > 0 {
		p.bound = policy{q: limit, w: window}
	}
	return p
}

// RoundTrip waits until the budget allows a request, sends it, and learns from the answer.
// A request cancelled while waiting was never sent: its error says so (MayHaveApplied is
// false for it).
func (p *Pacer) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := p.acquire(req.Context()); err != nil {
		return nil, &notSentError{err}
	}
	p.sent.Add(1)
	resp, err := p.next.RoundTrip(req)
	if resp != nil && resp.StatusCode == http.StatusTooManyRequests && ownQuota(req) && !saysRESTLimit(resp.Header) {
		// Its own quota is spent (see withOwnQuota), not the REST one: the client's
		// other requests go on. (A 429 of the REST limiter carries Retry-After, or
		// Ratelimit headers that say nothing is left, and is learnt from as for any request.)
		p.throttled.Add(1)
		p.release(nil)
		return resp, err
	}
	p.release(resp)
	return resp, err
}

// Sent counts the requests sent.
func (p *Pacer) Sent() int64 { return p.sent.Load() }

// Throttled counts the 429 answers received.
func (p *Pacer) Throttled() int64 { return p.throttled.Load() }

func (p *Pacer) acquire(ctx context.Context) error {
	waited := false
	defer func() {
		if waited {
			p.waits.Add(1)
			p.mu.Lock()
			p.stopWaiting()
			p.mu.Unlock()
		}
	}()
	for {
		p.mu.Lock()
		wait, ok := p.reserve(p.now())
		changed := p.changed
		if !ok && !waited {
			waited = true
			p.startWaiting()
		}
		p.mu.Unlock()
		if ok {
			return nil
		}
		var timeout <-chan time.Time
		var timer *time.Timer
		if wait > 0 {
			timer = time.NewTimer(wait)
			timeout = timer.C
		}
		select {
		case <-changed:
		case <-timeout:
		case <-ctx.Done():
		}
		if timer != nil {
			timer.Stop()
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// reserve takes a slot for a request leaving at now, if admit allows. The caller holds p.mu.
func (p *Pacer) reserve(now time.Time) (time.Duration, bool) {
	wait, ok := p.admit(now)
	if ok {
		p.inflight++
		if p.budgetOK {
			p.budget--
		}
	}
	return wait, ok
}

// admit says whether a request may leave at now; if not, how long to wait (0: until an
// answer arrives). The caller holds p.mu.
func (p *Pacer) admit(now time.Time) (time.Duration, bool) {
	if now.Before(p.blocked) {
		return p.blocked.Sub(now), false
	}
	if p.budgetOK && !now.Before(p.budgetEnd) {
		p.budgetOK, p.stale = false, true
	}
	if (!p.told || p.stale) && p.inflight > 0 {
		return 0, false
	}
	if p.budgetOK && p.budget <= 0 {
		return p.budgetEnd.Sub(now), false
	}
	for _, pol := range p.policies() {
		if wait, ok := p.room(now, pol); !ok {
			return wait, false
		}
	}
	return 0, true
}

// room checks one policy: the requests in flight and those answered within the window
// must leave a slot free. Its cost does not depend on the quota nor on the number of
// answers in the window (see answers).
func (p *Pacer) room(now time.Time, pol policy) (time.Duration, bool) {
	inWindow := p.done.within(now, pol.w)
	excess := p.inflight + inWindow - pol.q + 1 // answers that must leave the window first
	switch {
	case excess <= 0:
		return 0, true
	case excess > inWindow:
		return 0, false
	}
	return p.done.nth(inWindow, excess-1).Add(pol.w).Sub(now), false
}

// policies are the quotas a request must fit: the explicit bound, the server's policies
// (or the default while the server has stated none), and the estimate lowered by a 429.
func (p *Pacer) policies() []policy {
	out := make([]policy, 0, 3)
	if p.bound.q > 0 {
		out = append(out, p.bound)
	}
	switch {
	case len(p.server) > 0:
		out = append(out, p.server...)
	case p.bound.q == 0:
		out = append(out, defaultPolicy)
	}
	if p.penalty.q > 0 {
		out = append(out, p.penalty)
	}
	return out
}

// release records an answer (nil after a transport error, which the server may still
// have counted) and learns from its headers.
func (p *Pacer) release(resp *http.Response) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answered(p.now(), resp)
}

// answered records an answer at now. The caller holds p.mu.
func (p *Pacer) answered(now time.Time, resp *http.Response) {
	p.inflight--
	p.done.add(now)
	defer p.broadcast()
	if resp != nil {
		p.learn(now, resp)
	}
	p.prune(now)
}

func (p *Pacer) learn(now time.Time, resp *http.Response) {
	p.told, p.stale = true, false
	if pols := parsePolicies(resp.Header.Values("Ratelimit-Policy")); len(pols) > 0 {
		p.server = pols
	}
	rem, hasRem := parseRemaining(resp.Header.Values("Ratelimit"))
	if hasRem {
		reset := p.longestWindow()
		if rem.hasReset {
			reset = rem.reset + resetMargin
		}
		budget, end := rem.r-p.inflight, now.Add(reset)
		if p.budgetOK {
			budget, end = min(budget, p.budget), maxTime(end, p.budgetEnd)
		}
		p.budget, p.budgetEnd, p.budgetOK = budget, end, true
	}
	if resp.StatusCode != http.StatusTooManyRequests {
		return
	}
	p.throttled.Add(1)
	wait, ok := retryAfter(resp.Header)
	switch {
	case ok:
	case hasRem && rem.hasReset:
		wait = rem.reset + resetMargin
	default:
		wait = p.longestWindow()
	}
	p.blocked = maxTime(p.blocked, now.Add(wait))
	// Nothing is known about the budget after the block: probe then, one request until
	// an answer says what is left. (Not a budget of 0 until the block ends: merged with
	// a later answer's reset, a request that was in flight at the 429, that would stop
	// the client for a whole window, 5 minutes, after a 429 of a second.)
	p.budgetOK, p.stale = false, true
	// A 429 that says the quota is not exhausted (r > 0) is about something else (an
	// overloaded queue, an injected fault): it blocks, but does not lower the estimate.
	if !hasRem || rem.r <= 0 {
		p.lowerEstimate()
	}
}

// lowerEstimate halves the quota of the binding policy: the server's, or the bound, or
// the default.
func (p *Pacer) lowerEstimate() {
	base := defaultPolicy
	switch {
	case len(p.server) > 0:
		base = p.server[0]
		for _, s := range p.server[1:] {
			if s.w < base.w {
				base = s
			}
		}
	case p.bound.q > 0:
		base = p.bound
	}
	q := base.q
	if p.penalty.q > 0 {
		q = min(q, p.penalty.q)
	}
	p.penalty = policy{q: max(1, q/2), w: base.w}
}

func (p *Pacer) longestWindow() time.Duration {
	w := time.Duration(0)
	for _, pol := range p.policies() {
		w = max(w, pol.w)
	}
	return w
}

// prune forgets answers older than every window.
func (p *Pacer) prune(now time.Time) { p.done.prune(now, p.longestWindow()) }

func (p *Pacer) broadcast() {
	close(p.changed)
	p.changed = make(chan struct{})
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// saysRESTLimit reports whether a 429 comes from the REST rate limiter, which says when to
// come back and what is left; a quota of its own (GraphQL's budget) says neither.
func saysRESTLimit(h http.Header) bool {
	if _, wait := retryAfter(h); wait {
		return true
	}
	rem, ok := parseRemaining(h.Values("Ratelimit"))
	return ok && rem.r <= 0
}
