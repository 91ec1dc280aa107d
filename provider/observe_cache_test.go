package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler"
)

// fakeKind is a kind whose Observe is a function field; the rest is the queue kind's.
type fakeKind struct {
	reconciler.QueueKind
	observe func(context.Context) ([]reconciler.Object, error)
}

func (k fakeKind) Observe(ctx context.Context) ([]reconciler.Object, error) { return k.observe(ctx) }

func TestObserveCache(t *testing.T) {
	objs := []reconciler.Object{{Key: "a", ID: "1"}, {Key: "b", ID: "2"}}
	var calls atomic.Int64
	release := make(chan struct{})
	k := fakeKind{observe: func(ctx context.Context) ([]reconciler.Object, error) {
		calls.Add(1)
		<-release
		return objs, nil
	}}
	c := newObserveCache(time.Minute)
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }

	// Reads that arrive while the first observation is in flight wait for it.
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			id := []string{"1", "2"}[i%2]
			if _, ok, err := c.byID(context.Background(), k, id); err != nil || !ok {
				t.Errorf("byID(%s) = %v, %v", id, ok, err)
			}
		}(i)
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("50 concurrent reads observed %d times, want 1", n)
	}

	if _, ok, _ := c.byKey(context.Background(), k, "b"); !ok {
		t.Error("byKey(b) not found")
	}
	if _, ok, _ := c.byID(context.Background(), k, "3"); ok {
		t.Error("byID(3) found")
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("later reads observed again: %d observations", n)
	}

	c.invalidate(k.Name())
	c.byID(context.Background(), k, "1")
	if n := calls.Load(); n != 2 {
		t.Errorf("after invalidate: %d observations, want 2", n)
	}

	now = now.Add(2 * time.Minute)
	c.byID(context.Background(), k, "1")
	if n := calls.Load(); n != 3 {
		t.Errorf("after the TTL: %d observations, want 3", n)
	}
}

func TestObserveCacheErrorsAreNotKept(t *testing.T) {
	fail := true
	k := fakeKind{observe: func(context.Context) ([]reconciler.Object, error) {
		if fail {
			return nil, errors.New("cannot list queues: HTTP 503")
		}
		return []reconciler.Object{{Key: "a", ID: "1"}}, nil
	}}
	c := newObserveCache(time.Minute)
	if _, _, err := c.byID(context.Background(), k, "1"); err == nil {
		t.Fatal("no error from a failed observation")
	}
	fail = false
	if _, ok, err := c.byID(context.Background(), k, "1"); err != nil || !ok {
		t.Fatalf("after a failure, byID = %v, %v; want a new observation", ok, err)
	}
}

// queuesConfig declares n queues: n/2 with a consumer whose DLQ is one of the other n/2.
func queuesConfig(tg *target, n int, extraProvider string) string {
	var b strings.Builder
	b.WriteString(strings.Replace(tg.providerBlock(), "}\n", extraProvider+"}\n", 1))
	for i := 0; i < n/2; i++ {
		fmt.Fprintf(&b, `
resource "flareops_queue" "dlq_%[1]d" {
  name              = "bench-%[1]d-dlq"
  message_retention = "14d"
}

resource "flareops_queue" "q_%[1]d" {
  name = "bench-%[1]d"
  consumer {
    worker            = "bench-worker"
    max_retries       = 3
    dead_letter_queue = flareops_queue.dlq_%[1]d.name
  }
}
`, i)
	}
	return b.String()
}

const listQueuesRoute = "GET /client/v4/accounts/{account_id}/queues"

// planCounts applies n queues, then counts the API requests of one refreshing plan of them.
func planCounts(t *testing.T, n int) (apply, plan emulator.Counts) {
	t.Helper()
	tg := newEmulatorTarget(t, emulator.Options{RateLimit: -1})
	cfg := queuesConfig(tg, n, "  rate_limit = \"1000000/1m\"\n")
	start := time.Now()
	var applied time.Duration
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6,
		Steps: []resource.TestStep{
			{Config: cfg, Check: func(*terraform.State) error {
				apply, applied = tg.srv.Counts(), time.Since(start)
				return nil
			}},
			// A plan-only step runs a plan without refresh (no reads) and one with.
			{PreConfig: tg.srv.ResetCounts, Config: cfg, PlanOnly: true},
			{PreConfig: func() { plan = tg.srv.Counts() }, Config: cfg, PlanOnly: true},
		},
	})
	t.Logf("%d queues: apply %v, %d requests %v; refreshing plan: %d requests %v",
		n, applied.Round(time.Millisecond), apply.Total, apply.ByRoute, plan.Total, plan.ByRoute)
	return apply, plan
}

// TestPlanListCallsIndependentOfCount proves that reads share one observation: a
// refreshing plan of 50 queues makes as many list calls as one of 10, and no GET per queue.
func TestPlanListCallsIndependentOfCount(t *testing.T) {
	_, small := planCounts(t, 10)
	_, large := planCounts(t, 50)
	if small.ByRoute[listQueuesRoute] != large.ByRoute[listQueuesRoute] {
		t.Errorf("list calls depend on the number of queues: %d for 10, %d for 50", small.ByRoute[listQueuesRoute], large.ByRoute[listQueuesRoute])
	}
	if large.Total != small.Total {
		t.Errorf("plan requests depend on the number of queues: %d for 10, %d for 50 (%v)", small.Total, large.Total, large.ByRoute)
	}
	if large.Total > 2 {
		t.Errorf("a plan of 50 queues made %d requests, want at most 2: %v", large.Total, large.ByRoute)
	}
}

// TestPlanListCallsBig is the same with 1,000 queues (500 with consumers, 500 DLQs).
// Opt in with FLAREOPS_BIG=1: it takes minutes.
func TestPlanListCallsBig(t *testing.T) {
	if os.Getenv("FLAREOPS_BIG") != "1" {
		t.Skip("set FLAREOPS_BIG=1 to plan 1,000 queues")
	}
	_, plan := planCounts(t, 1000)
	if plan.Total > 5 {
		t.Errorf("a plan of 1,000 queues made %d requests: %v", plan.Total, plan.ByRoute)
	}
}
