package config

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/diags")

// goldenOptions are the options of the golden cases that need more than the queue kind.
var goldenOptions = map[string]Options{
	"unknown_var":  {Vars: map[string]string{"enw": "prod"}},
	"list_element": datasetOpts(),
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
			if opts.Kinds == nil {
				opts.Kinds = queueOpts().Kinds
			}
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

// A binary file's bytes reach diagnostics through the source line and through messages;
// none of them may reach the terminal as a control character.
func TestWriteDiagnosticsEscapesControlCharacters(t *testing.T) {
	src := []byte("queue \"a\" {\n  name = \"a\"\n  \x1b[2J\x00x\u202e = 1\n}\n")
	files := map[string]*hcl.File{"x\x1b.hcl": {Bytes: src}}
	subject := &hcl.Range{Filename: "x\x1b.hcl", Start: hcl.Pos{Line: 3, Column: 3, Byte: 27}, End: hcl.Pos{Line: 3, Column: 4, Byte: 28}}
	diags := hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Bad \x1b]0;title\x07 byte",
		Detail:   "Line one \x00\u009b.\nLine two\tends \xff here.",
		Subject:  subject,
	}}
	var b bytes.Buffer
	if err := WriteDiagnostics(&b, files, diags, false); err != nil {
		t.Fatal(err)
	}
	want := "Error: Bad \\x1b]0;title\\x07 byte\n\n" +
		"  on x\\x1b.hcl:3:3:\n" +
		"   3:   \\x1b[2J\\x00x\\u202e = 1\n" +
		"        ^^^^\n\n" +
		"Line one \\x00\\u009b.\nLine two\tends \\xff here.\n\n"
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// Whatever a file holds, the rendered diagnostics hold no control character but newline
// and tab, and are valid UTF-8.
func TestDiagnosticsOfABinaryFileArePrintable(t *testing.T) {
	var src []byte
	for i := 0; i < 4096; i++ {
		src = append(src, byte(i*7+i/256))
	}
	src = append(src, "\nqueue \"a\" {\n  name = \"\x1b[31m\x00\u202e\"\n  \x1b = 1\n}\n"...)
	cfg, diags := LoadFiles(map[string][]byte{"bin\x1b[0m.flareops.hcl": src}, queueOpts())
	if !diags.HasErrors() {
		t.Fatal("a binary file loads without errors")
	}
	out := renderDiags(t, cfg, diags)
	if !utf8.ValidString(out) {
		t.Errorf("output is not UTF-8")
	}
	for _, r := range out {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == '\u202e' {
			t.Fatalf("output holds %U:\n%q", r, out)
		}
	}
}

func TestSnippetWindow(t *testing.T) {
	long := strings.Repeat("a", 200)
	tests := []struct {
		name                  string
		before, marked, after string
		want                  [3]string
	}{
		{"short lines are kept", "x = ", "y", " + 1", [3]string{"x = ", "y", " + 1"}},
		{"long before", long, "M", "z", [3]string{"…" + strings.Repeat("a", 117), "M", "z"}},
		{"long after", "x", "M", long, [3]string{"x", "M", strings.Repeat("a", 117) + "…"}},
		{"both long", long, "M", long, [3]string{"…" + strings.Repeat("a", 58), "M", strings.Repeat("a", 59) + "…"}},
		{"long mark", "", long, "", [3]string{"", strings.Repeat("a", 59) + "…", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, m, a := snippetWindow(tt.before, tt.marked, tt.after)
			if d := cmp.Diff(tt.want, [3]string{b, m, a}); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if n := utf8.RuneCountInString(b + m + a); n > snippetWidth {
				t.Errorf("%d characters, want at most %d", n, snippetWidth)
			}
		})
	}
}
