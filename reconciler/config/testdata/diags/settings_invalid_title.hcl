variable "env" {
  type    = string
  default = "staging "
}

locals {
  ops = "monotask-${var.env}"
}

flareops {
  ops_kv_namespace = local.ops
}
