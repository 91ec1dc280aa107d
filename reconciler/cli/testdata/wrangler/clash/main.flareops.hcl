# The task Worker's consumer is declared here and in its wrangler.toml.
queue "jobs" {
  name = "monotask-jobs"
  consumer {
    worker = "task-worker"
  }
}

# Only the production environment of the task Worker consumes this one.
queue "prod_jobs" {
  name = "monotask-prod-jobs"
  consumer {
    worker = "task-worker-production"
  }
}

# wrangler makes agent-worker the consumer of this queue: a queue has one consumer.
queue "agent_jobs" {
  name = "monotask-agent-jobs"
  consumer {
    worker = "agent-worker-2"
  }
}

# Declared nowhere else.
queue "github_events" {
  name = "monotask-github-events"
  consumer {
    worker = "github-worker"
  }
}
