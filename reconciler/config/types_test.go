package config

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/reconciler"
)

// datasetKind is a test-local schema with every StringList and Float setting, shaped like
// analytics_dataset (columns { blobs = [...] }) and worker_settings (a sampling rate).
func datasetKind() KindSchema {
	return KindSchema{
		Name:    "dataset",
		KeyAttr: "dataset",
		Schema: reconciler.BlockSchema{
			Attrs: []reconciler.Attr{
				{Name: "dataset", Type: reconciler.String, Required: true},
				{Name: "tags", Type: reconciler.StringList, Default: []string{}},
				{Name: "outcomes", Type: reconciler.StringList, Enum: []string{"ok", "error"}},
				{Name: "sampling", Type: reconciler.Float, FloatBounded: true, FloatMin: 0, FloatMax: 1},
				{Name: "weight", Type: reconciler.Float, Default: 1},
			},
			Blocks: []reconciler.NestedBlock{{
				Name:     "columns",
				MaxItems: 1,
				Schema: reconciler.BlockSchema{Attrs: []reconciler.Attr{
					{Name: "index", Type: reconciler.String},
					{Name: "blobs", Type: reconciler.StringList, MaxItems: 3, Unique: true, MaxLen: 16,
						Pattern: regexp.MustCompile(`^[a-z][a-z0-9_]*$`), PatternText: "lowercase letters, digits and `_`, starting with a letter"},
					{Name: "doubles", Type: reconciler.StringList, Unique: true},
				}},
			}},
		},
	}
}

func datasetOpts() Options { return Options{Kinds: []KindSchema{datasetKind()}} }

// TestLoadListsAndFloats decodes StringList and Float attributes from literals,
// variables, locals, functions and other blocks; applies their defaults; and keeps null
// absent and [] present.
func TestLoadListsAndFloats(t *testing.T) {
	defaults := reconciler.Values{"tags": []string{}, "weight": 1.0}
	with := func(kv ...any) reconciler.Values {
		v := reconciler.Values{}
		for k, d := range defaults {
			v[k] = d
		}
		for i := 0; i < len(kv); i += 2 {
			v[kv[i].(string)] = kv[i+1]
		}
		return v
	}
	tests := []struct {
		name string
		src  string
		opts Options
		want []Block
	}{
		{
			name: "literals",
			src: `dataset "a" {
  dataset  = "a"
  tags     = ["x"]
  sampling = 0.1
  weight   = 2
  columns {
    index   = "tenant"
    blobs   = ["service", "route", "outcome"]
    doubles = ["status", "latency_ms"]
  }
}`,
			want: []Block{{Kind: "dataset", Name: "a", Values: with("dataset", "a", "tags", []string{"x"}, "sampling", 0.1, "weight", 2.0,
				"columns", []reconciler.Values{{"index": "tenant", "blobs": []string{"service", "route", "outcome"}, "doubles": []string{"status", "latency_ms"}}})}},
		},
		{
			name: "empty list present, null absent, numbers and bools as strings",
			src: `dataset "a" {
  dataset  = "a"
  sampling = null
  outcomes = null
  columns {
    blobs   = []
    doubles = [1, true, "x"]
  }
}`,
			want: []Block{{Kind: "dataset", Name: "a", Values: with("dataset", "a",
				"columns", []reconciler.Values{{"blobs": []string{}, "doubles": []string{"1", "true", "x"}}})}},
		},
		{
			name: "variables, locals and functions",
			src: `variable "blobs" {
  type    = list(string)
  default = ["service", "route"]
}
variable "rate" {
  type    = number
  default = 0.25
}
locals {
  extra = ["outcome"]
  half  = var.rate / 2
}
dataset "a" {
  dataset  = "a"
  sampling = local.half
  tags     = split(",", "x,y")
  columns {
    blobs   = concat(var.blobs, local.extra)
    doubles = local.extra
  }
}`,
			want: []Block{{Kind: "dataset", Name: "a", Values: with("dataset", "a", "sampling", 0.125, "tags", []string{"x", "y"},
				"columns", []reconciler.Values{{"blobs": []string{"service", "route", "outcome"}, "doubles": []string{"outcome"}}})}},
		},
		{
			name: "other blocks see lists and numbers",
			src: `dataset "a" {
  dataset  = "a"
  sampling = 0.3
  columns {
    blobs = ["service"]
  }
}
dataset "b" {
  dataset  = "b"
  sampling = dataset.a.sampling
  tags     = dataset.a.columns[0].blobs
  columns {
    blobs = concat(dataset.a.columns[0].blobs, ["route"])
  }
}`,
			want: []Block{
				{Kind: "dataset", Name: "a", Values: with("dataset", "a", "sampling", 0.3, "columns", []reconciler.Values{{"blobs": []string{"service"}}})},
				{Kind: "dataset", Name: "b", Deps: []string{"dataset.a"}, Values: with("dataset", "b", "sampling", 0.3, "tags", []string{"service"},
					"columns", []reconciler.Values{{"blobs": []string{"service", "route"}}})},
			},
		},
		{
			name: "a -var list",
			src: `variable "blobs" {
  type = list(string)
}
dataset "a" {
  dataset = "a"
  columns {
    blobs = var.blobs
  }
}`,
			opts: Options{Vars: map[string]string{"blobs": `["a", "b"]`}},
			want: []Block{{Kind: "dataset", Name: "a", Values: with("dataset", "a", "columns", []reconciler.Values{{"blobs": []string{"a", "b"}}})}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Kinds = datasetOpts().Kinds
			cfg, diags := LoadFiles(map[string][]byte{"main.flareops.hcl": []byte(tt.src)}, opts)
			if diags.HasErrors() {
				t.Fatalf("LoadFiles: %s", renderDiags(t, cfg, diags))
			}
			if d := cmp.Diff(tt.want, cfg.Blocks, ignoreRange); d != "" {
				t.Errorf("blocks (-want +got):\n%s", d)
			}
			for _, b := range cfg.Blocks {
				checkNoNilLists(t, b.Address(), b.Values)
			}
		})
	}
}

