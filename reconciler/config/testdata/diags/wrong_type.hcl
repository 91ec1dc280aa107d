queue "jobs" {
  name = "jobs"

  consumer {
    worker      = "jobs-worker"
    max_retries = "three"
  }
}
