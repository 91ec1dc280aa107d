package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A sensitive variable interpolated into attributes that are not sensitive (a name, an
// email, a webhook URL) must still never be printed by plan, in any format.
func TestSensitiveVariableNotPrintedByPlan(t *testing.T) {
	dir := t.TempDir()
	src := `variable "sec" {
  type      = string
  sensitive = true
  default   = "SUPERSECRET123"
}

queue "q" {
  name = "q-${var.sec}"
}

alert_destination "ops" {
  name  = "ops"
  email = "${var.sec}@example.com"
}

alert_destination "w" {
  name = "w"
  webhook {
    url    = "https://example.com/${var.sec}"
    secret = var.sec
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"text", "json", "markdown"} {
		code, stdout, stderr := run(t, map[string]string{}, "plan", "-dir", dir, "-format", format)
		if code != 0 {
			t.Fatalf("plan -format %s: exit %d: %s", format, code, stderr)
		}
		if strings.Contains(stdout+stderr, "SUPERSECRET123") {
			t.Errorf("plan -format %s prints the sensitive variable's value:\n%s", format, stdout)
		}
	}
}

// The same, for the plan file written by -out (the savedPlan type says it "holds no
// variable values (they may be secret)"); the masked plan still applies, and is still
// refused when the secret changed.
func TestSensitiveVariableNotInSavedPlan(t *testing.T) {
	dir := t.TempDir()
	src := `variable "sec" {
  type      = string
  sensitive = true
  default   = "SUPERSECRET123"
}

queue "q" {
  name = "q-${var.sec}"
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "plan.bin")
	if code, _, stderr := run(t, map[string]string{}, "plan", "-dir", dir, "-out", out); code != 0 {
		t.Fatalf("plan: exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "SUPERSECRET123") {
		t.Errorf("the plan file holds the sensitive variable's value in clear")
	}
	if code, _, stderr := run(t, map[string]string{"FLAREOPS_VAR_sec": "OTHER"}, "apply", out); code == 0 {
		t.Errorf("a saved plan applied after the secret changed: %s", stderr)
	}
	if code, _, stderr := run(t, map[string]string{}, "apply", out); code != 0 || strings.Contains(stderr, "SUPERSECRET123") {
		t.Errorf("apply of the masked plan: exit %d: %s", code, stderr)
	}
}

// A PagerDuty service name is free text; the local Cloudflare's stand-in warning must not
// pass its terminal escapes to the terminal, nor its newlines and HTML to the PR comment.
func TestStandInNameIsQuoted(t *testing.T) {
	dir := t.TempDir()
	src := `alert_destination "pd" {
  name      = "pd"
  pagerduty = "x\u001b[2J\n# injected\n<img src=x>"
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"text", "markdown", "json"} {
		code, stdout, stderr := run(t, map[string]string{}, "plan", "-dir", dir, "-format", format)
		if code != 0 {
			t.Fatalf("plan -format %s: exit %d: %s", format, code, stderr)
		}
		if strings.Contains(stdout+stderr, "\x1b") {
			t.Errorf("plan -format %s prints a raw escape character:\n%q", format, stdout)
		}
		for _, line := range strings.Split(stdout, "\n") {
			if strings.HasPrefix(line, "# injected") || strings.HasPrefix(line, "> # injected") ||
				format == "markdown" && strings.HasPrefix(line, "> ") && strings.Contains(line, "<img") {
				t.Errorf("plan -format %s: the name breaks out of its warning: %q", format, line)
			}
		}
	}
	code, _, stderr := run(t, map[string]string{}, "apply", "-dir", dir, "-auto-approve")
	if code != 0 {
		t.Fatalf("apply: exit %d: %s", code, stderr)
	}
	if strings.Contains(stderr, "\x1b") {
		t.Errorf("apply prints a raw escape character:\n%q", stderr)
	}
}
