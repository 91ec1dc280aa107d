# Error rate under 1 % over 30 days: server errors among the API's requests, health checks
# aside. The dataset SLI filters on the dataset's named columns, so it is given them from
# the flareops_analytics_dataset resource (the flareops_analytics_dataset example).
resource "flareops_slo" "api_errors" {
  name      = "api_errors"
  objective = 99
  window    = "30d"

  dataset_ratio {
    dataset = flareops_analytics_dataset.task_metrics.dataset
    good    = "status < 500"
    total   = "route != '/health'"

    dynamic "columns" {
      for_each = flareops_analytics_dataset.task_metrics.columns
      content {
        index   = columns.value.index
        blobs   = columns.value.blobs
        doubles = columns.value.doubles
      }
    }
  }

  page_to   = [flareops_alert_destination.ops.id]
  ticket_to = [flareops_alert_destination.slack.id]
  runbook   = "https://runbooks.example/api-errors"
}

# Gateway availability: 99.9 % of its invocations end well (Cloudflare's Workers analytics).
resource "flareops_slo" "gateway_availability" {
  name      = "gateway_availability"
  objective = 99.9

  worker_availability {
    script = "monotask-api-gateway"
  }

  page_to = [flareops_alert_destination.ops.id]
}
