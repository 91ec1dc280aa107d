# The monotask platform ("Stage 3" plan): its operational configuration as flareops HCL.
#
# Today flareops manages the queues: the agent, task and GitHub-webhook queues with their
# consumers and dead-letter queues. The other parts of the plan (Analytics Engine datasets,
# alerts and SLOs, sandbox limits, backups) arrive with their kinds; see docs/ for status.

variable "env" {
  type        = string
  default     = "staging"
  description = "Deployment environment; part of every object name."
}

locals {
  prefix = "monotask-${var.env}"

  # The plan's retry policy: 3 attempts, then the message goes to the DLQ with its context.
  max_retries = 3
}
