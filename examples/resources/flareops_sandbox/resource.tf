# The agent sandboxes of the seed's platform: each runs in an instance of the existing
# containers application "monotask-sandbox" (deployed with wrangler), at most 20 at once.
# The Worker that runs them may use 5 minutes of CPU per invocation, and its scheduled()
# handler cleans up every 5 minutes: flareops adds the cron `*/5 * * * *` beside the
# Worker's own crons. The timeouts are enforced by the sandbox code, which reads them
# from the policy document flareops/sandbox/monotask-sandbox in the ops KV namespace
# (the provider's ops_kv_namespace, or FLAREOPS_OPS_KV_NAMESPACE).
resource "flareops_sandbox" "agent" {
  worker            = "monotask-sandbox"
  cpu_ms            = 300000
  cleanup_every     = "5m"
  execution_timeout = "30m"
  idle_timeout      = "10m"

  container {
    application   = "monotask-sandbox"
    instance_type = "standard-1"
    max_instances = 20
  }
}

# A second kind of sandbox on the same Worker needs a name of its own (a sandbox is
# named after its Worker by default), and its own cleanup interval. Its instances are
# sized by vCPU and memory rather than by a predefined type.
resource "flareops_sandbox" "builds" {
  name              = "builds"
  worker            = "monotask-sandbox"
  cleanup_every     = "2h"
  execution_timeout = "2h"
  idle_timeout      = "15m"

  container {
    application   = "monotask-builds"
    vcpu          = 2
    memory_mib    = 8192
    max_instances = 4
  }
}
