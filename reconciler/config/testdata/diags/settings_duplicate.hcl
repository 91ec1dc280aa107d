flareops {
  ops_kv_namespace = "monotask-ops"
}

queue "jobs" {
  name = "jobs"
}

flareops {
  ops_kv_namespace = "monotask-ops-2"
}
