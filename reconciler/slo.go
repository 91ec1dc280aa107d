package reconciler

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/monotask/flareops/reconciler/alerting"
	"github.com/monotask/flareops/reconciler/opsdoc"
)

// SLOKind is the `slo` block: an objective over a window measured by one SLI, compiled
// (reconciler/alerting) into multi-window multi-burn-rate rules, each published as a
// flareops.rule/v1 document under flareops/rules/slo/<name>/ in the ops KV namespace for
// the platform's monitoring Worker, and evaluated by `flareops alerts check`.
//
// An SLO has no object of its own in Cloudflare: it is its rule documents, which only
// flareops writes. Observing every SLO costs the ops namespace's one key list (each
// key's metadata carries its document's hash).
type SLOKind struct {
	Docs     *opsdoc.Store
	Settings Settings
}

// SLOSpec is the normalized, comparable form of an SLO: what it promises, and each
// generated rule with its thresholds as numbers (what the plan shows).
type SLOSpec struct {
	Name      string             `diff:"name"`
	Objective float64            `diff:"objective"`
	Window    string             `diff:"window"`
	SLI       string             `diff:"sli"`
	Rules     map[string]SLORule `diff:"rule"`
}

// SLORule is one generated burn-rate rule, keyed by its id ("page-1h").
type SLORule struct {
	ID              string  `diff:"id"`
	Severity        string  `diff:"severity"`
	BurnRate        float64 `diff:"burn_rate"`
	LongWindow      string  `diff:"long_window"`
	ShortWindow     string  `diff:"short_window"`
	ErrorRatioAbove float64 `diff:"error_ratio_above"`
	BudgetPercent   float64 `diff:"budget_spent_percent"`
	To              string  `diff:"to,omitzero,zero=(nobody)"`
	// Document is the published document's hash, "sha256:" and 16 hex digits; "" when
	// missing. Only flareops writes it, so any other value is an edit.
	Document string `diff:"document,zero=(missing)"`
}

var sloNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,63}$`)

const sloNameRule = "1 to 64 letters, digits, `_` and `-`, starting with a letter or `_`"

var sloFilterAttr = func(name, desc string) Attr {
	return Attr{Name: name, Type: String, MaxLen: 4096, Description: desc}
}

var sloSchema = BlockSchema{
	Attrs: []Attr{
		{Name: "name", Type: String, LabelDefault: true, ForceNew: true, MaxLen: 64, Pattern: sloNameRE, PatternText: sloNameRule,
			Description: "Name of the SLO: " + sloNameRule + ". Its rules are published as `flareops/rules/slo/<name>/<rule>`. Default: the block's label."},
		{Name: "objective", Type: Float, Required: true, FloatBounded: true, FloatMin: 0.001, FloatMax: alerting.MaxObjective,
			Description: "The objective in percent, e.g. `99.9`: the share of good events (or good minutes) over the window. The error budget is 100 − objective."},
		{Name: "window", Type: Duration, Unit: time.Second, Min: int64(alerting.MinWindow / time.Second), Max: int64(alerting.MaxWindow / time.Second), Default: int64(30 * 24 * 3600),
			Description: "The rolling window, a whole number of hours from 1d to 90d (default 30d). The burn-rate windows scale with it."},
		{Name: "page_to", Type: RefList, RefKind: "alert_destination", MaxItems: 20, RefRole: "page destinations",
			Description: "Where the page rules (fast burn: 2 % and 5 % of the budget within 1h and 6h for a 30d window) send: `[alert_destination.oncall]`."},
		{Name: "ticket_to", Type: RefList, RefKind: "alert_destination", MaxItems: 20, RefRole: "ticket destinations",
			Description: "Where the ticket rule (slow burn: 10 % of the budget within 3d for a 30d window) sends."},
		{Name: "runbook", Type: String, MaxLen: 2048, Description: "URL of the SLO's runbook, shown with every alert."},
	},
	Blocks: []NestedBlock{
		{Name: "worker_availability", MaxItems: 1, Description: "Good = a Worker's invocations that did not end in a bad outcome, from Cloudflare's Workers analytics (GraphQL).",
			Schema: BlockSchema{Attrs: []Attr{
				{Name: "script", Type: String, Required: true, MaxLen: 63, Description: "The Worker script."},
				{Name: "bad_outcomes", Type: StringList, MaxItems: 10, Unique: true, Description: "Invocation statuses that count as bad (default: scriptThrewException, exceededResources, internalError)."},
				sloFilterAttr("where", "Filter over the invocations' columns (status, script_version, environment, ...), in the filter language."),
			}}},
		{Name: "dataset_ratio", MaxItems: 1, Description: "Good events / total events of an Analytics Engine dataset, by filters over its named columns.",
			Schema: BlockSchema{Attrs: []Attr{
				{Name: "dataset", Type: Ref, RefKind: "analytics_dataset", Required: true, RefTarget: true, Description: "The dataset: `analytics_dataset.api`."},
				sloFilterAttr("good", "Filter of the good events, e.g. `\"status < 500\"`."),
				sloFilterAttr("total", "Filter of the events that count at all (default: every event), e.g. `\"route != '/health'\"`."),
			}, Blocks: []NestedBlock{queryColumnsBlock}}},
		{Name: "dataset_latency", MaxItems: 1, Description: "The share of a dataset's events whose latency column is at most a threshold: \"P95 under 200 ms\" is objective 95 with threshold 200.",
			Schema: BlockSchema{Attrs: []Attr{
				{Name: "dataset", Type: Ref, RefKind: "analytics_dataset", Required: true, RefTarget: true, Description: "The dataset: `analytics_dataset.api`."},
				{Name: "latency", Type: String, Required: true, MaxLen: 64, Description: "The latency column (one of the dataset's doubles), e.g. `latency_ms`."},
				{Name: "threshold", Type: Float, Required: true, Description: "The latency limit in the column's unit, e.g. `200`."},
				sloFilterAttr("filter", "Filter of the events that count (default: every event)."),
			}, Blocks: []NestedBlock{queryColumnsBlock}}},
		{Name: "worker_latency", MaxItems: 1, Description: "A time-slice SLI: a minute is good when the Worker's wall-time quantile in it is at most the threshold (Cloudflare offers P25, P50, P75, P90, P99, P999; no P95).",
			Schema: BlockSchema{Attrs: []Attr{
				{Name: "script", Type: String, Required: true, MaxLen: 63, Description: "The Worker script."},
				{Name: "quantile", Type: String, Required: true, MaxLen: 8, Description: "One of P25, P50, P75, P90, P99, P999."},
				{Name: "threshold", Type: Duration, Unit: time.Millisecond, Required: true, Min: 1, Max: 15 * 60 * 1000, Description: "The wall-time limit, e.g. `\"500ms\"`."},
			}}},
		{Name: "queue_delivery", MaxItems: 1, Description: "Messages delivered vs sent to the dead letter queue or failed, from the queue's GraphQL datasets (no rows is no data, never zero).",
			Schema: BlockSchema{Attrs: []Attr{
				{Name: "queue", Type: Ref, RefKind: "queue", Required: true, Description: "The queue: `queue.agent_jobs`."},
				{Name: "lag_threshold", Type: Duration, Unit: time.Millisecond, Min: 0, Max: 24 * 3600 * 1000, Description: "With it, deliveries in a minute whose average lag exceeded it count as bad too, e.g. `\"5s\"`."},
			}}},
	},
}

