package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
)

// Logpush jobs (cloudflare-api.md §11; GO logpush/job.go), account-scoped:
// POST/GET /accounts/{a}/logpush/jobs and GET/PUT/DELETE …/jobs/{job_id}, with integer
// job ids. Validation is in logpush_validate.go. The emulator pushes no logs: a job is
// configuration only, and last_complete, last_error and error_message stay null.

const (
	// Unknown upstream: Logpush's error codes are not documented. We choose 1002 for a
	// refused job (HTTP 400), 1003 for an unknown job (HTTP 404) and 1004 for the job
	// limit (HTTP 400).
	logpushCodeInvalid  = 1002
	logpushCodeNotFound = 1003
	logpushCodeTooMany  = 1004
	// Unknown upstream: a limit on jobs per dataset is recalled from the Logpush docs
	// (4 per dataset) but was not found in the sources read; we enforce 4 per dataset and
	// account (strictest plausible).
	logpushMaxJobsPerDataset = 4
)

// logpushState is the Logpush family's part of the store.
type logpushState struct {
	LastID int64                 `json:"last_id"` // ids are unique across accounts
	Jobs   map[int64]*logpushJob `json:"jobs"`
}

func (st *logpushState) init() {
	if st.Jobs == nil {
		st.Jobs = map[int64]*logpushJob{}
	}
}

// logpushJob is a stored job. DestinationConf is kept whole (it holds R2 credentials);
// only view masks it.
type logpushJob struct {
	ID                       int64           `json:"id"`
	Account                  string          `json:"account"`
	Name                     string          `json:"name,omitempty"`
	Dataset                  string          `json:"dataset"`
	Kind                     string          `json:"kind,omitempty"`
	Enabled                  bool            `json:"enabled"`
	DestinationConf          string          `json:"destination_conf"`
	Filter                   string          `json:"filter,omitempty"`
	OutputOptions            json.RawMessage `json:"output_options,omitempty"`
	MaxUploadBytes           int64           `json:"max_upload_bytes,omitempty"`
	MaxUploadIntervalSeconds int64           `json:"max_upload_interval_seconds,omitempty"`
	MaxUploadRecords         int64           `json:"max_upload_records,omitempty"`
	Frequency                string          `json:"frequency,omitempty"`       // deprecated; echoed
	LogpullOptions           string          `json:"logpull_options,omitempty"` // deprecated; echoed
}

// view is the job as the API answers it (GO LogpushJob). Unknown upstream: whether GET
// echoes the R2 secret-access-key in destination_conf. We mask it (strictest): a reader
// cannot compare the secret it wants with the one the job has, only the rest of the
// destination, and must keep its own hash of the secret to notice a change.
func (j *logpushJob) view() map[string]any {
	var oo any
	if j.OutputOptions != nil {
		oo = j.OutputOptions
	}
	return map[string]any{
		"id":                          j.ID,
		"name":                        logpushNullable(j.Name),
		"dataset":                     j.Dataset,
		"kind":                        j.Kind,
		"enabled":                     j.Enabled,
		"destination_conf":            logpushMaskDestination(j.DestinationConf),
		"filter":                      logpushNullable(j.Filter),
		"output_options":              oo,
		"max_upload_bytes":            j.MaxUploadBytes,
		"max_upload_interval_seconds": j.MaxUploadIntervalSeconds,
		"max_upload_records":          j.MaxUploadRecords,
		"frequency":                   logpushNullable(j.Frequency),
		"logpull_options":             logpushNullable(j.LogpullOptions),
		"last_complete":               nil,
		"last_error":                  nil,
		"error_message":               nil,
	}
}

func logpushNullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) routesLogpush() {
	const base = "/accounts/{account_id}/logpush/jobs"
	s.handle("POST "+base, s.logpushCreate)
	s.handle("GET "+base, s.logpushList)
	s.handle("GET "+base+"/{job_id}", s.logpushGet)
	s.handle("PUT "+base+"/{job_id}", s.logpushUpdate)
	s.handle("DELETE "+base+"/{job_id}", s.logpushDelete)
}

