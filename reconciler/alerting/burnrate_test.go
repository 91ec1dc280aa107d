package alerting

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/reconciler/opsdoc"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const day = 24 * time.Hour

func TestWindows(t *testing.T) {
	tests := []struct {
		window time.Duration
		want   []BurnWindow
	}{
		// The SRE Workbook's table (analytics.md §5): 2 % of 30 d in 1 h is 14.4×.
		{30 * day, []BurnWindow{
			{Page, 2, time.Hour, 5 * time.Minute, 14.4},
			{Page, 5, 6 * time.Hour, 30 * time.Minute, 6},
			{Ticket, 10, 3 * day, 6 * time.Hour, 1},
		}},
		// 28 d: windows × 28/30, rounded to the minute; factors recomputed from them:
		// 2 % × 40320 m / 56 m = 14.4; 5 % × 40320 / 336 = 6; 10 % × 40320 / 4032 = 1.
		{28 * day, []BurnWindow{
			{Page, 2, 56 * time.Minute, 5 * time.Minute, 14.4},
			{Page, 5, 5*time.Hour + 36*time.Minute, 28 * time.Minute, 6},
			{Ticket, 10, 67*time.Hour + 12*time.Minute, 5*time.Hour + 36*time.Minute, 1},
		}},
		// 7 d: 1 h × 7/30 = 14 m; short 14/12 m rounds to 1 m.
		{7 * day, []BurnWindow{
			{Page, 2, 14 * time.Minute, time.Minute, 14.4},
			{Page, 5, 84 * time.Minute, 7 * time.Minute, 6},
			{Ticket, 10, 16*time.Hour + 48*time.Minute, 84 * time.Minute, 1},
		}},
		// 1 d: 1 h / 30 = 2 m; 2 % of 1440 m in 2 m is 14.4×. 6 h / 30 = 12 m.
		{day, []BurnWindow{
			{Page, 2, 2 * time.Minute, time.Minute, 14.4},
			{Page, 5, 12 * time.Minute, time.Minute, 6},
			{Ticket, 10, 144 * time.Minute, 12 * time.Minute, 1},
		}},
		// 90 d: 3 h / 15 m, 18 h / 90 m, 9 d / 18 h.
		{90 * day, []BurnWindow{
			{Page, 2, 3 * time.Hour, 15 * time.Minute, 14.4},
			{Page, 5, 18 * time.Hour, 90 * time.Minute, 6},
			{Ticket, 10, 9 * day, 18 * time.Hour, 1},
		}},
		// 10 d: 1 h / 3 = 20 m; 10 d / 10 = 1 d; rounding never changes the share.
		{10 * day, []BurnWindow{
			{Page, 2, 20 * time.Minute, 2 * time.Minute, 14.4},
			{Page, 5, 2 * time.Hour, 10 * time.Minute, 6},
			{Ticket, 10, day, 2 * time.Hour, 1},
		}},
	}
	for _, tt := range tests {
		t.Run(formatDuration(tt.window), func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Windows(tt.window)); diff != "" {
				t.Errorf("Windows(%s) (-want +got):\n%s", formatDuration(tt.window), diff)
			}
		})
	}
}

func TestWindowsRoundedFactorKeepsShare(t *testing.T) {
	// 13 d: 1 h × 13/30 = 26 m exactly; 6 h × 13/30 = 156 m; but 11 d: 22 m, 132 m, and
	// 3 d × 11/30 = 1584 m. For 17 d: 34 m. Odd windows whose long window rounds: 19 d →
	// 1 h × 19/30 = 38 m. Check factor × long / window == share for every whole day.
	for d := 1; d <= 90; d++ {
		w := time.Duration(d) * day
		for _, bw := range Windows(w) {
			share := bw.Factor * float64(bw.Long) / float64(w) * 100
			if diff := share - bw.BudgetPercent; diff > 1e-9 || diff < -1e-9 {
				t.Errorf("%dd %s: factor %v × %s / window = %v %%, want %v %%", d, bw.Severity, bw.Factor, formatDuration(bw.Long), share, bw.BudgetPercent)
			}
			if bw.Short < time.Minute || bw.Short > bw.Long || bw.Long%time.Minute != 0 {
				t.Errorf("%dd: windows %s/%s", d, formatDuration(bw.Long), formatDuration(bw.Short))
			}
		}
	}
}