func (SLOKind) Name() string        { return "slo" }
func (SLOKind) KeyAttr() string     { return "name" }
func (SLOKind) Schema() BlockSchema { return sloSchema }

// Build compiles the SLO: the alerting model (in Private, for `alerts check` and `slo
// status`), checked and turned into its rule documents, whose hashes and thresholds are
// the spec. Filter errors are *FieldErrors naming the attribute, wrapping a
// *alerting.FilterError with the position inside the string.
func (k SLOKind) Build(v Values) (Object, error) {
	s, err := buildSLO(v)
	if err != nil {
		return Object{}, err
	}
	if err := s.Validate(); err != nil {
		return Object{}, err
	}
	docs, err := s.Documents()
	if err != nil {
		return Object{}, err
	}
	spec := SLOSpec{Name: s.Name, Objective: s.Objective, Window: FormatDuration(s.Window), SLI: s.SLI.Type(), Rules: map[string]SLORule{}}
	rules := s.BurnRules()
	for i, d := range docs {
		r := rules[i]
		hash, err := opsdoc.Hash(d)
		if err != nil {
			return Object{}, err
		}
		id := strings.TrimPrefix(d.ID, "slo/"+s.Name+"/")
		spec.Rules[id] = SLORule{ID: id, Severity: string(r.Severity), BurnRate: r.Factor, LongWindow: FormatDuration(r.Long), ShortWindow: FormatDuration(r.Short),
			ErrorRatioAbove: r.ErrorRatio, BudgetPercent: r.BudgetPercent, To: strings.Join(r.To, ", "), Document: shortHash(hash)}
	}
	if err := k.Settings.NeedOpsKV("an slo publishes its burn-rate rules in the ops KV namespace"); err != nil {
		return Object{}, err
	}
	// Private is the alerting model: `alerts check` and `slo status` evaluate it, and apply
	// publishes its documents.
	return Object{Key: s.Name, Spec: spec, Private: s}, nil
}

