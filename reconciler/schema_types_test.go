package reconciler

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheckList(t *testing.T) {
	blobs := Attr{Name: "blobs", Type: StringList, MaxItems: 3, Unique: true, MaxLen: 8,
		Pattern: regexp.MustCompile(`^[a-z_]+$`), PatternText: "lowercase letters and `_`"}
	outcomes := Attr{Name: "outcomes", Type: StringList, Enum: []string{"ok", "error"}}
	type problem struct {
		Index, First int
		Summary, Msg string
	}
	tests := []struct {
		name  string
		attr  Attr
		in    []string
		known func(int) bool
		want  []problem
	}{
		{"valid", blobs, []string{"service", "route"}, nil, nil},
		{"empty", blobs, []string{}, nil, nil},
		{"too many, and each element still checked", blobs, []string{"a", "b", "c", "B"}, nil, []problem{
			{-1, -1, "Too many elements", "blobs must have at most 3 elements; got 4"},
			{3, -1, "Invalid value", "blobs[3] must be lowercase letters and `_`; got \"B\""},
		}},
		{"duplicates name both positions", blobs, []string{"a", "b", "a", "a"}, nil, []problem{
			{-1, -1, "Too many elements", "blobs must have at most 3 elements; got 4"},
			{2, 0, "Duplicate element", `blobs[0] and blobs[2] are both "a": each element must be different`},
			{3, 0, "Duplicate element", `blobs[0] and blobs[3] are both "a": each element must be different`},
		}},
		{"too long", blobs, []string{"latency_ms"}, nil, []problem{
			{0, -1, "Invalid value", "blobs[0] must be at most 8 characters; got 10 characters"},
		}},
		{"enum per element", outcomes, []string{"ok", "fine"}, nil, []problem{
			{1, -1, "Invalid value", `outcomes[1] must be one of "ok", "error"; got "fine"`},
		}},
		{"without Unique, repeats are fine", outcomes, []string{"ok", "ok"}, nil, nil},
		{"unknown elements are skipped", blobs, []string{"a", "", "a"}, func(i int) bool { return i != 1 }, []problem{
			{2, 0, "Duplicate element", `blobs[0] and blobs[2] are both "a": each element must be different`},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []problem
			for _, p := range tt.attr.CheckList(tt.in, tt.known) {
				got = append(got, problem{p.Index, p.First, p.Summary(), p.Error()})
				if errors.Unwrap(p) == nil {
					t.Errorf("%v unwraps to nothing", p)
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("CheckList(%q) (-want +got):\n%s", tt.in, d)
			}
		})
	}
	if got, want := blobs.ListRule(), "at most 3 elements, each lowercase letters and `_`, all different"; got != want {
		t.Errorf("ListRule = %q, want %q", got, want)
	}
	if got := (Attr{Type: StringList}).ListRule(); got != "any strings" {
		t.Errorf("ListRule of an unbounded list = %q", got)
	}
}

func TestCheckFloat(t *testing.T) {
	rate := Attr{Name: "head_sampling_rate", Type: Float, FloatBounded: true, FloatMin: 0, FloatMax: 1}
	atLeast := Attr{Name: "x", Type: Float, FloatBounded: true, FloatMin: 0.5, FloatMax: math.Inf(1)}
	tests := []struct {
		attr Attr
		in   float64
		want string // "" for valid
	}{
		{rate, 0, ""}, {rate, 0.1, ""}, {rate, 1, ""},
		{rate, 1.0000001, "head_sampling_rate must be between 0 and 1; got 1.0000001"},
		{rate, -0.5, "head_sampling_rate must be between 0 and 1; got -0.5"},
		{atLeast, 7, ""},
		{atLeast, 0.25, "x must be at least 0.5; got 0.25"},
		{Attr{Name: "y", Type: Float}, -1e300, ""},
		{Attr{Name: "y", Type: Float}, math.Inf(1), "y must be a finite number; got +Inf"},
	}
	for _, tt := range tests {
		err := tt.attr.CheckFloat(tt.in)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%s.CheckFloat(%v) = %q, want %q", tt.attr.Name, tt.in, got, tt.want)
		}
	}
}

