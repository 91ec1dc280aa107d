# Not a flareops file: Load must not read it (it would not load).
resource "flareops_queue" "x" {
  name = "x"
}
