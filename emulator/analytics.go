package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Workers Analytics Engine (cloudflare-api.md §3, analytics.md §2). Datasets have no
// REST API: they come into existence with their first data point. Real points come from
// Workers' writeDataPoint; tests write them with WriteDataPoints or the emulator-only
// endpoint below. The SQL API evaluates the subset in analytics_sql.go for real.
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
	Datasets map[string][]aePoint `json:"datasets"`
}

func (st *analyticsState) init() {
	if st.Datasets == nil {
		st.Datasets = map[string][]aePoint{}
	}
}

type aePoint struct {
	Timestamp      time.Time `json:"t"`
	SampleInterval uint32    `json:"s"`
	Index          string    `json:"i,omitempty"`
	Blobs          []string  `json:"b,omitempty"`
	Doubles        []float64 `json:"d,omitempty"`
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
	stored := make([]aePoint, len(points))
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

func aeValidate(dp DataPoint, now time.Time) (aePoint, error) {
	total := 0
	for _, b := range dp.Blobs {
		total += len(b)
	}
	switch {
	case len(dp.Blobs) > aeMaxBlobs:
		return aePoint{}, fmt.Errorf("%d blobs: at most %d", len(dp.Blobs), aeMaxBlobs)
	case total > aeMaxBlobBytes:
		return aePoint{}, fmt.Errorf("blobs total %d bytes: at most %d", total, aeMaxBlobBytes)
	case len(dp.Doubles) > aeMaxDoubles:
		return aePoint{}, fmt.Errorf("%d doubles: at most %d", len(dp.Doubles), aeMaxDoubles)
	case len(dp.Indexes) > aeMaxIndexes:
		return aePoint{}, fmt.Errorf("%d indexes: at most %d", len(dp.Indexes), aeMaxIndexes)
	case len(dp.Indexes) == 1 && len(dp.Indexes[0]) > aeMaxIndexBytes:
		return aePoint{}, fmt.Errorf("index of %d bytes: at most %d", len(dp.Indexes[0]), aeMaxIndexBytes)
	}
	// Copies: the caller may reuse its slices, and stored points are never changed.
	p := aePoint{Timestamp: dp.Timestamp.UTC(), SampleInterval: dp.SampleInterval,
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
		return aePoint{}, fmt.Errorf("timestamp %s is older than the 3-month retention", p.Timestamp.Format(time.RFC3339))
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
	q, err := aeParse(string(body))
	if err != nil {
		aeFail(w, err.Error())
		return
	}
	var format aeFormat
	if format, err = aeLookupFormat(q.format); err != nil {
		aeFail(w, err.Error())
		return
	}
	res, err := s.aeExecute(q)
	if err != nil {
		aeFail(w, err.Error())
		return
	}
	format.write(w, res)
}

func aeFail(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusUnprocessableEntity)
	_, _ = io.WriteString(w, msg+"\n") // a failed write means the client went away
}

func (s *Server) aeExecute(q *aeQuery) (*aeResult, error) {
	s.mu.Lock()
	now := s.Now()
	if q.show {
		res := &aeResult{cols: []aeColumn{{name: "dataset", typ: aeTString}}, rows: [][]aeValue{}}
		for _, name := range aeSortedKeys(s.st.Analytics.Datasets) {
			res.rows = append(res.rows, []aeValue{aeS(name)})
		}
		s.mu.Unlock()
		return res, nil
	}
	points, ok := s.st.Analytics.Datasets[q.table]
	s.mu.Unlock()
	if !ok {
		return nil, aeErrf("unknown table %q: no dataset of that name has data", q.table)
	}
	// Points are never changed in place (writes append, expiry copies), so the slice
	// read under the lock stays valid without it.
	rows := make([]*aeRow, len(points))
	for i := range points {
		rows[i] = &aeRow{p: &points[i], dataset: q.table}
	}
	return aeRun(q, rows, now)
}

func aeSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// --- output formats ---

type aeFormat struct {
	contentType string
	render      func(w http.ResponseWriter, res *aeResult)
}

func aeLookupFormat(name string) (aeFormat, error) {
	switch strings.ToLower(name) {
	case "json":
		return aeFormat{"application/json; charset=UTF-8", aeWriteJSON}, nil
	case "jsoneachrow":
		return aeFormat{"application/x-ndjson; charset=UTF-8", aeWriteEachRow}, nil
	case "tabseparated", "tsv":
		return aeFormat{"text/tab-separated-values; charset=UTF-8", aeWriteTSV}, nil
	}
	return aeFormat{}, aeErrf("FORMAT %s is not supported: use JSON, JSONEachRow or TabSeparated", name)
}

func (f aeFormat) write(w http.ResponseWriter, res *aeResult) {
	w.Header().Set("Content-Type", f.contentType)
	f.render(w, res)
}

// aeWriteJSON writes {"meta":[…],"data":[…],"rows":N} with the columns in SELECT order.
func aeWriteJSON(w http.ResponseWriter, res *aeResult) {
	var b bytes.Buffer
	b.WriteString(`{"meta":[`)
	for i, c := range res.cols {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":%s,"type":%s}`, aeJSONString(c.name), aeJSONString(c.typ.String()))
	}
	b.WriteString(`],"data":[`)
	for i, row := range res.rows {
		if i > 0 {
			b.WriteByte(',')
		}
		aeWriteObject(&b, res.cols, row)
	}
	fmt.Fprintf(&b, `],"rows":%d}`, len(res.rows))
	b.WriteByte('\n')
	_, _ = w.Write(b.Bytes())
}

func aeWriteEachRow(w http.ResponseWriter, res *aeResult) {
	var b bytes.Buffer
	for _, row := range res.rows {
		aeWriteObject(&b, res.cols, row)
		b.WriteByte('\n')
	}
	_, _ = w.Write(b.Bytes())
}

func aeWriteObject(b *bytes.Buffer, cols []aeColumn, row []aeValue) {
	b.WriteByte('{')
	for j, v := range row {
		if j > 0 {
			b.WriteByte(',')
		}
		b.WriteString(aeJSONString(cols[j].name))
		b.WriteByte(':')
		b.WriteString(aeJSONValue(v))
	}
	b.WriteByte('}')
}

// aeJSONValue renders a value as ClickHouse's JSON formats do: 64-bit integers quoted,
// smaller integers and floats bare (NaN and infinities as null), DateTime as text.
func aeJSONValue(v aeValue) string {
	switch {
	case v.t.kind == aeString:
		return aeJSONString(v.s)
	case v.t.kind == aeDateTime:
		return aeJSONString(aeValueTime(v))
	case v.t.kind == aeFloat:
		if math.IsNaN(v.f) || math.IsInf(v.f, 0) {
			return "null"
		}
		return aeFloatText(v.f)
	case v.t.bits == 64:
		return `"` + aeIntText(v) + `"`
	}
	return aeIntText(v)
}

func aeIntText(v aeValue) string {
	if v.t.signed {
		return strconv.FormatInt(v.i, 10)
	}
	return strconv.FormatUint(v.u, 10)
}

func aeJSONString(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b)
}

