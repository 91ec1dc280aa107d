package reconciler

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Flatten is the inverse of Build: building what Flatten returns gives the same spec.
func TestQueueFlattenRoundTrip(t *testing.T) {
	k := QueueKind{}
	cases := map[string]Values{
		"no consumer": {"name": "q", "delivery_delay": int64(5), "message_retention": int64(60), "paused": true},
		"worker consumer": {"name": "q", "delivery_delay": int64(0), "message_retention": int64(345600), "paused": false, "consumer": []Values{{
			"type": "worker", "worker": "w", "batch_size": int64(20), "max_retries": int64(3), "retry_delay": int64(30),
			"max_wait": int64(2000), "max_concurrency": int64(7), "dead_letter_queue": RefValue{Name: "dlq"},
		}}},
		"pull consumer": {"name": "q", "delivery_delay": int64(0), "message_retention": int64(345600), "paused": false, "consumer": []Values{{
			"type": "http_pull", "max_retries": int64(0), "retry_delay": int64(0), "visibility_timeout": int64(60000),
		}}},
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) {
			obj, err := k.Build(v)
			if err != nil {
				t.Fatal(err)
			}
			again, err := k.Build(k.Flatten(obj.Spec))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(obj.Spec, again.Spec); diff != "" {
				t.Fatalf("(-built +rebuilt):\n%s", diff)
			}
		})
	}
}

func TestQueueBuildRejectsMisplacedSettings(t *testing.T) {
	cases := map[string]Values{
		"worker missing":           {"name": "q", "consumer": []Values{{"type": "worker"}}},
		"visibility on worker":     {"name": "q", "consumer": []Values{{"type": "worker", "worker": "w", "visibility_timeout": int64(1)}}},
		"max_wait on pull":         {"name": "q", "consumer": []Values{{"type": "http_pull", "max_wait": int64(1)}}},
		"dead letter queue itself": {"name": "q", "consumer": []Values{{"type": "worker", "worker": "w", "dead_letter_queue": RefValue{Name: "q"}}}},
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := (QueueKind{}).Build(v); err == nil {
				t.Fatal("Build accepted an invalid queue")
			}
		})
	}
}

// TestConsumersEncodeAsTheMapTheyReplaced: states and plan hashes written when a queue's
// consumers were a map read and hash the same now that they are a sorted slice.
func TestConsumersEncodeAsTheMapTheyReplaced(t *testing.T) {
	pull := ConsumerSpec{Type: "http_pull", BatchSize: 5, VisibilityTimeout: 30000}
	worker := ConsumerSpec{Type: "worker", Worker: "agent-worker", BatchSize: 10, MaxWait: 5000, DeadLetterQueue: "dlq"}
	odd := ConsumerSpec{Type: "worker", Worker: "a<b>&c\"d"}
	for _, c := range []struct {
		slice Consumers
		m     map[string]ConsumerSpec
	}{
		{nil, nil},
		{Consumers{}, map[string]ConsumerSpec{}},
		{Consumers{worker}, map[string]ConsumerSpec{"agent-worker": worker}},
		{Consumers{worker, pull}, map[string]ConsumerSpec{"agent-worker": worker, "http_pull": pull}},
		{Consumers{odd, worker}, map[string]ConsumerSpec{"a<b>&c\"d": odd, "agent-worker": worker}}, // escaped as the map's keys were
	} {
		got, err := json.Marshal(QueueSpec{Name: "q", Consumers: c.slice})
		if err != nil {
			t.Fatal(err)
		}
		type oldSpec struct {
			Name             string
			DeliveryDelay    int64
			MessageRetention int64
			Paused           bool
			Consumers        map[string]ConsumerSpec
		}
		want, _ := json.Marshal(oldSpec{Name: "q", Consumers: c.m})
		if string(got) != string(want) {
			t.Errorf("encoded %s, the map encoded %s", got, want)
		}
		var back QueueSpec
		if err := json.Unmarshal(want, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back.Consumers, c.slice) {
			t.Errorf("%s read back as %#v, want %#v", want, back.Consumers, c.slice)
		}
	}
	var cs Consumers
	cs.Put(pull)
	cs.Put(worker)
	cs.Put(ConsumerSpec{Type: "worker", Worker: "agent-worker", BatchSize: 1})
	if len(cs) != 2 || cs[0].Worker != "agent-worker" || cs[0].BatchSize != 1 || cs[1].Type != "http_pull" {
		t.Errorf("Put keeps one consumer per key, in key order: %+v", cs)
	}
}
