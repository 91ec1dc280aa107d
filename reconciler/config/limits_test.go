package config

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

// deepLevels is how deep the inputs that used to overflow the parser's stack nest.
const deepLevels = 100000

// deepInputs are sources nested (or chained) deepLevels deep in every way the HCL parser
// recurses, with the diagnostic each must get and where: before the limits, each of them
// crashed the process with a stack overflow.
func deepInputs() []struct {
	name, src, summary, at string
} {
	n := deepLevels
	local := func(expr string) string { return "locals {\n  a = " + expr + "\n}\n" }
	deep := "Expression nested too deeply"
	long := "Expression too long"
	return []struct{ name, src, summary, at string }{
		{"parentheses", local(strings.Repeat("(", n) + "1" + strings.Repeat(")", n)), deep, "2:70"},
		{"brackets", local(strings.Repeat("[", n) + strings.Repeat("]", n)), deep, "2:70"},
		{"object braces", local(strings.Repeat("{a=", n) + "1" + strings.Repeat("}", n)), deep, "2:196"},
		{"blocks", strings.Repeat("a {\n", n), deep, "65:3"},
		{"string interpolations", local(strings.Repeat(`"${`, n) + "1" + strings.Repeat(`}"`, n)), deep, "2:101"},
		{"template directives", local(`"` + strings.Repeat("%{if a}", n)), deep, "2:435"},
		{"heredocs", local(strings.Repeat("<<EOT\n${", n)), deep, "34:1"},
		{"unary minus", local(strings.Repeat("-", n) + "1"), deep, "2:70"},
		{"unary not", local(strings.Repeat("!", n) + "true"), deep, "2:70"},
		{"conditionals", local(strings.Repeat("a?", n) + "1" + strings.Repeat(":2", n)), deep, "2:134"},
		{"function calls", local(strings.Repeat("max(", n) + "1" + strings.Repeat(")", n)), deep, "2:262"},
		{"binary operators", local("1" + strings.Repeat(" + 1", n)), long, "2:1029"},
		{"index operators", local("[1]" + strings.Repeat("[0]", n)), long, "2:772"},
		{"attribute access", local("(local.x)" + strings.Repeat(".a", n)), long, "2:526"},
	}
}

// noDeepStack makes a stack overflow, should one still happen, fail at 64 MiB rather
// than after using a gigabyte; the loader needs a few hundred kilobytes at most.
func noDeepStack(t testing.TB) {
	old := debug.SetMaxStack(64 << 20)
	t.Cleanup(func() { debug.SetMaxStack(old) })
}

func TestLoadRefusesDeepNesting(t *testing.T) {
	noDeepStack(t)
	for _, tt := range deepInputs() {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "main.flareops.hcl")
			if err := os.WriteFile(path, []byte(tt.src), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, diags := Load(dir, queueOpts())
			if got := summaries(diags); !cmp.Equal(got, []string{tt.summary + " @ " + path + ":" + tt.at}) {
				t.Fatalf("diagnostics: %q, want %s @ %s:%s\n%s", got, tt.summary, path, tt.at, renderDiags(t, cfg, diags))
			}
			// The rendering shows the place without copying a 100,000-character line.
			out := renderDiags(t, cfg, diags)
			if len(out) > 2000 {
				t.Errorf("the diagnostic is %d bytes long:\n%.2000s", len(out), out)
			}
		})
	}
}

