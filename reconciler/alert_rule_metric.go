package reconciler

import (
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/monotask/flareops/reconciler/alerting"
	"github.com/monotask/flareops/reconciler/opsdoc"
)

// The metric form of alert_rule: a threshold on a measured value (a query over an
// analytics_dataset, a queue's backlog, lag or DLQ ratio, a D1 database's query time),
// compiled by reconciler/alerting into a flareops.rule/v1 document published as
// flareops/rules/metric/<name> in the ops KV namespace for the monitoring Worker, and
// evaluated by `flareops alerts check`. The desired object's Private is the
// alerting.MetricRule.

// metricAttrs are the attributes of the metric form.
var metricAttrs = []Attr{
	{Name: "above", Type: Float, Description: "The rule fires when the value over `for` is above this number. Set `above` or `below`."},
	{Name: "below", Type: Float, Description: "The rule fires when the value over `for` is below this number."},
	{Name: "for", Type: Duration, Unit: time.Second, Min: 60, Max: 86400, Description: "How long the value must stay past the threshold, whole minutes from 1m to 24h, e.g. `\"10m\"`."},
	{Name: "severity", Type: String, Enum: []string{"page", "ticket"}, Description: "`page` (wake someone) or `ticket` (look during working hours)."},
	{Name: "dedup", Type: Duration, Unit: time.Second, Min: 0, Max: 7 * 86400, Description: "After firing, the monitoring Worker does not notify again for this long, e.g. `\"1h\"` (0s to 7d)."},
	{Name: "runbook", Type: String, MaxLen: 2048, Description: "URL of the rule's runbook, sent with every alert."},
}

var queueMetricSchema = BlockSchema{Attrs: []Attr{{Name: "queue", Type: Ref, RefKind: "queue", Required: true, Description: "The queue: `queue.agent_jobs`."}}}

var metricBlocks = []NestedBlock{
	{Name: "dataset_query", MaxItems: 1, Description: "An aggregate over an Analytics Engine dataset's events, by its named columns.",
		Schema: BlockSchema{Attrs: []Attr{
			{Name: "dataset", Type: Ref, RefKind: "analytics_dataset", Required: true, RefTarget: true, Description: "The dataset: `analytics_dataset.api`."},
			{Name: "value", Type: String, Required: true, MaxLen: 256, Description: "The aggregate: `count()`, `sum(col)`, `avg(col)`, `min(col)`, `max(col)` or a quantile such as `p95(latency_ms)`."},
			{Name: "where", Type: String, MaxLen: 4096, Description: "Filter of the events that count, in the filter language (default: every event)."},
		}, Blocks: []NestedBlock{queryColumnsBlock}}},
	{Name: "queue_backlog", MaxItems: 1, Description: "The number of messages waiting in a queue.", Schema: queueMetricSchema},
	{Name: "queue_lag", MaxItems: 1, Description: "How long messages wait in a queue before delivery (average lag, ms).", Schema: queueMetricSchema},
	{Name: "queue_dlq_ratio", MaxItems: 1, Description: "The share of a queue's messages sent to its dead letter queue.", Schema: queueMetricSchema},
	{Name: "d1_query_time", MaxItems: 1, Description: "A D1 database's query time quantile, ms (the seed's D1 query performance targets).",
		Schema: BlockSchema{Attrs: []Attr{
			{Name: "database", Type: String, Required: true, MaxLen: 64, Description: "The D1 database's name."},
			{Name: "quantile", Type: String, Required: true, Enum: alerting.D1Quantiles, Description: "`P50` or `P90`: what Cloudflare's D1 analytics offer."},
		}}},
}

// isMetric reports whether a block declares the metric form.
func isMetric(v Values) bool {
	for _, b := range metricBlocks {
		if len(v.blocks(b.Name)) > 0 {
			return true
		}
	}
	return false
}

