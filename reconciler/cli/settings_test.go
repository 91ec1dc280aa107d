package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/monotask/flareops/reconciler"
)

// The flareops block reaches the kinds: loadConfig returns its settings, which validate's
// checks and every session's registry are built with.
func TestSettingsAreLoaded(t *testing.T) {
	dir := t.TempDir()
	src := `variable "env" {
  default = "staging"
}

flareops {
  ops_kv_namespace = "monotask-${var.env}-ops"
}

queue "jobs" {
  name = "jobs"
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	io := IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	l, ok := loadConfig(configFlags{dir: dir, vars: multiFlag{"env=prod"}}, io)
	if !ok {
		t.Fatalf("loadConfig failed:\n%s", errOut.String())
	}
	if want := (reconciler.Settings{OpsKVNamespace: "monotask-prod-ops"}); l.settings != want {
		t.Errorf("settings = %+v, want %+v", l.settings, want)
	}
	if code, stdout, stderr := run(t, map[string]string{}, "validate", "-dir", dir); code != 0 || !strings.Contains(stdout, "1 block(s)") {
		t.Errorf("validate: exit %d\n%s%s", code, stdout, stderr)
	}
}
