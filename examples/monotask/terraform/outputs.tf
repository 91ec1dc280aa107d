output "queue_ids" {
  description = "Queue id by name, for Wrangler configuration and dashboards."
  value = {
    for q in [
      flareops_queue.agent_jobs, flareops_queue.agent_jobs_dlq,
      flareops_queue.task_events, flareops_queue.task_events_dlq,
      flareops_queue.github_webhooks, flareops_queue.github_webhooks_dlq,
    ] : q.name => q.id
  }
}
