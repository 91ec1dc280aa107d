variable "env" {
  type = string
}

queue "jobs" {
  name = "${var.env}-jobs"
}
