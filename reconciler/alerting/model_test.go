package alerting

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSLOValidate(t *testing.T) {
	base := func() SLO { return seedSLOs()[5] } // api_errors: dataset_ratio
	f := func(s string) *Filter {
		flt, err := ParseFilter(s)
		if err != nil {
			t.Fatal(err)
		}
		return flt
	}
	tests := []struct {
		name   string
		mutate func(*SLO)
		field  string
		msg    string
	}{
		{"objective over", func(s *SLO) { s.Objective = 100 }, "objective", "not a percentage"},
		{"window not hours", func(s *SLO) { s.Window = 90 * time.Minute }, "window", "whole number of hours"},
		{"window too long", func(s *SLO) { s.Window = 120 * day }, "window", "outside 1d to 90d"},
		{"no sli", func(s *SLO) { s.SLI = SLI{} }, "sli", "exactly one SLI block"},
		{"two slis", func(s *SLO) { s.SLI.WorkerAvailability = &WorkerAvailability{Script: "x"} }, "sli", "this one has 2"},
		{"unknown column", func(s *SLO) { s.SLI.DatasetRatio.Good = f("stats < 500") }, "dataset_ratio.good", `Did you mean "status"?`},
		{"wrong type", func(s *SLO) { s.SLI.DatasetRatio.Total = f("route != 5") }, "dataset_ratio.total", "quote the value"},
		{"no good", func(s *SLO) { s.SLI.DatasetRatio.Good = nil }, "dataset_ratio.good", "needs a good filter"},
		{"p95", func(s *SLO) {
			s.SLI = SLI{WorkerLatency: &WorkerLatency{Script: "api", Quantile: "P95", Threshold: 200 * time.Millisecond}}
		}, "worker_latency.quantile", "no P95 (only P25, P50, P75, P90, P99, P999): use P90 or P99, or a dataset_latency SLI"},
		{"latency column string", func(s *SLO) {
			s.SLI = SLI{DatasetLatency: &DatasetLatency{Dataset: apiDataset, Column: "route", Threshold: 5}}
		}, "dataset_latency.latency", "is a string column"},
		{"latency column unknown", func(s *SLO) {
			s.SLI = SLI{DatasetLatency: &DatasetLatency{Dataset: apiDataset, Column: "latency", Threshold: 5}}
		}, "dataset_latency.latency", `Did you mean "latency_ms"?`},
		{"graphql window", func(s *SLO) {
			s.SLI = SLI{WorkerAvailability: &WorkerAvailability{Script: "api"}}
			s.Window = 60 * day
		}, "window", "longer than the 31 days"},
		{"no destinations", func(s *SLO) { s.PageTo, s.TicketTo = nil, nil }, "page_to", "alerts nobody"},
		{"runbook", func(s *SLO) { s.Runbook = "runbooks/x" }, "runbook", "not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base()
			tt.mutate(&s)
			err := s.Validate()
			if err == nil {
				t.Fatal("Validate() = nil")
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Validate() = %v, want field %s with %q", err, tt.field, tt.msg)
			}
		})
	}
	// The position of a filter error survives the FieldError, for file:line:col.
	s := base()
	s.SLI.DatasetRatio.Good = f("status < 500 and methd = 'GET'")
	var ferr *FilterError
	if err := s.Validate(); !errors.As(err, &ferr) || ferr.Pos != (Pos{17, 1, 18}) {
		t.Errorf("filter error position: %v", err)
	}
}

func TestMetricRuleValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*MetricRule)
		field  string
		msg    string
	}{
		{"both thresholds", func(r *MetricRule) { r.Below = r.Above }, "above", "exactly one of above and below"},
		{"no threshold", func(r *MetricRule) { r.Above = nil }, "above", "exactly one of above and below"},
		{"for", func(r *MetricRule) { r.For = 30 * time.Second }, "for", "whole number of minutes"},
		{"severity", func(r *MetricRule) { r.Severity = "urgent" }, "severity", `"urgent" is not page or ticket`},
		{"to", func(r *MetricRule) { r.To = nil }, "to", "alerts nobody"},
		{"two metrics", func(r *MetricRule) { r.Metric.QueueLag = &QueueMetric{Queue: "q"} }, "metric", "this one has 2"},
		{"d1 quantile", func(r *MetricRule) { r.Metric = Metric{D1QueryTime: &D1QueryTime{Database: "db", Quantile: "P99"}} }, "d1_query_time.quantile", "P50, P90"},
		{"value", func(r *MetricRule) {
			r.Metric = Metric{DatasetQuery: &DatasetQuery{Dataset: apiDataset, Value: "p95(route)"}}
		}, "dataset_query.value", "route is a string column"},
		{"value function", func(r *MetricRule) {
			r.Metric = Metric{DatasetQuery: &DatasetQuery{Dataset: apiDataset, Value: "median(latency_ms)"}}
		}, "dataset_query.value", "median() is not an aggregate"},
		{"value column", func(r *MetricRule) {
			r.Metric = Metric{DatasetQuery: &DatasetQuery{Dataset: apiDataset, Value: "avg(latncy_ms)"}}
		}, "dataset_query.value", `Did you mean "latency_ms"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := seedRules()[0]
			tt.mutate(&r)
			err := r.Validate()
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Validate() = %v, want field %s with %q", err, tt.field, tt.msg)
			}
		})
	}
}

func TestValueSQL(t *testing.T) {
	cols := apiDataset.Columns()
	for in, want := range map[string]string{
		"count()":          "sum(_sample_interval)",
		"sum(cpu_ms)":      "sum(double3 * _sample_interval)",
		"avg(latency_ms)":  "sum(double2 * _sample_interval) / sum(_sample_interval)",
		"max(latency_ms)":  "max(double2)",
		"p95(latency_ms)":  "quantileExactWeighted(0.95)(double2, _sample_interval)",
		" P999( status ) ": "quantileExactWeighted(0.999)(double1, _sample_interval)",
	} {
		v, err := ParseValue(in, cols, "x")
		if err != nil {
			t.Fatalf("ParseValue(%q): %v", in, err)
		}
		if v.SQL() != want {
			t.Errorf("ParseValue(%q).SQL() = %q, want %q", in, v.SQL(), want)
		}
	}
}

// TestDLQRatioThresholdIsAShare: the DLQ ratio is a share from 0 to 1, so a threshold it
// can never pass (above = 5, meant as 5 %, or 1e308; below = 0) is refused at above or
// below; the other metrics have no natural bound.
func TestDLQRatioThresholdIsAShare(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	for _, c := range []struct {
		name         string
		above, below *float64
		field        string // "" when valid
	}{
		{"above a share", f(0.05), nil, ""},
		{"above zero", f(0), nil, ""},
		{"below one", nil, f(1), ""},
		{"above as a percentage", f(5), nil, "above"},
		{"above one", f(1), nil, "above"},
		{"above 1e308", f(1e308), nil, "above"},
		{"above negative", f(-0.1), nil, "above"},
		{"below zero", nil, f(0), "below"},
		{"below past one", nil, f(1.5), "below"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := seedRules()[0]
			r.Metric = Metric{QueueDLQRatio: &QueueMetric{Queue: "q"}}
			r.Above, r.Below = c.above, c.below
			err := r.Validate()
			var fe *FieldError
			switch {
			case c.field == "" && err != nil:
				t.Errorf("Validate() = %v", err)
			case c.field != "" && (!errors.As(err, &fe) || fe.Field != c.field || !strings.Contains(err.Error(), "a share from 0 to 1")):
				t.Errorf("Validate() = %v, want field %s refused as a share from 0 to 1", err, c.field)
			}
		})
	}
	r := seedRules()[0]
	r.Metric = Metric{QueueBacklog: &QueueMetric{Queue: "q"}}
	r.Above = f(1e6)
	if err := r.Validate(); err != nil {
		t.Errorf("a backlog threshold: %v", err)
	}
}
