# A rule is imported by its notification policy's id or name.
terraform import flareops_alert_rule.worker_usage monotask-worker-usage
