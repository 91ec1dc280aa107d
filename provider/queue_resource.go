package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/monotask/flareops/reconciler"
)

// flareops_queue: a queue, its settings and its consumer, which may name a dead-letter
// queue. The kind is the engine's reconciler.QueueKind; this file holds only what the
// Terraform side adds to it.

// queueFilled are the queue attributes whose default depends on the consumer's type, so
// the engine fills them in Build: batch_size (10 for worker, 5 for http_pull), max_wait
// (5s, worker only) and visibility_timeout (30s, http_pull only). TestEngineFilled checks
// this list against the engine.
var queueFilled = map[string]bool{
	"consumer.batch_size":         true,
	"consumer.max_wait":           true,
	"consumer.visibility_timeout": true,
}

// queueTexts say in Terraform's terms what the engine's descriptions say in the CLI's.
var queueTexts = map[string]string{
	"consumer.dead_letter_queue": "Name of the queue that receives messages after `max_retries` failed deliveries: usually `flareops_queue.<name>.name`, " +
		"or the name of a queue managed elsewhere (see the `flareops_queue` data source). Unset: such messages are dropped.",
}

const queueDescription = "A Cloudflare Queue with its settings and its consumer: a Worker (push) or an HTTP pull consumer, " +
	"with batching, retries and an optional dead-letter queue.\n\n" +
	"The same kind as the `queue` block of the `flareops` CLI, with the same attribute names, defaults and validation. " +
	"Durations are written as in the CLI (`\"30s\"`, `\"5m\"`, `\"4d\"`); a duration spelled differently but equal (`\"60s\"` and `\"1m\"`) is not a change. " +
	"A dead-letter queue is another queue, named by its `name`: `dead_letter_queue = flareops_queue.jobs_dlq.name`.\n\n" +
	"Reads list every queue of the account in one request, shared by all `flareops_queue` resources of a run, so a plan costs the same few requests however many queues it covers."

// NewQueueResource is the flareops_queue resource.
func NewQueueResource() resource.Resource {
	return &kindResource{
		schemaKind:  reconciler.QueueKind{},
		description: queueDescription,
		filled:      queueFilled,
		texts:       queueTexts,
	}
}
