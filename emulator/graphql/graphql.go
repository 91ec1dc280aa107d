// Package graphql is the local Cloudflare's GraphQL Analytics API: the subset of
// POST /client/v4/graphql that flareops's alerting reads (analytics.md §1), parsed and
// validated with a real GraphQL parser (gqlparser) against a schema generated from the
// dataset specs, and evaluated for real over raw sampled events.
//
//	query {
//	  viewer { accounts(filter: {accountTag: $a}) {
//	    workersInvocationsAdaptive(filter: {...}, limit: 100, orderBy: [datetimeMinute_ASC]) {
//	      dimensions { datetimeMinute scriptName status }
//	      sum { requests errors } quantiles { wallTimeP99 } avg { sampleInterval }
//	    }
//	    queueMessageOperationsAdaptiveGroups(...) { count avg { lagTime } dimensions { outcome } }
//	    queueBacklogAdaptiveGroups(...) { avg { messages } }
//	    d1AnalyticsAdaptiveGroups(...) { count quantiles { queryBatchTimeMsP90 } }
//	    settings { workersInvocationsAdaptive { maxDuration maxPageSize notOlderThan } }
//	  } }
//	}
//
// Filters: equality and _gt _lt _geq _leq _neq _in _notin on every dimension, _like and
// _notlike (% wildcard) on string ones, AND:[…] and OR:[…]. Grouping is implicit (one
// group per distinct combination of the selected dimensions), counts, sums and averages
// are weighted by each event's sample interval, quantiles are weighted nearest-rank.
// Errors follow analytics.md §1.1: {"data":null,"errors":[{message,path,extensions}]}
// with the documented HTTP statuses. The package does not know the emulator: the
// emulator owns the events (its store persists them) and hands a snapshot to Serve.
package graphql

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Service serves GraphQL requests and keeps the per-token query budget.
type Service struct {
	mu     sync.Mutex
	budget int
	window time.Duration
	used   map[string][]time.Time
}

// DefaultBudget is Cloudflare's GraphQL rate limit: 300 queries per 5 minutes per user
// or token (analytics.md §1.2), separate from the REST API's.
const (
	DefaultBudget       = 300
	DefaultBudgetWindow = 5 * time.Minute
)

// NewService builds a service with budget queries per window per token; budget 0 means
// the default and a negative budget disables the limit.
func NewService(budget int, window time.Duration) *Service {
	svc := &Service{used: map[string][]time.Time{}}
	svc.SetBudget(budget, window)
	return svc
}

// SetBudget replaces the query budget (see NewService) and forgets past queries.
func (svc *Service) SetBudget(budget int, window time.Duration) {
	if budget == 0 {
		budget = DefaultBudget
	}
	if window <= 0 {
		window = DefaultBudgetWindow
	}
	svc.mu.Lock()
	svc.budget, svc.window, svc.used = budget, window, map[string][]time.Time{}
	svc.mu.Unlock()
}

// allow records one query of token at now, unless the budget is spent.
func (svc *Service) allow(token string, now time.Time) bool {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	if svc.budget < 0 {
		return true
	}
	cut := now.Add(-svc.window)
	kept := svc.used[token][:0]
	for _, t := range svc.used[token] {
		if t.After(cut) {
			kept = append(kept, t)
		}
	}
	if len(kept) >= svc.budget {
		svc.used[token] = kept
		return false
	}
	svc.used[token] = append(kept, now)
	return true
}

// request is the body of POST /graphql.
type request struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName"`
}

const maxRequestBytes = 1 << 20 // emulator bound on a request body

// Serve answers one POST /client/v4/graphql for token (already authenticated by the
// emulator) over the events ev at now.
func (svc *Service) Serve(w http.ResponseWriter, r *http.Request, ev Events, now time.Time, token string) {
	if !svc.allow(token, now) {
		// The budget message of a user/token limit (analytics.md §1.1 table), with the
		// extensions.code of the account-based one (§1.2). Unknown upstream: whether
		// Retry-After is sent; we send none, as the message says when to retry.
		writeErrors(w, now, &qerror{status: http.StatusTooManyRequests, msg: "rate limiter budget depleted, try again after 5 minutes", code: "budget"})
		return
	}
	var req request
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		writeErrors(w, now, &qerror{status: http.StatusBadRequest, msg: "error parsing request body: " + err.Error()})
		return
	}
	if strings.TrimSpace(req.Query) == "" {
		writeErrors(w, now, &qerror{status: http.StatusBadRequest, msg: "error parsing request body: no query"})
		return
	}
	data, errs := execute(req, ev, now)
	if len(errs) > 0 {
		writeErrors(w, now, errs...)
		return
	}
	writeBody(w, http.StatusOK, response{Data: data})
}

// qerror is one GraphQL error and the HTTP status it calls for.
type qerror struct {
	status    int
	msg       string
	path      []any
	code      string
	locations []location
}

type location struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

type wireError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Locations  []location     `json:"locations,omitempty"`
	Extensions map[string]any `json:"extensions"`
}

type response struct {
	Data   any         `json:"data"`
	Errors []wireError `json:"errors"`
}

// writeErrors answers data:null with the errors; the status is the first error's.
func writeErrors(w http.ResponseWriter, now time.Time, errs ...*qerror) {
	out := make([]wireError, len(errs))
	for i, e := range errs {
		ext := map[string]any{"timestamp": now.UTC().Format(time.RFC3339Nano)}
		if e.code != "" {
			ext["code"] = e.code
		}
		out[i] = wireError{Message: e.msg, Path: e.path, Locations: e.locations, Extensions: ext}
	}
	writeBody(w, errs[0].status, response{Errors: out})
}

func writeBody(w http.ResponseWriter, status int, body response) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body) // a failed write means the client went away
}

// Unauthorized answers a request without a valid token: HTTP 401 "Unauthorized"
// (analytics.md §1.1), in the GraphQL shape rather than the v4 envelope.
func Unauthorized(w http.ResponseWriter, now time.Time) {
	writeErrors(w, now, &qerror{status: http.StatusUnauthorized, msg: "Unauthorized"})
}
