package backup

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// Two runs of one job started in the same second (a cron firing while someone runs it by
// hand) both find the folder free before either writes. The one whose manifest lands
// makes a complete backup; the other must fail without touching it: its parts are its
// own, so deleting them on failure leaves the complete backup whole.
func TestConcurrentRunsInOneSecondKeepTheCompleteBackup(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	f.seedKV("sessions", 300)
	job := f.job(SourceKV, "sessions")
	at := time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)

	// Run A talks to R2 through a gate that holds its first part upload until released.
	arrived, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	gated := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodPut || r.Method == http.MethodPost) && strings.Contains(r.URL.Path, "/part-") {
			once.Do(func() { close(arrived); <-release })
		}
		f.srv.ServeHTTP(w, r)
	}))
	t.Cleanup(gated.Close)
	r2A, err := cloudflare.NewR2(cloudflare.R2Config{Endpoint: gated.URL, AccessKeyID: "k", SecretAccessKey: "s", MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	envA := &Env{API: f.api, R2: r2A, Version: "test", Now: func() time.Time { return at }}
	envB := &Env{API: f.api, R2: f.r2, Version: "test", Now: func() time.Time { return at }}

	errA := make(chan error, 1)
	go func() { _, err := envA.Run(ctx, job); errA <- err }()
	select {
	case <-arrived: // A found the folder free and is about to write its first part
	case err := <-errA:
		t.Fatalf("run A ended before writing a part: %v", err)
	}
	b, err := envB.Run(ctx, job)
	if err != nil {
		close(release)
		t.Fatalf("run B: %v", err)
	}
	f.srv.Advance(2 * time.Second) // past R2's one write per second per key
	close(release)
	if err := <-errA; err == nil {
		t.Error("both runs of the same second reported a complete backup")
	}

	// B's backup is listed as complete: it must still verify and restore.
	got, err := f.env.Find(ctx, job, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.env.Verify(ctx, got); err != nil {
		t.Errorf("the complete backup of run B no longer verifies after run A failed: %v", err)
	}
}
