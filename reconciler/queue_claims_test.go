package reconciler

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestQueueClaims(t *testing.T) {
	tests := []struct {
		name string
		v    Values
		want []Claim
	}{
		{"worker consumer", Values{"name": "jobs", "consumer": []Values{{"type": "worker", "worker": "task-worker"}}},
			[]Claim{{Worker: "task-worker", What: "queue consumer of jobs"}}},
		{"type left to its default", Values{"name": "jobs", "consumer": []Values{{"worker": "task-worker"}}},
			[]Claim{{Worker: "task-worker", What: "queue consumer of jobs"}}},
		{"http_pull consumer", Values{"name": "jobs", "consumer": []Values{{"type": "http_pull"}}}, nil},
		{"no consumer", Values{"name": "jobs"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, QueueKind{}.Claims(tt.v)); d != "" {
				t.Errorf("Claims (-want +got):\n%s", d)
			}
		})
	}
}

// The What forms are what `validate -wrangler` matches wrangler's declarations against:
// they must not change unnoticed.
func TestClaimWhat(t *testing.T) {
	got := []string{BindingClaim("TASK_METRICS"), CronClaim(" */5  * * * *"), QueueConsumerClaim("monotask-jobs")}
	want := []string{"binding TASK_METRICS", "cron */5 * * * *", "queue consumer of monotask-jobs"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("What forms (-want +got):\n%s", d)
	}
}
