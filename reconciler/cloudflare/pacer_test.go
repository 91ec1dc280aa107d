package cloudflare

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseRateLimit(t *testing.T) {
	tests := []struct {
		in     string
		limit  int
		window time.Duration
		ok     bool
	}{
		{"", 0, 0, true}, // no explicit bound: follow the server
		{"1200/5m", 1200, 5 * time.Minute, true},
		{"10/1s", 10, time.Second, true},
		{"fast", 0, 0, false},
		{"0/5m", 0, 0, false},
		{"10/", 0, 0, false},
		{"10/-1s", 0, 0, false},
	}
	for _, tt := range tests {
		l, w, err := ParseRateLimit(tt.in)
		if (err == nil) != tt.ok || l != tt.limit || w != tt.window {
			t.Errorf("ParseRateLimit(%q) = %d, %v, %v", tt.in, l, w, err)
		}
	}
}

func TestParseRateLimitHeaders(t *testing.T) {
	tests := []struct {
		name      string
		policy    []string
		ratelimit []string
		policies  []policy
		rem       remaining
		hasRem    bool
	}{
		{
			name:      "Cloudflare's documented headers",
			policy:    []string{`"burst";q=1200;w=300`},
			ratelimit: []string{`"default";r=50;t=30`},
			policies:  []policy{{1200, 5 * time.Minute}},
			rem:       remaining{r: 50, reset: 30 * time.Second, hasReset: true}, hasRem: true,
		},
		{
			name:      "several policies and items: all policies, the strictest remaining",
			policy:    []string{`"burst";q=100;w=60, "daily";q=1000;w=86400`},
			ratelimit: []string{`"burst";r=40;t=5`, `"daily";r=7;t=3600`},
			policies:  []policy{{100, time.Minute}, {1000, 24 * time.Hour}},
			rem:       remaining{r: 7, reset: time.Hour, hasReset: true}, hasRem: true,
		},
		{
			name:      "tokens, spaces, a quoted comma and a byte-sequence partition key",
			policy:    []string{`default ; q=10 ; w=5;pk=:cHJvamVjdDEyMw==:`, `"a,b";q=3;w=1`},
			ratelimit: []string{`default;r=0`},
			policies:  []policy{{10, 5 * time.Second}, {3, time.Second}},
			rem:       remaining{r: 0}, hasRem: true,
		},
		{
			name:     "a policy without a window gets Cloudflare's five minutes",
			policy:   []string{`"p";q=60`},
			policies: []policy{{60, 5 * time.Minute}},
		},
		{
			name:      "unreadable members are skipped",
			policy:    []string{`"p";q=-1;w=60`, `"z";q=0;w=1`, `garbage`},
			ratelimit: []string{`"default";t=4`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.policies, parsePolicies(tt.policy), cmp.AllowUnexported(policy{})); diff != "" {
				t.Errorf("parsePolicies (-want +got):\n%s", diff)
			}
			rem, ok := parseRemaining(tt.ratelimit)
			if ok != tt.hasRem || rem != tt.rem {
				t.Errorf("parseRemaining = %+v, %v; want %+v, %v", rem, ok, tt.rem, tt.hasRem)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		header http.Header
		want   time.Duration
		ok     bool
	}{
		{http.Header{"Retry-After-Ms": {"50"}, "Retry-After": {"1"}}, 50 * time.Millisecond, true},
		{http.Header{"Retry-After": {"7"}}, 7 * time.Second, true},
		{http.Header{"Retry-After": {"300"}}, 5 * time.Minute, true},
		{http.Header{"Retry-After": {"soon"}}, 0, false},
		{http.Header{}, 0, false},
	}
	for _, tt := range tests {
		got, ok := retryAfter(tt.header)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%v) = %v, %v; want %v, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

// pacerClock drives a Pacer's decisions on a fake clock, without HTTP.
type pacerClock struct {
	t   *testing.T
	p   *Pacer
	now time.Time
}

func newPacerClock(t *testing.T, limit int, window time.Duration) *pacerClock {
	pc := &pacerClock{t: t, p: NewPacer(limit, window, nil), now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	pc.p.now = func() time.Time { return pc.now }
	return pc
}

// send takes n slots, failing the test if one is refused.
func (pc *pacerClock) send(n int) {
	pc.t.Helper()
	for i := 0; i < n; i++ {
		if wait, ok := pc.p.reserve(pc.now); !ok {
			pc.t.Fatalf("request %d of %d refused (wait %v)", i+1, n, wait)
		}
	}
}

// refused checks that the next request must wait, and for how long (0: for an answer).
func (pc *pacerClock) refused(want time.Duration) {
	pc.t.Helper()
	wait, ok := pc.p.reserve(pc.now)
	if ok {
		pc.t.Fatalf("request admitted, want it to wait %v", want)
	}
	if wait != want {
		pc.t.Fatalf("request waits %v, want %v", wait, want)
	}
}

// answer records one answer with status and headers given as name, value pairs.
func (pc *pacerClock) answer(status int, kv ...string) {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	pc.p.answered(pc.now, &http.Response{StatusCode: status, Header: h})
}

func TestPacerOneRequestUntilTold(t *testing.T) {
	pc := newPacerClock(t, 0, 0)
	pc.send(1)
	pc.refused(0) // the second waits for the first answer
	pc.answer(200, "Ratelimit-Policy", `"burst";q=10;w=5`, "Ratelimit", `"default";r=9;t=5`)
	pc.send(9)
	pc.refused(6 * time.Second) // r is spent: wait t, plus a second for its rounding
}

func TestPacerSharedBudget(t *testing.T) {
	// Another client of the token used 57 of 60: the first answer says r=2.
	pc := newPacerClock(t, 0, 0)
	pc.send(1)
	pc.answer(200, "Ratelimit-Policy", `"burst";q=60;w=60`, "Ratelimit", `"default";r=2;t=20`)
	pc.send(2)
	pc.refused(21 * time.Second)
	// An answer that overtook a later one says more is left; it cannot raise the budget.
	pc.answer(200, "Ratelimit", `"default";r=5;t=20`)
	pc.refused(21 * time.Second)
	// After the reset only one request goes, to learn the new budget.
	pc.now = pc.now.Add(21 * time.Second)
	pc.p.answered(pc.now, nil) // the last request's connection dropped
	pc.send(1)
	pc.refused(0)
	pc.answer(200, "Ratelimit", `"default";r=40;t=39`)
	pc.send(40)
	pc.refused(40 * time.Second)
}

func TestPacerCountsItsOwnRequests(t *testing.T) {
	// A server that states its policy but no remaining budget: our own count rules, from
	// the arrival of each answer.
	pc := newPacerClock(t, 0, 0)
	pc.send(1)
	pc.answer(200, "Ratelimit-Policy", `"burst";q=3;w=10`)
	pc.send(2)
	pc.refused(10 * time.Second) // the first answer leaves the window in 10 s
	pc.now = pc.now.Add(time.Second)
	pc.answer(200)
	pc.refused(9 * time.Second)
	pc.now = pc.now.Add(9 * time.Second)
	pc.send(1)
	pc.refused(time.Second) // the second answer leaves the window in 1 s
}

func TestPacerExplicitBound(t *testing.T) {
	pc := newPacerClock(t, 2, time.Minute)
	pc.send(1)
	pc.answer(200, "Ratelimit-Policy", `"burst";q=1200;w=300`, "Ratelimit", `"default";r=1199;t=300`)
	pc.send(1)
	pc.answer(200)
	pc.refused(time.Minute) // two answers in the last minute: the first leaves in 60 s
}

func TestPacerSilentServer(t *testing.T) {
	pc := newPacerClock(t, 0, 0)
	pc.send(1)
	pc.answer(200) // no Ratelimit headers: Cloudflare's documented 1200 / 5 min
	pc.send(1199)
	pc.refused(5 * time.Minute)
}

func TestPacer429(t *testing.T) {
	pc := newPacerClock(t, 0, 0)
	pc.send(1)
	pc.answer(200, "Ratelimit-Policy", `"burst";q=10;w=60`, "Ratelimit", `"default";r=9;t=60`)
	pc.send(2)
	// The quota is exhausted (r=0): nothing leaves until Retry-After, and the estimate halves.
	pc.answer(429, "Retry-After", "30", "Ratelimit-Policy", `"burst";q=10;w=60`, "Ratelimit", `"default";r=0;t=30`)
	if n := pc.p.Throttled(); n != 1 {
		t.Errorf("Throttled = %d, want 1", n)
	}
	pc.refused(30 * time.Second)
	pc.now = pc.now.Add(30 * time.Second)
	pc.refused(0) // one request is still in flight: wait for it to learn the budget
	pc.answer(200, "Ratelimit", `"default";r=10;t=60`)
	pc.send(2) // three answers in the window: the halved quota of 5 leaves room for two
	pc.refused(30 * time.Second)
	if want := (policy{q: 5, w: time.Minute}); pc.p.penalty != want {
		t.Errorf("penalty = %+v, want %+v", pc.p.penalty, want)
	}
}

func TestPacer429NotAboutTheQuota(t *testing.T) {
	pc := newPacerClock(t, 0, 0)
	pc.send(1)
	pc.answer(429, "Retry-After-Ms", "50", "Ratelimit-Policy", `"burst";q=10;w=60`, "Ratelimit", `"default";r=8;t=60`)
	pc.refused(50 * time.Millisecond)
	pc.now = pc.now.Add(50 * time.Millisecond)
	pc.send(1)
	pc.refused(0)
	if pc.p.penalty.q != 0 {
		t.Errorf("penalty = %+v after a 429 with r > 0, want none", pc.p.penalty)
	}
}

// TestPacer429ThenAnAnswerInFlight: an answer to a request that was in flight when a
// 429 came says what is left; it must not stretch the 429's block to its own reset (a
// KV write refused for a second, one write per second to one key, once stopped the
// provider for a 5-minute window).
func TestPacer429ThenAnAnswerInFlight(t *testing.T) {
	pc := newPacerClock(t, 0, 0)
	pc.send(1)
	pc.answer(200, "Ratelimit-Policy", `"burst";q=1200;w=300`, "Ratelimit", `"default";r=1199;t=300`)
	pc.send(2)
	pc.answer(429, "Retry-After", "1", "Ratelimit", `"default";r=1197;t=300`)
	pc.answer(200, "Ratelimit", `"default";r=1196;t=299`)
	pc.refused(time.Second)
	pc.now = pc.now.Add(time.Second)
	pc.send(5)
}

// Forget drops the pacers of one API root only; the next For makes a fresh one.
func TestPacerSetForget(t *testing.T) {
	s := NewPacerSet()
	a := s.For("http://127.0.0.1:1/client/v4", "acct", "tok", 0, 0, nil)
	b := s.For("http://127.0.0.1:10/client/v4", "acct", "tok", 0, 0, nil)
	s.Forget("http://127.0.0.1:1/client/v4")
	if s.For("http://127.0.0.1:1/client/v4", "acct", "tok", 0, 0, nil) == a {
		t.Error("the forgotten API root kept its pacer")
	}
	if s.For("http://127.0.0.1:10/client/v4", "acct", "tok", 0, 0, nil) != b {
		t.Error("another API root (a prefix of whose address is the forgotten one's) lost its pacer")
	}
}
