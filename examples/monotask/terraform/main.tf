# The monotask platform ("Stage 3" plan) in Terraform form: the same queues and datasets as
# examples/monotask/*.flareops.hcl, with the same attribute names and values. A test
# applies both and checks that they make the same live objects.

# Agent jobs: Claude API calls. Slow and rate limited upstream, so small batches, a long
# retry delay (the plan's exponential 1s/2s/4s/8s backoff runs inside the handler; the
# queue-level delay spaces out whole redeliveries) and bounded concurrency.
resource "flareops_queue" "agent_jobs" {
  name              = "${local.prefix}-agent-jobs"
  delivery_delay    = "0s"
  message_retention = "4d"

  consumer {
    worker            = "agent-worker-${var.env}"
    batch_size        = 5
    max_wait          = "5s"
    max_retries       = local.max_retries
    retry_delay       = "30s"
    max_concurrency   = 10
    dead_letter_queue = flareops_queue.agent_jobs_dlq.name
  }
}

resource "flareops_queue" "agent_jobs_dlq" {
  name              = "${local.prefix}-agent-jobs-dlq"
  message_retention = "14d"

  # DLQ processing: inspected and replayed by hand through an HTTP pull consumer.
  consumer {
    type               = "http_pull"
    batch_size         = 10
    max_retries        = 3
    visibility_timeout = "5m"
  }

  lifecycle {
    prevent_destroy = true
  }
}

# Task state transitions: many small messages; batch them (the plan's "batch processing
# optimization") and let the platform scale concurrency.
resource "flareops_queue" "task_events" {
  name              = "${local.prefix}-task-events"
  message_retention = "4d"

  consumer {
    worker            = "task-worker-${var.env}"
    batch_size        = 50
    max_wait          = "2s"
    max_retries       = local.max_retries
    retry_delay       = "10s"
    dead_letter_queue = flareops_queue.task_events_dlq.name
  }
}

resource "flareops_queue" "task_events_dlq" {
  name              = "${local.prefix}-task-events-dlq"
  message_retention = "14d"

  lifecycle {
    prevent_destroy = true
  }
}

# GitHub webhook events: bursty; GitHub's API rate limits call for a longer retry delay
# and modest concurrency. Deduplication by delivery id happens in the handler.
resource "flareops_queue" "github_webhooks" {
  name              = "${local.prefix}-github-webhooks"
  message_retention = "4d"

  consumer {
    worker            = "github-worker-${var.env}"
    batch_size        = 10
    max_wait          = "5s"
    max_retries       = local.max_retries
    retry_delay       = "60s"
    max_concurrency   = 5
    dead_letter_queue = flareops_queue.github_webhooks_dlq.name
  }
}

resource "flareops_queue" "github_webhooks_dlq" {
  name              = "${local.prefix}-github-webhooks-dlq"
  message_retention = "14d"

  lifecycle {
    prevent_destroy = true
  }
}
