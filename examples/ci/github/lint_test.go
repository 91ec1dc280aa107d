// Package github holds the GitHub Actions workflows of flareops's CI examples; its test
// lints every one of them with actionlint.
package github

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rhysd/actionlint"
)

// Every workflow in this directory passes actionlint (github.com/rhysd/actionlint, as a
// library: no program to install). actionlint also runs shellcheck on run: scripts and
// pyflakes on Python ones when those programs are installed; when one is not, that part
// is skipped and the test says so in its log (go test -v), so a machine without
// shellcheck still checks syntax, expressions, contexts, action inputs and the rest.
func TestWorkflowsPassActionlint(t *testing.T) {
	var files []string
	for _, pattern := range []string{"*.yml", "*.yaml"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 2 {
		t.Fatalf("found %d workflows, want at least the pull-request and drift ones", len(files))
	}
	opts := &actionlint.LinterOptions{}
	for name, set := range map[string]*string{"shellcheck": &opts.Shellcheck, "pyflakes": &opts.Pyflakes} {
		if path, err := exec.LookPath(name); err == nil {
			*set = path
		} else {
			t.Logf("%s is not installed: actionlint does not run it on the workflows' scripts", name)
		}
	}
	var out bytes.Buffer
	l, err := actionlint.NewLinter(&out, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out.Reset()
			errs, err := l.Lint(f, src, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(errs) > 0 {
				t.Errorf("actionlint: %d problem(s):\n%s", len(errs), out.String())
			}
		})
	}
}
