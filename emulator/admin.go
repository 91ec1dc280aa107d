package emulator

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// serveAdmin is the admin interface, outside /client/v4 and not rate limited:
//
//	GET    /__flareops/admin/counters        request counters (Counts as JSON)
//	DELETE /__flareops/admin/counters        reset them
//	GET    /__flareops/admin/faults          current Faults
//	PUT    /__flareops/admin/faults          replace Faults (JSON; durations "1s" or ns)
//	POST   /__flareops/admin/clock           {"advance":"1h"} moves the clock forward
//	GET    /__flareops/admin/clock           {"now": RFC 3339}
//	PUT    /__flareops/admin/ratelimit       {"limit":120,"window":"1m"}
//	POST   /__flareops/admin/analytics/workers  JSON array of Worker invocations
//	       ({datetime, scriptName, status, wallTimeUs, cpuTimeUs, sampleInterval, …}) for
//	       GraphQL workersInvocationsAdaptive; datetime absent = the emulator clock's now
//	POST   /__flareops/admin/analytics/queues   {"operations":[{datetime, queueId,
//	       actionType, consumerType, outcome, lagTime, retryCount, sampleInterval, …}],
//	       "backlog":[{datetime, queueId, messages, bytes, sampleInterval}]}
//	POST   /__flareops/admin/analytics/d1       JSON array of D1 query batches
//	       ({datetime, databaseId, queryBatchTimeMs, readQueries, …, sampleInterval})
//	PUT    /__flareops/admin/analytics/budget   {"limit":300,"window":"5m"} GraphQL budget
//
// The analytics feeds answer {"written":N}, or 400 naming the bad event; a batch is
// stored whole or not at all. Field names and units are those of emulator/graphql.
//
// Paths under /__flareops/signed/ are URLs the emulator hands out as pre-signed
// R2 URLs (D1 export and import); families register them with handleSigned.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, adminPrefix)
	if strings.HasPrefix(path, "/signed/") {
		s.serveSigned(w, r, strings.TrimPrefix(path, "/signed/"))
		return
	}
	if what, ok := strings.CutPrefix(path, "/admin/analytics/"); ok {
		s.serveAnalyticsAdmin(w, r, what)
		return
	}
	switch r.Method + " " + path {
	case "GET /admin/counters":
		writeJSON(w, http.StatusOK, s.Counts())
	case "DELETE /admin/counters":
		s.ResetCounts()
		w.WriteHeader(http.StatusNoContent)
	case "GET /admin/faults":
		writeJSON(w, http.StatusOK, s.faults.get())
	case "PUT /admin/faults":
		var f Faults
		if err := json.NewDecoder(r.Body).Decode(&f); err != nil {
			http.Error(w, "bad faults JSON: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := f.validate(); err != nil {
			http.Error(w, "bad faults: "+err.Error(), http.StatusBadRequest)
			return
		}
		s.SetFaults(f)
		w.WriteHeader(http.StatusNoContent)
	case "GET /admin/clock":
		writeJSON(w, http.StatusOK, map[string]string{"now": s.Now().Format(time.RFC3339Nano)})
	case "POST /admin/clock":
		var body struct {
			Advance string `json:"advance"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, "bad clock JSON: "+err.Error(), http.StatusBadRequest)
			return
		}
		d, err := time.ParseDuration(body.Advance)
		if err != nil || d < 0 {
			http.Error(w, "advance must be a non-negative Go duration such as 25h", http.StatusBadRequest)
			return
		}
		s.Advance(d)
		writeJSON(w, http.StatusOK, map[string]string{"now": s.Now().Format(time.RFC3339Nano)})
	case "PUT /admin/ratelimit":
		var body struct {
			Limit  int    `json:"limit"`
			Window string `json:"window"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, "bad ratelimit JSON: "+err.Error(), http.StatusBadRequest)
			return
		}
		win, err := time.ParseDuration(body.Window)
		if err != nil || win <= 0 {
			http.Error(w, "window must be a positive Go duration such as 1m", http.StatusBadRequest)
			return
		}
		s.SetRateLimit(body.Limit, win)
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "unknown admin route", http.StatusNotFound)
	}
}

// signedHandlers serve emulator-signed URLs, keyed by the first path segment after
// /__flareops/signed/ (e.g. "d1-export"). Registered at route setup; read-only after.
type signedHandler func(w http.ResponseWriter, r *http.Request, rest string)

func (s *Server) handleSigned(kind string, h signedHandler) {
	if s.signed == nil {
		s.signed = map[string]signedHandler{}
	}
	s.signed[kind] = h
}

func (s *Server) serveSigned(w http.ResponseWriter, r *http.Request, rest string) {
	kind, tail, _ := strings.Cut(rest, "/")
	h, ok := s.signed[kind]
	if !ok {
		http.Error(w, "unknown signed URL", http.StatusNotFound)
		return
	}
	h(w, r, tail)
}
