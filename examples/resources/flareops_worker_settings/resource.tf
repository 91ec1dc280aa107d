variable "r2_access_key_id" {
  type      = string
  sensitive = true
}

variable "r2_secret_access_key" {
  type      = string
  sensitive = true
}

# The API gateway: a CPU limit, 10% of requests observed, Workers Logs, and its trace
# events pushed to R2 for retention. Its bindings, crons and other settings are kept.
resource "flareops_worker_settings" "api_gateway" {
  script = "monotask-api-gateway"
  cpu_ms = 50

  observability {
    enabled            = true
    head_sampling_rate = 0.1

    logs {
      invocation_logs = true
    }
  }

  logpush {
    bucket              = "monotask-logs"
    path                = "workers/api-gateway"
    max_upload_interval = "1m"
    filter              = jsonencode({ where = { key = "Outcome", operator = "neq", value = "canceled" } })
    access_key_id       = var.r2_access_key_id
    secret_access_key   = var.r2_secret_access_key
  }
}

# A Worker its team deploys with wrangler: the provider writes nothing to it, and every
# plan warns, with the wrangler.toml and wrangler.jsonc lines to add, while it lacks these.
resource "flareops_worker_settings" "sandbox" {
  script      = "monotask-sandbox"
  deployed_by = "wrangler"
  cpu_ms      = 300000
}
