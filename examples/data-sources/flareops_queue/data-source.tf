# A dead-letter queue that another configuration manages, shared by several queues.
data "flareops_queue" "shared_dlq" {
  name = "monotask-production-shared-dlq"
}

resource "flareops_queue" "reports" {
  name = "monotask-production-reports"

  consumer {
    worker            = "report-worker"
    max_retries       = 5
    dead_letter_queue = data.flareops_queue.shared_dlq.name
  }
}

output "shared_dlq_retention" {
  value = data.flareops_queue.shared_dlq.message_retention
}
