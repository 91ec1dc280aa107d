package config_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/monotask/flareops/reconciler/cli"
)

// validate runs `flareops validate -dir dir` as a user would, and returns its exit code
// and stderr.
func validate(t *testing.T, dir string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	io := cli.IO{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
		Getenv: func(string) string { return "" }, Environ: func() []string { return nil },
	}
	return cli.Main([]string{"validate", "-dir", dir}, io), errOut.String()
}

// writeConfig writes src as dir/main.flareops.hcl in a new directory.
func writeConfig(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Input that used to crash validate (a stack overflow: exit 2 after 1.6 GB) exits 1 with
// a diagnostic at file:line:col.
func TestValidateRefusesDeepAndLargeInput(t *testing.T) {
	old := debug.SetMaxStack(64 << 20) // fail fast, should anything still recurse
	defer debug.SetMaxStack(old)
	const n = 100000
	local := func(expr string) string { return "locals {\n  a = " + expr + "\n}\n" }
	tests := map[string]struct{ src, want string }{
		"parentheses":           {local(strings.Repeat("(", n) + "1" + strings.Repeat(")", n)), `main.flareops.hcl:2:70[,:]`},
		"brackets":              {local(strings.Repeat("[", n) + strings.Repeat("]", n)), `main.flareops.hcl:2:70[,:]`},
		"braces":                {local(strings.Repeat("{a=", n) + "1" + strings.Repeat("}", n)), `main.flareops.hcl:2:196[,:]`},
		"string interpolations": {local(strings.Repeat(`"${`, n) + "1" + strings.Repeat(`}"`, n)), `main.flareops.hcl:2:101[,:]`},
		"chained operators":     {local("1" + strings.Repeat("+1", n)), `main.flareops.hcl:2:518[,:]`},
		"file size":             {strings.Repeat("# "+strings.Repeat("x", 61)+"\n", 20000), `main.flareops.hcl:16385:1[,:]`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			code, errOut := validate(t, writeConfig(t, tt.src))
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%.3000s", code, errOut)
			}
			if !regexp.MustCompile(`(?m)^  on .*` + tt.want).MatchString(errOut) {
				t.Errorf("no %s in:\n%.3000s", tt.want, errOut)
			}
		})
	}
}

func TestValidateChecksQueueNames(t *testing.T) {
	tests := map[string]struct {
		name string
		want string // the error's location and text; "" for a valid name
	}{
		"letters, digits and hyphens": {"Prod-agent-jobs-2", ""},
		"63 characters":               {strings.Repeat("q", 63), ""},
		"one character":               {"q", ""},
		"underscore":                  {"agent_jobs", `main.flareops.hcl:2:10[,:](?s).*name must be 1 to 63 letters, digits and hyphens, starting and ending with a letter or digit; got "agent_jobs"`},
		"starts with a hyphen":        {"-jobs", `main.flareops.hcl:2:10[,:](?s).*got "-jobs"`},
		"ends with a hyphen":          {"jobs-", `main.flareops.hcl:2:10[,:](?s).*got "jobs-"`},
		"space":                       {"agent jobs", `main.flareops.hcl:2:10[,:](?s).*got "agent jobs"`},
		"empty":                       {"", `main.flareops.hcl:2:10[,:](?s).*got ""`},
		"64 characters":               {strings.Repeat("q", 64), `main.flareops.hcl:2:10[,:](?s).*name must be at most 63 characters; got 64 characters`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			code, errOut := validate(t, writeConfig(t, "queue \"a\" {\n  name = \""+tt.name+"\"\n}\n"))
			switch {
			case tt.want == "" && code != 0:
				t.Fatalf("exit %d, want 0\n%s", code, errOut)
			case tt.want != "" && code != 1:
				t.Fatalf("exit %d, want 1\n%s", code, errOut)
			case tt.want != "" && !regexp.MustCompile(tt.want).MatchString(errOut):
				t.Errorf("no %s in:\n%s", tt.want, errOut)
			}
		})
	}
	// A name computed from variables is checked once it is known.
	code, errOut := validate(t, writeConfig(t, "variable \"env\" {\n  default = \"prod_eu\"\n}\nqueue \"a\" {\n  name = \"${var.env}-jobs\"\n}\n"))
	if code != 1 || !strings.Contains(errOut, `main.flareops.hcl:5:10,`) || !strings.Contains(errOut, `got "prod_eu-jobs"`) {
		t.Errorf("exit %d:\n%s", code, errOut)
	}
}

func TestValidateOwnDeadLetterQueue(t *testing.T) {
	for _, ref := range []string{"queue.jobs", "queue.jobs.name", `"prod-jobs"`} {
		code, errOut := validate(t, writeConfig(t, "queue \"jobs\" {\n  name = \"prod-jobs\"\n  consumer {\n    worker            = \"w\"\n    dead_letter_queue = "+ref+"\n  }\n}\n"))
		if code != 1 || !strings.Contains(strings.ToLower(errOut), "a queue cannot be its own dead-letter queue") {
			t.Errorf("dead_letter_queue = %s: exit %d:\n%s", ref, code, errOut)
		}
		if strings.Contains(errOut, "cycle") {
			t.Errorf("dead_letter_queue = %s is reported as a cycle:\n%s", ref, errOut)
		}
	}
}