func buildSLO(v Values) (alerting.SLO, error) {
	s := alerting.SLO{Name: v.str("name"), Runbook: v.str("runbook")}
	s.Objective, _ = v.float("objective")
	if w, ok := v.int("window"); ok {
		s.Window = time.Duration(w) * time.Second
	}
	for _, r := range v.refs("page_to") {
		s.PageTo = append(s.PageTo, r.Name)
	}
	for _, r := range v.refs("ticket_to") {
		s.TicketTo = append(s.TicketTo, r.Name)
	}
	var errs []error
	filter := func(field, src string) *alerting.Filter {
		if src == "" {
			return nil
		}
		f, err := alerting.ParseFilter(src)
		if err != nil {
			errs = append(errs, &alerting.FieldError{Field: field, Err: err})
			return nil
		}
		return f
	}
	for _, b := range v.blocks("worker_availability") {
		s.SLI.WorkerAvailability = &alerting.WorkerAvailability{Script: b.str("script"), BadOutcomes: b.strs("bad_outcomes"), Where: filter("worker_availability.where", b.str("where"))}
	}
	for _, b := range v.blocks("dataset_ratio") {
		ds, err := datasetOf("dataset_ratio", b)
		if err != nil {
			errs = append(errs, err)
		}
		s.SLI.DatasetRatio = &alerting.DatasetRatio{Dataset: ds, Good: filter("dataset_ratio.good", b.str("good")), Total: filter("dataset_ratio.total", b.str("total"))}
	}
	for _, b := range v.blocks("dataset_latency") {
		th, _ := b.float("threshold")
		ds, err := datasetOf("dataset_latency", b)
		if err != nil {
			errs = append(errs, err)
		}
		s.SLI.DatasetLatency = &alerting.DatasetLatency{Dataset: ds, Column: b.str("latency"), Threshold: th, Filter: filter("dataset_latency.filter", b.str("filter"))}
	}
	for _, b := range v.blocks("worker_latency") {
		th, _ := b.int("threshold")
		s.SLI.WorkerLatency = &alerting.WorkerLatency{Script: b.str("script"), Quantile: b.str("quantile"), Threshold: time.Duration(th) * time.Millisecond}
	}
	for _, b := range v.blocks("queue_delivery") {
		lag, _ := b.int("lag_threshold")
		q, _ := b["queue"].(RefValue)
		s.SLI.QueueDelivery = &alerting.QueueDelivery{Queue: q.Name, LagThreshold: time.Duration(lag) * time.Millisecond}
	}
	return s, errors.Join(errs...)
}

// datasetOf is the analytics dataset a block's `dataset` reference names, with its column
// names: those of the block's own columns block (the Terraform form), else those the
// referenced analytics_dataset block declares (RefValue.Target, the CLI). Both given, they
// must agree.
func datasetOf(field string, b Values) (alerting.Dataset, error) {
	r, _ := b["dataset"].(RefValue)
	d := alerting.Dataset{Name: r.Name}
	var target *alerting.Dataset
	for _, cv := range r.Target.blocks("columns") {
		target = &alerting.Dataset{Name: r.Name, Index: cv.str("index"), Blobs: cv.strs("blobs"), Doubles: cv.strs("doubles")}
	}
	own := b.blocks("columns")
	if len(own) == 0 {
		if target != nil {
			d = *target
		}
		return d, nil
	}
	d.Index, d.Blobs, d.Doubles = own[0].str("index"), own[0].strs("blobs"), own[0].strs("doubles")
	if target != nil && (d.Index != target.Index || strings.Join(d.Blobs, ",") != strings.Join(target.Blobs, ",") || strings.Join(d.Doubles, ",") != strings.Join(target.Doubles, ",")) {
		return d, fmt.Errorf("%s.columns: the column names differ from those analytics_dataset %s declares; leave the columns block out to use the dataset's", field, r.Name)
	}
	return d, nil
}

// Flatten turns a spec back into what a block shows: an SLO is read back from its
// documents only as far as they say (name, objective, window).
func (SLOKind) Flatten(spec any) Values {
	s := spec.(SLOSpec)
	v := Values{"name": s.Name}
	if s.Objective != 0 { // 0: read from documents alone, which do not say it
		v["objective"] = s.Objective
	}
	if d, err := ParseDuration(s.Window); err == nil && s.Window != "" {
		v["window"] = int64(d / time.Second)
	}
	return v
}

func (SLOKind) Impact(action Action, c FieldChange, live, desired any) string {
	d, ok := desired.(SLOSpec)
	if !ok || action == Delete {
		return "its burn-rate rules are unpublished: the monitoring Worker stops evaluating them"
	}
	for _, id := range sortedKeys(d.Rules) {
		r := d.Rules[id]
		if strings.HasPrefix(c.Path, "rule") && strings.Contains(c.Path, id) {
			return fmt.Sprintf("%s rule %s fires when the error ratio over %s and %s is above %s (burn rate %s, %s%% of the budget)",
				r.Severity, id, r.LongWindow, r.ShortWindow, FormatFloat(r.ErrorRatioAbove), FormatFloat(r.BurnRate), FormatFloat(r.BudgetPercent))
		}
	}
	if c.Field == "objective" && !math.IsNaN(d.Objective) {
		return fmt.Sprintf("the error budget becomes %s%% of the window", FormatFloat(alerting.Budget(d.Objective)*100))
	}
	return ""
}