// checkNoNilLists: a StringList that is present is never nil.
func checkNoNilLists(t *testing.T, at string, v reconciler.Values) {
	t.Helper()
	for k, x := range v {
		switch x := x.(type) {
		case []string:
			if x == nil {
				t.Errorf("%s.%s is a nil list", at, k)
			}
		case []reconciler.Values:
			for i, e := range x {
				checkNoNilLists(t, fmt.Sprintf("%s.%s.%d", at, k, i), e)
			}
		}
	}
}

// TestLoadListAndFloatErrors checks where each problem of a list or a number is reported
// (the element itself when the list is written in brackets) and in which words.
func TestLoadListAndFloatErrors(t *testing.T) {
	block := func(attrs string) string {
		return "dataset \"a\" {\n  dataset = \"a\"\n  columns {\n" + attrs + "\n  }\n}\n"
	}
	tests := []struct {
		name   string
		src    string
		want   []string // "Summary @ line:col"
		substr string   // a part of the first detail
	}{
		{
			name:   "wrong element type",
			src:    block(`    blobs = ["service", ["route"]]`),
			want:   []string{"Incorrect attribute value type @ 4:25"},
			substr: `blobs[1] must be a string; got tuple. Write each element as text in quotes, e.g. blobs = ["..."].`,
		},
		{
			name:   "null element",
			src:    block(`    blobs = ["service", null]`),
			want:   []string{"Incorrect attribute value type @ 4:25"},
			substr: "blobs[1] must be a string; got null.",
		},
		{
			name:   "a string for a list",
			src:    block(`    blobs = "service, route"`),
			want:   []string{"Incorrect attribute value type @ 4:13"},
			substr: `blobs must be a list of strings; got string "service, route". Write the strings in brackets: blobs = ["service", "route"].`,
		},
		{
			name:   "a number for a list",
			src:    block(`    blobs = 3`),
			want:   []string{"Incorrect attribute value type @ 4:13"},
			substr: `blobs must be a list of strings; got number 3. Write the strings in brackets, e.g. blobs = ["..."].`,
		},
		{
			name:   "too many",
			src:    block(`    blobs = ["a", "b", "c", "d"]`),
			want:   []string{"Too many elements @ 4:13"},
			substr: "blobs must have at most 3 elements; got 4.",
		},
		{
			name:   "duplicate, reported at the second",
			src:    block(`    blobs = ["a", "b", "a"]`),
			want:   []string{"Duplicate element @ 4:24"},
			substr: `blobs[0] and blobs[2] are both "a": each element must be different. Remove one of them.`,
		},
		{
			name:   "pattern, at each element",
			src:    block(`    blobs = ["Service", "route", "Outcome"]`),
			want:   []string{"Invalid value @ 4:14", "Invalid value @ 4:34"},
			substr: "blobs[0] must be lowercase letters, digits and `_`, starting with a letter; got \"Service\".",
		},
		{
			name:   "element too long",
			src:    block(`    blobs = ["a_very_long_column_name"]`),
			want:   []string{"Invalid value @ 4:14"},
			substr: "blobs[0] must be at most 16 characters; got 23 characters.",
		},
		{
			name:   "enum element with a suggestion",
			src:    "dataset \"a\" {\n  dataset  = \"a\"\n  outcomes = [\"ok\", \"eror\"]\n}\n",
			want:   []string{"Invalid value @ 3:21"},
			substr: `outcomes[1] must be one of "ok", "error"; got "eror". Did you mean "error"?`,
		},
		{
			name:   "too many from a variable, at the reference",
			src:    "variable \"cols\" {\n  default = [\"a\", \"b\", \"c\", \"d\"]\n}\n" + block(`    blobs = var.cols`),
			want:   []string{"Too many elements @ 7:13"},
			substr: "blobs must have at most 3 elements; got 4.",
		},
		{
			name:   "duplicate from a local, at the reference",
			src:    "locals {\n  cols = [\"a\", \"a\"]\n}\n" + block(`    blobs = local.cols`),
			want:   []string{"Duplicate element @ 7:13"},
			substr: `blobs[0] and blobs[1] are both "a"`,
		},
		{
			name:   "a sensitive list is not shown",
			src:    "variable \"cols\" {\n  default   = [\"hunter2\", \"hunter2\"]\n  sensitive = true\n}\n" + block(`    blobs = var.cols`),
			want:   []string{"Invalid value @ 8:13"},
			substr: "blobs must be at most 3 elements, each lowercase letters, digits and `_`, starting with a letter, all different; the value (sensitive, not shown) is not.",
		},
		{
			name:   "float out of range",
			src:    "dataset \"a\" {\n  dataset  = \"a\"\n  sampling = 1.5\n}\n",
			want:   []string{"Value out of range @ 3:14"},
			substr: "sampling must be between 0 and 1; got 1.5.",
		},
		{
			name:   "float below range",
			src:    "dataset \"a\" {\n  dataset  = \"a\"\n  sampling = -0.01\n}\n",
			want:   []string{"Value out of range @ 3:14"},
			substr: "sampling must be between 0 and 1; got -0.01.",
		},
		{
			name:   "float from a variable",
			src:    "variable \"rate\" {\n  default = 2\n}\ndataset \"a\" {\n  dataset  = \"a\"\n  sampling = var.rate\n}\n",
			want:   []string{"Value out of range @ 6:14"},
			substr: "sampling must be between 0 and 1; got 2.",
		},
		{
			name:   "float of the wrong type",
			src:    "dataset \"a\" {\n  dataset  = \"a\"\n  sampling = \"high\"\n}\n",
			want:   []string{"Incorrect attribute value type @ 3:14"},
			substr: `sampling must be a number; got string "high". Write a number without quotes, e.g. sampling = 0.5.`,
		},
		{
			name:   "a float written as a percentage",
			src:    "dataset \"a\" {\n  dataset = \"a\"\n  weight  = \"99.9%\"\n}\n",
			want:   []string{"Incorrect attribute value type @ 3:13"},
			substr: `weight must be a number; got string "99.9%". Write a number without quotes, e.g. weight = 99.9.`,
		},
		{
			name:   "a percentage for a fraction",
			src:    "dataset \"a\" {\n  dataset  = \"a\"\n  sampling = \"25 %\"\n}\n",
			want:   []string{"Incorrect attribute value type @ 3:14"},
			substr: `Write a number without quotes, e.g. sampling = 0.25.`,
		},
		{
			name:   "a list for a float",
			src:    "dataset \"a\" {\n  dataset = \"a\"\n  weight  = [1]\n}\n",
			want:   []string{"Incorrect attribute value type @ 3:13"},
			substr: "weight must be a number; got tuple.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := LoadFiles(map[string][]byte{"main.flareops.hcl": []byte(tt.src)}, datasetOpts())
			var got []string
			for _, d := range diags {
				loc := "(no subject)"
				if d.Subject != nil {
					loc = fmt.Sprintf("%d:%d", d.Subject.Start.Line, d.Subject.Start.Column)
				}
				got = append(got, d.Summary+" @ "+loc)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("diagnostics (-want +got):\n%s\n%s", d, renderDiags(t, cfg, diags))
			}
			if tt.substr != "" && (len(diags) == 0 || !strings.Contains(diags[0].Detail, tt.substr)) {
				t.Errorf("first detail does not contain %q:\n%s", tt.substr, renderDiags(t, cfg, diags))
			}
			if strings.Contains(renderDiags(t, cfg, diags), "hunter2\"") {
				t.Errorf("a sensitive value is shown:\n%s", renderDiags(t, cfg, diags))
			}
		})
	}
}

