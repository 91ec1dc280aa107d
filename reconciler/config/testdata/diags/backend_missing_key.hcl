flareops {
  ops_kv_namespace = "monotask-ops"

  backend "r2" {
    bucket = "monotask-state"
  }
}
