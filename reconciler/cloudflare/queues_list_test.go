package cloudflare

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
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

// cutAnswers cuts the body of the first `cuts` queue list answers after `after` bytes,
// as a connection dropped mid-answer does; other answers pass untouched.
type cutAnswers struct {
	next  http.RoundTripper
	after int
	mu    sync.Mutex
	cuts  int
	lists int
}

func (c *cutAnswers) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil || req.Method != http.MethodGet || !strings.HasSuffix(req.URL.Path, "/queues") {
		return resp, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lists++
	if c.cuts > 0 {
		c.cuts--
		resp.Body = &cutBody{ReadCloser: resp.Body, left: c.after}
	}
	return resp, nil
}

type cutBody struct {
	io.ReadCloser
	left int
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if len(p) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= n
	return n, err
}

// TestQueueListCutMidAnswerIsRetried: the queue list is decoded as it arrives, never held
// whole; a connection cut partway through it is retried like any failed GET, and a
// client that runs out of retries says the answer was cut, never returns half a list.
func TestQueueListCutMidAnswerIsRetried(t *testing.T) {
	ctx := context.Background()
	cut := &cutAnswers{next: http.DefaultTransport, after: 700, cuts: 2}
	c, _, _ := emulatorClient(t, emulator.Options{RateLimit: -1}, Config{Transport: cut, MaxRetries: 3})
	createQueues(t, c, "cut", 40, 4)
	got, err := c.ListQueues(ctx)
	if err != nil {
		t.Fatalf("list after two cut answers: %v", err)
	}
	if len(got) != 40 {
		t.Errorf("%d queues listed, want 40", len(got))
	}
	if cut.lists != 3 {
		t.Errorf("%d lists sent, want 3 (two cut, one whole)", cut.lists)
	}

	cut.mu.Lock()
	cut.cuts, cut.lists = 10, 0
	cut.mu.Unlock()
	got, err = c.ListQueues(ctx)
	if err == nil || got != nil {
		t.Fatalf("list with every answer cut: %d queues, err %v; want an error and no list", len(got), err)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("error %q does not say the answer was cut", err)
	}
	if cut.lists != 4 {
		t.Errorf("%d lists sent, want 4 (the first and 3 retries)", cut.lists)
	}
}
