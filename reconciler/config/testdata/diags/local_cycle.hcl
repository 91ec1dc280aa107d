locals {
  a = "${local.b}-x"
  b = "${local.a}-y"
}

queue "jobs" {
  name = local.a
}
