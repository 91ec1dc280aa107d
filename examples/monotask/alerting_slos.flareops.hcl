# The plan's SLOs (issue #101, monitoring/slos.yaml): each compiles into multi-window
# multi-burn-rate rules (30d: 14.4x over 1h/5m and 6x over 6h/30m page on-call, 1x over
# 3d/6h opens a ticket in Slack), published in the ops KV namespace for the monitoring
# Worker and evaluated by `flareops alerts check`; `flareops slo status` reports them.
# "P95 under 200 ms" is 95 % of requests under 200 ms over a dataset's latency column.

locals {
  runbooks = "https://github.com/monotask/monotask/blob/main/monitoring/runbooks"
}

# API endpoint availability: 99.9 %.
slo "gateway_availability" {
  objective = 99.9
  window    = "30d"
  worker_availability {
    script = "api-gateway-${var.env}"
  }
  page_to   = [alert_destination.oncall]
  ticket_to = [alert_destination.slack]
  runbook   = "${local.runbooks}/high-error-rate.md"
}

# Error rate under 1 %: server errors among the gateway's requests, health checks aside.
slo "api_errors" {
  objective = 99
  window    = "30d"
  dataset_ratio {
    dataset = analytics_dataset.api
    good    = "status < 500"
    total   = "route != '/health'"
  }
  page_to   = [alert_destination.oncall]
  ticket_to = [alert_destination.slack]
  runbook   = "${local.runbooks}/high-error-rate.md"
}

# API gateway: P95 under 200 ms.
slo "api_latency" {
  objective = 95
  window    = "30d"
  dataset_latency {
    dataset   = analytics_dataset.api
    latency   = "latency_ms"
    threshold = 200
  }
  page_to   = [alert_destination.oncall]
  ticket_to = [alert_destination.slack]
  runbook   = "${local.runbooks}/high-error-rate.md"
}

# Task operations: P95 under 500 ms.
slo "task_latency" {
  objective = 95
  window    = "30d"
  dataset_latency {
    dataset   = analytics_dataset.tasks
    latency   = "latency_ms"
    threshold = 500
  }
  page_to   = [alert_destination.oncall]
  ticket_to = [alert_destination.slack]
  runbook   = "${local.runbooks}/database-slow.md"
}

# Agent execution: P95 under 30 s.
slo "agent_latency" {
  objective = 95
  window    = "30d"
  dataset_latency {
    dataset   = analytics_dataset.agent
    latency   = "latency_ms"
    threshold = 30000
    filter    = "operation = 'execute'"
  }
  ticket_to = [alert_destination.slack]
  runbook   = "${local.runbooks}/agent-failures.md"
}

# Queue processing: P95 under 5 s.
slo "queue_processing" {
  objective = 95
  window    = "30d"
  dataset_latency {
    dataset   = analytics_dataset.queues
    latency   = "processing_ms"
    threshold = 5000
  }
  page_to   = [alert_destination.oncall]
  ticket_to = [alert_destination.slack]
  runbook   = "${local.runbooks}/queue-backup.md"
}
