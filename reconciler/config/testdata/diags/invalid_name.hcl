queue "Agent-Jobs" {
  name = "agent-jobs"
}
