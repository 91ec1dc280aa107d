# Alerting (the plan's issue #101): where alerts go (email, the team's Slack webhook,
# PagerDuty for what must wake someone up) and the Cloudflare-native alerts of the
# platform's account, each a notification policy.

variable "slack_webhook_url" {
  type        = string
  default     = "https://hooks.slack.com/services/T0000MONO/B0000ALRT/monotask-alerts"
  description = "The Slack incoming-webhook URL of the #monotask-alerts channel."
}

variable "slack_webhook_secret" {
  type        = string
  sensitive   = true
  default     = "local-demo-only-change-me"
  description = "Secret Cloudflare sends in the cf-webhook-auth header; set FLAREOPS_VAR_slack_webhook_secret (the default is for the local demo)."
}

# Names carry the environment: staging and prod share one account.
alert_destination "ops" {
  name  = "${local.prefix}-ops"
  email = "ops@monotask.dev"
}

alert_destination "slack" {
  name = "${local.prefix}-slack"
  webhook {
    url    = var.slack_webhook_url
    secret = var.slack_webhook_secret
  }
}

alert_destination "oncall" {
  name      = "${local.prefix}-oncall"
  pagerduty = "monotask-oncall" # an existing PagerDuty service linked to the account
}

# Workers requests past the plan's monthly budget: billing, not an outage; email and Slack.
alert_rule "worker_usage" {
  name = "${local.prefix}-worker-usage"
  native {
    alert_type = "billing_usage_alert"
    filters    = { product = ["worker_requests"], limit = ["10000000"] }
  }
  to = [alert_destination.ops, alert_destination.slack]
}

# The log pipeline (Logpush of the Workers' trace events to R2, see workers.flareops.hcl)
# stopped: logs are being lost, someone must look now.
alert_rule "logpush_disabled" {
  name = "${local.prefix}-logpush-disabled"
  native {
    alert_type = "failing_logpush_job_disabled_alert"
  }
  to = [alert_destination.oncall, alert_destination.slack]
}

# A Cloudflare incident may explain what the platform's own alerts show.
alert_rule "cloudflare_incidents" {
  name = "${local.prefix}-cloudflare-incidents"
  native {
    alert_type = "incident_alert"
  }
  to = [alert_destination.slack]
}

# The agent queue backs up (the plan's queue depth alerts, deduplicated): a ticket when
# more than 1,000 jobs have waited for 10 minutes, at most one an hour. A metric rule: its
# document is published in the ops KV namespace for the platform's monitoring Worker, and
# `flareops alerts check` evaluates it now.
alert_rule "agent_backlog" {
  queue_backlog {
    queue = queue.agent_jobs
  }
  above    = 1000
  for      = "10m"
  severity = "ticket"
  dedup    = "1h"
  runbook  = "https://github.com/monotask/monotask/blob/main/monitoring/runbooks/queue-backup.md"
  to       = [alert_destination.slack]
}
