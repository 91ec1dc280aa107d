package cloudflare

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/monotask/flareops/emulator"
)

const (
	routeQueues    = "POST /client/v4/accounts/{account_id}/queues"
	routeQueueList = "GET /client/v4/accounts/{account_id}/queues"
	routeConsumers = "POST /client/v4/accounts/{account_id}/queues/{queue_id}/consumers"
)

// fastBackoff makes retry backoff negligible for the test.
func fastBackoff(t *testing.T) {
	old := backoffBase
	backoffBase = time.Millisecond
	t.Cleanup(func() { backoffBase = old })
}

// A create is sent once: after a lost answer or a server error the caller learns that
// it may have happened, and nothing is re-sent behind its back.
func TestCreateQueueIsNotRetriedBlindly(t *testing.T) {
	fastBackoff(t)
	tests := []struct {
		name    string
		faults  emulator.RouteFaults
		created bool // whether the emulator did the work
	}{
		{"answer lost after the queue was created", emulator.RouteFaults{DropRate: 1}, true},
		{"server error", emulator.RouteFaults{FailRate: 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv, _ := emulatorClient(t, emulator.Options{RateLimit: -1}, Config{})
			srv.SetFaults(emulator.Faults{Routes: map[string]emulator.RouteFaults{routeQueues: tt.faults}})
			start := time.Now()
			_, err := c.CreateQueue(context.Background(), "jobs")
			var amb *AmbiguousError
			if !errors.As(err, &amb) || !MayHaveApplied(err) || IsNameTaken(err) {
				t.Fatalf("CreateQueue = %v; want an *AmbiguousError", err)
			}
			if want := `create queue "jobs"`; amb.Op != want {
				t.Errorf("Op = %q, want %q", amb.Op, want)
			}
			if n := srv.Counts().ByRoute[routeQueues]; n != 1 {
				t.Errorf("the create was sent %d times, want once", n)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("a failed create took %v", d)
			}
			srv.SetFaults(emulator.Faults{})
			qs, err := c.ListQueues(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := len(qs) == 1; got != tt.created {
				t.Errorf("queue exists = %v, want %v", got, tt.created)
			}
		})
	}
}

// 429 is a definite "not processed": a create waits and is sent again.
func TestCreateQueueRetries429(t *testing.T) {
	c, srv, _ := emulatorClient(t, emulator.Options{RateLimit: -1}, Config{})
	srv.SetFaults(emulator.Faults{Burst429: 2})
	if _, err := c.CreateQueue(context.Background(), "jobs"); err != nil {
		t.Fatalf("CreateQueue after two 429s = %v, want success", err)
	}
	if n := srv.Counts().ByRoute[routeQueues]; n != 3 {
		t.Errorf("sent %d times, want 3", n)
	}
}

// Reads are retried after server errors and dropped connections.
func TestIdempotentCallsRetry(t *testing.T) {
	fastBackoff(t)
	for _, faults := range []emulator.RouteFaults{{FailRate: 1}, {DropRate: 1}} {
		t.Run(fmt.Sprintf("%+v", faults), func(t *testing.T) {
			c, srv, _ := emulatorClient(t, emulator.Options{RateLimit: -1}, Config{MaxRetries: 2})
			srv.SetFaults(emulator.Faults{Routes: map[string]emulator.RouteFaults{routeQueueList: faults}})
			_, err := c.ListQueues(context.Background())
			if err == nil {
				t.Fatal("ListQueues succeeded against a failing server")
			}
			var amb *AmbiguousError
			if errors.As(err, &amb) {
				t.Errorf("a read failed with %v, want no *AmbiguousError", err)
			}
			if n := srv.Counts().ByRoute[routeQueueList]; n != 3 {
				t.Errorf("sent %d times, want 3 (1 + 2 retries)", n)
			}
		})
	}
}

func TestCreateErrors(t *testing.T) {
	c, srv, _ := emulatorClient(t, emulator.Options{RateLimit: -1, RequireConsumerScripts: true}, Config{})
	ctx := context.Background()
	q, err := c.CreateQueue(ctx, "jobs")
	if err != nil {
		t.Fatal(err)
	}

	_, err = c.CreateQueue(ctx, "jobs")
	if !IsNameTaken(err) || MayHaveApplied(err) {
		t.Errorf("second CreateQueue = %v; want a definite name-taken error", err)
	}
	if want := `cannot create queue "jobs": HTTP 400: 11009 queue name already taken`; err == nil || err.Error() != want {
		t.Errorf("error text = %q, want %q", err, want)
	}

	con := Consumer{Type: "worker", Script: "agent-worker", BatchSize: 10, MaxRetries: 3, MaxWaitMs: 5000}
	_, err = c.CreateConsumer(ctx, q.ID, con)
	if !IsScriptNotFound(err) || MayHaveApplied(err) {
		t.Errorf("consumer of a missing Worker = %v; want a definite script-not-found error", err)
	}
	if err := c.UploadScript(ctx, "agent-worker", "export default { async queue(batch) {} }"); err != nil {
		t.Fatal(err)
	}
	got, err := c.CreateConsumer(ctx, q.ID, con)
	if err != nil || got.Script != "agent-worker" {
		t.Fatalf("consumer of an uploaded Worker = %+v, %v", got, err)
	}
	scripts, err := c.ListScripts(ctx)
	if err != nil || len(scripts) != 1 || scripts[0].Name != "agent-worker" || !scripts[0].HasModules {
		t.Errorf("ListScripts = %+v, %v; want the uploaded module Worker", scripts, err)
	}

	// A consumer create whose answer is lost is ambiguous too.
	q2, err := c.CreateQueue(ctx, "events")
	if err != nil {
		t.Fatal(err)
	}
	srv.SetFaults(emulator.Faults{Routes: map[string]emulator.RouteFaults{routeConsumers: {DropRate: 1}}})
	_, err = c.CreateConsumer(ctx, q2.ID, con)
	var amb *AmbiguousError
	if !errors.As(err, &amb) || amb.Op != fmt.Sprintf(`create worker consumer "agent-worker" on queue %s`, q2.ID) {
		t.Errorf("CreateConsumer with a lost answer = %v; want an *AmbiguousError", err)
	}
}

func TestMayHaveApplied(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"ambiguous", &AmbiguousError{Op: "create queue", Err: errors.New("EOF")}, true},
		{"refused", fmt.Errorf("cannot create: %w", &APIError{Status: 400, Codes: []int{11009}}), false},
		{"rate limited", &APIError{Status: http.StatusTooManyRequests}, false},
		{"server error", &APIError{Status: 503}, true},
		{"transport error", errors.New("connection reset by peer"), true},
		{"never sent", &notSentError{context.Canceled}, false},
		{"cancelled in flight", context.Canceled, true},
	}
	for _, tt := range tests {
		if got := MayHaveApplied(tt.err); got != tt.want {
			t.Errorf("%s: MayHaveApplied(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestAPIErrorText(t *testing.T) {
	tests := []struct {
		err  *APIError
		want string
	}{
		{&APIError{Status: 400, Codes: []int{11009}, Messages: []string{"queue name already taken"}}, "HTTP 400: 11009 queue name already taken"},
		{&APIError{Status: 404, Codes: []int{7003, 7000}, Messages: []string{"Could not route", "No route for that URI"}}, "HTTP 404: 7003 Could not route; 7000 No route for that URI"},
		{&APIError{Status: 502, Codes: []int{0}, Messages: []string{"bad gateway"}}, "HTTP 502: bad gateway"},
		{&APIError{Status: 503}, "HTTP 503"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	amb := &AmbiguousError{Op: `create queue "jobs"`, Err: &APIError{Status: 503, Codes: []int{15000}, Messages: []string{"Internal error"}}}
	if want := `cannot tell whether create queue "jobs" took effect (no definite answer): HTTP 503: 15000 Internal error`; amb.Error() != want {
		t.Errorf("AmbiguousError text = %q, want %q", amb.Error(), want)
	}
}
