# Worker settings (the plan's "Configure log sampling rates" and performance sampling of
# 10% of requests): CPU limits, observability and Workers Logs on the Workers that serve
# requests. Their bindings, crons and other settings are kept as wrangler deployed them.
#
# The plan's log retention (Logpush of trace events to an R2 bucket) is a `logpush` block
# here, with the R2 credentials from variables; see docs/resources/worker_settings.md and examples/resources/flareops_worker_settings. It is
# left out of this example so that `make demo` needs no credentials.

resource "flareops_worker_settings" "api_gateway" {
  script = "api-gateway-${var.env}"
  cpu_ms = 50 # the gateway routes; heavy work is queued (P95 under 200 ms)

  observability {
    enabled            = true
    head_sampling_rate = 0.1

    logs {
      enabled            = true
      invocation_logs    = true
      head_sampling_rate = 1
    }
  }
}

resource "flareops_worker_settings" "task_worker" {
  script = "task-worker-${var.env}"
  cpu_ms = 500

  observability {
    enabled            = true
    head_sampling_rate = 0.1
  }
}
