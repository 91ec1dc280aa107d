package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// One expression that repeats a large local (each local is at most 1 MiB) would grow
// until the machine runs out of memory; the CLI stops it past loadMemoryLimit with an
// error that names the declaration, instead of dying with a runtime fatal error.
func TestLoadThatGrowsWithoutBoundIsStopped(t *testing.T) {
	bin := buildFlareops(t)
	var b strings.Builder
	b.WriteString("locals {\n  a0 = \"xxxxxxxxxxxxxxxx\"\n")
	for i := 1; i <= 15; i++ { // a15 is 512 KiB
		fmt.Fprintf(&b, "  a%d = \"${local.a%d}${local.a%d}\"\n", i, i-1, i-1)
	}
	b.WriteString("  big = \"" + strings.Repeat("${local.a15}", 4096) + "\"\n}\n") // 2 GiB, line 18
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "validate", "-dir", dir)
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != ExitError {
		t.Fatalf("validate: exit %d (%v), want %d\n%.2000s", code, err, ExitError, out)
	}
	if !strings.Contains(string(out), "configuration too large to evaluate") || !strings.Contains(string(out), "main.flareops.hcl:18") {
		t.Errorf("no error naming main.flareops.hcl:18:\n%.2000s", out)
	}
}
