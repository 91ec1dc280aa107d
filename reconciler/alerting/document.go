package alerting

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// RuleSchema names the format of the rule documents, version 1 (docs/cli/alert-rules.md).
// Fields may be added within a version; a change a v1 reader would misread gets v2.
const RuleSchema = "flareops.rule/v1"

// RulesPrefix is where rule documents live in the ops KV namespace, below opsdoc.Prefix:
// "flareops/rules/slo/<slo>/<rule>" and "flareops/rules/metric/<rule>".
const RulesPrefix = "flareops/rules/"

// RuleDoc is the document of one rule that a monitoring Worker reads: what to query, how
// to judge the answer, and whom to tell. Every duration is in milliseconds.
type RuleDoc struct {
	SchemaName string   `json:"schema"`
	ID         string   `json:"id"`   // "slo/api_errors/page-1h", "metric/agent_backlog": the key below RulesPrefix
	Kind       string   `json:"kind"` // "burn_rate" or "threshold"
	Name       string   `json:"name"` // the slo or alert_rule block's name
	Severity   Severity `json:"severity"`
	To         []string `json:"to"`
	Runbook    string   `json:"runbook,omitempty"`
	DedupMs    int64    `json:"dedup_ms,omitempty"`

	SLO       *DocSLO       `json:"slo,omitempty"`
	Burn      *DocBurn      `json:"burn,omitempty"`
	Metric    *DocMetric    `json:"metric,omitempty"`
	Threshold *DocThreshold `json:"threshold,omitempty"`
	Query     Query         `json:"query"`
}

// DocSLO describes the SLO a burn-rate rule belongs to.
type DocSLO struct {
	Objective   float64 `json:"objective"`    // percent
	WindowMs    int64   `json:"window_ms"`    // the SLO window
	ErrorBudget float64 `json:"error_budget"` // 1 − objective, a fraction
	SLI         DocSLI  `json:"sli"`
}

// DocSLI says what the SLI counts, and how to reduce a GraphQL answer to good and total.
type DocSLI struct {
	Type        string   `json:"type"` // worker_availability, dataset_ratio, ...
	Description string   `json:"description"`
	Script      string   `json:"script,omitempty"`
	BadOutcomes []string `json:"bad_outcomes,omitempty"` // worker_availability
	Quantile    string   `json:"quantile,omitempty"`     // worker_latency: wallTime quantile
	ThresholdUs int64    `json:"threshold_us,omitempty"` // worker_latency: wall time limit
	Queue       string   `json:"queue,omitempty"`        // queue_delivery
	LagMs       int64    `json:"lag_threshold_ms,omitempty"`
}

// DocBurn is a burn-rate tier: the rule fires when the error ratio (1 − good/total) over
// both windows is above ErrorRatioAbove, i.e. when both burn rates exceed Factor.
type DocBurn struct {
	Factor          float64 `json:"factor"`
	BudgetPercent   float64 `json:"budget_percent"`
	LongWindowMs    int64   `json:"long_window_ms"`
	ShortWindowMs   int64   `json:"short_window_ms"`
	ErrorRatioAbove float64 `json:"error_ratio_above"`
}

// DocMetric says what a threshold rule measures.
type DocMetric struct {
	Type     string `json:"type"`              // dataset_query, queue_backlog, ...
	Value    string `json:"value,omitempty"`   // dataset_query: the aggregate, e.g. "p95(latency_ms)"
	Dataset  string `json:"dataset,omitempty"` // dataset_query
	Where    string `json:"where,omitempty"`   // dataset_query: the filter over named columns, canonical
	Queue    string `json:"queue,omitempty"`
	Database string `json:"database,omitempty"`
	Quantile string `json:"quantile,omitempty"`
}

// DocThreshold is when a threshold rule fires: its value over the last ForMs is above
// Above (or below Below).
type DocThreshold struct {
	Above *float64 `json:"above,omitempty"`
	Below *float64 `json:"below,omitempty"`
	ForMs int64    `json:"for_ms"`
}

