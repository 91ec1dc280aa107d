variable "env" {
  type    = string
  default = "staging"
}

queue "jobs" {
  name = "${var.env}-jobs"
}