// The same limits hold for every source the loader parses: -var values, -var-file files,
// FLAREOPS_VAR_ variables, and for fmt.
func TestLimitsHoldForEverySource(t *testing.T) {
	noDeepStack(t)
	deep := strings.Repeat("[", deepLevels) + strings.Repeat("]", deepLevels)
	decl := []byte("variable \"x\" {\n  type = any\n  default = null\n}\nvariable \"n\" {\n  type = number\n  default = 1\n}\n")
	dir := t.TempDir()
	varFile := filepath.Join(dir, "deep.tfvars")
	if err := os.WriteFile(varFile, []byte("n = "+deep+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"-var", Options{Vars: map[string]string{"n": deep}}, "Expression nested too deeply @ <-var n>:1:67"},
		{"environment", Options{Env: []string{EnvPrefix + "n=" + deep}}, "Expression nested too deeply @ <env " + EnvPrefix + "n>:1:"},
		{"-var-file", Options{VarFiles: []string{varFile}}, "Expression nested too deeply @ " + varFile + ":1:69"},
		{"file size", Options{VarFiles: []string{writeBig(t, dir)}}, "File too large @ " + filepath.Join(dir, "big.tfvars") + ":4097:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Kinds = queueOpts().Kinds
			cfg, diags := LoadFiles(map[string][]byte{"main.flareops.hcl": decl}, opts)
			got := summaries(diags)
			if len(got) != 1 || !strings.HasPrefix(got[0], tt.want) {
				t.Fatalf("diagnostics: %q, want one starting %q\n%s", got, tt.want, renderDiags(t, cfg, diags))
			}
		})
	}
	t.Run("fmt", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte("a = "+deep+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := FormatDir(dir, true, &strings.Builder{})
		se, ok := err.(*SyntaxError)
		if !ok || len(se.Diags) != 1 || se.Diags[0].Summary != "Expression nested too deeply" {
			t.Fatalf("FormatDir: %v", err)
		}
	})
}

// writeBig writes a variables file one byte over MaxFileSize, of 256-byte lines.
func writeBig(t *testing.T, dir string) string {
	t.Helper()
	line := "# " + strings.Repeat("x", 253) + "\n"
	src := strings.Repeat(line, MaxFileSize/len(line)) + "\n"
	path := filepath.Join(dir, "big.tfvars")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Nesting and chains that real configurations use, and look-alikes inside strings,
// comments and heredocs, stay within the limits.
func TestLimitsAcceptRealConfigurations(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("(", n) + "1" + strings.Repeat(")", n) }
	tests := map[string]string{
		"60 parentheses":          "locals {\n  a = " + deep(60) + "\n}\n",
		"brackets in a string":    "locals {\n  a = \"" + strings.Repeat("([{", 1000) + "\"\n}\n",
		"escaped quotes":          "locals {\n  a = \"\\\"" + strings.Repeat("(", 1000) + "\\\"\"\n}\n",
		"escaped interpolations":  "locals {\n  a = \"" + strings.Repeat("$${%%{", 1000) + "\"\n}\n",
		"brackets in comments":    "# " + strings.Repeat("(", 1000) + "\n// " + strings.Repeat("[", 1000) + "\n/* " + strings.Repeat("{", 1000) + " */\n",
		"brackets in a heredoc":   "locals {\n  a = <<-EOT\n    " + strings.Repeat("(", 1000) + "\n    EOT\n  b = " + deep(60) + "\n}\n",
		"many conditionals":       "locals {\n" + strings.Repeat("  a = true ? 1 : 2\n", 1000) + "}\n",
		"many items":              "locals {\n  a = [" + strings.Repeat("x.y.z == 1 ? -1 : 2, ", 1000) + "]\n}\n",
		"many object items":       "locals {\n  a = {\n" + strings.Repeat("    b = c.d.e + 1\n", 1000) + "  }\n}\n",
		"directives that close":   "locals {\n  a = \"" + strings.Repeat("%{ if true }x%{ endif }", 1000) + "\"\n}\n",
		"many interpolations":     "locals {\n  a = \"" + strings.Repeat("${local.b}-", 1000) + "\"\n}\n",
		"nested blocks and lists": "queue \"a\" {\n  consumer {\n    x = [[[{ a = [(1)] }]]]\n  }\n}\n",
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			if d := checkLimits([]byte(src), "x.hcl", hcl.InitialPos); d != nil {
				t.Errorf("refused: %s", d.Error())
			}
		})
	}
	examples, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*", "*.flareops.hcl"))
	testdata, _ := filepath.Glob(filepath.Join("testdata", "design_example", "*.hcl"))
	for _, path := range append(examples, testdata...) {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if d := checkLimits(src, path, hcl.InitialPos); d != nil {
			t.Errorf("%s refused: %s", path, d.Error())
		}
	}
	if len(examples) == 0 {
		t.Error("no examples found")
	}
}

