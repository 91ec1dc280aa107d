# Agent jobs: calls to a rate-limited upstream API. Small batches, a 30-second delay
# between redeliveries and bounded concurrency; after 3 failed deliveries a message goes
# to the dead-letter queue instead of being dropped.
resource "flareops_queue" "agent_jobs" {
  name              = "monotask-production-agent-jobs"
  message_retention = "4d"

  consumer {
    worker            = "agent-worker"
    batch_size        = 5
    max_wait          = "5s"
    max_retries       = 3
    retry_delay       = "30s"
    max_concurrency   = 10
    dead_letter_queue = flareops_queue.agent_jobs_dlq.name
  }
}

# The dead-letter queue keeps failed messages for 14 days. They are inspected and replayed
# by hand through an HTTP pull consumer, so its batch size (5) and visibility timeout (30s)
# are the pull consumer's defaults.
resource "flareops_queue" "agent_jobs_dlq" {
  name              = "monotask-production-agent-jobs-dlq"
  message_retention = "14d"

  consumer {
    type = "http_pull"
  }
}
