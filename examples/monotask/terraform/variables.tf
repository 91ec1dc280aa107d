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