// The limits are exact: MaxNesting levels pass and one more does not, at the place it opens.
func TestLimitsAreExact(t *testing.T) {
	tests := []struct {
		name, src string
		want      int // withinLimits, tooDeep or tooLong
		at        int // byte offset, when not within limits
	}{
		{"at the nesting limit", strings.Repeat("(", MaxNesting), withinLimits, 0},
		{"one over the nesting limit", strings.Repeat("(", MaxNesting+1), tooDeep, MaxNesting},
		{"closed levels are gone", strings.Repeat("()", 1000) + strings.Repeat("[", MaxNesting), withinLimits, 0},
		{"a stray closer counts nothing", strings.Repeat(")", 1000) + strings.Repeat("[", MaxNesting+1), tooDeep, 1000 + MaxNesting},
		{"at the chain limit", "a = 1" + strings.Repeat("+1", MaxChain-1), withinLimits, 0},
		{"one over the chain limit", "a = 1" + strings.Repeat("+1", MaxChain), tooLong, 5 + 2*(MaxChain-1)},
		{"a newline ends the chain", strings.Repeat("a = 1"+strings.Repeat("+1", MaxChain-1)+"\n", 10), withinLimits, 0},
		{"an unterminated block comment is no comment", "/*" + strings.Repeat("(", MaxNesting+1), tooDeep, 2 + MaxNesting},
		{"a string left open is a string to the end", "a = \"" + strings.Repeat("(", 1000), withinLimits, 0},
		{"a heredoc left open is a heredoc to the end", "a = <<EOT\n" + strings.Repeat("(", 1000), withinLimits, 0},
		{"a heredoc without newline is no heredoc", "a = <<EOT " + strings.Repeat("(", MaxNesting+1), tooDeep, 10 + MaxNesting},
		{"an escaped newline ends nothing", "a = \"\\\n" + strings.Repeat("(", 1000) + "\"", withinLimits, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, got := scanNesting([]byte(tt.src))
			if got != tt.want || (got != withinLimits && at != tt.at) {
				t.Errorf("scanNesting = %d at %d, want %d at %d", got, at, tt.want, tt.at)
			}
		})
	}
}

// summaries renders diagnostics as "Summary @ file:line:col".
func summaries(diags hcl.Diagnostics) []string {
	var out []string
	for _, d := range diags {
		loc := "(no subject)"
		if d.Subject != nil {
			loc = fmt.Sprintf("%s:%d:%d", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		out = append(out, d.Summary+" @ "+loc)
	}
	return out
}

// Locals that each double the one before would grow a value exponentially from a file of a
// few hundred bytes (60 levels exhaust any memory: a fatal "out of memory", no diagnostic).
// The local that passes MaxValueSize is refused where it is declared.
func TestLocalsGrowingExponentiallyAreRefused(t *testing.T) {
	var b strings.Builder
	b.WriteString("locals {\n  a0 = \"xxxxxxxxxxxxxxxx\"\n")
	for i := 1; i <= 60; i++ {
		fmt.Fprintf(&b, "  a%d = \"${local.a%d}${local.a%d}\"\n", i, i-1, i-1)
	}
	b.WriteString("}\n")
	_, diags := LoadFiles(map[string][]byte{"main.flareops.hcl": []byte(b.String())}, queueOpts())
	if !diags.HasErrors() {
		t.Fatal("60 locals, each twice the one before, were accepted")
	}
	d := diags[0]
	// 16 bytes doubled 16 times is 1 MiB, the limit; the 17th doubling passes it.
	if d.Summary != "Local value too large" || !strings.Contains(d.Detail, "local.a17 ") || d.Subject == nil || d.Subject.Start.Line != 19 {
		t.Errorf("got %s: %s at %v; want local.a17 (line 19) refused as too large", d.Summary, d.Detail, d.Subject)
	}
	// A list of lists grows the same way.
	b.Reset()
	b.WriteString("locals {\n  l0 = [\"x\", \"y\"]\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, "  l%d = [for a in local.l%d : [for b in local.l%d : [a, b]]]\n", i, i-1, i-1)
	}
	b.WriteString("}\n")
	_, diags = LoadFiles(map[string][]byte{"main.flareops.hcl": []byte(b.String())}, queueOpts())
	if !diags.HasErrors() || diags[0].Summary != "Local value too large" {
		t.Errorf("nested lists growing each local: %v", diags)
	}
}
