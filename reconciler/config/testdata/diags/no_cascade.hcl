# queue.jobs is invalid; queue.notify refers to it and is not reported again.
queue "jobs" {
  name           = "jobs"
  delivery_delay = 30
}

queue "notify" {
  name = "${queue.jobs.name}-notify"
}
