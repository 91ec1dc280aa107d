queue "jobs" {
  name = "prod-jobs"
  consumer {
    worker            = "jobs-worker"
    dead_letter_queue = queue.jobs
  }
}
