package cloudflare

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/monotask/flareops/emulator"
)

// emulatorClient starts the local Cloudflare with opts and a Client with cfg (its URL,
// token and account filled in) pointed at it.
func emulatorClient(t testing.TB, opts emulator.Options, cfg Config) (*Client, *emulator.Server, string) {
	t.Helper()
	emulatorOnly(t, "it uses the emulator's fault injection, request counters or rate limit")
	srv, err := emulator.New(opts)
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("emulator Close: %v", err)
		}
	})
	srv.SetBaseURL(hs.URL)
	cfg.BaseURL, cfg.Token, cfg.AccountID = hs.URL+emulator.APIPrefix, "test-token", rawTestAccount
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, srv, hs.URL
}

// createQueues creates n queues named prefix-0… with parallelism goroutines.
func createQueues(t testing.TB, c *Client, prefix string, n, parallelism int) {
	t.Helper()
	names := make(chan string, n)
	for i := range n {
		names <- fmt.Sprintf("%s-%d", prefix, i)
	}
	close(names)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range parallelism {
		wg.Go(func() {
			for name := range names {
				if _, err := c.CreateQueue(context.Background(), name); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A client that is told nothing stays within the server's limit at parallelism 10, from
// the first request on: it learns the limit from the answers.
func TestPacingLearnsTheServerLimit(t *testing.T) {
	t.Parallel()
	c, srv, _ := emulatorClient(t, emulator.Options{RateLimit: 10, RateWindow: 5 * time.Second}, Config{})
	start := time.Now()
	createQueues(t, c, "q", 30, 10)
	counts := srv.Counts()
	t.Logf("30 creates at parallelism 10 against 10 / 5 s: %d requests, %d × 429, %v",
		counts.Total, counts.ByStatus[http.StatusTooManyRequests], time.Since(start).Round(100*time.Millisecond))
	if n := counts.ByStatus[http.StatusTooManyRequests]; n != 0 {
		t.Errorf("the emulator answered 429 %d times, want 0", n)
	}
	if counts.Total != 30 || c.Requests() != 30 || c.Throttled() != 0 {
		t.Errorf("requests: emulator %d, client %d, throttled %d; want 30, 30, 0", counts.Total, c.Requests(), c.Throttled())
	}
	if n := counts.ByStatus[http.StatusOK]; n != 30 {
		t.Errorf("%d creates succeeded, want 30", n)
	}
}

// Requests of another client of the token (or of an earlier run) are seen in the
// answers' remaining budget.
func TestPacingSharesTheTokenBudget(t *testing.T) {
	t.Parallel()
	c, srv, url := emulatorClient(t, emulator.Options{RateLimit: 10, RateWindow: 5 * time.Second}, Config{})
	for range 8 {
		req, _ := http.NewRequest(http.MethodGet, url+emulator.APIPrefix+"/accounts/"+rawTestAccount+"/queues", nil)
		req.Header.Set("Authorization", "Bearer test-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	createQueues(t, c, "shared", 6, 6)
	if n := srv.Counts().ByStatus[http.StatusTooManyRequests]; n != 0 {
		t.Errorf("the emulator answered 429 %d times, want 0", n)
	}
}

// An explicit bound (FLAREOPS_RATE_LIMIT) below the server's limit is kept.
func TestPacingExplicitBound(t *testing.T) {
	t.Parallel()
	c, _, _ := emulatorClient(t, emulator.Options{}, Config{RateLimit: 3, RateWindow: time.Second})
	start := time.Now()
	createQueues(t, c, "bound", 6, 6)
	// Six requests at 3 per second (counted from the answers) take at least one second.
	if d := time.Since(start); d < time.Second {
		t.Errorf("6 requests at 3 / 1 s took %v", d)
	}
}

// BenchmarkPacing60PerMinute creates 90 queues at parallelism 10 against a 60 / 1 min
// limit (about two minutes) and reports requests and 429s; there is no timed assertion.
//
//	go test -run '^$' -bench Pacing60 -benchtime 1x ./reconciler/cloudflare/
func BenchmarkPacing60PerMinute(b *testing.B) {
	for b.Loop() {
		c, srv, _ := emulatorClient(b, emulator.Options{RateLimit: 60, RateWindow: time.Minute}, Config{})
		createQueues(b, c, "q", 90, 10)
		counts := srv.Counts()
		b.ReportMetric(float64(counts.Total), "requests")
		b.ReportMetric(float64(counts.ByStatus[http.StatusTooManyRequests]), "429s")
	}
}
