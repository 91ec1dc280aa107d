variable "env" {
  default = "prod"
}

queue "jobs" {
  name = "${var.env}-jobs"
}

queue "jobs_copy" {
  name = "prod-jobs"
}
