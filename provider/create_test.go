package provider

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

// TestQueueCreateAfterTheRunsObservation: someone else makes the queue after the apply's
// shared observation was taken, just before the provider's create request reaches the
// API. The create does not list again; the API's name-taken answer refuses it, the error
// names the other queue's id and says to import it, and that queue is left exactly as its
// owner made it: nothing is taken over.
func TestQueueCreateAfterTheRunsObservation(t *testing.T) {
	srv, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		armed  bool
		theirs cloudflare.Queue
	)
	var base string
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fire := armed && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/queues")
		if fire {
			armed = false
		}
		mu.Unlock()
		if fire { // a colleague's create lands first
			c, err := cloudflare.New(cloudflare.Config{BaseURL: base, Token: "colleague", AccountID: testAccount})
			if err == nil {
				theirs, err = c.CreateQueue(r.Context(), "late")
			}
			if err == nil {
				theirs.MessageRetention = 60
				err = c.UpdateQueue(r.Context(), theirs)
			}
			if err != nil {
				t.Errorf("colleague's create: %v", err)
			}
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { hs.Close(); srv.Close(); pacers.Forget(base) })
	base = hs.URL + emulator.APIPrefix
	tg := &target{srv: srv, baseURL: base, token: "test-token", account: testAccount}

	var c oneError
	tg.run(t, resource.TestCase{
		ErrorCheck: c.check,
		Steps: []resource.TestStep{
			c.failStep(resource.TestStep{
				PreConfig: func() { mu.Lock(); armed = true; mu.Unlock() },
				Config:    queueConfig(tg, "late"),
			}, func() string {
				return `Error: A queue named "late" already exists.*` + atName + `"late".*already has a queue named "late" \(id [0-9a-f]{32}\).*terraform import`
			}),
		},
	})
	if c.hits != 1 {
		t.Fatalf("%d steps failed as expected, want 1", c.hits)
	}
	qs, err := tg.client(t).ListQueues(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, q := range qs {
		if q.Name == "late" {
			n++
			if q.ID != theirs.ID || q.MessageRetention != 60 || len(q.Consumers) != 0 {
				t.Errorf("the colleague's queue was changed: %+v, theirs %+v", q, theirs)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d queues named late, want the colleague's one", n)
	}
}

// TestQueueReplaceKeepingItsName: a tainted queue (or one given to -replace) is replaced
// under the same name. Terraform plans the create half with no prior state; the name's
// holder is the object the state manages, which the replacement deletes first, so the
// plan is no "already exists" error, and the apply makes a new queue under the name.
func TestQueueReplaceKeepingItsName(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	cfg := queueConfig(tg, "jobs")
	var first string
	tg.run(t, resource.TestCase{
		Steps: []resource.TestStep{
			{Config: cfg, Check: func(s *terraform.State) error {
				first = s.RootModule().Resources["flareops_queue.q"].Primary.ID
				return nil
			}},
			{
				Config: cfg,
				Taint:  []string{"flareops_queue.q"},
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("flareops_queue.q", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: func(s *terraform.State) error {
					id := s.RootModule().Resources["flareops_queue.q"].Primary.ID
					q, ok := tg.liveQueue(t, "jobs")
					if id == first || !ok || q.ID != id {
						t.Errorf("after the replacement: state id %s (was %s), live %+v (found %v)", id, first, q, ok)
					}
					return nil
				},
			},
			{Config: cfg, PlanOnly: true},
		},
	})
}
