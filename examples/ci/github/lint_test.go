// Package github holds the GitHub Actions workflows of flareops's CI examples; its test
// lints every one of them with actionlint.
package github

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"

	"github.com/monotask/flareops/reconciler/cli"
)

// Every workflow in this directory passes actionlint (github.com/rhysd/actionlint, as a
// library: no program to install). actionlint also runs shellcheck on run: scripts and
// pyflakes on Python ones when those programs are installed; when one is not, that part
// is skipped and the test says so in its log (go test -v), so a machine without
// shellcheck still checks syntax, expressions, contexts, action inputs and the rest.
// .ci/run installs shellcheck and sets FLAREOPS_REQUIRE_SHELLCHECK=1, so that in CI a
// missing shellcheck fails the test instead.
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
		} else if name == "shellcheck" && os.Getenv("FLAREOPS_REQUIRE_SHELLCHECK") == "1" {
			t.Fatalf("shellcheck is not installed and FLAREOPS_REQUIRE_SHELLCHECK=1 (CI installs it: apt-get install shellcheck)")
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

// Every flareops command line in the workflows names a command and flags that exist: each
// is run with -h appended, which prints the help (exit 0) only when every flag before it
// parses. A renamed flag breaks this test, not a user's CI.
func TestWorkflowsUseRealFlags(t *testing.T) {
	files, err := filepath.Glob("*.y*ml")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "run:"))
			if !strings.HasPrefix(line, "flareops ") {
				continue
			}
			seen++
			// The command line up to its redirections, variables as a placeholder.
			cmd := redirection.Split(line, 2)[0]
			cmd = shellVar.ReplaceAllString(cmd, "x")
			args := strings.Fields(strings.NewReplacer(`"`, "", `'`, "").Replace(cmd))[1:]
			var out, errOut bytes.Buffer
			io := cli.IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }, Environ: func() []string { return nil }}
			if code := cli.Main(append(args, "-h"), io); code != 0 || !strings.Contains(out.String(), "Usage: flareops "+args[0]) {
				t.Errorf("%s:%d: flareops %s: exit %d\n%s", f, i+1, strings.Join(args, " "), code, errOut.String())
			}
		}
	}
	if seen < 4 {
		t.Errorf("found %d flareops command lines, want at least fmt, validate, plan and drift", seen)
	}
}

var (
	redirection = regexp.MustCompile(`\s[0-9]?>`)
	shellVar    = regexp.MustCompile(`\$\{?[A-Za-z_][A-Za-z0-9_]*\}?`)
)
