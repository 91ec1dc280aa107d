queue "jobs" {
  name              = "jobs"
  message_retention = "4 days"
}
