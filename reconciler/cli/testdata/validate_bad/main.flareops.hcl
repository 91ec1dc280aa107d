queue "jobs" {
  nme = "jobs"
}

queue "events" {
  name = "events"

  consumer {
    worker            = "event-worker"
    max_retries       = 3
    dead_letter_queue = queue.nope
  }
}

queue "dlq" {
  name              = "dlq"
  message_retention = "99d"
}
