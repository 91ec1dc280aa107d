variable "ops_namespace" {
  type      = string
  default   = "monotask-ops"
  sensitive = true
}

flareops {
  ops_kv_namespace = var.ops_namespace
}
