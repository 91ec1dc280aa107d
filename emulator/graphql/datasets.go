package graphql

import (
	"time"
)

// The datasets of the subset (analytics.md §1.5–1.7), declared once: the schema the
// parser validates against and the executor are both built from these specs, so they
// cannot disagree about a field. Field types are those of Cloudflare's schema dump
// (analytics.md "SCHEMA"): e.g. the queue averages are integers and D1's quantiles
// float64, while the Workers quantiles are float32.

type dimKind int

const (
	dimString dimKind = iota
	dimTime           // Time, truncated to trunc
	dimDate           // Date (YYYY-MM-DD)
)

type dimSpec struct {
	name  string
	kind  dimKind
	trunc time.Duration // dimTime only
	idx   int           // dimString: its index in row.s (set by init)
}

// metricKind is the GraphQL type of an aggregate.
type metricKind string

const (
	mUint64  metricKind = "uint64"
	mUint32  metricKind = "uint32"
	mFloat64 metricKind = "float64"
	mFloat32 metricKind = "float32"
)

type metricSpec struct {
	name string
	kind metricKind
	src  string  // the row value aggregated ("" for avg.sampleInterval)
	q    float64 // quantiles only
	vi   int     // src's index in row.v (set by init)
}

type blockSpec struct {
	name    string // sum, avg, max, min, quantiles
	metrics []metricSpec
}

type datasetSpec struct {
	node      string // the field under accounts
	typ       string // the GraphQL type prefix
	dims      []dimSpec
	blocks    []blockSpec
	count     bool // a top-level count field
	retention time.Duration
	limits    Limits
	// strs and vals name the string dimensions and the values of a row, in the order
	// rows fills row.s and row.v.
	strs, vals []string
	rows       func(e *Events) []row
}

// Limits are a dataset's settings node values (analytics.md §1.2), in seconds.
type Limits struct {
	MaxDuration       int64 // widest time range of one query
	NotOlderThan      int64 // how far back a query may reach
	MaxPageSize       int64 // the largest limit
	MaxNumberOfFields int   // the most fields one dataset node may select
}

// row is one event as the executor sees it: its string dimensions and values in the
// order of its dataset's strs and vals.
type row struct {
	t  time.Time
	si float64
	s  []string
	v  []float64
}

// newRows allocates n rows with their dimension and value slices in two blocks.
func newRows(n, strs, vals int) []row {
	rows := make([]row, n)
	sb, vb := make([]string, n*strs), make([]float64, n*vals)
	for i := range rows {
		rows[i].s, rows[i].v = sb[i*strs:(i+1)*strs:(i+1)*strs], vb[i*vals:(i+1)*vals:(i+1)*vals]
	}
	return rows
}

// init resolves the names of the specs to row indexes; a name that is not there is a
// bug in the specs.
func init() {
	for _, d := range datasets {
		index := func(list []string, name string) int {
			for i, n := range list {
				if n == name {
					return i
				}
			}
			panic("emulator/graphql: " + d.node + " has no row field " + name)
		}
		for i := range d.dims {
			if d.dims[i].kind == dimString {
				d.dims[i].idx = index(d.strs, d.dims[i].name)
			}
		}
		for _, b := range d.blocks {
			for i := range b.metrics {
				if b.metrics[i].src != "" {
					b.metrics[i].vi = index(d.vals, b.metrics[i].src)
				}
			}
		}
	}
}

var timeDims = []dimSpec{
	{name: "date", kind: dimDate},
	{name: "datetime", kind: dimTime, trunc: time.Second},
	{name: "datetimeHour", kind: dimTime, trunc: time.Hour},
	{name: "datetimeMinute", kind: dimTime, trunc: time.Minute},
}

func stringDims(names ...string) []dimSpec {
	out := make([]dimSpec, len(names))
	for i, n := range names {
		out[i] = dimSpec{name: n, kind: dimString}
	}
	return out
}

func quantiles(kind metricKind, srcs ...string) []metricSpec {
	var out []metricSpec
	ps := []struct {
		suffix string
		q      float64
	}{{"P25", .25}, {"P50", .5}, {"P75", .75}, {"P90", .9}, {"P99", .99}, {"P999", .999}}
	for _, src := range srcs {
		for _, p := range ps {
			out = append(out, metricSpec{name: src + p.suffix, kind: kind, src: src, q: p.q})
		}
	}
	return out
}

func metrics(kind metricKind, names ...string) []metricSpec {
	out := make([]metricSpec, len(names))
	for i, n := range names {
		out[i] = metricSpec{name: n, kind: kind, src: n}
	}
	return out
}

var sampleInterval = metricSpec{name: "sampleInterval", kind: mFloat64}

