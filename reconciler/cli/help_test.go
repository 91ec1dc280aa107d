package cli

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/")

// The command line as people use it: help on stdout with exit 0 when asked for, on stderr
// with exit 1 when the command line was wrong.
func TestHelpVersionAndUnknownCommands(t *testing.T) {
	cases := []struct {
		name       string
		args       []string
		code       int
		stdout     []string // each must appear
		stderr     []string // each must appear; none means stderr must be empty
		noStdout   bool
		notInStdio []string // must appear in neither stream
	}{
		{name: "no arguments", args: nil, code: 1, stderr: []string{"Usage: flareops <command>", "Commands:"}, noStdout: true},
		{name: "-h", args: []string{"-h"}, code: 0, stdout: []string{"Usage: flareops <command>", "  plan "}},
		{name: "-help", args: []string{"-help"}, code: 0, stdout: []string{"Commands:"}},
		{name: "--help", args: []string{"--help"}, code: 0, stdout: []string{"Commands:"}},
		{name: "help", args: []string{"help"}, code: 0, stdout: []string{"Commands:", "  backup ", "  slo ", "  alerts "}, notInStdio: []string{"Coming with their kinds"}},
		{name: "help -h", args: []string{"help", "-h"}, code: 0, stdout: []string{"Usage: flareops help [COMMAND"}},
		{name: "help help", args: []string{"help", "help"}, code: 0, stdout: []string{"Usage: flareops help [COMMAND"}},

		{name: "plan -h", args: []string{"plan", "-h"}, code: 0, stdout: []string{"Usage: flareops plan [flags]\n", "-detailed-exitcode", "-out FILE"}},
		{name: "plan -help", args: []string{"plan", "-help"}, code: 0, stdout: []string{"Usage: flareops plan [flags]\n"}},
		{name: "plan --help", args: []string{"plan", "--help"}, code: 0, stdout: []string{"Usage: flareops plan [flags]\n"}},
		{name: "flags before -h", args: []string{"plan", "-dir", "x", "-h"}, code: 0, stdout: []string{"Usage: flareops plan"}},
		{name: "import -h", args: []string{"import", "-h"}, code: 0, stdout: []string{"Usage: flareops import [flags] ADDRESS ID|NAME\n", "Flags:", "-dir"}},
		{name: "apply -h", args: []string{"apply", "-h"}, code: 0, stdout: []string{"Usage: flareops apply [flags] [PLANFILE]\n", "-auto-approve", "-parallelism"}},
		{name: "destroy -h", args: []string{"destroy", "-h"}, code: 0, stdout: []string{"Usage: flareops destroy [flags]\n", "-auto-approve"}},
		{name: "fmt -h", args: []string{"fmt", "-h"}, code: 0, stdout: []string{"Usage: flareops fmt [flags]\n", "-check"}},
		{name: "state -h", args: []string{"state", "-h"}, code: 0, stdout: []string{"Usage: flareops state list|show|rm", "Subcommands:", "  rm "}},
		{name: "state show -h", args: []string{"state", "show", "-h"}, code: 0, stdout: []string{"Usage: flareops state show [flags] ADDRESS\n", "-dir"}},
		{name: "local -h", args: []string{"local", "--help"}, code: 0, stdout: []string{"Usage: flareops local serve [flags]", "  serve "}},
		{name: "local serve -h", args: []string{"local", "serve", "-h"}, code: 0, stdout: []string{"-listen", "-fail-rate"}},
		{name: "graph -h", args: []string{"graph", "-h"}, code: 0, stdout: []string{"Usage: flareops graph [flags]\n", "-plan PLANFILE", "-format FORMAT", "-out FILE"}},
		{name: "validate -h", args: []string{"validate", "-h"}, code: 0, stdout: []string{"-format FORMAT", "sarif"}},
		{name: "apply -h progress", args: []string{"apply", "-h"}, code: 0, stdout: []string{"-progress", "FLAREOPS_PROGRESS", "-format FORMAT"}},
		{name: "version -h", args: []string{"version", "-h"}, code: 0, stdout: []string{"Usage: flareops version\n"}},

		{name: "help plan", args: []string{"help", "plan"}, code: 0, stdout: []string{"Usage: flareops plan [flags]\n", "-detailed-exitcode"}},
		{name: "help state", args: []string{"help", "state"}, code: 0, stdout: []string{"Subcommands:"}},
		{name: "help state rm", args: []string{"help", "state", "rm"}, code: 0, stdout: []string{"Usage: flareops state rm [flags] ADDRESS\n", "-dir"}},
		{name: "help local serve", args: []string{"help", "local", "serve"}, code: 0, stdout: []string{"-listen"}},
		{name: "help unknown", args: []string{"help", "aply"}, code: 1, stderr: []string{`unknown command "aply"; did you mean apply?`}, noStdout: true},
		{name: "help unknown subcommand", args: []string{"help", "state", "mv"}, code: 1, stderr: []string{`no subcommand "mv"`}, noStdout: true},
		{name: "help too many", args: []string{"help", "plan", "x"}, code: 1, stderr: []string{"too many arguments"}, noStdout: true},

		{name: "bad flag", args: []string{"plan", "-bogus"}, code: 1, stderr: []string{"flag provided but not defined: -bogus", "Usage: flareops plan [flags]", "flareops help plan"}, noStdout: true},
		{name: "bad flag value", args: []string{"apply", "-parallelism", "many"}, code: 1, stderr: []string{"-parallelism", "Usage: flareops apply"}, noStdout: true},
		{name: "missing flag value", args: []string{"validate", "-dir"}, code: 1, stderr: []string{"flag needs an argument: -dir"}, noStdout: true},

		{name: "version", args: []string{"version"}, code: 0, stdout: []string{"flareops " + Version + "\n"}},
		{name: "-version", args: []string{"-version"}, code: 0, stdout: []string{"flareops " + Version + "\n"}},
		{name: "--version", args: []string{"--version"}, code: 0, stdout: []string{"flareops " + Version + "\n"}},

		{name: "backup without configuration", args: []string{"backup", "run", "x"}, code: 1, stderr: []string{"No configuration files"}, noStdout: true},
		{name: "backup restore without -to", args: []string{"backup", "restore", "x"}, code: 1, stderr: []string{"restore needs -to TARGET"}, noStdout: true},
		{name: "backup drill bad format", args: []string{"backup", "drill", "-format", "pdf", "x"}, code: 1, stderr: []string{`-format "pdf": use text, json, html`}, noStdout: true},
		{name: "slo -h", args: []string{"slo", "-h"}, code: 0, stdout: []string{"Usage: flareops slo status [flags]", "  status "}},
		{name: "slo status -h", args: []string{"slo", "status", "-h"}, code: 0, stdout: []string{"Usage: flareops slo status [flags]", "-format", "-out"}},
		{name: "help alerts", args: []string{"help", "alerts"}, code: 0, stdout: []string{"Subcommands:", "  check "}},
		{name: "help alerts check", args: []string{"help", "alerts", "check"}, code: 0, stdout: []string{"Usage: flareops alerts check [flags]", "-format"}},
		{name: "alerts without subcommand", args: []string{"alerts"}, code: 1, stderr: []string{"needs a subcommand"}, noStdout: true},

		{name: "typo", args: []string{"aply"}, code: 1, stderr: []string{`unknown command "aply"; did you mean apply?`, "flareops help"}, noStdout: true},
		{name: "transposition", args: []string{"destory"}, code: 1, stderr: []string{"did you mean destroy?"}, noStdout: true},
		{name: "nothing close", args: []string{"deploy"}, code: 1, stderr: []string{`unknown command "deploy"`}, notInStdio: []string{"did you mean"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, map[string]string{}, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q", s)
				}
			}
			for _, s := range tc.stderr {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q", s)
				}
			}
			if len(tc.stderr) == 0 && errOut != "" {
				t.Errorf("stderr is not empty")
			}
			if tc.noStdout && out != "" {
				t.Errorf("stdout is not empty")
			}
			for _, s := range tc.notInStdio {
				if strings.Contains(out+errOut, s) {
					t.Errorf("output contains %q", s)
				}
			}
			if t.Failed() {
				t.Logf("flareops %s\nstdout:\n%s\nstderr:\n%s", strings.Join(tc.args, " "), out, errOut)
			}
		})
	}
}

