flareops {
  backend "r2" {
    bucket = "Monotask_State"
    key    = "/monotask/state.json"
  }
}
