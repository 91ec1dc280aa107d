# Alert when the account's Workers requests pass 10 million in the billing period, by
# email and on Slack (the destinations of the flareops_alert_destination example).
resource "flareops_alert_rule" "worker_usage" {
  name = "monotask-worker-usage"
  native {
    alert_type = "billing_usage_alert"
    filters    = { product = ["worker_requests"], limit = ["10000000"] }
  }
  to = [flareops_alert_destination.ops.id, flareops_alert_destination.slack.id]
}
