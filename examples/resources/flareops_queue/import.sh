# A queue is imported by its id (`wrangler queues list` shows it); its name works too.
terraform import flareops_queue.agent_jobs <queue_id>
