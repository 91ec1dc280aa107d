package graphql

import (
	"fmt"
	"regexp"
	"time"
)

// The raw events the datasets are computed from. Cloudflare keeps sampled events and
// answers with estimates (analytics.md §1.4): here every event carries its
// SampleInterval (default 1), the number of real events it stands for, and every count,
// sum and average is weighted by it, so that a client which ignores sampling gets a
// wrong answer in tests as it would in production.

// WorkerInvocation is one sampled Worker invocation (workersInvocationsAdaptive).
type WorkerInvocation struct {
	Datetime         time.Time `json:"datetime"` // zero: the emulator clock's now
	ScriptName       string    `json:"scriptName"`
	Status           string    `json:"status"` // success, clientDisconnected, scriptThrewException, …
	EnvironmentName  string    `json:"environmentName,omitempty"`
	ScriptVersion    string    `json:"scriptVersion,omitempty"`
	UsageModel       string    `json:"usageModel,omitempty"`
	CPUTimeUs        float64   `json:"cpuTimeUs,omitempty"`  // µs
	WallTimeUs       float64   `json:"wallTimeUs,omitempty"` // µs
	Duration         float64   `json:"duration,omitempty"`   // GB·s
	Subrequests      float64   `json:"subrequests,omitempty"`
	ResponseBodySize float64   `json:"responseBodySize,omitempty"`
	SampleInterval   uint32    `json:"sampleInterval,omitempty"`
}

// QueueOperation is one sampled message operation (queueMessageOperationsAdaptiveGroups).
type QueueOperation struct {
	Datetime       time.Time `json:"datetime"`
	QueueID        string    `json:"queueId"`
	ActionType     string    `json:"actionType"`   // WriteMessage, ReadMessage, DeleteMessage
	ConsumerType   string    `json:"consumerType"` // worker, http ("" for writes)
	Outcome        string    `json:"outcome"`      // success, dlq, fail on DeleteMessage; none (or "") otherwise
	LagTimeMs      float64   `json:"lagTime,omitempty"`
	RetryCount     float64   `json:"retryCount,omitempty"`
	Bytes          float64   `json:"bytes,omitempty"`
	MessageSize    float64   `json:"messageSize,omitempty"`
	Billable       float64   `json:"billableOperations,omitempty"` // default 1
	SampleInterval uint32    `json:"sampleInterval,omitempty"`
}

// QueueBacklog is one sample of a queue's backlog (queueBacklogAdaptiveGroups).
type QueueBacklog struct {
	Datetime       time.Time `json:"datetime"`
	QueueID        string    `json:"queueId"`
	Messages       float64   `json:"messages"`
	Bytes          float64   `json:"bytes,omitempty"`
	SampleInterval uint32    `json:"sampleInterval,omitempty"`
}

// D1Query is one sampled D1 query batch (d1AnalyticsAdaptiveGroups).
type D1Query struct {
	Datetime                time.Time `json:"datetime"`
	DatabaseID              string    `json:"databaseId"`
	ReadQueries             float64   `json:"readQueries,omitempty"`
	WriteQueries            float64   `json:"writeQueries,omitempty"`
	RowsRead                float64   `json:"rowsRead,omitempty"`
	RowsWritten             float64   `json:"rowsWritten,omitempty"`
	QueryBatchTimeMs        float64   `json:"queryBatchTimeMs"`
	QueryBatchResponseBytes float64   `json:"queryBatchResponseBytes,omitempty"`
	SampleInterval          uint32    `json:"sampleInterval,omitempty"`
}

// Events is everything the GraphQL datasets are computed from, in write order. It is
// part of the emulator's persisted store; the emulator guards it with its own lock.
// Events are appended, never changed in place, so a copy of the slice headers taken
// under the lock can be read without it.
type Events struct {
	Workers         []WorkerInvocation `json:"workers,omitempty"`
	QueueOperations []QueueOperation   `json:"queue_operations,omitempty"`
	QueueBacklog    []QueueBacklog     `json:"queue_backlog,omitempty"`
	D1              []D1Query          `json:"d1,omitempty"`
}