// noisy is 0.1 + 0.2 computed in float64 (constants would be exact): 0.30000000000000004.
var noisy = func() float64 { x := 0.1; return x + 0.2 }()

func TestFormatFloat(t *testing.T) {
	for in, want := range map[float64]string{
		0.1: "0.1", noisy: "0.30000000000000004", 1: "1", 1e6: "1000000", 0.000125: "0.000125",
		-2.5: "-2.5", 1e21: "1e+21", 1e-7: "1e-07", 0: "0",
	} {
		if got := FormatFloat(in); got != want {
			t.Errorf("FormatFloat(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestDefaultValue(t *testing.T) {
	list := []string{"a"}
	tests := []struct {
		attr Attr
		want any
	}{
		{Attr{Type: Float, Default: 1}, 1.0},
		{Attr{Type: Float, Default: 0.1}, 0.1},
		{Attr{Type: Float, Default: int64(2)}, 2.0},
		{Attr{Type: Int, Default: 3}, int64(3)},
		{Attr{Type: StringList, Default: list}, []string{"a"}},
		{Attr{Type: StringList, Default: []string(nil)}, []string{}},
		{Attr{Type: String, Default: "x"}, "x"},
		{Attr{Type: Bool}, nil},
	}
	for _, tt := range tests {
		got := tt.attr.DefaultValue()
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("DefaultValue of %v (-want +got):\n%s", tt.attr.Default, d)
		}
		if ss, ok := got.([]string); ok && ss == nil {
			t.Errorf("DefaultValue of %v is a nil list", tt.attr.Default)
		}
	}
	got := Attr{Type: StringList, Default: list}.DefaultValue().([]string)
	got[0] = "changed"
	if list[0] != "a" {
		t.Error("DefaultValue shares the schema's list")
	}
}

func TestValuesAccessors(t *testing.T) {
	v := Values{"blobs": []string{"a", "b"}, "empty": []string{}, "rate": 0.1, "n": int64(1)}
	if d := cmp.Diff([]string{"a", "b"}, v.strs("blobs")); d != "" {
		t.Errorf("strs (-want +got):\n%s", d)
	}
	if got := v.strs("empty"); got == nil || len(got) != 0 {
		t.Errorf("strs of [] = %#v, want an empty list", got)
	}
	if got := v.strs("missing"); got != nil {
		t.Errorf("strs of an absent list = %#v, want nil", got)
	}
	if f, ok := v.float("rate"); !ok || f != 0.1 {
		t.Errorf("float = %v, %v", f, ok)
	}
	if _, ok := v.float("n"); ok {
		t.Error("float reads an int64")
	}
	if _, ok := v.float("missing"); ok {
		t.Error("float reads an absent value")
	}
}

// renderDatasetSpec stands in for a kind with lists and fractions (analytics_dataset,
// worker_settings).
type renderDatasetSpec struct {
	Dataset  string   `diff:"dataset"`
	Blobs    []string `diff:"blobs"`
	Doubles  []string `diff:"doubles"`
	Sampling float64  `diff:"head_sampling_rate"`
}

func TestDiffListsAndFloats(t *testing.T) {
	base := renderDatasetSpec{Dataset: "d", Blobs: []string{"service", "route"}, Sampling: 0.1}
	tests := []struct {
		name     string
		old, new any
		want     []FieldChange
	}{
		{"nil and empty lists are equal", base, renderDatasetSpec{Dataset: "d", Blobs: []string{"service", "route"}, Doubles: []string{}, Sampling: 0.1}, nil},
		{"a list changes as a whole", base, renderDatasetSpec{Dataset: "d", Blobs: []string{"service", "outcome", "route"}, Sampling: 0.1}, []FieldChange{{
			Path: "blobs", Field: "blobs", Old: `["service", "route"]`, New: `["service", "outcome", "route"]`, OldSet: true, NewSet: true,
			OldRaw: []string{"service", "route"}, NewRaw: []string{"service", "outcome", "route"},
		}}},
		{"order matters", base, renderDatasetSpec{Dataset: "d", Blobs: []string{"route", "service"}, Sampling: 0.1}, []FieldChange{{
			Path: "blobs", Field: "blobs", Old: `["service", "route"]`, New: `["route", "service"]`, OldSet: true, NewSet: true,
			OldRaw: []string{"service", "route"}, NewRaw: []string{"route", "service"},
		}}},
		{"a float in its shortest form", base, renderDatasetSpec{Dataset: "d", Blobs: []string{"service", "route"}, Sampling: noisy}, []FieldChange{{
			Path: "head_sampling_rate", Field: "head_sampling_rate", Old: "0.1", New: "0.30000000000000004", OldSet: true, NewSet: true,
			OldRaw: 0.1, NewRaw: noisy,
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, Diff(tt.old, tt.new)); d != "" {
				t.Errorf("Diff (-want +got):\n%s", d)
			}
		})
	}
	created := Diff(nil, base)
	want := map[string]string{"dataset": `"d"`, "blobs": `["service", "route"]`, "doubles": "[]", "head_sampling_rate": "0.1"}
	for _, f := range created {
		if f.New != want[f.Path] {
			t.Errorf("created %s = %s, want %s", f.Path, f.New, want[f.Path])
		}
	}
}

// renderListPlan creates and updates objects with lists and fractions.
func renderListPlan() *Plan {
	create := renderChange("dataset.task_metrics", Create, "", Diff(nil, renderDatasetSpec{
		Dataset: "monotask_task_metrics", Blobs: []string{"service", "route", "outcome"}, Sampling: 0.1,
	}))
	update := renderChange("dataset.api_metrics", Update, "ds-1", Diff(
		renderDatasetSpec{Dataset: "monotask_api_metrics", Blobs: []string{"service"}, Doubles: []string{"status"}, Sampling: 1},
		renderDatasetSpec{Dataset: "monotask_api_metrics", Blobs: []string{"service", "a \"quoted\"\x00name"}, Sampling: 0.25},
	))
	return &Plan{Target: Target{Kind: "local", Workspace: "default"}, Changes: []Change{create, update}}
}

// TestRenderListsAndFloats: lists read as users write them (["a", "b"]) and numbers
// without noise in text and Markdown; JSON has arrays of strings and numbers.
func TestRenderListsAndFloats(t *testing.T) {
	for _, name := range []string{"text", "markdown", "json"} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := allRenderings(RenderOptions{})[name](&b, renderListPlan()); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "render", "lists."+map[string]string{"text": "txt", "markdown": "md", "json": "json"}[name])
			if *update {
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./reconciler/ -run Render -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), b.String()); diff != "" {
				t.Errorf("%s mismatch (-golden +got); if intended, rerun with -update:\n%s", path, diff)
			}
		})
	}
	var b bytes.Buffer
	if err := RenderJSON(&b, renderListPlan()); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Changes []struct {
			Fields []struct {
				Path     string `json:"path"`
				Old, New any
			} `json:"fields"`
		} `json:"changes"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	values := map[string][2]any{}
	for _, c := range got.Changes {
		for _, f := range c.Fields {
			values[f.Path] = [2]any{f.Old, f.New}
		}
	}
	want := map[string][2]any{
		"dataset":            {"monotask_api_metrics", "monotask_api_metrics"},
		"blobs":              {[]any{"service"}, []any{"service", "a \"quoted\"\x00name"}},
		"doubles":            {[]any{"status"}, []any{}},
		"head_sampling_rate": {1.0, 0.25},
	}
	for k, w := range want {
		if k == "dataset" {
			continue // unchanged in the update; the create's value is elsewhere
		}
		if d := cmp.Diff(w, values[k]); d != "" {
			t.Errorf("%s (-want +got):\n%s", k, d)
		}
	}
}

func TestRenderJSONListValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{`[]`, `[]`},
		{`["a", "b"]`, `["a","b"]`},
		{`["a\x00b", "\a"]`, `["a\u0000b","\u0007"]`},
		{`["a, b", "]"]`, `["a, b","]"]`},
		{`[1, 2.5]`, `[1,2.5]`},
		{`["30s", 1m]`, `["30s","1m"]`},
		{`["a" "b"]`, `"[\"a\" \"b\"]"`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(jsonValue(FieldChange{}, tt.in, true))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("jsonValue(%s) = %s, want %s", tt.in, b, tt.want)
		}
	}
}
