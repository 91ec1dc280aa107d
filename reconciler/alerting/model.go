// Package alerting is what flareops knows about alert rules and SLOs that is not
// reconciliation: the filter language over a dataset's named columns and its compilation
// to Analytics Engine SQL and GraphQL variables, the SLO and metric-rule model and its
// validation, multi-window multi-burn-rate rule compilation, the versioned rule documents a
// monitoring Worker reads, evaluation of SLOs and rules against a data source, and the
// charts of `flareops slo status`. It knows nothing of kinds, HCL or Terraform: the
// `slo` and `alert_rule` kinds build these values and publish the documents.
package alerting

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SLO is a service level objective: a target percentage of good events (or good time
// slices) over a rolling window, measured by exactly one SLI.
type SLO struct {
	Name      string        // the block's name, e.g. "api_errors"
	Objective float64       // percent, e.g. 99.9
	Window    time.Duration // e.g. 30 * 24h
	SLI       SLI
	PageTo    []string // destination names for page-severity rules
	TicketTo  []string // destination names for ticket-severity rules
	Runbook   string
}

// SLI is the indicator of an SLO: exactly one field is set.
type SLI struct {
	WorkerAvailability *WorkerAvailability
	DatasetRatio       *DatasetRatio
	DatasetLatency     *DatasetLatency
	WorkerLatency      *WorkerLatency
	QueueDelivery      *QueueDelivery
}

// WorkerAvailability counts a Worker's invocations from Cloudflare's own Workers
// analytics (GraphQL workersInvocationsAdaptive): bad are those whose status is one of
// BadOutcomes (default DefaultBadOutcomes), good the rest.
type WorkerAvailability struct {
	Script      string
	BadOutcomes []string
	Where       *Filter // optional, over WorkerColumns
}

// DefaultBadOutcomes are the statuses Cloudflare's dashboard counts as errors
// (analytics.md §1.5).
var DefaultBadOutcomes = []string{"scriptThrewException", "exceededResources", "internalError"}

// DatasetRatio is good events / total events of an Analytics Engine dataset. Total nil
// means every event; good events are those matching both Good and Total.
type DatasetRatio struct {
	Dataset Dataset
	Good    *Filter
	Total   *Filter
}

// DatasetLatency is the fraction of a dataset's events (matching Filter, nil: all) whose
// Column is at most Threshold, in the column's own unit: "P95 under 200 ms" is an SLO of
// 95 % over latency_ms ≤ 200.
type DatasetLatency struct {
	Dataset   Dataset
	Column    string
	Threshold float64
	Filter    *Filter
}

// WorkerLatency is a time-slice SLI over Cloudflare's Workers wall-time quantiles: a
// minute is good when the Worker's Quantile of wall time in it is at most Threshold;
// minutes without invocations do not count.
type WorkerLatency struct {
	Script    string
	Quantile  string // one of WorkerQuantiles
	Threshold time.Duration
}

// WorkerQuantiles are the quantiles Cloudflare's Workers analytics offer (analytics.md
// §1.5). There is no P95.
var WorkerQuantiles = []string{"P25", "P50", "P75", "P90", "P99", "P999"}

// QueueDelivery is messages delivered vs sent to the dead letter queue or failed, from
// the queue's DeleteMessage operations (GraphQL queueMessageOperationsAdaptiveGroups).
// With LagThreshold, deliveries in a minute whose average lag exceeded it are bad too.
type QueueDelivery struct {
	Queue        string // the queue's name
	QueueID      string // its id, when known; evaluation resolves the name otherwise
	LagThreshold time.Duration
}

// Severity is how urgently a rule wants a human.
type Severity string

const (
	Page   Severity = "page"
	Ticket Severity = "ticket"
)

// MetricRule is a threshold on a measured value: it fires when the value over the last
// For is above Above (or below Below).
type MetricRule struct {
	Name     string
	Metric   Metric
	Above    *float64
	Below    *float64
	For      time.Duration
	Severity Severity
	Dedup    time.Duration
	Runbook  string
	To       []string
}

// Metric is what a metric rule measures: exactly one field is set.
type Metric struct {
	DatasetQuery  *DatasetQuery
	QueueBacklog  *QueueMetric
	QueueLag      *QueueMetric
	QueueDLQRatio *QueueMetric
	D1QueryTime   *D1QueryTime
}

// DatasetQuery is an aggregate over an Analytics Engine dataset's events matching Where
// (nil: all): Value is a ValueExpr such as "count()", "avg(latency_ms)" or "p95(latency_ms)".
type DatasetQuery struct {
	Dataset Dataset
	Value   string
	Where   *Filter
}

// QueueMetric names a queue by name.
type QueueMetric struct {
	Queue   string // the queue's name
	QueueID string // its id, when known; evaluation resolves the name otherwise
}

// D1QueryTime is a D1 database's query batch time quantile, in milliseconds.
type D1QueryTime struct {
	Database   string // the database's name
	DatabaseID string // its id, when known; evaluation resolves the name otherwise
	Quantile   string // one of D1Quantiles
}

// D1Quantiles are the quantiles of D1 query time Cloudflare offers (analytics.md §1.7).
var D1Quantiles = []string{"P50", "P90"}

// FieldError is a validation error of one field (in HCL terms: the attribute or block
// path, e.g. "dataset_ratio.good"). Err may be a *FilterError with a position inside the
// field's string.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

// Window limits: the shortest SLO window that leaves room for the 3-day ticket window
// scaled, and the longest the data keeps (Analytics Engine: 3 months; Workers GraphQL:
// up to 3 months back).
const (
	MinWindow = 24 * time.Hour
	MaxWindow = 90 * 24 * time.Hour
)

// MaxObjective is the highest objective: beyond, the budget is too small to measure with
// sampled analytics.
const MaxObjective = 99.999

var nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,63}$`)

// Validate checks an SLO; every error is a *FieldError naming the field.
func (s SLO) Validate() error {
	var errs []error
	if !nameRE.MatchString(s.Name) {
		errs = append(errs, fieldErr("name", "%q is not a name: letters, digits, _ and -, starting with a letter or _, at most 64", s.Name))
	}
	if math.IsNaN(s.Objective) || s.Objective <= 0 || s.Objective > MaxObjective {
		errs = append(errs, fieldErr("objective", "%v is not a percentage in (0, %v], e.g. 99.9", s.Objective, MaxObjective))
	}
	switch {
	case s.Window%(time.Hour) != 0:
		errs = append(errs, fieldErr("window", "%s is not a whole number of hours, e.g. \"30d\"", formatDuration(s.Window)))
	case s.Window < MinWindow || s.Window > MaxWindow:
		errs = append(errs, fieldErr("window", "%s is outside %s to %s (the analytics keep 3 months)", formatDuration(s.Window), formatDuration(MinWindow), formatDuration(MaxWindow)))
	}
	errs = append(errs, s.SLI.validate()...)
	if s.SLI.graphQL() && s.Window > 31*24*time.Hour {
		errs = append(errs, fieldErr("window", "%s is longer than the 31 days Cloudflare's GraphQL analytics answer for %s; use a dataset SLI for longer windows", formatDuration(s.Window), s.SLI.Type()))
	}
	if len(s.PageTo) == 0 && len(s.TicketTo) == 0 {
		errs = append(errs, fieldErr("page_to", "an SLO alerts nobody without page_to or ticket_to: name at least one destination"))
	}
	if err := checkRunbook(s.Runbook); err != nil {
		errs = append(errs, &FieldError{"runbook", err})
	}
	return errors.Join(errs...)
}

// Type is the SLI's block name ("dataset_ratio", ...), or "" when none is set.
func (s SLI) Type() string {
	switch {
	case s.WorkerAvailability != nil:
		return "worker_availability"
	case s.DatasetRatio != nil:
		return "dataset_ratio"
	case s.DatasetLatency != nil:
		return "dataset_latency"
	case s.WorkerLatency != nil:
		return "worker_latency"
	case s.QueueDelivery != nil:
		return "queue_delivery"
	}
	return ""
}

func (s SLI) count() int {
	n := 0
	for _, set := range []bool{s.WorkerAvailability != nil, s.DatasetRatio != nil, s.DatasetLatency != nil, s.WorkerLatency != nil, s.QueueDelivery != nil} {
		if set {
			n++
		}
	}
	return n
}

func (s SLI) graphQL() bool {
	return s.WorkerAvailability != nil || s.WorkerLatency != nil || s.QueueDelivery != nil
}

const sliBlocks = "worker_availability, dataset_ratio, dataset_latency, worker_latency or queue_delivery"

func (s SLI) validate() []error {
	switch s.count() {
	case 0:
		return []error{fieldErr("sli", "an SLO needs exactly one SLI block: %s", sliBlocks)}
	case 1:
	default:
		return []error{fieldErr("sli", "an SLO has exactly one SLI block; this one has %d: keep one of %s (one SLO per indicator)", s.count(), sliBlocks)}
	}
	var errs []error
	switch {
	case s.WorkerAvailability != nil:
		w := s.WorkerAvailability
		if w.Script == "" {
			errs = append(errs, fieldErr("worker_availability.script", "name the Worker script"))
		}
		for _, o := range w.BadOutcomes {
			if o == "" || o == "success" {
				errs = append(errs, fieldErr("worker_availability.bad_outcomes", "%q cannot be a bad outcome", o))
			}
		}
		errs = append(errs, checkFilter("worker_availability.where", w.Where, WorkerColumns, "Workers invocations")...)
	case s.DatasetRatio != nil:
		d := s.DatasetRatio
		errs = append(errs, checkDataset("dataset_ratio.dataset", d.Dataset)...)
		if d.Good == nil {
			errs = append(errs, fieldErr("dataset_ratio.good", "a ratio needs a good filter, e.g. \"status < 500\""))
		}
		errs = append(errs, checkFilter("dataset_ratio.good", d.Good, d.Dataset.Columns(), datasetWhat(d.Dataset))...)
		errs = append(errs, checkFilter("dataset_ratio.total", d.Total, d.Dataset.Columns(), datasetWhat(d.Dataset))...)
	case s.DatasetLatency != nil:
		d := s.DatasetLatency
		errs = append(errs, checkDataset("dataset_latency.dataset", d.Dataset)...)
		cols := d.Dataset.Columns()
		if c, ok := cols[d.Column]; !ok {
			errs = append(errs, &FieldError{"dataset_latency.latency", unknownColumn(d.Column, cols, datasetWhat(d.Dataset))})
		} else if c.Type != Number {
			errs = append(errs, fieldErr("dataset_latency.latency", "%s is a string column (%s): name a number column (one of the doubles)", d.Column, c.Field))
		}
		if math.IsNaN(d.Threshold) || math.IsInf(d.Threshold, 0) || d.Threshold <= 0 {
			errs = append(errs, fieldErr("dataset_latency.threshold", "%v is not a positive number", d.Threshold))
		}
		errs = append(errs, checkFilter("dataset_latency.filter", d.Filter, cols, datasetWhat(d.Dataset))...)
	case s.WorkerLatency != nil:
		w := s.WorkerLatency
		if w.Script == "" {
			errs = append(errs, fieldErr("worker_latency.script", "name the Worker script"))
		}
		if err := checkWorkerQuantile(w.Quantile); err != nil {
			errs = append(errs, &FieldError{"worker_latency.quantile", err})
		}
		if w.Threshold <= 0 {
			errs = append(errs, fieldErr("worker_latency.threshold", "give a positive duration, e.g. \"200ms\""))
		}
	case s.QueueDelivery != nil:
		q := s.QueueDelivery
		if q.Queue == "" {
			errs = append(errs, fieldErr("queue_delivery.queue", "name the queue"))
		}
		if q.LagThreshold < 0 {
			errs = append(errs, fieldErr("queue_delivery.lag_threshold", "give a positive duration, e.g. \"5s\""))
		}
	}
	return errs
}

func checkWorkerQuantile(q string) error {
	switch {
	case slices.Contains(WorkerQuantiles, q):
		return nil
	case strings.EqualFold(q, "P95"):
		return fmt.Errorf("Cloudflare's Workers analytics have no P95 (only %s): use P90 or P99, or a dataset_latency SLI (95 %% of events under the threshold) over an Analytics Engine dataset", strings.Join(WorkerQuantiles, ", "))
	}
	return fmt.Errorf("%q is not one of %s", q, strings.Join(WorkerQuantiles, ", "))
}

func datasetWhat(d Dataset) string { return fmt.Sprintf("dataset %q", d.Name) }

func unknownColumn(name string, cols Columns, what string) error {
	errs := Check(&Filter{Root: &Compare{Column: name, Op: "=", Values: []Value{{IsString: true}}}}, cols, what)
	if len(errs) == 0 {
		return nil
	}
	var fe *FilterError
	if errors.As(errs[0], &fe) {
		return errors.New(fe.Msg)
	}
	return errs[0]
}

func checkDataset(field string, d Dataset) []error {
	if d.Name == "" {
		return []error{fieldErr(field, "name an analytics_dataset")}
	}
	return nil
}

// checkFilter checks f against cols; each error is a *FieldError wrapping the
// *FilterError, so the caller can place it inside the field's string.
func checkFilter(field string, f *Filter, cols Columns, what string) []error {
	var errs []error
	for _, e := range Check(f, cols, what) {
		errs = append(errs, &FieldError{field, e})
	}
	return errs
}

func checkRunbook(u string) error {
	if u == "" {
		return nil
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", u)
	}
	return nil
}

// Validate checks a metric rule; every error is a *FieldError naming the field.
func (r MetricRule) Validate() error {
	var errs []error
	if !nameRE.MatchString(r.Name) {
		errs = append(errs, fieldErr("name", "%q is not a name: letters, digits, _ and -, starting with a letter or _, at most 64", r.Name))
	}
	errs = append(errs, r.Metric.validate()...)
	switch {
	case (r.Above == nil) == (r.Below == nil):
		errs = append(errs, fieldErr("above", "set exactly one of above and below"))
	case r.Above != nil && !finite(*r.Above):
		errs = append(errs, fieldErr("above", "%v is not a number", *r.Above))
	case r.Below != nil && !finite(*r.Below):
		errs = append(errs, fieldErr("below", "%v is not a number", *r.Below))
	case r.Metric.QueueDLQRatio != nil && r.Above != nil && (*r.Above < 0 || *r.Above >= 1):
		errs = append(errs, fieldErr("above", "%s is outside what the DLQ ratio can pass: it is a share from 0 to 1 (0.05 is 5 %%); give above from 0 to under 1", strconv.FormatFloat(*r.Above, 'g', -1, 64)))
	case r.Metric.QueueDLQRatio != nil && r.Below != nil && (*r.Below <= 0 || *r.Below > 1):
		errs = append(errs, fieldErr("below", "%s is outside what the DLQ ratio can pass: it is a share from 0 to 1 (0.05 is 5 %%); give below from over 0 to 1", strconv.FormatFloat(*r.Below, 'g', -1, 64)))
	}
	if r.For < time.Minute || r.For > 24*time.Hour || r.For%time.Minute != 0 {
		errs = append(errs, fieldErr("for", "%s is not a whole number of minutes from 1m to 24h", formatDuration(r.For)))
	}
	if r.Severity != Page && r.Severity != Ticket {
		errs = append(errs, fieldErr("severity", "%q is not page or ticket", r.Severity))
	}
	if r.Dedup < 0 || r.Dedup > 7*24*time.Hour {
		errs = append(errs, fieldErr("dedup", "%s is not a duration from 0s to 7d", formatDuration(r.Dedup)))
	}
	if len(r.To) == 0 {
		errs = append(errs, fieldErr("to", "a rule alerts nobody without destinations: name at least one alert_destination"))
	}
	if err := checkRunbook(r.Runbook); err != nil {
		errs = append(errs, &FieldError{"runbook", err})
	}
	return errors.Join(errs...)
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// Type is the metric's block name ("dataset_query", ...), or "" when none is set.
func (m Metric) Type() string {
	switch {
	case m.DatasetQuery != nil:
		return "dataset_query"
	case m.QueueBacklog != nil:
		return "queue_backlog"
	case m.QueueLag != nil:
		return "queue_lag"
	case m.QueueDLQRatio != nil:
		return "queue_dlq_ratio"
	case m.D1QueryTime != nil:
		return "d1_query_time"
	}
	return ""
}

const metricBlocks = "dataset_query, queue_backlog, queue_lag, queue_dlq_ratio or d1_query_time"

func (m Metric) validate() []error {
	n := 0
	for _, set := range []bool{m.DatasetQuery != nil, m.QueueBacklog != nil, m.QueueLag != nil, m.QueueDLQRatio != nil, m.D1QueryTime != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return []error{fieldErr("metric", "a metric rule measures exactly one of %s; this one has %d", metricBlocks, n)}
	}
	var errs []error
	switch {
	case m.DatasetQuery != nil:
		q := m.DatasetQuery
		errs = append(errs, checkDataset("dataset_query.dataset", q.Dataset)...)
		if _, err := ParseValue(q.Value, q.Dataset.Columns(), datasetWhat(q.Dataset)); err != nil {
			errs = append(errs, &FieldError{"dataset_query.value", err})
		}
		errs = append(errs, checkFilter("dataset_query.where", q.Where, q.Dataset.Columns(), datasetWhat(q.Dataset))...)
	case m.D1QueryTime != nil:
		if m.D1QueryTime.Database == "" {
			errs = append(errs, fieldErr("d1_query_time.database", "name the D1 database"))
		}
		if !slices.Contains(D1Quantiles, m.D1QueryTime.Quantile) {
			errs = append(errs, fieldErr("d1_query_time.quantile", "%q is not one of %s: Cloudflare's D1 analytics offer no other", m.D1QueryTime.Quantile, strings.Join(D1Quantiles, ", ")))
		}
	default:
		q := m.QueueBacklog
		if q == nil {
			q = m.QueueLag
		}
		if q == nil {
			q = m.QueueDLQRatio
		}
		if q.Queue == "" {
			errs = append(errs, fieldErr(m.Type()+".queue", "name the queue"))
		}
	}
	return errs
}

// formatDuration renders d the way users write it, in mixed units ("1h4m", "30d").
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	for _, u := range []struct {
		name string
		d    time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond}} {
		if n := d / u.d; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10) + u.name)
			d -= n * u.d
		}
	}
	return b.String()
}
