package cloudflare

import (
	"context"
	"testing"

	"github.com/cloudflare/cloudflare-go/v6/queues"
	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/emulator"
)

// TestConformanceListQueuesReadsWhatTheSDKReads: the lean decoding of the queue list gives
// exactly what the SDK's typed decoding gives, for every kind of consumer and setting.
// It runs against a live account too (conformance_test.go).
func TestConformanceListQueuesReadsWhatTheSDKReads(t *testing.T) {
	ctx := context.Background()
	a := newConformanceAccount(t, emulator.Options{RateLimit: -1, RequireConsumerScripts: true})
	c := a.c
	worker := a.worker(t, "consumer")
	dlq := a.queue(t, "jobs-dlq")
	jobs := a.queue(t, "jobs")
	jobs.DeliveryDelay, jobs.MessageRetention, jobs.DeliveryPaused = 30, 86400, true
	if err := c.UpdateQueue(ctx, jobs); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateConsumer(ctx, jobs.ID, Consumer{Type: "worker", Script: worker, DeadLetterQueue: dlq.Name, BatchSize: 7, MaxRetries: 4, MaxWaitMs: 2500, RetryDelay: 60, MaxConcurrency: 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateConsumer(ctx, dlq.ID, Consumer{Type: "http_pull", BatchSize: 3, MaxRetries: 2, RetryDelay: 10, VisibilityTimeoutMs: 45000}); err != nil {
		t.Fatal(err)
	}
	idle := a.queue(t, "idle")

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
	mine := map[string]bool{jobs.ID: true, dlq.ID: true, idle.ID: true}
	only := func(qs []Queue) []Queue { // a live account has queues of its own
		var out []Queue
		for _, q := range qs {
			if mine[q.ID] {
				out = append(out, q)
			}
		}
		return out
	}
	if got := only(lean); len(got) != 3 {
		t.Fatalf("%d of the test's queues listed, want 3: %+v", len(got), got)
	}
	if d := cmp.Diff(only(typed), only(lean)); d != "" {
		t.Errorf("lean list differs from the SDK's (-sdk +lean):\n%s", d)
	}
}

// TestConformanceQueueNameTaken: creating, or renaming to, a name in use is refused with
// the answer IsNameTaken recognizes (the engine's ownership rests on it), and nothing is
// changed. It runs against a live account too: there, it checks the code flareops assumes
// (CodeQueueNameTaken, undocumented upstream).
func TestConformanceQueueNameTaken(t *testing.T) {
	ctx := context.Background()
	a := newConformanceAccount(t, emulator.Options{RateLimit: -1})
	first := a.queue(t, "taken")
	other := a.queue(t, "other")
	q, err := a.c.CreateQueue(ctx, first.Name)
	if err == nil {
		a.removeQueue(t, q.ID)
		t.Fatalf("a second queue named %s was created (id %s)", first.Name, q.ID)
	}
	if !IsNameTaken(err) || MayHaveApplied(err) {
		t.Errorf("create of a taken name: %v; want a definite refusal for which IsNameTaken is true", err)
	}
	other.Name = first.Name
	err = a.c.UpdateQueue(ctx, other)
	if !IsNameTaken(err) {
		t.Errorf("rename onto a taken name: %v; want a refusal for which IsNameTaken is true", err)
	}
	qs, err := a.c.ListQueues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, q := range qs {
		if q.Name == first.Name {
			n++
			if q.ID != first.ID {
				t.Errorf("%s now has id %s, want %s", first.Name, q.ID, first.ID)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d queues named %s, want 1", n, first.Name)
	}
}