// Every command and subcommand declares its usage, and -h and help CMD print it on stdout
// with exit 0: a command added without an entry in helps fails here.
func TestEveryCommandHasHelp(t *testing.T) {
	for _, c := range commands() {
		if c.comingWith != "" {
			continue
		}
		h, ok := helps[c.name]
		if !ok || h.desc == "" {
			t.Errorf("%s: no usage and description in helps", c.name)
			continue
		}
		invocations := [][]string{{c.name, "-h"}, {"help", c.name}}
		for _, sub := range h.subs {
			if _, ok := helps[c.name+" "+sub]; !ok {
				t.Errorf("%s %s: no usage and description in helps", c.name, sub)
			}
			invocations = append(invocations, []string{c.name, sub, "-h"}, []string{"help", c.name, sub})
		}
		for _, args := range invocations {
			code, out, errOut := run(t, map[string]string{}, args...)
			if code != 0 || errOut != "" || !strings.HasPrefix(out, "Usage: flareops "+c.name) {
				t.Errorf("flareops %s: exit %d, want 0 with the usage on stdout\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
			}
		}
	}
}

// The list shows what exists; reserved commands are listed apart, never as available.
func TestCommandListSeparatesWhatIsNotAvailable(t *testing.T) {
	_, out, _ := run(t, nil, "help")
	anyComing := false
	for _, c := range commands() {
		anyComing = anyComing || c.comingWith != ""
	}
	available, coming, found := strings.Cut(out, "Coming with their kinds")
	if found != anyComing {
		t.Fatalf("a section for the commands not available yet: %v, want %v:\n%s", found, anyComing, out)
	}
	for _, c := range commands() {
		line := "\n  " + c.name + " "
		switch {
		case c.comingWith != "" && (strings.Contains(available, line) || !strings.Contains(coming, line)):
			t.Errorf("%s is not available yet but is listed as if it were", c.name)
		case c.comingWith == "" && !strings.Contains(available, line):
			t.Errorf("%s is missing from the commands", c.name)
		}
	}
	golden(t, "help.golden", out)
	_, out, _ = run(t, nil, "help", "state")
	golden(t, "help_state.golden", out)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", path, diff)
	}
}

