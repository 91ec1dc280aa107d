# Task metrics written by two Workers: each gets an analytics_engine binding named
# TASK_METRICS; their other bindings are kept.
resource "flareops_analytics_dataset" "task_metrics" {
  dataset = "monotask_task_metrics"

  columns {
    index   = "tenant"
    blobs   = ["service", "route", "outcome"]
    doubles = ["status", "latency_ms"]
  }

  binding {
    worker = "monotask-api-gateway"
    name   = "TASK_METRICS"
  }

  binding {
    worker = "monotask-task-worker"
    name   = "TASK_METRICS"
  }
}
