package reconciler

import (
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
