queue "a" {
  name = "a"

  consumer {
    worker            = "a-worker"
    dead_letter_queue = queue.b
  }
}

queue "b" {
  name = "b"

  consumer {
    worker            = "b-worker"
    dead_letter_queue = queue.a
  }
}
