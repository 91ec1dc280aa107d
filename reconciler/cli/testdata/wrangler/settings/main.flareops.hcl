# flareops writes the task Worker's CPU limit, which its wrangler.toml declares too.
worker_settings "task" {
  script = "task-worker"
  cpu_ms = 50
}

# The agent Worker's settings are deployed by wrangler: flareops only checks them, so its
# wrangler.jsonc is where they belong.
worker_settings "agent" {
  script      = "agent-worker"
  deployed_by = "wrangler"
  cpu_ms      = 300000
  observability {
    head_sampling_rate = 0.5
  }
}
