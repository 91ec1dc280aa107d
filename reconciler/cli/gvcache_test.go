package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/monotask/flareops/internal/gvcache"
)

// go-graphviz compiles its WebAssembly module in every flareops process and caches the
// machine code it loads, unverified, in os.TempDir()/go-graphviz. flareops points that
// cache at a directory private to the user instead (internal/gvcache): a go-graphviz
// directory someone planted in the shared temporary directory is neither read nor
// written, and TMPDIR is as the user set it for everything else.
func TestGraphvizCacheIsPrivate(t *testing.T) {
	if gvcache.Err != nil {
		t.Logf("this test process fell back to a scratch directory: %v", gvcache.Err)
	}
	if gvcache.Dir == "" {
		t.Fatal("go-graphviz's cache was not pointed anywhere private")
	}
	if got := os.Getenv("TMPDIR"); got == gvcache.Dir {
		t.Errorf("TMPDIR is still %s after initialization", got)
	}

	bin := buildFlareops(t)
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
	for i := 0; i < 2; i++ { // the first run compiles and fills the cache, the second reads it
		cmd := exec.Command(bin, "--version")
		cmd.Env = []string{"HOME=" + home, "TMPDIR=" + shared, "PATH=" + os.Getenv("PATH")}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("flareops --version: %v\n%s", err, out)
		}
	}
	entries, err := os.ReadDir(planted)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "planted" {
		t.Errorf("flareops used the planted cache directory: it now holds %v", entries)
	}
	own := filepath.Join(home, ".cache", "flareops")
	fi, err := os.Stat(own)
	if err != nil {
		t.Fatalf("no private cache directory: %v", err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("%s has mode %v, want 0700", own, fi.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(own, "go-graphviz")); err != nil {
		t.Errorf("go-graphviz's cache is not in %s: %v", own, err)
	}
}
