package reconciler

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// References between declarations come from the configuration (reference attributes,
// labelled by their role, and other dependencies as "refers to"); objects outside it
// from the kinds (Referrer). A name that is a declared object's key links to it.
func TestBuildGraph(t *testing.T) {
	reg := KindsWith(nil, Settings{OpsKVNamespace: "ops"})
	queue := func(name string, consumers ...Values) Values {
		v := Values{"name": name, "message_retention": int64(345600)}
		if len(consumers) > 0 {
			v["consumer"] = consumers
		}
		return v
	}
	desired := []Desired{
		{Addr: Address{"queue", "jobs"}, Values: queue("jobs", Values{"type": "worker", "worker": "jobs-worker", "batch_size": int64(10), "max_retries": int64(3), "dead_letter_queue": RefValue{Address: "queue.dlq", Name: "dlq"}})},
		{Addr: Address{"queue", "dlq"}, Values: queue("dlq")},
		// A dead-letter queue by name: the declared one, and one outside the configuration.
		{Addr: Address{"queue", "events"}, Values: queue("events", Values{"type": "worker", "worker": "events-worker", "batch_size": int64(10), "max_retries": int64(3), "dead_letter_queue": RefValue{Name: "dlq"}})},
		{Addr: Address{"queue", "audit"}, Values: queue("audit", Values{"type": "http_pull", "batch_size": int64(10), "max_retries": int64(3), "dead_letter_queue": RefValue{Name: "legacy-dlq"}})},
		// A reference through a local value: no attribute says what it is.
		{Addr: Address{"queue", "copy"}, Values: queue("dlq-copy"), Deps: []Address{{"queue", "dlq"}}},
	}
	plan := &Plan{Changes: []Change{
		{Address: "queue.jobs", Action: Update},
		{Address: "queue.gone", Kind: "queue", Name: "gone", LiveKey: "gone", Action: Delete},
	}}
	g := BuildGraph(reg, desired, GraphOptions{Plan: plan})
	wantEdges := []GraphEdge{
		{"queue.audit", "queue:legacy-dlq", "dead-letter queue"},
		{"queue.copy", "queue.dlq", "refers to"},
		{"queue.events", "queue.dlq", "dead-letter queue"},
		{"queue.events", "worker:events-worker", "consumer"},
		{"queue.jobs", "queue.dlq", "dead-letter queue"},
		{"queue.jobs", "worker:jobs-worker", "consumer"},
	}
	if diff := cmp.Diff(wantEdges, g.Edges); diff != "" {
		t.Errorf("edges (-want +got):\n%s", diff)
	}
	var ids []string
	actions := map[string]Action{}
	for _, n := range g.Nodes {
		ids = append(ids, n.ID)
		actions[n.ID] = n.Action
	}
	wantIDs := []string{"queue.audit", "queue.copy", "queue.dlq", "queue.events", "queue.gone", "queue.jobs", "queue:legacy-dlq", "worker:events-worker", "worker:jobs-worker"}
	if diff := cmp.Diff(wantIDs, ids); diff != "" {
		t.Errorf("nodes (-want +got):\n%s", diff)
	}
	if actions["queue.jobs"] != Update || actions["queue.gone"] != Delete || actions["queue.dlq"] != "" {
		t.Errorf("actions: %v", actions)
	}
}
