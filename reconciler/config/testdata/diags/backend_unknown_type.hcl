flareops {
  backend "s3" {
    bucket = "monotask-state"
    key    = "monotask/state.json"
  }
}
