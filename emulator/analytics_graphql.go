package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/monotask/flareops/emulator/graphql"
)

// The GraphQL Analytics API (analytics.md §1), served by package graphql over the
// events the admin interface (or the Go hooks below) feeds in. Events are global to the
// emulator, like Analytics Engine datasets: every well-formed account tag sees them.
//
// A query passes the API's front door like every request (counted, faults injected,
// the REST rate limit), then GraphQL's own budget of 300 queries per 5 minutes. Unknown
// upstream: whether GraphQL queries also count against the REST API's 1,200 per 5
// minutes; here they do, the stricter choice.

func (s *Server) routesGraphQL() {
	budget := 0
	if s.opts.RateLimit < 0 {
		budget = -1 // tests that turn the REST limit off mean no limit at all
	}
	s.gql = graphql.NewService(budget, 0)
	s.handleReadOnly("POST /graphql", s.graphqlHandler)
	s.onTick(func(now time.Time) { s.st.GraphQL.Expire(now) })
}

func (s *Server) graphqlHandler(w http.ResponseWriter, r *http.Request) {
	token := strings.TrimSpace(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	s.mu.Lock()
	ev := s.st.GraphQL.Snapshot()
	s.mu.Unlock()
	s.gql.Serve(w, r, ev, s.Now(), token)
}

// SetGraphQLBudget sets the GraphQL query budget per token: limit queries per window
// (0: Cloudflare's 300 per 5 minutes; negative: none). It also forgets past queries.
func (s *Server) SetGraphQLBudget(limit int, window time.Duration) { s.gql.SetBudget(limit, window) }

// AddWorkerInvocations feeds workersInvocationsAdaptive; a zero Datetime is the
// emulator clock's now.
func (s *Server) AddWorkerInvocations(events ...graphql.WorkerInvocation) error {
	return s.addGraphQL(func(e *graphql.Events, now time.Time) error { return e.AddWorkers(now, events) })
}

// AddQueueOperations feeds queueMessageOperationsAdaptiveGroups.
func (s *Server) AddQueueOperations(events ...graphql.QueueOperation) error {
	return s.addGraphQL(func(e *graphql.Events, now time.Time) error { return e.AddQueueOperations(now, events) })
}

// AddQueueBacklog feeds queueBacklogAdaptiveGroups.
func (s *Server) AddQueueBacklog(samples ...graphql.QueueBacklog) error {
	return s.addGraphQL(func(e *graphql.Events, now time.Time) error { return e.AddQueueBacklog(now, samples) })
}

// AddD1Queries feeds d1AnalyticsAdaptiveGroups.
func (s *Server) AddD1Queries(events ...graphql.D1Query) error {
	return s.addGraphQL(func(e *graphql.Events, now time.Time) error { return e.AddD1(now, events) })
}

// addGraphQL applies add to a copy, so that a refused batch leaves nothing behind.
func (s *Server) addGraphQL(add func(e *graphql.Events, now time.Time) error) error {
	now := s.Now()
	s.mu.Lock()
	next := s.st.GraphQL.Snapshot()
	err := add(&next, now)
	if err == nil {
		next.Expire(now)
		s.st.GraphQL = next
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.persist()
}

// serveAnalyticsAdmin is POST /__flareops/admin/analytics/{workers,queues,d1} and
// PUT /__flareops/admin/analytics/budget (see serveAdmin).
func (s *Server) serveAnalyticsAdmin(w http.ResponseWriter, r *http.Request, what string) {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	var n int
	var err error
	switch r.Method + " " + what {
	case "POST workers":
		var body []graphql.WorkerInvocation
		if err = dec.Decode(&body); err == nil {
			n, err = len(body), s.AddWorkerInvocations(body...)
		}
	case "POST queues":
		var body struct {
			Operations []graphql.QueueOperation `json:"operations"`
			Backlog    []graphql.QueueBacklog   `json:"backlog"`
		}
		if err = dec.Decode(&body); err == nil {
			n = len(body.Operations) + len(body.Backlog)
			// Both or neither: check the backlog on a copy first.
			probe := graphql.Events{}
			if err = probe.AddQueueBacklog(s.Now(), body.Backlog); err != nil {
				err = fmt.Errorf("backlog: %w", err)
			} else if err = s.AddQueueOperations(body.Operations...); err != nil {
				err = fmt.Errorf("operations: %w", err)
			} else if err = s.AddQueueBacklog(body.Backlog...); err != nil {
				err = fmt.Errorf("backlog: %w", err)
			}
		}
	case "POST d1":
		var body []graphql.D1Query
		if err = dec.Decode(&body); err == nil {
			n, err = len(body), s.AddD1Queries(body...)
		}
	case "PUT budget":
		var body struct {
			Limit  int    `json:"limit"`
			Window string `json:"window"`
		}
		if err = dec.Decode(&body); err == nil {
			var win time.Duration
			if win, err = time.ParseDuration(body.Window); err != nil || win <= 0 {
				http.Error(w, "window must be a positive Go duration such as 5m", http.StatusBadRequest)
				return
			}
			s.SetGraphQLBudget(body.Limit, win)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	default:
		http.Error(w, "unknown admin route", http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, "bad analytics events: "+err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"written": n})
}
