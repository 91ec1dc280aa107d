queue "jobs" {
  name              = "jobs"
  message_retnetion = "4d"
}
