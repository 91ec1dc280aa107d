package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Graphviz (go-graphviz, WebAssembly run by wazero) is loaded only when a graph is drawn,
// and the machine code wazero compiles is cached in a directory private to the user
// (internal/gvcache), never in the shared temporary directory upstream go-graphviz uses,
// where anyone could plant code that wazero loads unverified.
func TestGraphvizIsLoadedOnlyToDrawAndCachesPrivately(t *testing.T) {
	bin := buildFlareops(t)
	dir := copyExample(t)
	shared, home := t.TempDir(), t.TempDir()
	planted := filepath.Join(shared, "go-graphviz")
	if err := os.Mkdir(planted, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(planted, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(planted, "planted"), []byte("not machine code"), 0o666); err != nil {
		t.Fatal(err)
	}
	run := func(home string, args ...string) (string, string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"HOME=" + home, "TMPDIR=" + shared, "PATH=" + os.Getenv("PATH")}
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("flareops %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return stdout.String(), stderr.String()
	}
	own := filepath.Join(home, ".cache", "flareops")

	// A command that draws nothing does not load Graphviz, so it makes no cache anywhere.
	run(home, "validate", "-dir", dir)
	if _, err := os.Stat(own); !os.IsNotExist(err) {
		t.Errorf("validate made %s (Graphviz loaded without drawing?): %v", own, err)
	}

	// The first drawing compiles and fills the private cache, the second reads it.
	var svgs [2]string
	for i := range svgs {
		svgs[i], _ = run(home, "graph", "-format", "svg", "-dir", dir)
		if !strings.Contains(svgs[i], "<svg") {
			t.Fatalf("graph run %d printed no SVG:\n%.300s", i+1, svgs[i])
		}
	}
	if svgs[0] != svgs[1] {
		t.Error("the drawing from the cached code differs from the first")
	}
	entries, err := os.ReadDir(planted)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "planted" {
		t.Errorf("flareops used the planted cache directory: it now holds %v", entries)
	}
	for _, d := range []string{own, filepath.Join(own, "go-graphviz")} {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatalf("no private cache directory: %v", err)
		}
		if fi.Mode().Perm() != 0o700 {
			t.Errorf("%s has mode %v, want 0700", d, fi.Mode().Perm())
		}
	}
	cached, err := os.ReadDir(filepath.Join(own, "go-graphviz"))
	if err != nil || len(cached) == 0 {
		t.Errorf("nothing cached in %s: %v", filepath.Join(own, "go-graphviz"), err)
	}

	// A cache directory others can write is not used: the graph is still drawn, with a
	// warning, and nothing is written there.
	other := t.TempDir()
	open := filepath.Join(other, ".cache", "flareops")
	if err := os.MkdirAll(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	svg, stderr := run(other, "graph", "-format", "svg", "-dir", dir)
	if svg != svgs[0] {
		t.Error("the drawing without a cache differs from the cached one")
	}
	if !strings.Contains(stderr, "Warning: Graphviz's compiled code is not cached") || !strings.Contains(stderr, "writable by others") {
		t.Errorf("no warning about the unusable cache directory; stderr:\n%s", stderr)
	}
	if entries, err := os.ReadDir(open); err != nil || len(entries) != 0 {
		t.Errorf("flareops wrote into a cache directory others can write: %v %v", entries, err)
	}
}
