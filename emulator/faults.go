package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"sync"
	"time"
)

// Faults describe what to inject into REST API requests. Decisions come from a PRNG
// seeded with Seed, so a run with the same requests in the same order sees the same faults.
// In JSON, durations are Go duration strings ("250ms") or integer nanoseconds; they are
// written as nanoseconds.
type Faults struct {
	Seed int64 `json:"seed"`
	// Latency added to every request.
	Latency time.Duration `json:"latency"`
	// FailRate is the probability of answering 503 (code 15000) without doing the work.
	FailRate float64 `json:"fail_rate"`
	// DropRate is the probability of doing the work and then closing the connection
	// without an answer.
	DropRate float64 `json:"drop_rate"`
	// Burst429 answers the next N requests with 429 (Retry-After-Ms: 50).
	Burst429 int `json:"burst_429"`
	// Routes overrides Latency, FailRate and DropRate for one route pattern, e.g.
	// "POST /client/v4/accounts/{account_id}/queues".
	Routes map[string]RouteFaults `json:"routes,omitempty"`
}

// RouteFaults are the per-route overrides.
type RouteFaults struct {
	Latency  time.Duration `json:"latency"`
	FailRate float64       `json:"fail_rate"`
	DropRate float64       `json:"drop_rate"`
}

// UnmarshalJSON reads Faults, with durations as strings or nanoseconds.
func (f *Faults) UnmarshalJSON(b []byte) error {
	type plain Faults
	var v struct {
		plain
		Latency jsonDuration `json:"latency"`
	}
	if err := strictJSON(b, &v); err != nil {
		return err
	}
	*f = Faults(v.plain)
	f.Latency = time.Duration(v.Latency)
	return nil
}

// UnmarshalJSON reads RouteFaults, with the latency as a string or nanoseconds.
func (f *RouteFaults) UnmarshalJSON(b []byte) error {
	type plain RouteFaults
	var v struct {
		plain
		Latency jsonDuration `json:"latency"`
	}
	if err := strictJSON(b, &v); err != nil {
		return err
	}
	*f = RouteFaults(v.plain)
	f.Latency = time.Duration(v.Latency)
	return nil
}

// validate checks that rates are probabilities and counts are not negative.
func (f Faults) validate() error {
	check := func(where string, fail, drop float64) error {
		if fail < 0 || drop < 0 || fail+drop > 1 {
			return fmt.Errorf("%sfail_rate and drop_rate must be between 0 and 1, and add up to at most 1", where)
		}
		return nil
	}
	if f.Burst429 < 0 {
		return fmt.Errorf("burst_429 must not be negative")
	}
	if err := check("", f.FailRate, f.DropRate); err != nil {
		return err
	}
	for route, rf := range f.Routes {
		if err := check("routes["+route+"]: ", rf.FailRate, rf.DropRate); err != nil {
			return err
		}
	}
	return nil
}

// strictJSON decodes b into v, refusing unknown fields: a misspelt fault must not be
// silently ignored.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// jsonDuration is a duration written as a Go duration string or integer nanoseconds.
type jsonDuration time.Duration

func (d *jsonDuration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil || v < 0 {
			return fmt.Errorf("%q is not a non-negative Go duration such as \"250ms\"", s)
		}
		*d = jsonDuration(v)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil || n < 0 {
		return fmt.Errorf("a duration is a string such as \"250ms\" or non-negative integer nanoseconds, not %s", b)
	}
	*d = jsonDuration(n)
	return nil
}

type faultInjector struct {
	mu  sync.Mutex
	f   Faults
	rng *rand.Rand
}

type faultDecision struct {
	latency   time.Duration
	status5xx bool
	status429 bool
	drop      bool
}

func newFaultInjector(f Faults) *faultInjector {
	return &faultInjector{f: f, rng: rngFor(f.Seed)}
}

func (fi *faultInjector) set(f Faults) {
	fi.mu.Lock()
	fi.f, fi.rng = f, rngFor(f.Seed)
	fi.mu.Unlock()
}

func (fi *faultInjector) get() Faults {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	return fi.f
}

func (fi *faultInjector) decide(route string) faultDecision {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	var d faultDecision
	if fi.f.Burst429 > 0 {
		fi.f.Burst429--
		d.status429 = true
		return d
	}
	lat, fail, drop := fi.f.Latency, fi.f.FailRate, fi.f.DropRate
	if rf, ok := fi.f.Routes[route]; ok {
		lat, fail, drop = rf.Latency, rf.FailRate, rf.DropRate
	}
	d.latency = lat
	if fail <= 0 && drop <= 0 {
		return d
	}
	x := fi.rng.Float64()
	switch {
	case x < fail:
		d.status5xx = true
	case x < fail+drop:
		d.drop = true
	}
	return d
}

// counters count REST requests per route pattern and per status.
type counters struct {
	mu       sync.Mutex
	byRoute  map[string]int
	byStatus map[int]int
	total    int
}

func newCounters() *counters {
	return &counters{byRoute: map[string]int{}, byStatus: map[int]int{}}
}

func (c *counters) add(route string) {
	c.mu.Lock()
	c.byRoute[route]++
	c.total++
	c.mu.Unlock()
}

func (c *counters) status(_ string, code int) {
	c.mu.Lock()
	c.byStatus[code]++
	c.mu.Unlock()
}

// Counts is a snapshot of the request counters.
type Counts struct {
	Total    int            `json:"total"`
	ByRoute  map[string]int `json:"by_route"`
	ByStatus map[int]int    `json:"by_status"`
	// KeyWritesLimited counts the writes refused because the same key was written less
	// than a second before, per service ("r2": S3 writes; "kv": KV value writes).
	KeyWritesLimited map[string]int `json:"key_writes_limited,omitempty"`
}

// Routes lists the routes that were called, sorted.
func (c Counts) Routes() []string {
	out := make([]string, 0, len(c.ByRoute))
	for r := range c.ByRoute {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

func (c *counters) snapshot() Counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := Counts{Total: c.total, ByRoute: map[string]int{}, ByStatus: map[int]int{}}
	for k, v := range c.byRoute {
		out.ByRoute[k] = v
	}
	for k, v := range c.byStatus {
		out.ByStatus[k] = v
	}
	return out
}

func (c *counters) reset() {
	c.mu.Lock()
	c.byRoute, c.byStatus, c.total = map[string]int{}, map[int]int{}, 0
	c.mu.Unlock()
}

// SetFaults replaces the fault configuration (and reseeds).
func (s *Server) SetFaults(f Faults) { s.faults.set(f) }

// Counts returns the REST request counters.
func (s *Server) Counts() Counts {
	c := s.counter.snapshot()
	c.KeyWritesLimited = s.keyWrites.counts()
	return c
}

// ResetCounts zeroes the REST request counters.
func (s *Server) ResetCounts() { s.counter.reset(); s.keyWrites.reset() }

// SetRateLimit changes the per-token limit; limit <= 0 disables it.
func (s *Server) SetRateLimit(limit int, window time.Duration) { s.limiter.setLimit(limit, window) }
