package wrangler

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/reconciler/cloudflare"
	"github.com/monotask/flareops/reconciler/workerset"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestFragment(t *testing.T) {
	tests := []struct {
		name string
		want workerset.Want
	}{
		{"limits", workerset.Want{CPUMs: 50}},
		{"observability", workerset.Want{Observability: &cloudflare.Observability{Enabled: true, HeadSamplingRate: 0.1}}},
		{"settings", workerset.Want{CPUMs: 50, Logpush: true, Observability: &cloudflare.Observability{
			Enabled: true, HeadSamplingRate: 0.1,
			Logs: &cloudflare.ObservabilityLogs{Enabled: true, InvocationLogs: true, HeadSamplingRate: 1},
		}}},
		{"bindings_and_crons", workerset.Want{
			Crons: []string{"*/5 * * * *", "0 2 * * *"},
			Bindings: []workerset.Binding{
				{Name: "TASK_METRICS", Type: "analytics_engine", Fields: map[string]any{"dataset": "monotask_task_metrics"}},
				{Name: "API_METRICS", Type: "analytics_engine", Fields: map[string]any{"dataset": "monotask_api_metrics"}},
				{Name: "CACHE", Type: "kv_namespace", Fields: map[string]any{"namespace_id": "0f2ac74b498b48028cb68387c421e279"}},
				{Name: "MODE", Type: "plain_text", Fields: map[string]any{"text": "say \"hi\""}},
				{Name: "AI", Type: "ai", Fields: map[string]any{}},
			},
		}},
	}
	for _, tt := range tests {
		for _, format := range Formats {
			t.Run(tt.name+"."+format, func(t *testing.T) {
				got := Fragment(format, tt.want)
				golden := filepath.Join("testdata", tt.name+"."+format)
				if *update {
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(string(want), got); diff != "" {
					t.Errorf("Fragment(%q) (-golden +got):\n%s", format, diff)
				}
			})
		}
	}
}

// The JSONC fragment is JSON once its comments are gone, so it can be pasted as it is.
func TestFragmentJSONCParses(t *testing.T) {
	w := workerset.Want{CPUMs: 300000, Logpush: true, Crons: []string{"*/5 * * * *"},
		Observability: &cloudflare.Observability{Enabled: true, HeadSamplingRate: 1, Logs: &cloudflare.ObservabilityLogs{Enabled: true, HeadSamplingRate: 0.5}},
		Bindings:      []workerset.Binding{{Name: "M", Type: "analytics_engine", Fields: map[string]any{"dataset": "d"}}, {Name: "N", Type: "analytics_engine", Fields: map[string]any{"dataset": "e"}}}}
	var lines []string
	for _, l := range strings.Split(Fragment("jsonc", w), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "//") {
			lines = append(lines, l)
		}
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(strings.Join(lines, "\n")), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, strings.Join(lines, "\n"))
	}
	want := map[string]any{
		"logpush": true,
		"limits":  map[string]any{"cpu_ms": 300000.0},
		"observability": map[string]any{"enabled": true, "head_sampling_rate": 1.0,
			"logs": map[string]any{"enabled": true, "invocation_logs": false, "head_sampling_rate": 0.5}},
		"triggers":                  map[string]any{"crons": []any{"*/5 * * * *"}},
		"analytics_engine_datasets": []any{map[string]any{"binding": "M", "dataset": "d"}, map[string]any{"binding": "N", "dataset": "e"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSONC fragment (-want +got):\n%s", diff)
	}
}

func TestFragmentEmpty(t *testing.T) {
	for _, f := range append(Formats, "yaml") {
		if got := Fragment(f, workerset.Want{}); got != "" {
			t.Errorf("Fragment(%q, empty) = %q, want \"\"", f, got)
		}
	}
	if got := Fragment("yaml", workerset.Want{CPUMs: 5}); got != "" {
		t.Errorf("Fragment(yaml) = %q, want \"\"", got)
	}
}
