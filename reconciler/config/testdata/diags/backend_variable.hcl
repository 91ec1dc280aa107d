variable "env" {
  default = "prod"
}

flareops {
  backend "r2" {
    bucket = "monotask-state"
    key    = "monotask/${var.env}.json"
  }
}