var (
	nameRe   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$`)
	statusRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,63}$`)
	idRe     = regexp.MustCompile(`^[0-9a-f]{32}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// stamp defaults t to now and refuses times in the future or past retention.
func stamp(t, now time.Time, retention time.Duration) (time.Time, error) {
	if t.IsZero() {
		return now, nil
	}
	t = t.UTC()
	if t.After(now) {
		return t, fmt.Errorf("datetime %s is after the emulator clock (%s)", t.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	if t.Before(now.Add(-retention)) {
		return t, fmt.Errorf("datetime %s is older than the dataset's retention (%s)", t.Format(time.RFC3339), retention)
	}
	return t, nil
}

func interval(si uint32) uint32 {
	if si == 0 {
		return 1
	}
	return si
}

func nonNegative(fields map[string]float64) error {
	for name, v := range fields {
		if v < 0 {
			return fmt.Errorf("%s is %v: must not be negative", name, v)
		}
	}
	return nil
}

// AddWorkers validates and appends Worker invocations stamped on now.
func (e *Events) AddWorkers(now time.Time, in []WorkerInvocation) error {
	out := make([]WorkerInvocation, len(in))
	for i, ev := range in {
		var err error
		if ev.Datetime, err = stamp(ev.Datetime, now, workersSpec.retention); err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
		switch {
		case !nameRe.MatchString(ev.ScriptName):
			return fmt.Errorf("event %d: scriptName %q is not a Worker name", i, ev.ScriptName)
		case !statusRe.MatchString(ev.Status):
			return fmt.Errorf("event %d: status %q must be a status word such as success or scriptThrewException", i, ev.Status)
		}
		if err := nonNegative(map[string]float64{"cpuTimeUs": ev.CPUTimeUs, "wallTimeUs": ev.WallTimeUs, "duration": ev.Duration, "subrequests": ev.Subrequests, "responseBodySize": ev.ResponseBodySize}); err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
		ev.SampleInterval = interval(ev.SampleInterval)
		out[i] = ev
	}
	e.Workers = append(e.Workers, out...)
	return nil
}

// AddQueueOperations validates and appends message operations stamped on now.
func (e *Events) AddQueueOperations(now time.Time, in []QueueOperation) error {
	out := make([]QueueOperation, len(in))
	for i, ev := range in {
		var err error
		if ev.Datetime, err = stamp(ev.Datetime, now, queueOpsSpec.retention); err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
		if !idRe.MatchString(ev.QueueID) {
			return fmt.Errorf("event %d: queueId %q is not a queue id (32 hex digits)", i, ev.QueueID)
		}
		switch ev.ActionType {
		case "WriteMessage", "ReadMessage", "DeleteMessage":
		default:
			return fmt.Errorf("event %d: actionType %q must be WriteMessage, ReadMessage or DeleteMessage", i, ev.ActionType)
		}
		switch ev.ConsumerType {
		case "worker", "http":
		case "":
			if ev.ActionType != "WriteMessage" {
				return fmt.Errorf("event %d: consumerType must be worker or http for %s", i, ev.ActionType)
			}
		default:
			return fmt.Errorf("event %d: consumerType %q must be worker or http", i, ev.ConsumerType)
		}
		if ev.ActionType == "DeleteMessage" {
			if ev.Outcome != "success" && ev.Outcome != "dlq" && ev.Outcome != "fail" {
				return fmt.Errorf("event %d: outcome %q of a DeleteMessage must be success, dlq or fail", i, ev.Outcome)
			}
		} else if ev.Outcome != "" && ev.Outcome != "none" {
			return fmt.Errorf("event %d: outcome of a %s is none, not %q", i, ev.ActionType, ev.Outcome)
		} else {
			ev.Outcome = "none"
		}
		if ev.ActionType == "WriteMessage" && ev.LagTimeMs != 0 {
			return fmt.Errorf("event %d: lagTime of a WriteMessage is 0", i)
		}
		if err := nonNegative(map[string]float64{"lagTime": ev.LagTimeMs, "retryCount": ev.RetryCount, "bytes": ev.Bytes, "messageSize": ev.MessageSize, "billableOperations": ev.Billable}); err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
		if ev.Billable == 0 {
			ev.Billable = 1
		}
		ev.SampleInterval = interval(ev.SampleInterval)
		out[i] = ev
	}
	e.QueueOperations = append(e.QueueOperations, out...)
	return nil
}

// AddQueueBacklog validates and appends backlog samples stamped on now.
func (e *Events) AddQueueBacklog(now time.Time, in []QueueBacklog) error {
	out := make([]QueueBacklog, len(in))
	for i, ev := range in {
		var err error
		if ev.Datetime, err = stamp(ev.Datetime, now, queueBacklogSpec.retention); err != nil {
			return fmt.Errorf("sample %d: %w", i, err)
		}
		if !idRe.MatchString(ev.QueueID) {
			return fmt.Errorf("sample %d: queueId %q is not a queue id (32 hex digits)", i, ev.QueueID)
		}
		if err := nonNegative(map[string]float64{"messages": ev.Messages, "bytes": ev.Bytes}); err != nil {
			return fmt.Errorf("sample %d: %w", i, err)
		}
		ev.SampleInterval = interval(ev.SampleInterval)
		out[i] = ev
	}
	e.QueueBacklog = append(e.QueueBacklog, out...)
	return nil
}

// AddD1 validates and appends D1 query batches stamped on now.
func (e *Events) AddD1(now time.Time, in []D1Query) error {
	out := make([]D1Query, len(in))
	for i, ev := range in {
		var err error
		if ev.Datetime, err = stamp(ev.Datetime, now, d1Spec.retention); err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
		if !idRe.MatchString(ev.DatabaseID) {
			return fmt.Errorf("event %d: databaseId %q is not a D1 database id (a UUID)", i, ev.DatabaseID)
		}
		if err := nonNegative(map[string]float64{"readQueries": ev.ReadQueries, "writeQueries": ev.WriteQueries, "rowsRead": ev.RowsRead, "rowsWritten": ev.RowsWritten, "queryBatchTimeMs": ev.QueryBatchTimeMs, "queryBatchResponseBytes": ev.QueryBatchResponseBytes}); err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
		ev.SampleInterval = interval(ev.SampleInterval)
		out[i] = ev
	}
	e.D1 = append(e.D1, out...)
	return nil
}

// Expire drops events past each dataset's retention.
func (e *Events) Expire(now time.Time) {
	e.Workers = keep(e.Workers, now.Add(-workersSpec.retention), func(v WorkerInvocation) time.Time { return v.Datetime })
	e.QueueOperations = keep(e.QueueOperations, now.Add(-queueOpsSpec.retention), func(v QueueOperation) time.Time { return v.Datetime })
	e.QueueBacklog = keep(e.QueueBacklog, now.Add(-queueBacklogSpec.retention), func(v QueueBacklog) time.Time { return v.Datetime })
	e.D1 = keep(e.D1, now.Add(-d1Spec.retention), func(v D1Query) time.Time { return v.Datetime })
}

// keep copies (never filters in place: readers may hold the old slice).
func keep[T any](in []T, cut time.Time, at func(T) time.Time) []T {
	n := 0
	for _, v := range in {
		if !at(v).Before(cut) {
			n++
		}
	}
	if n == len(in) {
		return in
	}
	out := make([]T, 0, n)
	for _, v := range in {
		if !at(v).Before(cut) {
			out = append(out, v)
		}
	}
	return out
}

// Snapshot is a copy of the slice headers, to read without the emulator's lock.
func (e *Events) Snapshot() Events { return *e }
