package config

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// FuzzLoad checks that no input makes the loader panic (a recovered panic becomes an
// "Internal error" diagnostic, which fails here too), that every error diagnostic has a
// summary and can be rendered, and that an input without errors yields a hash.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "diags", "*.hcl"))
	seeds = append(seeds, filepath.Join("testdata", "design_example", "main.flareops.hcl"))
	for _, path := range seeds {
		src, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src, "")
	}
	f.Add([]byte(`locals {
  a = { x = [1, 2], y = "${var.v}" }
  b = local.a.x[0] + 1
}
variable "v" {
  type = object({ n = optional(number, 2) })
  default = {}
}
queue "q" {
  name = "q-${local.b}-${var.v.n}"
  paused = true
  consumer {
    type = "http_pull"
    retry_delay = "1h30m"
    dead_letter_queue = "other"
  }
}`), "v={n=3}")
	f.Add([]byte("queue \"a\" {\n  name = queue.a[\"b\"]\n}\n"), "x")
	f.Add([]byte("variable \"x\" { type = list(number) }\n"), "[1, \"a\"]")
	// Input nested 100,000 deep in each way the parser recurses (it used to overflow the
	// stack), and the same just past the limits, where mutations stay small.
	for _, in := range deepInputs() {
		f.Add([]byte(in.src), "")
	}
	f.Add([]byte("locals {\n  a = "+strings.Repeat("(", MaxNesting)+"1"+strings.Repeat(")", MaxNesting)+"\n}\n"), "")
	f.Add([]byte("locals {\n  a = <<EOT\n${\"${[{a = !-1 ? 2 : 3}]}\"}\nEOT\n}\n"), strings.Repeat("[", MaxNesting+1))

	opts := queueOpts()
	opts.Kinds = append(opts.Kinds, datasetKind()) // lists and fractional numbers
	noDeepStack(f)
	f.Fuzz(func(t *testing.T, src []byte, rawVar string) {
		o := opts
		if rawVar != "" {
			o.Vars = map[string]string{"v": rawVar, "x": rawVar}
			o.Env = []string{EnvPrefix + "v=" + rawVar}
		}
		// The fuzzer has no time limit per input; a slow input is a failure of its own.
		type result struct {
			cfg   *Config
			diags hcl.Diagnostics
		}
		done := make(chan result, 1)
		go func() {
			cfg, diags := LoadFiles(map[string][]byte{"fuzz.flareops.hcl": src}, o)
			_ = Format(src)
			done <- result{cfg, diags}
		}()
		var r result
		select {
		case r = <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("loading took more than 5s:\n%q\nvar: %q", src, rawVar)
		}
		cfg, diags := r.cfg, r.diags
		if cfg == nil || cfg.Files == nil {
			t.Fatal("no Config")
		}
		for _, d := range diags {
			if d.Summary == internalErrorSummary {
				t.Fatalf("loader panicked: %s", d.Detail)
			}
			if d.Summary == "" {
				t.Fatalf("diagnostic without summary: %#v", d)
			}
		}
		if err := WriteDiagnostics(io.Discard, cfg.Files, diags, false); err != nil {
			t.Fatal(err)
		}
		if !diags.HasErrors() && cfg.Hash == "" {
			t.Fatal("a valid configuration has no hash")
		}
	})
}
