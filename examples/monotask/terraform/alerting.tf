# Alerting (the plan's issue #101), as examples/monotask/alerting.flareops.hcl declares it:
# where alerts go and the Cloudflare-native alerts of the account. Rules name their
# destinations by id.

variable "slack_webhook_url" {
  type        = string
  default     = "https://hooks.slack.com/services/T0000MONO/B0000ALRT/monotask-alerts"
  description = "The Slack incoming-webhook URL of the #monotask-alerts channel."
}

variable "slack_webhook_secret" {
  type        = string
  sensitive   = true
  default     = "local-demo-only-change-me"
  description = "Secret Cloudflare sends in the cf-webhook-auth header; set TF_VAR_slack_webhook_secret (the default is for the local demo)."
}

resource "flareops_alert_destination" "ops" {
  name  = "${local.prefix}-ops"
  email = "ops@monotask.dev"
}

resource "flareops_alert_destination" "slack" {
  name = "${local.prefix}-slack"
  webhook {
    url    = var.slack_webhook_url
    secret = var.slack_webhook_secret
  }
}

resource "flareops_alert_destination" "oncall" {
  name      = "${local.prefix}-oncall"
  pagerduty = "monotask-oncall"
}

resource "flareops_alert_rule" "worker_usage" {
  name = "${local.prefix}-worker-usage"
  native {
    alert_type = "billing_usage_alert"
    filters    = { product = ["worker_requests"], limit = ["10000000"] }
  }
  to = [flareops_alert_destination.ops.id, flareops_alert_destination.slack.id]
}

resource "flareops_alert_rule" "logpush_disabled" {
  name = "${local.prefix}-logpush-disabled"
  native {
    alert_type = "failing_logpush_job_disabled_alert"
  }
  to = [flareops_alert_destination.oncall.id, flareops_alert_destination.slack.id]
}

resource "flareops_alert_rule" "cloudflare_incidents" {
  name = "${local.prefix}-cloudflare-incidents"
  native {
    alert_type = "incident_alert"
  }
  to = [flareops_alert_destination.slack.id]
}

# The agent queue backs up: a ticket when more than 1,000 jobs have waited for 10 minutes,
# at most one an hour (a metric rule, published in the ops KV namespace).
resource "flareops_alert_rule" "agent_backlog" {
  name = "agent_backlog"
  queue_backlog {
    queue = flareops_queue.agent_jobs.name
  }
  above    = 1000
  for      = "10m"
  severity = "ticket"
  dedup    = "1h"
  runbook  = "https://github.com/monotask/monotask/blob/main/monitoring/runbooks/queue-backup.md"
  to       = [flareops_alert_destination.slack.id]
}
