variable "env" {
  type    = string
  default = "staging"
}

locals {
  prefix = "monotask-${var.env}"
}

queue "agent_jobs" {
  name              = "${local.prefix}-agent-jobs"
  delivery_delay    = "0s"
  message_retention = "4d"

  consumer {
    worker            = "agent-worker"     # push consumer; `type = "http_pull"` for a pull consumer
    batch_size        = 10
    max_wait          = "5s"
    max_retries       = 3
    retry_delay       = "30s"
    max_concurrency   = 10
    dead_letter_queue = queue.agent_jobs_dlq
  }
}

queue "agent_jobs_dlq" {
  name              = "${local.prefix}-agent-jobs-dlq"
  message_retention = "14d"
  prevent_destroy   = true
}
