flareops {
  ops_kv_namespace = ["monotask-ops"]
}
