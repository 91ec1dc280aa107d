# An SLO is imported by its name. Its published documents hold the compiled rules, not the
# SLI block, so the next plan fills in the declaration and publishes the same rules again.
terraform import flareops_slo.api_errors api_errors
