queue "jobs" {
  name = "jobs"

  consumer {
    worker     = "jobs-worker"
    batch_size = 500
  }
}
