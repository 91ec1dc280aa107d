queue "jobs" {
  name = "monotask-jobs"
  consumer {
    worker = "task-worker"
  }
}

queue "pull" {
  name = "monotask-pull"
  consumer {
    type = "http_pull"
  }
}