// buildMetric builds the metric form. Errors are *alerting.FieldErrors naming the
// attribute (a filter's with its position inside the string).
func (k AlertRuleKind) buildMetric(v Values) (Object, error) {
	r := alerting.MetricRule{Name: v.str("name"), Severity: alerting.Severity(v.str("severity")), Runbook: v.str("runbook")}
	if f, ok := v.float("above"); ok {
		r.Above = &f
	}
	if f, ok := v.float("below"); ok {
		r.Below = &f
	}
	if n, ok := v.int("for"); ok {
		r.For = time.Duration(n) * time.Second
	}
	if n, ok := v.int("dedup"); ok {
		r.Dedup = time.Duration(n) * time.Second
	}
	for _, ref := range v.refs("to") {
		r.To = append(r.To, ref.Name)
	}
	var errs []error
	queue := func(b Values) *alerting.QueueMetric {
		q, _ := b["queue"].(RefValue)
		return &alerting.QueueMetric{Queue: q.Name}
	}
	for _, b := range v.blocks("dataset_query") {
		ds, err := datasetOf("dataset_query", b)
		if err != nil {
			errs = append(errs, err)
		}
		q := &alerting.DatasetQuery{Dataset: ds, Value: b.str("value")}
		if src := b.str("where"); src != "" {
			f, err := alerting.ParseFilter(src)
			if err != nil {
				errs = append(errs, &alerting.FieldError{Field: "dataset_query.where", Err: err})
			}
			q.Where = f
		}
		r.Metric.DatasetQuery = q
	}
	for _, b := range v.blocks("queue_backlog") {
		r.Metric.QueueBacklog = queue(b)
	}
	for _, b := range v.blocks("queue_lag") {
		r.Metric.QueueLag = queue(b)
	}
	for _, b := range v.blocks("queue_dlq_ratio") {
		r.Metric.QueueDLQRatio = queue(b)
	}
	for _, b := range v.blocks("d1_query_time") {
		r.Metric.D1QueryTime = &alerting.D1QueryTime{Database: b.str("database"), Quantile: b.str("quantile")}
	}
	if len(v.blocks("native")) > 0 {
		errs = append(errs, errors.New("a rule is native or metric, not both: keep the native block or the metric block"))
	}
	if err := errors.Join(errs...); err != nil {
		return Object{}, err
	}
	if err := r.Validate(); err != nil {
		return Object{}, err
	}
	doc, err := r.Document()
	if err != nil {
		return Object{}, err
	}
	hash, err := opsdoc.Hash(doc)
	if err != nil {
		return Object{}, err
	}
	to := append([]string(nil), r.To...)
	sort.Strings(to)
	spec := AlertRuleSpec{Name: r.Name, Enabled: true, To: to, Metric: doc.Metric.Type, Severity: string(r.Severity),
		For: FormatDuration(r.For), Runbook: r.Runbook, Document: shortHash(hash)}
	if r.Dedup > 0 {
		spec.Dedup = FormatDuration(r.Dedup)
	}
	spec.Measures = metricText(doc)
	if r.Above != nil {
		spec.Threshold = "above " + FormatFloat(*r.Above)
	} else if r.Below != nil {
		spec.Threshold = "below " + FormatFloat(*r.Below)
	}
	if err := k.Settings.NeedOpsKV("a metric alert rule publishes its rule document in the ops KV namespace"); err != nil {
		return Object{}, err
	}
	return Object{Key: r.Name, Spec: spec, Private: r}, nil
}

// metricText says what a metric rule measures, e.g. `p95(latency_ms) of monotask_api
// where status >= 500`.
func metricText(d alerting.RuleDoc) string {
	m := d.Metric
	switch {
	case m.Dataset != "":
		s := m.Value + " of " + m.Dataset
		if m.Where != "" {
			s += " where " + m.Where
		}
		return s
	case m.Database != "":
		return m.Quantile + " query time of D1 database " + m.Database
	}
	return strings.ReplaceAll(m.Type, "_", " ") + " of queue " + m.Queue
}

// metricKey is a metric rule's document key.
func metricKey(name string) string { return alerting.RulesPrefix + "metric/" + name }
