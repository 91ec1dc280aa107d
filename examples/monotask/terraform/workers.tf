# Worker settings (the plan's "Configure log sampling rates" and performance sampling of
# 10% of requests): CPU limits, observability and Workers Logs on the Workers that serve
# requests. Their bindings, crons and other settings are kept as wrangler deployed them.
#
# The plan's log retention: the gateway's trace events (logs, exceptions, outcome per
# invocation) are pushed to the R2 bucket <prefix>-logs by a Logpush job, with R2
# credentials from sensitive variables; see docs/resources/worker_settings.md and examples/resources/flareops_worker_settings. On the
# built-in local Cloudflare the bucket is stood in and the demo credentials are accepted.

variable "logs_access_key_id" {
  type        = string
  sensitive   = true
  default     = "local-demo-only"
  description = "Access key id of an R2 API token that may write the logs bucket; set TF_VAR_logs_access_key_id (the default is for the local demo)."
}

variable "logs_secret_access_key" {
  type        = string
  sensitive   = true
  default     = "local-demo-only-change-me"
  description = "Its secret access key; set TF_VAR_logs_secret_access_key (the default is for the local demo)."
}

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

  logpush {
    bucket            = "monotask-${var.env}-logs"
    path              = "workers/api-gateway"
    access_key_id     = var.logs_access_key_id
    secret_access_key = var.logs_secret_access_key
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
