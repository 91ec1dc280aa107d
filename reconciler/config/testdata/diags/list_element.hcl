dataset "task_metrics" {
  dataset  = "monotask_task_metrics"
  sampling = 1.5

  columns {
    index   = "tenant"
    blobs   = ["service", "Route", "service"]
    doubles = ["status", 3, ["latency_ms"]]
  }
}
