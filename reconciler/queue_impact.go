package reconciler

import (
	"fmt"
	"strings"
	"time"
)

// Impact says what a queue change does to messages, for the reviewer of a plan.
func (QueueKind) Impact(action Action, f FieldChange, live, desired any) string {
	have, _ := live.(QueueSpec)
	want, _ := desired.(QueueSpec)
	switch action {
	case Create:
		return ""
	case Delete:
		if f.Field == "name" {
			return fmt.Sprintf("queue %s is deleted with every message still in it", f.Old)
		}
		return ""
	}
	consumerKey := consumerKeyOf(f.Path)
	if consumerKey == "" {
		return queueFieldImpact(f)
	}
	w, inWant := want.Consumers.Get(consumerKey)
	h, inHave := have.Consumers.Get(consumerKey)
	switch {
	case !inWant && inHave && f.Field == "type":
		return fmt.Sprintf("consumer %q is removed: messages accumulate until %s retention expires, unless another consumer takes over", consumerKey, FormatDuration(time.Duration(want.MessageRetention)*time.Second))
	case inWant && !inHave && f.Field == "type":
		return fmt.Sprintf("consumer %q starts receiving messages", consumerKey)
	case !inWant || !inHave:
		return ""
	}
	return consumerFieldImpact(f, h, w)
}

func consumerKeyOf(path string) string {
	rest, ok := strings.CutPrefix(path, "consumer[\"")
	if !ok {
		return ""
	}
	key, _, _ := strings.Cut(rest, "\"]")
	return key
}

func queueFieldImpact(f FieldChange) string {
	switch f.Field {
	case "name":
		return fmt.Sprintf("queue renamed %s -> %s (same queue: its messages stay): producers and consumers bound by the old name must be redeployed. "+
			"A consumer that uses it as its dead-letter queue is pointed at the new name: it is detached first and attached again after the rename, "+
			"and a message that fails its last retry on that consumer in between (a few API calls) is deleted, as with no dead-letter queue", f.Old, f.New)
	case "paused":
		if f.NewRaw == true {
			return "delivery is paused: messages accumulate and nothing is consumed until paused = false"
		}
		return "delivery resumes: the backlog is delivered to consumers"
	case "message_retention":
		if less(f) {
			return fmt.Sprintf("undelivered messages are kept %s instead of %s: older ones are lost sooner", f.New, f.Old)
		}
	case "delivery_delay":
		return fmt.Sprintf("every message waits %s before delivery (was %s)", f.New, f.Old)
	}
	return ""
}

func consumerFieldImpact(f FieldChange, h, w ConsumerSpec) string {
	fate := "dropped"
	if w.DeadLetterQueue != "" {
		fate = "sent to dead-letter queue " + w.DeadLetterQueue
	}
	switch f.Field {
	case "max_retries":
		if w.MaxRetries == 0 {
			return fmt.Sprintf("max_retries %s -> 0: failed messages are %s at once, with no retry", f.Old, fate)
		}
		if less(f) {
			return fmt.Sprintf("failed messages are %s after %d retries instead of %d", fate, w.MaxRetries, h.MaxRetries)
		}
		return fmt.Sprintf("failed messages are retried up to %d times (was %d) before being %s", w.MaxRetries, h.MaxRetries, fate)
	case "dead_letter_queue":
		switch {
		case w.DeadLetterQueue == "":
			return fmt.Sprintf("DLQ removed: messages are dropped after %d retries", w.MaxRetries)
		case h.DeadLetterQueue == "":
			return fmt.Sprintf("failed messages go to %s after %d retries instead of being dropped", w.DeadLetterQueue, w.MaxRetries)
		default:
			return fmt.Sprintf("failed messages go to %s instead of %s", w.DeadLetterQueue, h.DeadLetterQueue)
		}
	case "worker":
		return fmt.Sprintf("messages are delivered to Worker %s instead of %s", f.New, f.Old)
	case "max_concurrency":
		if w.MaxConcurrency == 0 {
			return "consumer concurrency is automatic (up to the platform maximum)"
		}
		if less(f) || h.MaxConcurrency == 0 {
			return fmt.Sprintf("at most %d consumer invocations run at once: throughput may drop and backlog grow", w.MaxConcurrency)
		}
	case "batch_size":
		return fmt.Sprintf("consumer receives batches of up to %d messages (was %d)", w.BatchSize, h.BatchSize)
	case "retry_delay":
		return fmt.Sprintf("failed messages wait %s before a retry (was %s)", f.New, f.Old)
	case "visibility_timeout":
		return fmt.Sprintf("a pulled message is redelivered if not acknowledged within %s (was %s)", f.New, f.Old)
	}
	return ""
}

// less reports whether a numeric field decreased.
func less(f FieldChange) bool {
	o, ok1 := f.OldRaw.(int64)
	n, ok2 := f.NewRaw.(int64)
	return ok1 && ok2 && n < o
}
