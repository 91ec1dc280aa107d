package config

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/diags")

// goldenOptions are the options of the golden cases that need more than the queue kind.
var goldenOptions = map[string]Options{
	"unknown_var": {Vars: map[string]string{"enw": "prod"}},
}

var locationPattern = regexp.MustCompile(`(?m)^  on .+:\d+:\d+[,:]`)

// TestDiagnosticsGolden loads each testdata/diags/<case>.hcl and compares the rendered
// diagnostics with <case>.golden. Refresh with: go test ./reconciler/config/ -update
func TestDiagnosticsGolden(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join("testdata", "diags", "*.hcl"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, path := range cases {
		name := strings.TrimSuffix(filepath.Base(path), ".hcl")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			opts := goldenOptions[name]
			opts.Kinds = queueOpts().Kinds
			cfg, diags := LoadFiles(map[string][]byte{filepath.Base(path): src}, opts)
			if !diags.HasErrors() {
				t.Fatalf("%s loads without errors", path)
			}
			var got bytes.Buffer
			if err := WriteDiagnostics(&got, cfg.Files, diags, false); err != nil {
				t.Fatal(err)
			}
			if n := len(locationPattern.FindAll(got.Bytes(), -1)); n != len(diags) {
				t.Errorf("%d of %d diagnostics show file:line:col:\n%s", n, len(diags), got.String())
			}
			golden := strings.TrimSuffix(path, ".hcl") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if d := cmp.Diff(string(want), got.String()); d != "" {
				t.Errorf("%s (-want +got):\n%s", golden, d)
			}
		})
	}
}

func TestWriteDiagnostics(t *testing.T) {
	src := []byte("queue \"a\" {\n\tname = \"a\"\n}\n")
	files := map[string]*hcl.File{"x.hcl": {Bytes: src}}
	rng := func(line, col, byteOff, n int) *hcl.Range {
		return &hcl.Range{Filename: "x.hcl",
			Start: hcl.Pos{Line: line, Column: col, Byte: byteOff},
			End:   hcl.Pos{Line: line, Column: col + n, Byte: byteOff + n}}
	}
	tests := []struct {
		name  string
		diag  *hcl.Diagnostic
		color bool
		want  string
	}{
		{
			name: "no subject",
			diag: &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Broken", Detail: "Fix it."},
			want: "Error: Broken\n\nFix it.\n\n",
		},
		{
			name: "tab before the subject",
			diag: &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Odd", Detail: "Look.", Subject: rng(2, 9, 20, 3)},
			want: "Warning: Odd\n\n  on x.hcl:2:9:\n   2: \tname = \"a\"\n      \t       ^^^\n\nLook.\n\n",
		},
		{
			name:  "color",
			diag:  &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Bad", Subject: rng(1, 1, 0, 5)},
			color: true,
			want:  "\x1b[31mError\x1b[0m: Bad\n\n  on x.hcl:1:1:\n   1: \x1b[1;4mqueue\x1b[0m \"a\" {\n      ^^^^^\n\n",
		},
		{
			name: "a point at the end of a line",
			diag: &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing", Subject: rng(1, 12, 11, 0)},
			want: "Error: Missing\n\n  on x.hcl:1:12:\n   1: queue \"a\" {\n                 ^\n\n",
		},
		{
			name: "file not available",
			diag: &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Gone", Subject: &hcl.Range{Filename: "y.hcl", Start: hcl.Pos{Line: 3, Column: 2}}},
			want: "Error: Gone\n\n  on y.hcl:3:2:\n  (source code not available)\n\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteDiagnostics(&b, files, hcl.Diagnostics{tt.diag}, tt.color); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, b.String()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