// Schema is the document's schema, for reconciler/opsdoc.
func (RuleDoc) Schema() string { return RuleSchema }

// Key is the document's key in the ops KV namespace.
func (d RuleDoc) Key() string { return RulesPrefix + d.ID }

func ms(d time.Duration) int64 { return int64(d / time.Millisecond) }

// Documents compiles an SLO into the documents of its burn-rate rules, in order of
// BurnRules. Call Validate first.
func (s SLO) Documents() ([]RuleDoc, error) {
	q, err := s.SLI.Query()
	if err != nil {
		return nil, fmt.Errorf("slo %s: %w", s.Name, err)
	}
	sli := s.SLI.docSLI()
	var docs []RuleDoc
	for _, r := range s.BurnRules() {
		to := r.To
		if to == nil {
			to = []string{}
		}
		docs = append(docs, RuleDoc{
			SchemaName: RuleSchema,
			ID:         "slo/" + s.Name + "/" + r.ID,
			Kind:       "burn_rate",
			Name:       s.Name,
			Severity:   r.Severity,
			To:         to,
			Runbook:    s.Runbook,
			SLO:        &DocSLO{Objective: s.Objective, WindowMs: ms(s.Window), ErrorBudget: Budget(s.Objective), SLI: sli},
			Burn: &DocBurn{Factor: r.Factor, BudgetPercent: r.BudgetPercent, LongWindowMs: ms(r.Long), ShortWindowMs: ms(r.Short),
				ErrorRatioAbove: r.ErrorRatio},
			Query: q,
		})
	}
	return docs, nil
}

func (s SLI) docSLI() DocSLI {
	d := DocSLI{Type: s.Type(), Description: s.describe()}
	switch {
	case s.WorkerAvailability != nil:
		d.Script = s.WorkerAvailability.Script
		d.BadOutcomes = s.WorkerAvailability.BadOutcomes
		if len(d.BadOutcomes) == 0 {
			d.BadOutcomes = DefaultBadOutcomes
		}
	case s.WorkerLatency != nil:
		d.Script = s.WorkerLatency.Script
		d.Quantile = s.WorkerLatency.Quantile
		d.ThresholdUs = int64(s.WorkerLatency.Threshold / time.Microsecond)
	case s.QueueDelivery != nil:
		d.Queue = s.QueueDelivery.Queue
		d.LagMs = ms(s.QueueDelivery.LagThreshold)
	}
	return d
}

// Document compiles a metric rule into its document. Call Validate first.
func (r MetricRule) Document() (RuleDoc, error) {
	q, err := r.Metric.Query()
	if err != nil {
		return RuleDoc{}, fmt.Errorf("alert_rule %s: %w", r.Name, err)
	}
	m := &DocMetric{Type: r.Metric.Type()}
	switch {
	case r.Metric.DatasetQuery != nil:
		v, _ := ParseValue(r.Metric.DatasetQuery.Value, r.Metric.DatasetQuery.Dataset.Columns(), "")
		m.Value, m.Dataset, m.Where = v.String(), r.Metric.DatasetQuery.Dataset.Name, r.Metric.DatasetQuery.Where.String()
	case r.Metric.D1QueryTime != nil:
		m.Database, m.Quantile = r.Metric.D1QueryTime.Database, r.Metric.D1QueryTime.Quantile
	default:
		_, m.Queue, _, _ = r.Metric.entity()
	}
	to := r.To
	if to == nil {
		to = []string{}
	}
	return RuleDoc{
		SchemaName: RuleSchema,
		ID:         "metric/" + r.Name,
		Kind:       "threshold",
		Name:       r.Name,
		Severity:   r.Severity,
		To:         to,
		Runbook:    r.Runbook,
		DedupMs:    ms(r.Dedup),
		Metric:     m,
		Threshold:  &DocThreshold{Above: r.Above, Below: r.Below, ForMs: ms(r.For)},
		Query:      q,
	}, nil
}

