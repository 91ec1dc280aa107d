package reconciler_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

// consumerQueue declares queue name with a consumer: a Worker's name, or "" for http_pull.
func consumerQueue(name, worker string) reconciler.Desired {
	c := reconciler.Values{"type": "http_pull"}
	if worker != "" {
		c = reconciler.Values{"type": "worker", "worker": worker}
	}
	return reconciler.Desired{
		Addr:   reconciler.Address{Kind: "queue", Name: name},
		Values: reconciler.Values{"name": name, "consumer": []reconciler.Values{c}},
		Source: "queues.flareops.hcl:7",
	}
}

// accountWithWorkers is an emulator with the given Workers deployed, and a client of it.
func accountWithWorkers(t *testing.T, workers ...string) *cloudflare.Client {
	t.Helper()
	srv, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	c, err := cloudflare.New(cloudflare.Config{BaseURL: hs.URL + emulator.APIPrefix, Token: "t", AccountID: benchAccount})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range workers {
		path := "/accounts/" + benchAccount + "/workers/scripts/" + w
		if _, err := c.Raw().DoRaw(context.Background(), "PUT", path, "application/javascript", []byte(`addEventListener("queue", () => {})`)); err != nil {
			t.Fatalf("deploy %s: %v", w, err)
		}
	}
	return c
}

func TestCheckLiveFindsMissingWorkers(t *testing.T) {
	c := accountWithWorkers(t, "agent-worker", "report-worker")
	reg, err := reconciler.NewRegistry(reconciler.QueueKind{API: c})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		desired  []reconciler.Desired
		standIn  bool
		problems []string
		notes    []string
		requests int64 // list calls made
	}{
		{
			name:     "every Worker exists",
			desired:  []reconciler.Desired{consumerQueue("a", "agent-worker"), consumerQueue("b", "report-worker")},
			requests: 1,
		},
		{
			name:    "a missing Worker, with the closest deployed name",
			desired: []reconciler.Desired{consumerQueue("a", "agent-wroker"), consumerQueue("b", "report-worker")},
			problems: []string{`queue.a (queues.flareops.hcl:7): the consumer's Worker "agent-wroker" does not exist in the account, and Cloudflare refuses a consumer without its Worker. Did you mean "agent-worker"? ` +
				`Deploy the Worker first (wrangler deploy), or correct worker to the name of a deployed Worker (names are case-sensitive; a Worker deployed to a wrangler environment is named <name>-<env>)`},
			requests: 1,
		},
		{
			name:     "the local Cloudflare stands in for missing Workers, once per Worker",
			desired:  []reconciler.Desired{consumerQueue("a", "billing-worker"), consumerQueue("b", "billing-worker"), consumerQueue("c", "agent-worker")},
			standIn:  true,
			notes:    []string{"the local Cloudflare stands in for Worker billing-worker, which does not exist there (used by queue.a, queue.b): apply creates a placeholder"},
			requests: 1,
		},
		{
			name:    "pull consumers and queues without consumers need no Worker, and no request",
			desired: []reconciler.Desired{consumerQueue("a", ""), {Addr: reconciler.Address{Kind: "queue", Name: "b"}, Values: reconciler.Values{"name": "b"}}},
		},
		{
			name:    "a block that does not build is the planner's to report",
			desired: []reconciler.Desired{{Addr: reconciler.Address{Kind: "queue", Name: "a"}, Values: reconciler.Values{"name": "a", "consumer": []reconciler.Values{{"type": "worker"}}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := c.Requests()
			problems, notes, err := reconciler.CheckLive(context.Background(), reg, tt.desired, tt.standIn)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.problems, problems); d != "" {
				t.Errorf("problems (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.notes, notes); d != "" {
				t.Errorf("notes (-want +got):\n%s", d)
			}
			if n := c.Requests() - before; n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
		})
	}
}

// scriptsAPI is a queue API whose script list is a function; nothing else is called.
type scriptsAPI struct {
	reconciler.QueueAPI
	list func() ([]cloudflare.Script, error)
}

func (a scriptsAPI) ListScripts(context.Context) ([]cloudflare.Script, error) { return a.list() }

func TestCheckLiveLookupFailures(t *testing.T) {
	desired := []reconciler.Desired{consumerQueue("a", "agent-worker")}
	check := func(api reconciler.QueueAPI) ([]string, error) {
		reg, err := reconciler.NewRegistry(reconciler.QueueKind{API: api})
		if err != nil {
			t.Fatal(err)
		}
		problems, _, err := reconciler.CheckLive(context.Background(), reg, desired, false)
		return problems, err
	}
	boom := errors.New("boom")
	if _, err := check(scriptsAPI{list: func() ([]cloudflare.Script, error) { return nil, boom }}); !errors.Is(err, boom) {
		t.Errorf("a failed list: err = %v, want it wrapped", err)
	}
	// An API that cannot list scripts (a test fake) checks nothing.
	if problems, err := check(struct{ reconciler.QueueAPI }{}); problems != nil || err != nil {
		t.Errorf("without a script list: %v, %v", problems, err)
	}
}
