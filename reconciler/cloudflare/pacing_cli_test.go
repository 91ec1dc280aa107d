package cloudflare_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler/cli"
)

// `flareops apply -parallelism 10` of 19 queues (20 requests with the plan's list) against
// a 10 / 5 s limit, with no FLAREOPS_RATE_LIMIT, draws no 429: the client learns the
// limit from the answers.
func TestPacingThroughTheCLI(t *testing.T) {
	t.Parallel()
	srv, err := emulator.New(emulator.Options{RateLimit: 10, RateWindow: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })

	dir := t.TempDir()
	var cfg strings.Builder
	for i := range 19 {
		fmt.Fprintf(&cfg, "queue \"q%d\" {\n  name = \"cli-q-%d\"\n}\n\n", i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "queues.flareops.hcl"), []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"CLOUDFLARE_API_TOKEN":  "test-token",
		"CLOUDFLARE_ACCOUNT_ID": "0123456789abcdef0123456789abcdef",
		"CLOUDFLARE_BASE_URL":   hs.URL + emulator.APIPrefix,
	}
	var out, errOut bytes.Buffer
	io := cli.IO{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
		Getenv:  func(k string) string { return env[k] },
		Environ: func() []string { return nil },
	}
	start := time.Now()
	code := cli.Main([]string{"apply", "-auto-approve", "-parallelism", "10", "-no-color", "-dir", dir}, io)
	counts := srv.Counts()
	t.Logf("flareops apply of 19 queues against 10 / 5 s: %d requests, %d × 429, %v",
		counts.Total, counts.ByStatus[http.StatusTooManyRequests], time.Since(start).Round(100*time.Millisecond))
	if code != 0 {
		t.Fatalf("apply exited %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	if n := counts.ByStatus[http.StatusTooManyRequests]; n != 0 {
		t.Errorf("the emulator answered 429 %d times, want 0", n)
	}
}
