queue "agent_jobs_agent_jobs_agent_jobs_agent_jobs_agent_jobs_agent_jobs_agent_jobs_agent_jobs_agent_jobs_" {
  name = "agent-jobs"
}
