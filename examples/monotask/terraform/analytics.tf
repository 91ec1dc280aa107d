# Metrics (the plan's "Configure Cloudflare Analytics": Analytics Engine in every Worker).
# One dataset per family of metrics; the column names are what alert rules and SLOs query.
# Each dataset is bound in the Workers that write it; their other bindings are kept.

locals {
  dataset_prefix = "monotask_${var.env}"
}

# API gateway requests: latency per route (P95 under 200 ms), status, outcome.
resource "flareops_analytics_dataset" "api" {
  dataset = "${local.dataset_prefix}_api"

  columns {
    index   = "tenant"
    blobs   = ["worker", "route", "method", "outcome"]
    doubles = ["status", "latency_ms", "cpu_ms"]
  }

  binding {
    worker = "api-gateway-${var.env}"
    name   = "API_METRICS"
  }
}

# Task operations (P95 under 500 ms) and D1 query time, from the gateway and the task worker.
resource "flareops_analytics_dataset" "tasks" {
  dataset = "${local.dataset_prefix}_tasks"

  columns {
    index   = "tenant"
    blobs   = ["service", "operation", "outcome"]
    doubles = ["status", "latency_ms", "d1_ms"]
  }

  binding {
    worker = "api-gateway-${var.env}"
    name   = "TASK_METRICS"
  }

  binding {
    worker = "task-worker-${var.env}"
    name   = "TASK_METRICS"
  }
}

# Agent execution (P95 under 30 s): model calls, tokens and sandbox provisioning time.
resource "flareops_analytics_dataset" "agent" {
  dataset = "${local.dataset_prefix}_agent"

  columns {
    index   = "tenant"
    blobs   = ["model", "operation", "outcome"]
    doubles = ["latency_ms", "input_tokens", "output_tokens", "sandbox_provision_ms"]
  }

  binding {
    worker = "agent-worker-${var.env}"
    name   = "AGENT_METRICS"
  }
}

# Queue processing (P95 under 5 s): per message, from every consumer.
resource "flareops_analytics_dataset" "queues" {
  dataset = "${local.dataset_prefix}_queues"

  columns {
    index   = "queue"
    blobs   = ["worker", "outcome", "error_class"]
    doubles = ["processing_ms", "attempt", "batch_size"]
  }

  binding {
    worker = "agent-worker-${var.env}"
    name   = "QUEUE_METRICS"
  }

  binding {
    worker = "task-worker-${var.env}"
    name   = "QUEUE_METRICS"
  }

  binding {
    worker = "github-worker-${var.env}"
    name   = "QUEUE_METRICS"
  }
}
