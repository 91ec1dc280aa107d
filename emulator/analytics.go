package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"sort"
	"time"

	"github.com/monotask/flareops/emulator/aesql"
)

// Workers Analytics Engine (cloudflare-api.md §3, analytics.md §2). Datasets have no
// REST API: they come into existence with their first data point. Real points come from
// Workers' writeDataPoint; tests write them with WriteDataPoints or the emulator-only
// endpoint below. The SQL API evaluates the subset in package aesql for real.
//
// Datasets are global to the emulator, not per account: WriteDataPoints (like a Worker
// binding here) names no account, and every well-formed account id sees every dataset.

const (
	aeMaxBlobs      = 20
	aeMaxDoubles    = 20
	aeMaxIndexes    = 1
	aeMaxIndexBytes = 96
	aeMaxBlobBytes  = 16 * 1024 // "16 KB" per point in the current limits page
	aeMaxQueryBytes = 1 << 20   // emulator bound on a SQL text
	// Unknown upstream: the test endpoint is the emulator's own; its 400s use code 10001.
	aeCodeInvalid = 10001
)

// Unknown upstream: the rules for dataset names; we accept SQL identifiers of up to 64
// characters (a dataset name is a table name in the SQL API).
var aeDatasetRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// DataPoint is one Analytics Engine data point: what a Worker's writeDataPoint writes,
// plus Timestamp (zero means now) and SampleInterval (zero means 1), which only the
// emulator lets a caller set, so that tests can place points in time and weight them.
type DataPoint struct {
	Blobs          []string
	Doubles        []float64
	Indexes        []string
	Timestamp      time.Time
	SampleInterval uint32
}

// analyticsState is the Analytics Engine family's part of the store: the points of each
// dataset in write order, kept for the 3-month retention.
type analyticsState struct {
	Datasets map[string][]aesql.Point `json:"datasets"`
}

func (st *analyticsState) init() {
	if st.Datasets == nil {
		st.Datasets = map[string][]aesql.Point{}
	}
}

func (s *Server) routesAnalytics() {
	s.handle("POST /accounts/{account_id}/analytics_engine/__write/{dataset}", s.aeWriteHandler)
	s.handleReadOnly("POST /accounts/{account_id}/analytics_engine/sql", s.aeSQLHandler)
	s.onTick(func(now time.Time) { s.aeExpire(now) })
}

// WriteDataPoints appends points to dataset (creating it), with the limits of
// writeDataPoint: at most 20 blobs of 16 KB in all, 20 doubles, 1 index of 96 bytes.
func (s *Server) WriteDataPoints(dataset string, points []DataPoint) error {
	if err := s.aeAppend(dataset, points); err != nil {
		return err
	}
	return s.persist()
}

