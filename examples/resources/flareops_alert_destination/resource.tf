# Where the platform's alerts go. An email address is recorded only (Cloudflare has no
# object for it); the webhook is created, named "monotask-slack"; the PagerDuty service
# must already be linked to the account.
resource "flareops_alert_destination" "ops" {
  name  = "monotask-ops"
  email = "ops@monotask.dev"
}

variable "slack_webhook_secret" {
  type      = string
  sensitive = true
}

resource "flareops_alert_destination" "slack" {
  name = "monotask-slack"
  webhook {
    url    = "https://hooks.slack.com/services/T0000MONO/B0000ALRT/monotask-alerts"
    secret = var.slack_webhook_secret # TF_VAR_slack_webhook_secret
  }
}

resource "flareops_alert_destination" "oncall" {
  name      = "monotask-oncall"
  pagerduty = "monotask-oncall"
}