// Unknown upstream: the settings values of our plans (analytics.md open question 1).
// Workers: "up to one month of data for dates up to three months ago" → maxDuration
// 31 days, notOlderThan 92 days (three of the longest months). Queues are not
// documented; D1 keeps 31 days. We take 31 days for both ranges of those, and
// maxPageSize 10000 everywhere (the documented firewall example; community code asks
// workersInvocationsAdaptive for limit 10000). maxNumberOfFields is not documented for
// any of them: 30 is a guess that no query of flareops comes near.
const (
	day          = 24 * time.Hour
	month        = 31 * day
	defaultPage  = 10000
	defaultField = 30
)

func limitsFor(duration, notOlder time.Duration) Limits {
	return Limits{MaxDuration: int64(duration / time.Second), NotOlderThan: int64(notOlder / time.Second), MaxPageSize: defaultPage, MaxNumberOfFields: defaultField}
}

// workersErrorStatuses are the statuses counted in sum.errors. Unknown upstream
// (analytics.md open question 2): the dashboard's errors are scriptThrewException,
// exceededResources and internalError; we also count the other failure statuses seen
// in the wild (exceededCpu, exceededMemory, loadShed), and any status we do not know,
// except the two the dashboard calls success: success and clientDisconnected.
func workersIsError(status string) bool {
	return status != "success" && status != "clientDisconnected"
}

var workersSpec = &datasetSpec{
	node:  "workersInvocationsAdaptive",
	typ:   "AccountWorkersInvocationsAdaptive",
	dims:  append(append([]dimSpec{}, timeDims...), stringDims("scriptName", "scriptVersion", "environmentName", "status", "usageModel")...),
	count: false,
	blocks: []blockSpec{
		{name: "sum", metrics: append(metrics(mUint64, "requests", "errors", "subrequests", "responseBodySize", "wallTime", "cpuTimeUs"), metricSpec{name: "duration", kind: mFloat64, src: "duration"})},
		{name: "quantiles", metrics: quantiles(mFloat32, "cpuTime", "wallTime", "duration", "responseBodySize")},
		{name: "max", metrics: append(metrics(mUint64, "cpuTime", "wallTime", "responseBodySize"), metricSpec{name: "duration", kind: mFloat64, src: "duration"})},
		{name: "min", metrics: append(metrics(mUint64, "cpuTime", "wallTime", "responseBodySize"), metricSpec{name: "duration", kind: mFloat64, src: "duration"})},
		{name: "avg", metrics: []metricSpec{sampleInterval}},
	},
	retention: 92 * day,
	limits:    limitsFor(month, 92*day),
	strs:      []string{"scriptName", "scriptVersion", "environmentName", "status", "usageModel"},
	vals:      []string{"requests", "errors", "subrequests", "responseBodySize", "wallTime", "cpuTimeUs", "cpuTime", "duration"},
	rows: func(e *Events) []row {
		out := newRows(len(e.Workers), 5, 8)
		for i, ev := range e.Workers {
			errs := 0.0
			if workersIsError(ev.Status) {
				errs = 1
			}
			r := &out[i]
			r.t, r.si = ev.Datetime, float64(ev.SampleInterval)
			copy(r.s, []string{ev.ScriptName, ev.ScriptVersion, ev.EnvironmentName, ev.Status, ev.UsageModel})
			copy(r.v, []float64{1, errs, ev.Subrequests, ev.ResponseBodySize, ev.WallTimeUs, ev.CPUTimeUs, ev.CPUTimeUs, ev.Duration})
		}
		return out
	},
}

var queueTimeDims = append(append([]dimSpec{}, timeDims...), stringDims("queueId")...)

var queueOpsSpec = &datasetSpec{
	node:  "queueMessageOperationsAdaptiveGroups",
	typ:   "AccountQueueMessageOperationsAdaptiveGroups",
	dims:  append(append([]dimSpec{}, queueTimeDims...), stringDims("actionType", "consumerType", "outcome")...),
	count: true,
	blocks: []blockSpec{
		{name: "sum", metrics: metrics(mUint64, "billableOperations", "bytes")},
		// Averages typed as integers, as in the schema (lagTime uint64, retryCount uint32).
		{name: "avg", metrics: []metricSpec{{name: "lagTime", kind: mUint64, src: "lagTime"}, {name: "retryCount", kind: mUint32, src: "retryCount"}, sampleInterval}},
		{name: "max", metrics: metrics(mUint32, "messageSize")},
	},
	retention: month,
	limits:    limitsFor(month, month),
	strs:      []string{"queueId", "actionType", "consumerType", "outcome"},
	vals:      []string{"billableOperations", "bytes", "lagTime", "retryCount", "messageSize"},
	rows: func(e *Events) []row {
		out := newRows(len(e.QueueOperations), 4, 5)
		for i, ev := range e.QueueOperations {
			r := &out[i]
			r.t, r.si = ev.Datetime, float64(ev.SampleInterval)
			copy(r.s, []string{ev.QueueID, ev.ActionType, ev.ConsumerType, ev.Outcome})
			copy(r.v, []float64{ev.Billable, ev.Bytes, ev.LagTimeMs, ev.RetryCount, ev.MessageSize})
		}
		return out
	},
}