func TestSuggest(t *testing.T) {
	cases := map[string]string{
		"aply":     "; did you mean apply?",
		"appyl":    "; did you mean apply?",
		"paln":     "; did you mean plan?",
		"vlaidate": "; did you mean validate?",
		"stat":     "; did you mean state?",
		"imprt":    "; did you mean import?",
		"fmtt":     "; did you mean fmt?",
		"dest":     "; did you mean destroy?",
		"alert":    "; did you mean alerts?",
		"p":        "",
		"deploy":   "",
		"xyz":      "",
	}
	for in, want := range cases {
		if got := suggest(in); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "plan", 4},
		{"plan", "plan", 0},
		{"aply", "apply", 1},
		{"paln", "plan", 1},
		{"drfit", "drift", 1},
		{"state", "slo", 4},
		{"kitten", "sitting", 3},
	}
	for _, tc := range cases {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// Output that is not a terminal carries no ANSI escape, errors included.
func TestNoColorWhenNotATerminal(t *testing.T) {
	bad := t.TempDir()
	src := "queue \"a\" {\n  name = \"a\"\n  consumer {\n    worker = \"w\"\n    batch_size = 500\n  }\n}\nqueue \"b\" {\n  nme = 1\n}\n"
	if err := os.WriteFile(filepath.Join(bad, "main.flareops.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	good := copyExample(t)
	for _, args := range [][]string{
		{"validate", "-dir", bad},
		{"plan", "-dir", bad},
		{"plan", "-dir", good},
		{"drift", "-dir", good},
		{"plan", "-bogus"},
	} {
		code, out, errOut := run(t, map[string]string{}, args...)
		if args[len(args)-1] != good && code == 0 {
			t.Errorf("flareops %s: exit 0, want an error", strings.Join(args, " "))
		}
		if strings.Contains(out+errOut, "\x1b") {
			t.Errorf("flareops %s: ANSI escape in output\nstdout:\n%q\nstderr:\n%q", strings.Join(args, " "), out, errOut)
		}
	}
}

func TestColorOn(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	env := func(kv ...string) IO {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return IO{Getenv: func(k string) string { return m[k] }}
	}
	cases := map[string]struct {
		w  io.Writer
		cf configFlags
		io IO
	}{
		"buffer":    {w: &bytes.Buffer{}, io: env()},
		"pipe":      {w: w, io: env()},
		"null":      {w: null, io: env()},
		"NO_COLOR":  {w: os.Stdout, io: env("NO_COLOR", "1")},
		"TERM=dumb": {w: os.Stdout, io: env("TERM", "dumb")},
		"-no-color": {w: os.Stdout, cf: configFlags{noColor: true}, io: env()},
	}
	for name, tc := range cases {
		if colorOn(tc.w, tc.cf, tc.io) {
			t.Errorf("%s: colour on", name)
		}
	}
}
