terraform {
  required_providers {
    flareops = {
      source = "monotask/flareops"
    }
  }
}

# Credentials come from the environment unless set here:
#   CLOUDFLARE_API_TOKEN   an API token with edit permission for Queues
#   CLOUDFLARE_ACCOUNT_ID  the 32-character account id
# To try the provider without an account, run `flareops local serve` and set
# CLOUDFLARE_BASE_URL=http://127.0.0.1:8787/client/v4 (any token is accepted).
provider "flareops" {
  # Cloudflare allows 1,200 API requests per 5 minutes; every call of a run is paced to
  # stay inside that budget. Lower it when other tools share the token.
  rate_limit = "1200/5m"
}