var queueBacklogSpec = &datasetSpec{
	node:      "queueBacklogAdaptiveGroups",
	typ:       "AccountQueueBacklogAdaptiveGroups",
	dims:      queueTimeDims,
	blocks:    []blockSpec{{name: "avg", metrics: append(metrics(mUint64, "bytes", "messages"), sampleInterval)}},
	retention: month,
	limits:    limitsFor(month, month),
	strs:      []string{"queueId"},
	vals:      []string{"bytes", "messages"},
	rows: func(e *Events) []row {
		out := newRows(len(e.QueueBacklog), 1, 2)
		for i, ev := range e.QueueBacklog {
			r := &out[i]
			r.t, r.si = ev.Datetime, float64(ev.SampleInterval)
			r.s[0] = ev.QueueID
			r.v[0], r.v[1] = ev.Bytes, ev.Messages
		}
		return out
	},
}

var d1Spec = &datasetSpec{
	node: "d1AnalyticsAdaptiveGroups",
	typ:  "AccountD1AnalyticsAdaptiveGroups",
	// No raw datetime dimension in the schema (analytics.md §1.7).
	dims: []dimSpec{
		{name: "date", kind: dimDate},
		{name: "datetimeHour", kind: dimTime, trunc: time.Hour},
		{name: "datetimeMinute", kind: dimTime, trunc: time.Minute},
		{name: "datetimeFiveMinutes", kind: dimTime, trunc: 5 * time.Minute},
		{name: "datetimeFifteenMinutes", kind: dimTime, trunc: 15 * time.Minute},
		{name: "databaseId", kind: dimString},
	},
	count: true,
	blocks: []blockSpec{
		{name: "sum", metrics: append(metrics(mUint64, "readQueries", "writeQueries", "rowsRead", "rowsWritten"), metricSpec{name: "queryBatchResponseBytes", kind: mFloat64, src: "queryBatchResponseBytes"})},
		{name: "avg", metrics: append(metrics(mFloat64, "queryBatchTimeMs", "queryBatchResponseBytes"), sampleInterval)},
		{name: "quantiles", metrics: []metricSpec{
			{name: "queryBatchTimeMsP50", kind: mFloat64, src: "queryBatchTimeMs", q: .5},
			{name: "queryBatchTimeMsP90", kind: mFloat64, src: "queryBatchTimeMs", q: .9},
			{name: "queryBatchResponseBytesP50", kind: mFloat64, src: "queryBatchResponseBytes", q: .5},
			{name: "queryBatchResponseBytesP90", kind: mFloat64, src: "queryBatchResponseBytes", q: .9},
		}},
	},
	retention: month,
	limits:    limitsFor(month, month),
	strs:      []string{"databaseId"},
	vals:      []string{"readQueries", "writeQueries", "rowsRead", "rowsWritten", "queryBatchResponseBytes", "queryBatchTimeMs"},
	rows: func(e *Events) []row {
		out := newRows(len(e.D1), 1, 6)
		for i, ev := range e.D1 {
			r := &out[i]
			r.t, r.si = ev.Datetime, float64(ev.SampleInterval)
			r.s[0] = ev.DatabaseID
			copy(r.v, []float64{ev.ReadQueries, ev.WriteQueries, ev.RowsRead, ev.RowsWritten, ev.QueryBatchResponseBytes, ev.QueryBatchTimeMs})
		}
		return out
	},
}

var datasets = []*datasetSpec{workersSpec, queueOpsSpec, queueBacklogSpec, d1Spec}

func datasetByNode(node string) *datasetSpec {
	for _, d := range datasets {
		if d.node == node {
			return d
		}
	}
	return nil
}

func (d *datasetSpec) dim(name string) (dimSpec, bool) {
	for _, dm := range d.dims {
		if dm.name == name {
			return dm, true
		}
	}
	return dimSpec{}, false
}

func (d *datasetSpec) block(name string) (blockSpec, bool) {
	for _, b := range d.blocks {
		if b.name == name {
			return b, true
		}
	}
	return blockSpec{}, false
}

func (b blockSpec) metric(name string) (metricSpec, bool) {
	for _, m := range b.metrics {
		if m.name == name {
			return m, true
		}
	}
	return metricSpec{}, false
}

// dimValue is the row's value of a dimension, as the API renders it.
func (dm dimSpec) value(r *row) string {
	switch dm.kind {
	case dimTime:
		return r.t.Truncate(dm.trunc).UTC().Format(time.RFC3339)
	case dimDate:
		return r.t.UTC().Format(time.DateOnly)
	}
	return r.s[dm.idx]
}