// ParseRuleDoc reads a stored rule document of version 1.
func ParseRuleDoc(b []byte) (RuleDoc, error) {
	var d RuleDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return RuleDoc{}, fmt.Errorf("not a rule document: %w", err)
	}
	if d.SchemaName != RuleSchema {
		return RuleDoc{}, fmt.Errorf("rule document of schema %q: this flareops reads %q", d.SchemaName, RuleSchema)
	}
	return d, nil
}

// RenderText renders rule documents for people, one block per SLO or metric rule, with
// every threshold as a number: what `plan` shows of generated rules and what the golden
// files pin.
func RenderText(docs []RuleDoc) string {
	var b strings.Builder
	last := ""
	for _, d := range docs {
		switch d.Kind {
		case "burn_rate":
			if d.Name != last {
				if last != "" {
					b.WriteByte('\n')
				}
				last = d.Name
				fmt.Fprintf(&b, "slo.%s: %s %% over %s (error budget %s)\n", d.Name, formatNumber(d.SLO.Objective),
					formatDuration(time.Duration(d.SLO.WindowMs)*time.Millisecond), percent(d.SLO.ErrorBudget))
				fmt.Fprintf(&b, "  sli: %s\n", d.SLO.SLI.Description)
				if d.Runbook != "" {
					fmt.Fprintf(&b, "  runbook: %s\n", d.Runbook)
				}
			}
			bw := d.Burn
			fmt.Fprintf(&b, "  %-6s %-9s burn > %s over %s and %s: error ratio > %s (%s %% of budget) -> %s\n",
				d.Severity, strings.TrimPrefix(d.ID, "slo/"+d.Name+"/"), formatNumber(bw.Factor),
				formatDuration(time.Duration(bw.LongWindowMs)*time.Millisecond), formatDuration(time.Duration(bw.ShortWindowMs)*time.Millisecond),
				percent(bw.ErrorRatioAbove), formatNumber(bw.BudgetPercent), destinations(d.To))
		case "threshold":
			if last != "" {
				b.WriteByte('\n')
			}
			last = "metric/" + d.Name
			t := d.Threshold
			cmp := ""
			if t.Above != nil {
				cmp = "above " + formatNumber(*t.Above)
			} else if t.Below != nil {
				cmp = "below " + formatNumber(*t.Below)
			}
			fmt.Fprintf(&b, "alert_rule.%s: %s when %s is %s over the last %s -> %s\n", d.Name, d.Severity, d.Metric.describe(), cmp,
				formatDuration(time.Duration(t.ForMs)*time.Millisecond), destinations(d.To))
			if d.DedupMs > 0 {
				fmt.Fprintf(&b, "  dedup: %s\n", formatDuration(time.Duration(d.DedupMs)*time.Millisecond))
			}
			if d.Runbook != "" {
				fmt.Fprintf(&b, "  runbook: %s\n", d.Runbook)
			}
		}
	}
	return b.String()
}

func destinations(to []string) string {
	if len(to) == 0 {
		return "(no destination)"
	}
	s := append([]string(nil), to...)
	sort.Strings(s)
	return strings.Join(s, ", ")
}

// percent renders a fraction as a percentage with up to 6 significant digits.
func percent(f float64) string {
	return fmt.Sprintf("%s %%", formatNumber(round6(f*100)))
}

func round6(f float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 6, 64), 64)
	return r
}

// describe renders what a metric measures, e.g. "p95(latency_ms) of dataset api where route != '/'".
func (m *DocMetric) describe() string {
	switch m.Type {
	case "dataset_query":
		t := m.Value + " of dataset " + m.Dataset
		if m.Where != "" {
			t += " where " + m.Where
		}
		return t
	case "queue_backlog":
		return "the backlog (messages) of queue " + m.Queue
	case "queue_lag":
		return "the lag (ms) of queue " + m.Queue
	case "queue_dlq_ratio":
		return "the share of messages dead-lettered of queue " + m.Queue
	case "d1_query_time":
		return "the " + m.Quantile + " query time (ms) of D1 database " + m.Database
	}
	return m.Type
}
