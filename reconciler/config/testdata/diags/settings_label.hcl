flareops "main" {
  ops_kv_namespace = "monotask-ops"
}
