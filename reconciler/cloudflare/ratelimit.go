package cloudflare

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// policy is a quota of q requests per window w.
type policy struct {
	q int
	w time.Duration
}

// defaultPolicy is Cloudflare's documented client API limit, assumed until the server
// states its own.
var defaultPolicy = policy{q: 1200, w: 5 * time.Minute}

// resetMargin is added to every reset time t: it is given in whole seconds and Cloudflare
// does not say how it rounds, so we assume it rounds down.
const resetMargin = time.Second

// ParseRateLimit parses an explicit request budget written "requests/window" ("1200/5m").
// Empty means none: the client follows what the server states (see Pacer), and returns
// 0, 0.
func ParseRateLimit(s string) (int, time.Duration, error) {
	if s == "" {
		return 0, 0, nil
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

// rlItem is one member of a RateLimit or RateLimit-Policy header: a name with integer
// parameters, e.g. "default";r=50;t=30.
type rlItem struct {
	name   string
	params map[string]int64
}

// parseRateLimitHeader reads a structured-field list of items with parameters
// (draft-ietf-httpapi-ratelimit-headers). Members it cannot read are skipped, and so are
// parameters that are not non-negative integers (e.g. pk, a byte sequence).
func parseRateLimitHeader(values []string) []rlItem {
	var out []rlItem
	for _, v := range values {
		for _, member := range splitOutsideQuotes(v, ',') {
			parts := splitOutsideQuotes(member, ';')
			name := strings.Trim(strings.TrimSpace(parts[0]), `"`)
			it := rlItem{name: name, params: map[string]int64{}}
			for _, p := range parts[1:] {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if !ok {
					continue
				}
				if n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64); err == nil && n >= 0 {
					it.params[strings.ToLower(strings.TrimSpace(k))] = n
				}
			}
			out = append(out, it)
		}
	}
	return out
}

func splitOutsideQuotes(s string, sep byte) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && quoted:
			i++
		case s[i] == '"':
			quoted = !quoted
		case s[i] == sep && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// parsePolicies reads RateLimit-Policy: every member with a quota q. A member without a
// window w is given five minutes, Cloudflare's window: unknown, so the longest we know.
func parsePolicies(values []string) []policy {
	var out []policy
	for _, it := range parseRateLimitHeader(values) {
		q, ok := it.params["q"]
		if !ok || q <= 0 {
			continue
		}
		w := defaultPolicy.w
		if s, ok := it.params["w"]; ok && s > 0 {
			w = time.Duration(s) * time.Second
		}
		out = append(out, policy{q: int(min(q, 1<<30)), w: w})
	}
	return out
}

// remaining is what a RateLimit header says: r requests left, until reset (when known).
type remaining struct {
	r        int
	reset    time.Duration
	hasReset bool
}

// parseRemaining reads RateLimit. With several members (one per policy) the strictest
// wins: the fewest requests left, and the latest reset.
func parseRemaining(values []string) (remaining, bool) {
	var out remaining
	found := false
	for _, it := range parseRateLimitHeader(values) {
		r, ok := it.params["r"]
		if !ok {
			continue
		}
		if !found || int(min(r, 1<<30)) < out.r {
			out.r = int(min(r, 1<<30))
		}
		if t, ok := it.params["t"]; ok {
			out.reset, out.hasReset = max(out.reset, time.Duration(min(t, 1<<20))*time.Second), true
		}
		found = true
	}
	return out, found
}

// retryAfter reads Retry-After-Ms, then Retry-After (seconds or an HTTP date).
func retryAfter(h http.Header) (time.Duration, bool) {
	if ms, err := strconv.ParseFloat(h.Get("Retry-After-Ms"), 64); err == nil && ms >= 0 && ms < 1e9 {
		return time.Duration(ms * float64(time.Millisecond)), true
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 && s < 1e6 {
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(t)), true
	}
	return 0, false
}
