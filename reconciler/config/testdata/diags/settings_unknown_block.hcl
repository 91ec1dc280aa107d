flareops {
  ops_kv_namespace = "monotask-ops"

  telemetry {
    endpoint = "https://example.com"
  }
}