// logpushJobFor returns the job in the path if it belongs to the account, or answers
// 400/404 and returns nil. The caller holds s.mu.
func (s *Server) logpushJobFor(w http.ResponseWriter, r *http.Request) *logpushJob {
	id, err := strconv.ParseInt(r.PathValue("job_id"), 10, 64)
	if err != nil || id < 1 {
		writeError(w, http.StatusBadRequest, logpushCodeInvalid, "job_id must be a positive integer")
		return nil
	}
	j := s.st.Logpush.Jobs[id]
	if j == nil || j.Account != r.PathValue("account_id") {
		writeError(w, http.StatusNotFound, logpushCodeNotFound, fmt.Sprintf("logpush job %d not found", id))
		return nil
	}
	return j
}

func (s *Server) logpushCreate(w http.ResponseWriter, r *http.Request) {
	var body map[string]json.RawMessage
	if !decodeJSON(w, r, &body) {
		return
	}
	j := logpushJob{Account: r.PathValue("account_id")}
	if err := j.apply(body, true); err != nil {
		writeError(w, http.StatusBadRequest, logpushCodeInvalid, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.logpushCheckDestination(&j); err != nil {
		writeError(w, http.StatusBadRequest, logpushCodeInvalid, err.Error())
		return
	}
	if n := s.logpushCount(j.Account, j.Dataset); n >= logpushMaxJobsPerDataset {
		writeError(w, http.StatusBadRequest, logpushCodeTooMany,
			fmt.Sprintf("this account already has the maximum of %d Logpush jobs for dataset %s", logpushMaxJobsPerDataset, j.Dataset))
		return
	}
	s.st.Logpush.LastID++
	j.ID = s.st.Logpush.LastID
	s.st.Logpush.Jobs[j.ID] = &j
	writeResult(w, j.view())
}

func (s *Server) logpushCount(acct, dataset string) int {
	n := 0
	for _, j := range s.st.Logpush.Jobs {
		if j.Account == acct && j.Dataset == dataset {
			n++
		}
	}
	return n
}

// logpushList answers every job of the account, by id, on one page (GO SinglePage).
func (s *Server) logpushList(w http.ResponseWriter, r *http.Request) {
	acct := r.PathValue("account_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []int64
	for id, j := range s.st.Logpush.Jobs {
		if j.Account == acct {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
	out := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		out = append(out, s.st.Logpush.Jobs[id].view())
	}
	writeResult(w, out)
}

func (s *Server) logpushGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if j := s.logpushJobFor(w, r); j != nil {
		writeResult(w, j.view())
	}
}

// logpushUpdate applies a PUT. Top-level fields present replace the stored ones and
// absent ones are kept (the SDK and Terraform send only some); output_options, when
// present, replaces the whole object, as Cloudflare documents ("output_options is fully
// replaced on PUT updates", cloudflare-docs#31523). The dataset cannot change.
func (s *Server) logpushUpdate(w http.ResponseWriter, r *http.Request) {
	var body map[string]json.RawMessage
	if !decodeJSON(w, r, &body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.logpushJobFor(w, r)
	if j == nil {
		return
	}
	next := *j
	if err := next.apply(body, false); err != nil {
		writeError(w, http.StatusBadRequest, logpushCodeInvalid, err.Error())
		return
	}
	if next.DestinationConf != j.DestinationConf {
		if err := s.logpushCheckDestination(&next); err != nil {
			writeError(w, http.StatusBadRequest, logpushCodeInvalid, err.Error())
			return
		}
	}
	*j = next
	writeResult(w, j.view())
}

// logpushDelete answers {id}; a job that is gone is 404.
func (s *Server) logpushDelete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.logpushJobFor(w, r)
	if j == nil {
		return
	}
	delete(s.st.Logpush.Jobs, j.ID)
	writeResult(w, map[string]any{"id": j.ID})
}
