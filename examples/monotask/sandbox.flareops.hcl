# Sandbox provisioning (the plan's issue #100): agent executions run in sandboxes managed
# by the SandboxLifecycle Durable Object in the agent Worker. flareops sets the Worker's
# CPU limit, the scheduled cleanup of orphaned sandboxes every 5 minutes, the container
# application's size and scale, and publishes the timeouts as the policy document the
# lifecycle code reads at runtime (in the ops KV namespace below).

flareops {
  ops_kv_namespace = "${local.prefix}-ops"
}

sandbox "agent" {
  name              = "agent"
  worker            = "agent-worker-${var.env}"
  cpu_ms            = 300000 # agent runs are long (P95 under 30 s of wall time); 5 min of CPU at most
  cleanup_every     = "5m"
  execution_timeout = "30m" # forced termination of a stuck sandbox
  idle_timeout      = "10m"

  container {
    application   = "${local.prefix}-sandbox"
    instance_type = "standard-1"
    max_instances = 20
  }
}
