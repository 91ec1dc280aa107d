terraform {
  required_version = ">= 1.6"

  required_providers {
    flareops = {
      source = "monotask/flareops"
    }
  }
}

# Credentials come from CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID (and
# CLOUDFLARE_BASE_URL for `flareops local serve`), as they do for the flareops CLI; the
# provider block in sandbox.tf names only the ops KV namespace.
