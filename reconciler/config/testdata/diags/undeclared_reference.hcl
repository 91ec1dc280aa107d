queue "jobs" {
  name = "jobs"

  consumer {
    worker            = "jobs-worker"
    dead_letter_queue = queue.jobs_dql
  }
}

queue "jobs_dlq" {
  name = "jobs-dlq"
}
