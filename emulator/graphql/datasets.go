package graphql

import (
	"time"
)

// The datasets of the subset (analytics.md §1.5–1.7), declared once: the schema the
// parser validates against and the executor are both built from these specs, so they
// cannot disagree about a field.

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
}

// metricKind is the GraphQL type of an aggregate.
type metricKind string

const (
	mUint64  metricKind = "uint64"
	mFloat64 metricKind = "float64"
	mFloat32 metricKind = "float32"
)

type metricSpec struct {
	name string
	kind metricKind
	src  string  // the row value aggregated ("" for avg.sampleInterval)
	q    float64 // quantiles only
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
	rows      func(e *Events) []row
}

// Limits are a dataset's settings node values (analytics.md §1.2), in seconds.
type Limits struct {
	MaxDuration       int64 // widest time range of one query
	NotOlderThan      int64 // how far back a query may reach
	MaxPageSize       int64 // the largest limit
	MaxNumberOfFields int   // the most fields one dataset node may select
}

// row is one event as the executor sees it.
type row struct {
	t  time.Time
	si float64
	s  map[string]string
	v  map[string]float64
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
	rows: func(e *Events) []row {
		out := make([]row, len(e.Workers))
		for i, ev := range e.Workers {
			errs := 0.0
			if workersIsError(ev.Status) {
				errs = 1
			}
			out[i] = row{t: ev.Datetime, si: float64(ev.SampleInterval),
				s: map[string]string{"scriptName": ev.ScriptName, "scriptVersion": ev.ScriptVersion, "environmentName": ev.EnvironmentName, "status": ev.Status, "usageModel": ev.UsageModel},
				v: map[string]float64{"requests": 1, "errors": errs, "subrequests": ev.Subrequests, "responseBodySize": ev.ResponseBodySize,
					"wallTime": ev.WallTimeUs, "cpuTimeUs": ev.CPUTimeUs, "cpuTime": ev.CPUTimeUs, "duration": ev.Duration}}
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
		{name: "avg", metrics: append(metrics(mFloat64, "lagTime", "retryCount"), sampleInterval)},
		{name: "max", metrics: metrics(mUint64, "messageSize")},
	},
	retention: month,
	limits:    limitsFor(month, month),
	rows: func(e *Events) []row {
		out := make([]row, len(e.QueueOperations))
		for i, ev := range e.QueueOperations {
			out[i] = row{t: ev.Datetime, si: float64(ev.SampleInterval),
				s: map[string]string{"queueId": ev.QueueID, "actionType": ev.ActionType, "consumerType": ev.ConsumerType, "outcome": ev.Outcome},
				v: map[string]float64{"billableOperations": ev.Billable, "bytes": ev.Bytes, "lagTime": ev.LagTimeMs, "retryCount": ev.RetryCount, "messageSize": ev.MessageSize}}
		}
		return out
	},
}

var queueBacklogSpec = &datasetSpec{
	node:      "queueBacklogAdaptiveGroups",
	typ:       "AccountQueueBacklogAdaptiveGroups",
	dims:      queueTimeDims,
	blocks:    []blockSpec{{name: "avg", metrics: append(metrics(mFloat64, "bytes", "messages"), sampleInterval)}},
	retention: month,
	limits:    limitsFor(month, month),
	rows: func(e *Events) []row {
		out := make([]row, len(e.QueueBacklog))
		for i, ev := range e.QueueBacklog {
			out[i] = row{t: ev.Datetime, si: float64(ev.SampleInterval),
				s: map[string]string{"queueId": ev.QueueID},
				v: map[string]float64{"bytes": ev.Bytes, "messages": ev.Messages}}
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
		{name: "sum", metrics: metrics(mUint64, "readQueries", "writeQueries", "rowsRead", "rowsWritten", "queryBatchResponseBytes")},
		{name: "avg", metrics: append(metrics(mFloat64, "queryBatchTimeMs", "queryBatchResponseBytes"), sampleInterval)},
		{name: "quantiles", metrics: []metricSpec{
			{name: "queryBatchTimeMsP50", kind: mFloat32, src: "queryBatchTimeMs", q: .5},
			{name: "queryBatchTimeMsP90", kind: mFloat32, src: "queryBatchTimeMs", q: .9},
			{name: "queryBatchResponseBytesP50", kind: mFloat32, src: "queryBatchResponseBytes", q: .5},
			{name: "queryBatchResponseBytesP90", kind: mFloat32, src: "queryBatchResponseBytes", q: .9},
		}},
	},
	retention: month,
	limits:    limitsFor(month, month),
	rows: func(e *Events) []row {
		out := make([]row, len(e.D1))
		for i, ev := range e.D1 {
			out[i] = row{t: ev.Datetime, si: float64(ev.SampleInterval),
				s: map[string]string{"databaseId": ev.DatabaseID},
				v: map[string]float64{"readQueries": ev.ReadQueries, "writeQueries": ev.WriteQueries, "rowsRead": ev.RowsRead, "rowsWritten": ev.RowsWritten,
					"queryBatchResponseBytes": ev.QueryBatchResponseBytes, "queryBatchTimeMs": ev.QueryBatchTimeMs}}
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
	return r.s[dm.name]
}
