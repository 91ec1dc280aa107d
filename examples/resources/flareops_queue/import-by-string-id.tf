# Brings an existing queue under management at the next plan and apply. The id is the
# queue's id (`wrangler queues list` shows it) or, as here, its name.
import {
  to = flareops_queue.agent_jobs
  id = "monotask-production-agent-jobs"
}
