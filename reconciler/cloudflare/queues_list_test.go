package cloudflare

import (
	"context"
	"testing"

	"github.com/cloudflare/cloudflare-go/v6/queues"
	"github.com/google/go-cmp/cmp"
	"github.com/monotask/flareops/emulator"
)

// TestListQueuesReadsWhatTheSDKReads: the lean decoding of the queue list gives exactly
// what the SDK's typed decoding gives, for every kind of consumer and setting.
func TestListQueuesReadsWhatTheSDKReads(t *testing.T) {
	ctx := context.Background()
	c, _, _ := emulatorClient(t, emulator.Options{RateLimit: -1}, Config{})
	dlq, err := c.CreateQueue(ctx, "jobs-dlq")
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := c.CreateQueue(ctx, "jobs")
	if err != nil {
		t.Fatal(err)
	}
	jobs.DeliveryDelay, jobs.MessageRetention, jobs.DeliveryPaused = 30, 86400, true
	if err := c.UpdateQueue(ctx, jobs); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateConsumer(ctx, jobs.ID, Consumer{Type: "worker", Script: "w", DeadLetterQueue: "jobs-dlq", BatchSize: 7, MaxRetries: 4, MaxWaitMs: 2500, RetryDelay: 60, MaxConcurrency: 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateConsumer(ctx, dlq.ID, Consumer{Type: "http_pull", BatchSize: 3, MaxRetries: 2, RetryDelay: 10, VisibilityTimeoutMs: 45000}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateQueue(ctx, "idle"); err != nil {
		t.Fatal(err)
	}

	lean, err := c.ListQueues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var p queues.QueueListParams
	set(&p.AccountID, c.accountID)
	page, err := c.queues.List(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	var typed []Queue
	for _, q := range page.Result {
		typed = append(typed, fromQueue(q))
	}
	if len(lean) != 3 {
		t.Fatalf("%d queues listed, want 3: %+v", len(lean), lean)
	}
	if d := cmp.Diff(typed, lean); d != "" {
		t.Errorf("lean list differs from the SDK's (-sdk +lean):\n%s", d)
	}
}
