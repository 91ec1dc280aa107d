# The agent Worker is deployed with wrangler from the application's repository; look it up
# so that the queue is never pointed at a Worker that is missing, misnamed, or cannot
# consume messages.
data "flareops_worker" "agent" {
  name = "agent-worker"
}

resource "flareops_queue" "agent_jobs" {
  name = "monotask-production-agent-jobs"

  consumer {
    worker      = data.flareops_worker.agent.name
    batch_size  = 5
    max_retries = 3
  }

  lifecycle {
    precondition {
      condition     = contains(data.flareops_worker.agent.handlers, "queue")
      error_message = "Worker ${data.flareops_worker.agent.name} has no queue() handler, so it cannot consume messages: deploy a version that exports one first."
    }
  }
}

output "agent_worker_deployed_at" {
  value = data.flareops_worker.agent.modified_on
}
