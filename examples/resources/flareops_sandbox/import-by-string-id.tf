# Brings a sandbox that another configuration (or the flareops CLI) published under
# management at the next plan and apply. The id is the sandbox's name.
import {
  to = flareops_sandbox.agent
  id = "monotask-sandbox"
}