func (s *Server) aeAppend(dataset string, points []DataPoint) error {
	if !aeDatasetRe.MatchString(dataset) {
		return fmt.Errorf("dataset name %q is invalid: use letters, digits and _ (at most 64, not starting with a digit)", dataset)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	stored := make([]aesql.Point, len(points))
	for i, dp := range points {
		p, err := aeValidate(dp, now)
		if err != nil {
			return fmt.Errorf("point %d: %w", i, err)
		}
		stored[i] = p
	}
	s.st.Analytics.Datasets[dataset] = append(s.st.Analytics.Datasets[dataset], stored...)
	s.aeExpire(now)
	return nil
}

func aeValidate(dp DataPoint, now time.Time) (aesql.Point, error) {
	total := 0
	for _, b := range dp.Blobs {
		total += len(b)
	}
	switch {
	case len(dp.Blobs) > aeMaxBlobs:
		return aesql.Point{}, fmt.Errorf("%d blobs: at most %d", len(dp.Blobs), aeMaxBlobs)
	case total > aeMaxBlobBytes:
		return aesql.Point{}, fmt.Errorf("blobs total %d bytes: at most %d", total, aeMaxBlobBytes)
	case len(dp.Doubles) > aeMaxDoubles:
		return aesql.Point{}, fmt.Errorf("%d doubles: at most %d", len(dp.Doubles), aeMaxDoubles)
	case len(dp.Indexes) > aeMaxIndexes:
		return aesql.Point{}, fmt.Errorf("%d indexes: at most %d", len(dp.Indexes), aeMaxIndexes)
	case len(dp.Indexes) == 1 && len(dp.Indexes[0]) > aeMaxIndexBytes:
		return aesql.Point{}, fmt.Errorf("index of %d bytes: at most %d", len(dp.Indexes[0]), aeMaxIndexBytes)
	}
	// Copies: the caller may reuse its slices, and stored points are never changed.
	p := aesql.Point{Timestamp: dp.Timestamp.UTC(), SampleInterval: dp.SampleInterval,
		Blobs: append([]string(nil), dp.Blobs...), Doubles: append([]float64(nil), dp.Doubles...)}
	if p.Timestamp.IsZero() {
		p.Timestamp = now
	}
	if p.SampleInterval == 0 {
		p.SampleInterval = 1
	}
	if len(dp.Indexes) == 1 {
		p.Index = dp.Indexes[0]
	}
	if p.Timestamp.Before(aeRetentionStart(now)) {
		return aesql.Point{}, fmt.Errorf("timestamp %s is older than the 3-month retention", p.Timestamp.Format(time.RFC3339))
	}
	return p, nil
}

func aeRetentionStart(now time.Time) time.Time { return now.AddDate(0, -3, 0) }

// aeExpire drops points past the 3-month retention. Callers hold s.mu.
func (s *Server) aeExpire(now time.Time) {
	cut := aeRetentionStart(now)
	for name, points := range s.st.Analytics.Datasets {
		kept := points[:0:0]
		for _, p := range points {
			if !p.Timestamp.Before(cut) {
				kept = append(kept, p)
			}
		}
		if len(kept) != len(points) {
			s.st.Analytics.Datasets[name] = kept
		}
	}
}

// aeWriteHandler is POST /accounts/{a}/analytics_engine/__write/{dataset} with a JSON
// array of {blobs, doubles, indexes, timestamp (RFC 3339 or unix ms), sample_interval}.
// Not a Cloudflare endpoint: real data comes from Workers' writeDataPoint.
func (s *Server) aeWriteHandler(w http.ResponseWriter, r *http.Request) {
	var body []struct {
		Blobs          []*string       `json:"blobs"`
		Doubles        []*float64      `json:"doubles"`
		Indexes        []*string       `json:"indexes"`
		Timestamp      json.RawMessage `json:"timestamp"`
		SampleInterval *float64        `json:"sample_interval"`
	}
	if !decodeJSON(w, r, &body) {
		return
	}
	points := make([]DataPoint, len(body))
	for i, b := range body {
		dp := DataPoint{Blobs: make([]string, len(b.Blobs)), Doubles: make([]float64, len(b.Doubles)), Indexes: make([]string, len(b.Indexes))}
		for j, v := range b.Blobs {
			dp.Blobs[j] = aeDeref(v)
		}
		for j, v := range b.Doubles {
			dp.Doubles[j] = aeDeref(v)
		}
		for j, v := range b.Indexes {
			dp.Indexes[j] = aeDeref(v)
		}
		var msg string
		if dp.Timestamp, msg = aeParseWriteTime(b.Timestamp); msg == "" && b.SampleInterval != nil {
			si := *b.SampleInterval
			if si < 1 || si > math.MaxUint32 || si != math.Trunc(si) {
				msg = fmt.Sprintf("sample_interval must be an integer >= 1, got %v", si)
			}
			dp.SampleInterval = uint32(si)
		}
		if msg != "" {
			writeError(w, http.StatusBadRequest, aeCodeInvalid, fmt.Sprintf("point %d: %s", i, msg))
			return
		}
		points[i] = dp
	}
	if err := s.aeAppend(r.PathValue("dataset"), points); err != nil {
		writeError(w, http.StatusBadRequest, aeCodeInvalid, err.Error())
		return
	}
	writeResult(w, map[string]int{"written": len(points)})
}

func aeDeref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// aeParseWriteTime reads an RFC 3339 string or unix milliseconds (absent: now).
func aeParseWriteTime(raw json.RawMessage) (time.Time, string) {
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, fmt.Sprintf("timestamp %q is not RFC 3339", s)
		}
		return t, ""
	}
	var ms float64
	if json.Unmarshal(raw, &ms) != nil {
		return time.Time{}, "timestamp must be an RFC 3339 string or unix milliseconds"
	}
	return time.UnixMilli(int64(ms)), ""
}

// aeSQLHandler is the SQL API: the body is the SQL text; the answer is not enveloped.
// Unknown upstream: the failure shape (analytics.md §2 "Errors"); we answer HTTP 422
// with the problem as plain text, which is what clients read non-2xx bodies as.
func (s *Server) aeSQLHandler(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, aeMaxQueryBytes+1))
	if err != nil || len(body) > aeMaxQueryBytes {
		aeFail(w, "cannot read the query (at most 1 MiB of SQL text)")
		return
	}
	st, err := aesql.Parse(string(body))
	if err != nil {
		aeFail(w, err.Error())
		return
	}
	res, err := s.aeExecute(st)
	if err != nil {
		aeFail(w, err.Error())
		return
	}
	st.Write(w, res)
}

func aeFail(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusUnprocessableEntity)
	_, _ = io.WriteString(w, msg+"\n") // a failed write means the client went away
}

func (s *Server) aeExecute(st *aesql.Statement) (*aesql.Result, error) {
	s.mu.Lock()
	now := s.Now()
	if st.ShowTables() {
		names := aeSortedKeys(s.st.Analytics.Datasets)
		s.mu.Unlock()
		return st.Tables(names), nil
	}
	points, ok := s.st.Analytics.Datasets[st.Table()]
	s.mu.Unlock()
	if !ok {
		return nil, aesql.Errorf("unknown table %q: no dataset of that name has data", st.Table())
	}
	// Points are never changed in place (writes append, expiry copies), so the slice
	// read under the lock stays valid without it.
	return st.Run(points, now)
}

func aeSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
