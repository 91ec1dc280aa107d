flareops {
  ops_kv_namspace = "monotask-ops"
}