// aeWriteTSV writes tab-separated rows without a header, escaping \t, \n and \\.
func aeWriteTSV(w http.ResponseWriter, res *aeResult) {
	esc := strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`)
	var b bytes.Buffer
	for _, row := range res.rows {
		for j, v := range row {
			if j > 0 {
				b.WriteByte('\t')
			}
			switch v.t.kind {
			case aeString:
				b.WriteString(esc.Replace(v.s))
			case aeDateTime:
				b.WriteString(aeValueTime(v))
			case aeFloat:
				b.WriteString(aeFloatText(v.f))
			default:
				b.WriteString(aeIntText(v))
			}
		}
		b.WriteByte('\n')
	}
	_, _ = w.Write(b.Bytes())
}

// --- running a query ---

// aeRow is one data point of a dataset, as the SQL columns see it.
type aeRow struct {
	p       *aePoint
	dataset string
}

type aeColumn struct {
	name string
	typ  aeType
}

type aeResult struct {
	cols []aeColumn
	rows [][]aeValue
}

// aeAllColumns is the table's column order for SELECT *.
func aeAllColumns() []string {
	cols := []string{"dataset", "timestamp", "_sample_interval", "index1"}
	for i := 1; i <= 20; i++ {
		cols = append(cols, "blob"+strconv.Itoa(i))
	}
	for i := 1; i <= 20; i++ {
		cols = append(cols, "double"+strconv.Itoa(i))
	}
	return cols
}

// aeRun evaluates a SELECT over rows (already the points of q.table).
func aeRun(q *aeQuery, rows []*aeRow, now time.Time) (*aeResult, error) {
	plan, err := aeCompileQuery(q, now)
	if err != nil {
		return nil, err
	}
	var kept []*aeRow
	for _, r := range rows {
		ok, err := aeTrue(plan.where, r)
		if err != nil {
			return nil, err
		}
		if ok {
			kept = append(kept, r)
		}
	}
	var out []aeOutRow
	if plan.aggregate {
		out, err = plan.runGroups(kept)
	} else {
		out, err = plan.runRows(kept)
	}
	if err != nil {
		return nil, err
	}
	plan.sort(out)
	return plan.result(out, q.offset, q.limit), nil
}

func aeTrue(e *aeExpr, r *aeRow) (bool, error) {
	if e == nil {
		return true, nil
	}
	v, err := e.evalRow(r)
	return err == nil && v.truthy(), err
}

type aeOutRow struct {
	vals []aeValue
	keys []aeValue // ORDER BY values
}

type aePlan struct {
	items     []*aeExpr
	names     []string
	where     *aeExpr
	groupBy   []*aeExpr
	having    *aeExpr
	orderBy   []*aeExpr
	desc      []bool
	aggregate bool
}

func (pl *aePlan) runRows(rows []*aeRow) ([]aeOutRow, error) {
	out := make([]aeOutRow, 0, len(rows))
	for _, r := range rows {
		o := aeOutRow{vals: make([]aeValue, len(pl.items)), keys: make([]aeValue, len(pl.orderBy))}
		for i, e := range pl.items {
			v, err := e.evalRow(r)
			if err != nil {
				return nil, err
			}
			o.vals[i] = v
		}
		for i, e := range pl.orderBy {
			v, err := e.evalRow(r)
			if err != nil {
				return nil, err
			}
			o.keys[i] = v
		}
		out = append(out, o)
	}
	return out, nil
}

// runGroups groups rows by the GROUP BY values (in order of first appearance); with no
// GROUP BY, all rows form one group, which exists even when empty.
func (pl *aePlan) runGroups(rows []*aeRow) ([]aeOutRow, error) {
	var order []string
	groups := map[string][]*aeRow{}
	if len(pl.groupBy) == 0 {
		order, groups[""] = []string{""}, rows
	}
	for _, r := range rows {
		if len(pl.groupBy) == 0 {
			break
		}
		var key strings.Builder
		for _, e := range pl.groupBy {
			v, err := e.evalRow(r)
			if err != nil {
				return nil, err
			}
			key.WriteString(v.key())
			key.WriteByte(0)
		}
		k := key.String()
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	out := make([]aeOutRow, 0, len(order))
	for _, k := range order {
		g := groups[k]
		if pl.having != nil {
			v, err := pl.having.evalGroup(g)
			if err != nil {
				return nil, err
			}
			if !v.truthy() {
				continue
			}
		}
		o := aeOutRow{vals: make([]aeValue, len(pl.items)), keys: make([]aeValue, len(pl.orderBy))}
		for i, e := range append(append([]*aeExpr{}, pl.items...), pl.orderBy...) {
			v, err := e.evalGroup(g)
			if err != nil {
				return nil, err
			}
			if i < len(pl.items) {
				o.vals[i] = v
			} else {
				o.keys[i-len(pl.items)] = v
			}
		}
		out = append(out, o)
	}
	return out, nil
}

func (pl *aePlan) sort(out []aeOutRow) {
	if len(pl.orderBy) == 0 {
		return
	}
	sort.SliceStable(out, func(i, j int) bool {
		for k := range pl.orderBy {
			c := aeCompareForSort(out[i].keys[k], out[j].keys[k], pl.desc[k])
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
}

// aeCompareForSort orders a before b (<0) for one ORDER BY key; NaN sorts last either way.
func aeCompareForSort(a, b aeValue, desc bool) int {
	an, bn := a.isNaN(), b.isNaN()
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	c := aeCompare(a, b)
	if desc {
		c = -c
	}
	return c
}

func (pl *aePlan) result(out []aeOutRow, offset, limit int64) *aeResult {
	res := &aeResult{rows: [][]aeValue{}}
	for i, e := range pl.items {
		res.cols = append(res.cols, aeColumn{name: pl.names[i], typ: e.typ})
	}
	start := min(offset, int64(len(out)))
	end := int64(len(out))
	if limit >= 0 {
		end = min(end, start+limit)
	}
	for _, o := range out[start:end] {
		res.rows = append(res.rows, o.vals)
	}
	return res
}

// aeValueTime renders DateTime values as ClickHouse does (UTC, second precision).
func aeValueTime(v aeValue) string { return time.Unix(v.i, 0).UTC().Format("2006-01-02 15:04:05") }

// aeFloatText renders a Float64 the way ClickHouse prints it (shortest round trip).
func aeFloatText(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// --- aggregates ---

type aeAgg struct {
	name  string // lower case
	args  []*aeExpr
	level float64 // quantiles
	typ   aeType
}

func (a *aeAgg) run(rows []*aeRow) (aeValue, error) {
	if a.name == "count" {
		return aeU(aeTUInt64, uint64(len(rows))), nil
	}
	vals, err := a.column(0, rows)
	if err != nil {
		return aeValue{}, err
	}
	switch a.name {
	case "sum":
		return aeSum(vals, a.typ), nil
	case "avg":
		if len(vals) == 0 {
			return aeF(math.NaN()), nil
		}
		return aeF(aeSum(vals, aeTFloat).f / float64(len(vals))), nil
	case "min", "max":
		return aeExtreme(vals, a.name == "max", a.typ), nil
	}
	weights, err := a.column(1, rows)
	if err != nil {
		return aeValue{}, err
	}
	return aeQuantile(vals, weights, a.level, a.typ), nil
}

func (a *aeAgg) column(i int, rows []*aeRow) ([]aeValue, error) {
	vals := make([]aeValue, len(rows))
	for j, r := range rows {
		v, err := a.args[i].evalRow(r)
		if err != nil {
			return nil, err
		}
		vals[j] = v
	}
	return vals, nil
}

func aeSum(vals []aeValue, t aeType) aeValue {
	var f float64
	var i int64
	var u uint64
	for _, v := range vals {
		f += v.float()
		i += v.int64()
		u += v.uint64()
	}
	switch {
	case t.kind == aeFloat:
		return aeF(f)
	case t.signed:
		return aeI(t, i)
	}
	return aeU(t, u)
}

// aeExtreme is min or max; an empty set gives the type's default value, as ClickHouse does.
func aeExtreme(vals []aeValue, max bool, t aeType) aeValue {
	if len(vals) == 0 {
		return aeValue{t: t}
	}
	best := vals[0]
	for _, v := range vals[1:] {
		if c := aeCompare(v, best); (max && c > 0) || (!max && c < 0) {
			best = v
		}
	}
	return best
}

// aeQuantile is ClickHouse's QuantileExactWeighted: sum the weight of each distinct
// value, sort by value, and return the first value whose running weight reaches
// ceil(total × level). An empty set gives NaN for floats, 0 otherwise.
func aeQuantile(vals, weights []aeValue, level float64, t aeType) aeValue {
	type pair struct {
		v aeValue
		w uint64
	}
	index := map[string]int{}
	var pairs []pair
	for i, v := range vals {
		k := v.key()
		if j, ok := index[k]; ok {
			pairs[j].w += weights[i].uint64()
			continue
		}
		index[k] = len(pairs)
		pairs = append(pairs, pair{v, weights[i].uint64()})
	}
	if len(pairs) == 0 {
		if t.kind == aeFloat {
			return aeF(math.NaN())
		}
		return aeValue{t: t}
	}
	sort.Slice(pairs, func(i, j int) bool { return aeCompare(pairs[i].v, pairs[j].v) < 0 })
	var total float64
	for _, p := range pairs {
		total += float64(p.w)
	}
	threshold := math.Ceil(total * level)
	var acc float64
	for _, p := range pairs {
		acc += float64(p.w)
		if acc >= threshold {
			return aeCast(p.v, t)
		}
	}
	return aeCast(pairs[len(pairs)-1].v, t)
}

// --- time ---

func aeFloorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

var aeUnitSeconds = map[string]int64{"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400, "WEEK": 7 * 86400}
var aeUnitMonths = map[string]int64{"MONTH": 1, "QUARTER": 3, "YEAR": 12}

// aeAddInterval adds n units to unix seconds; months clamp the day to the month's end,
// as ClickHouse's addMonths does.
func aeAddInterval(sec, n int64, unit string) int64 {
	if s, ok := aeUnitSeconds[unit]; ok {
		return sec + n*s
	}
	t := time.Unix(sec, 0).UTC()
	idx := int64(t.Year())*12 + int64(t.Month()-1) + n*aeUnitMonths[unit]
	y, m := int(aeFloorDiv(idx, 12)), time.Month(idx-aeFloorDiv(idx, 12)*12+1)
	last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return time.Date(y, m, min(t.Day(), last), t.Hour(), t.Minute(), t.Second(), 0, time.UTC).Unix()
}

// aeStartOfInterval rounds down as ClickHouse's toStartOfInterval does in UTC: seconds,
// minutes and days from the epoch, hours from midnight, months from year 0, years from
// year 0. WEEK is refused at compile time.
func aeStartOfInterval(sec, n int64, unit string) int64 {
	switch unit {
	case "SECOND", "MINUTE", "DAY":
		step := n * aeUnitSeconds[unit]
		return aeFloorDiv(sec, step) * step
	case "HOUR":
		day := aeFloorDiv(sec, 86400) * 86400
		return day + (sec-day)/(n*3600)*(n*3600)
	}
	t := time.Unix(sec, 0).UTC()
	if unit == "YEAR" {
		return time.Date(t.Year()/int(n)*int(n), 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	}
	k := n * aeUnitMonths[unit]
	idx := (int64(t.Year())*12 + int64(t.Month()-1)) / k * k
	return time.Date(int(idx/12), time.Month(idx%12+1), 1, 0, 0, 0, 0, time.UTC).Unix()
}