// TestFloatExampleHasNoFloatNoise: the example of a bounded Float, the middle of its
// range, is written as a person would.
func TestFloatExampleHasNoFloatNoise(t *testing.T) {
	a := reconciler.Attr{Name: "objective", Type: reconciler.Float, FloatBounded: true, FloatMin: 0.001, FloatMax: 99.999}
	if got := floatExample(a); got != "50" {
		t.Errorf("floatExample = %s, want 50", got)
	}
}

// TestListAndFloatSchemaChecks: list and range settings on the wrong type, or defaults
// that break their own rules, are bugs in a kind, refused before anything is loaded.
func TestListAndFloatSchemaChecks(t *testing.T) {
	bad := []reconciler.Attr{
		{Name: "a", Type: reconciler.String, MaxItems: 2},
		{Name: "b", Type: reconciler.Int, Unique: true},
		{Name: "c", Type: reconciler.Int, FloatBounded: true, FloatMax: 1},
		{Name: "d", Type: reconciler.Float, FloatBounded: true, FloatMin: 2, FloatMax: 1},
		{Name: "e", Type: reconciler.StringList, Default: "x"},
		{Name: "f", Type: reconciler.StringList, Unique: true, Default: []string{"x", "x"}},
		{Name: "g", Type: reconciler.Float, FloatBounded: true, FloatMax: 1, Default: 2},
		{Name: "h", Type: reconciler.Float, Default: "0.5"},
	}
	for _, a := range bad {
		k := KindSchema{Name: "k", Schema: reconciler.BlockSchema{Attrs: []reconciler.Attr{a}}}
		_, diags := LoadFiles(map[string][]byte{"main.flareops.hcl": []byte("")}, Options{Kinds: []KindSchema{k}})
		if len(diags) != 1 || diags[0].Summary != "Invalid kind schema" || !strings.Contains(diags[0].Detail, fmt.Sprintf("%q", a.Name)) {
			t.Errorf("attribute %+v: diags = %v, want one Invalid kind schema naming it", a, diags)
		}
	}
	if _, diags := LoadFiles(map[string][]byte{"main.flareops.hcl": []byte("")}, datasetOpts()); diags.HasErrors() {
		t.Errorf("the dataset schema is refused: %v", diags)
	}
}

// TestHashOfListsAndFloats: the hash covers list and float values.
func TestHashOfListsAndFloats(t *testing.T) {
	hash := func(src string) string {
		cfg, diags := LoadFiles(map[string][]byte{"main.flareops.hcl": []byte(src)}, datasetOpts())
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		return cfg.Hash
	}
	base := hash("dataset \"a\" {\n  dataset = \"a\"\n  tags = [\"x\", \"y\"]\n  sampling = 0.1\n}\n")
	for _, src := range []string{
		"dataset \"a\" {\n  dataset = \"a\"\n  tags = [\"y\", \"x\"]\n  sampling = 0.1\n}\n",
		"dataset \"a\" {\n  dataset = \"a\"\n  tags = [\"x\", \"y\"]\n  sampling = 0.2\n}\n",
	} {
		if hash(src) == base {
			t.Errorf("%s hashes like the base", src)
		}
	}
}
