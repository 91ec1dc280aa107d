queue "jobs" {
  name = "jobs"
}

queue "jobs" {
  name = "jobs-again"
}
