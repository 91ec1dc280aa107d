package cli

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/monotask/flareops/emulator"
)

const renameDLQConfig = `queue "jobs" {
  name = "jobs"
  consumer {
    worker            = "w"
    dead_letter_queue = queue.dlq
  }
}

queue "dlq" {
  name = %q
  consumer {
    type = "http_pull"
  }
}
`

// TestRenamingADeadLetterQueue: renaming a queue that is another queue's dead-letter queue
// applies (the engine detaches it from the consumer, renames it and attaches it again), the
// plan says what happens to messages meanwhile, the message already in it stays, and the
// next plan has nothing to do.
func TestRenamingADeadLetterQueue(t *testing.T) {
	acct := newAccount(t, emulator.Options{})
	dir := t.TempDir()
	write := func(name string) {
		if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(fmt.Sprintf(renameDLQConfig, name)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("jobs-dlq")
	mustRun(t, 0, acct.env, "apply", "-auto-approve", "-dir", dir)

	ctx := context.Background()
	c := acct.client(t)
	queueID := func(name string) string {
		qs, err := c.ListQueues(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qs {
			if q.Name == name {
				return q.ID
			}
		}
		return ""
	}
	dlqID := queueID("jobs-dlq")
	// A message that failed earlier waits in the dead-letter queue.
	if _, err := c.Raw().Do(ctx, http.MethodPost, fmt.Sprintf("accounts/%s/queues/%s/messages", LocalAccountID, dlqID), nil,
		map[string]any{"body": "failed job 17", "content_type": "text"}, nil); err != nil {
		t.Fatal(err)
	}

	write("jobs-dead")
	plan := mustRun(t, 2, acct.env, "plan", "-detailed-exitcode", "-no-color", "-dir", dir)
	for _, want := range []string{
		`queue renamed "jobs-dlq" -> "jobs-dead" (same queue: its messages stay)`,
		"A consumer that uses it as its dead-letter queue is pointed at the new name",
		"is deleted, as with no dead-letter queue",
	} {
		if !strings.Contains(strings.Join(strings.Fields(plan), " "), want) {
			t.Errorf("the plan does not say %q:\n%s", want, plan)
		}
	}
	mustRun(t, 0, acct.env, "apply", "-auto-approve", "-dir", dir)
	mustRun(t, 0, acct.env, "plan", "-detailed-exitcode", "-dir", dir)

	if id := queueID("jobs-dead"); id != dlqID {
		t.Fatalf("the dead-letter queue is now id %q, want the same queue %s", id, dlqID)
	}
	qs, err := c.ListQueues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if q.Name == "jobs" && (len(q.Consumers) != 1 || q.Consumers[0].DeadLetterQueue != "jobs-dead") {
			t.Errorf("consumer of jobs: %+v, want dead_letter_queue jobs-dead", q.Consumers)
		}
	}
	var pulled struct {
		Messages []struct {
			Body string `json:"body"`
		} `json:"messages"`
	}
	if _, err := c.Raw().Do(ctx, http.MethodPost, fmt.Sprintf("accounts/%s/queues/%s/messages/pull", LocalAccountID, dlqID), nil,
		map[string]any{"batch_size": 10}, &pulled); err != nil {
		t.Fatal(err)
	}
	if len(pulled.Messages) != 1 || pulled.Messages[0].Body != "failed job 17" {
		t.Errorf("messages in the renamed dead-letter queue: %+v, want the one sent before", pulled.Messages)
	}
}
