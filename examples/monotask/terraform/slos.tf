# The plan's SLOs (issue #101, monitoring/slos.yaml), as examples/monotask/alerting_slos.flareops.hcl
# declares them: each compiles into multi-window multi-burn-rate rules (30d: 14.4x over
# 1h/5m and 6x over 6h/30m page on-call, 1x over 3d/6h opens a ticket in Slack), published
# in the ops KV namespace (the provider's ops_kv_namespace) for the monitoring Worker.
# "P95 under 200 ms" is 95 % of requests under 200 ms over a dataset's latency column.
#
# A dataset SLI filters on the dataset's named columns: Terraform passes them from the
# flareops_analytics_dataset resource, beside its name (the CLI finds them by reference).

locals {
  runbooks = "https://github.com/monotask/monotask/blob/main/monitoring/runbooks"
}

# API endpoint availability: 99.9 %.
resource "flareops_slo" "gateway_availability" {
  name      = "gateway_availability"
  objective = 99.9
  window    = "30d"
  worker_availability {
    script = "api-gateway-${var.env}"
  }
  page_to   = [flareops_alert_destination.oncall.id]
  ticket_to = [flareops_alert_destination.slack.id]
  runbook   = "${local.runbooks}/high-error-rate.md"
}

# Error rate under 1 %: server errors among the gateway's requests, health checks aside.
resource "flareops_slo" "api_errors" {
  name      = "api_errors"
  objective = 99
  window    = "30d"
  dataset_ratio {
    dataset = flareops_analytics_dataset.api.dataset
    good    = "status < 500"
    total   = "route != '/health'"
    dynamic "columns" {
      for_each = flareops_analytics_dataset.api.columns
      content {
        index   = columns.value.index
        blobs   = columns.value.blobs
        doubles = columns.value.doubles
      }
    }
  }
  page_to   = [flareops_alert_destination.oncall.id]
  ticket_to = [flareops_alert_destination.slack.id]
  runbook   = "${local.runbooks}/high-error-rate.md"
}

# API gateway: P95 under 200 ms.
resource "flareops_slo" "api_latency" {
  name      = "api_latency"
  objective = 95
  window    = "30d"
  dataset_latency {
    dataset   = flareops_analytics_dataset.api.dataset
    latency   = "latency_ms"
    threshold = 200
    dynamic "columns" {
      for_each = flareops_analytics_dataset.api.columns
      content {
        index   = columns.value.index
        blobs   = columns.value.blobs
        doubles = columns.value.doubles
      }
    }
  }
  page_to   = [flareops_alert_destination.oncall.id]
  ticket_to = [flareops_alert_destination.slack.id]
  runbook   = "${local.runbooks}/high-error-rate.md"
}

# Task operations: P95 under 500 ms.
resource "flareops_slo" "task_latency" {
  name      = "task_latency"
  objective = 95
  window    = "30d"
  dataset_latency {
    dataset   = flareops_analytics_dataset.tasks.dataset
    latency   = "latency_ms"
    threshold = 500
    dynamic "columns" {
      for_each = flareops_analytics_dataset.tasks.columns
      content {
        index   = columns.value.index
        blobs   = columns.value.blobs
        doubles = columns.value.doubles
      }
    }
  }
  page_to   = [flareops_alert_destination.oncall.id]
  ticket_to = [flareops_alert_destination.slack.id]
  runbook   = "${local.runbooks}/database-slow.md"
}

# Agent execution: P95 under 30 s.
resource "flareops_slo" "agent_latency" {
  name      = "agent_latency"
  objective = 95
  window    = "30d"
  dataset_latency {
    dataset   = flareops_analytics_dataset.agent.dataset
    latency   = "latency_ms"
    threshold = 30000
    filter    = "operation = 'execute'"
    dynamic "columns" {
      for_each = flareops_analytics_dataset.agent.columns
      content {
        index   = columns.value.index
        blobs   = columns.value.blobs
        doubles = columns.value.doubles
      }
    }
  }
  ticket_to = [flareops_alert_destination.slack.id]
  runbook   = "${local.runbooks}/agent-failures.md"
}

# Queue processing: P95 under 5 s.
resource "flareops_slo" "queue_processing" {
  name      = "queue_processing"
  objective = 95
  window    = "30d"
  dataset_latency {
    dataset   = flareops_analytics_dataset.queues.dataset
    latency   = "processing_ms"
    threshold = 5000
    dynamic "columns" {
      for_each = flareops_analytics_dataset.queues.columns
      content {
        index   = columns.value.index
        blobs   = columns.value.blobs
        doubles = columns.value.doubles
      }
    }
  }
  page_to   = [flareops_alert_destination.oncall.id]
  ticket_to = [flareops_alert_destination.slack.id]
  runbook   = "${local.runbooks}/queue-backup.md"
}