func TestBurnRulesThresholds(t *testing.T) {
	s := seedSLOs()[0] // 99.9 % over 30 d
	var got []string
	for _, r := range s.BurnRules() {
		got = append(got, r.ID+" "+formatNumber(r.Factor)+" "+formatNumber(r.ErrorRatio))
	}
	// error ratio = burn × (1 − 0.999): 14.4 × 0.001, 6 × 0.001, 1 × 0.001.
	want := []string{"page-1h 14.4 0.0144", "page-6h 6 0.006", "ticket-3d 1 0.001"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if b := Budget(95); b != 0.05 {
		t.Errorf("Budget(95) = %v", b)
	}
}

// seedSLOs are the seed's SLOs (issue 9; examples/monotask): 99.9 % availability of the
// API gateway; P95 under 200 ms (API gateway), 500 ms (task operations) and 30 s (agent
// execution) as dataset latency SLOs at 95 %; queue processing P95 under 5 s; an error
// rate under 1 %.
func seedSLOs() []SLO {
	tasks := Dataset{Name: "monotask_production_tasks", Index: "tenant", Blobs: []string{"service", "operation", "outcome"}, Doubles: []string{"status", "latency_ms", "d1_ms"}}
	agent := Dataset{Name: "monotask_production_agent", Index: "tenant", Blobs: []string{"model", "operation", "outcome"}, Doubles: []string{"latency_ms", "input_tokens", "output_tokens", "sandbox_provision_ms"}}
	queues := Dataset{Name: "monotask_production_queues", Index: "queue", Blobs: []string{"worker", "outcome", "error_class"}, Doubles: []string{"processing_ms", "attempt", "batch_size"}}
	api := apiDataset
	api.Name = "monotask_production_api"
	page, ticket := []string{"oncall"}, []string{"slack"}
	mustFilter := func(s string) *Filter {
		f, err := ParseFilter(s)
		if err != nil {
			panic(err)
		}
		return f
	}
	return []SLO{
		{Name: "api_availability", Objective: 99.9, Window: 30 * day, PageTo: page, TicketTo: ticket, Runbook: "https://runbooks.example/api-availability",
			SLI: SLI{WorkerAvailability: &WorkerAvailability{Script: "api-gateway-production"}}},
		{Name: "api_latency", Objective: 95, Window: 30 * day, PageTo: page, TicketTo: ticket, Runbook: "https://runbooks.example/api-latency",
			SLI: SLI{DatasetLatency: &DatasetLatency{Dataset: api, Column: "latency_ms", Threshold: 200, Filter: mustFilter("route != '/health'")}}},
		{Name: "task_latency", Objective: 95, Window: 30 * day, PageTo: page, TicketTo: ticket, Runbook: "https://runbooks.example/task-latency",
			SLI: SLI{DatasetLatency: &DatasetLatency{Dataset: tasks, Column: "latency_ms", Threshold: 500}}},
		{Name: "agent_execution", Objective: 95, Window: 30 * day, PageTo: page, TicketTo: ticket, Runbook: "https://runbooks.example/agent-execution",
			SLI: SLI{DatasetLatency: &DatasetLatency{Dataset: agent, Column: "latency_ms", Threshold: 30000, Filter: mustFilter("operation = 'execute'")}}},
		{Name: "queue_processing", Objective: 95, Window: 30 * day, PageTo: page, TicketTo: ticket, Runbook: "https://runbooks.example/queue-processing",
			SLI: SLI{DatasetLatency: &DatasetLatency{Dataset: queues, Column: "processing_ms", Threshold: 5000}}},
		{Name: "api_errors", Objective: 99, Window: 30 * day, PageTo: page, TicketTo: ticket, Runbook: "https://runbooks.example/api-errors",
			SLI: SLI{DatasetRatio: &DatasetRatio{Dataset: api, Good: mustFilter("status < 500"), Total: mustFilter("route != '/health'")}}},
	}
}

func seedRules() []MetricRule {
	thousand, tenth, half := 1000.0, 0.1, 0.5
	return []MetricRule{
		{Name: "agent_backlog", Metric: Metric{QueueBacklog: &QueueMetric{Queue: "monotask-production-agent-jobs"}}, Above: &thousand, For: 10 * time.Minute,
			Severity: Ticket, Dedup: time.Hour, Runbook: "https://runbooks.example/agent-backlog", To: []string{"slack"}},
		{Name: "agent_dlq", Metric: Metric{QueueDLQRatio: &QueueMetric{Queue: "monotask-production-agent-jobs"}}, Above: &tenth, For: 15 * time.Minute,
			Severity: Page, Dedup: time.Hour, Runbook: "https://runbooks.example/agent-dlq", To: []string{"oncall"}},
		{Name: "d1_slow", Metric: Metric{D1QueryTime: &D1QueryTime{Database: "monotask-production", Quantile: "P90"}}, Above: &thousand, For: 10 * time.Minute,
			Severity: Ticket, Runbook: "https://runbooks.example/d1-slow", To: []string{"slack"}},
		{Name: "api_5xx_rate", Metric: Metric{DatasetQuery: &DatasetQuery{Dataset: seedSLOs()[5].SLI.DatasetRatio.Dataset, Value: "count()", Where: seedSLOs()[5].SLI.DatasetRatio.Good}},
			Below: &half, For: 5 * time.Minute, Severity: Ticket, Runbook: "https://runbooks.example/api-traffic", To: []string{"slack", "ops"}},
	}
}

func seedDocs(t *testing.T) []RuleDoc {
	t.Helper()
	var docs []RuleDoc
	for _, s := range seedSLOs() {
		if err := s.Validate(); err != nil {
			t.Fatalf("slo %s: %v", s.Name, err)
		}
		d, err := s.Documents()
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d...)
	}
	for _, r := range seedRules() {
		if err := r.Validate(); err != nil {
			t.Fatalf("rule %s: %v", r.Name, err)
		}
		d, err := r.Document()
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	return docs
}

// TestSeedRulesGolden pins the rules generated for the seed's SLOs and metric rules, as
// text (what people read) and as the stored documents (canonical JSON, one per line with
// its key and hash). Regenerate with: go test ./reconciler/alerting -run Golden -update
func TestSeedRulesGolden(t *testing.T) {
	docs := seedDocs(t)
	golden(t, "seed-rules.txt", []byte(RenderText(docs)))
	var b strings.Builder
	for _, d := range docs {
		value, hash, err := opsdoc.Encode(d)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(d.Key(), opsdoc.Prefix) || opsdoc.Key(strings.Split(strings.TrimPrefix(d.Key(), opsdoc.Prefix), "/")...) != d.Key() {
			t.Errorf("key %q is not an opsdoc key", d.Key())
		}
		back, err := ParseRuleDoc(value)
		if err != nil {
			t.Fatal(err)
		}
		if h, _ := opsdoc.Hash(back); h != hash {
			t.Errorf("%s: the document read back hashes to %s, not %s", d.Key(), h, hash)
		}
		var indented strings.Builder
		enc := json.NewEncoder(&indented)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		var v any
		_ = json.Unmarshal(value, &v)
		_ = enc.Encode(v)
		b.WriteString("# " + d.Key() + " sha256:" + hash + "\n" + indented.String())
	}
	golden(t, "seed-rules.json", []byte(b.String()))
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got); rerun with -update if the change is meant:\n%s", path, diff)
	}
}
