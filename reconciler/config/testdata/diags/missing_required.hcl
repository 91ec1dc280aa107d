queue "jobs" {
  message_retention = "4d"
}
