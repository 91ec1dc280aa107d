# A sandbox is imported by its name: its policy document flareops/sandbox/<name> in the
# ops KV namespace says the rest.
terraform import flareops_sandbox.agent monotask-sandbox
