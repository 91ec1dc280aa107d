# In a subdirectory: Load must not read it (it would not load).
queue "broken" {
