# Backup and recovery (the plan's issue #102): the D1 database every Worker uses, the KV
# namespace and the R2 artifacts bucket are backed up into one R2 bucket, each under its own
# prefix, with the plan's retention (daily backups 30 days, weekly 90 days, monthly 1 year)
# and its recovery targets. Backups are encrypted with age to var.backup_recipient, so the
# CI job that runs them (`flareops backup run NAME` on each schedule, as the plan's
# .github/workflows/d1-backup.yml does) cannot read them.
#
# flareops applies this as the backups bucket (created if missing) and one lifecycle rule per
# tier prefix: the plan says, for instance, "d1/db/daily/ objects expire after 30 days".

variable "backup_recipient" {
  type        = string
  default     = "age1905z8n4jahl7a5t47z4prx5v77e9rj4a8xs76a4gmr2l7z27sdqslkgp4h"
  description = "age recipient (public key) backups are encrypted to. The default is a TEST recipient whose identity is in test-backup-identity.txt beside this file, for the local Cloudflare only: set your own (age-keygen -y) for real data."
}

# D1: daily at 2 AM UTC; RPO 24 hours, RTO 1 hour.
backup "tasks_db" {
  d1_database = "${local.prefix}-db"
  schedule    = "0 2 * * *"
  bucket      = "${local.prefix}-backups"
  prefix      = "d1/db"
  retention {
    daily   = "30d"
    weekly  = "90d"
    monthly = "365d"
  }
  encrypt_to = [var.backup_recipient]
  rpo        = "24h"
  rto        = "1h"
}

# KV: every hour (RPO 1 hour), with each key's metadata and expiration; RTO 30 minutes.
backup "kv" {
  kv_namespace = "${local.prefix}-kv"
  schedule     = "15 * * * *"
  bucket       = "${local.prefix}-backups"
  prefix       = "kv/main"
  retention {
    daily   = "30d"
    weekly  = "90d"
    monthly = "365d"
  }
  encrypt_to = [var.backup_recipient]
  rpo        = "1h"
  rto        = "30m"
}

# R2 artifacts: daily (RPO 24 hours), a copy of each object; RTO 2 hours.
backup "artifacts" {
  r2_bucket = "${local.prefix}-artifacts"
  schedule  = "30 2 * * *"
  bucket    = "${local.prefix}-backups"
  prefix    = "r2/artifacts"
  retention {
    daily   = "30d"
    weekly  = "90d"
    monthly = "365d"
  }
  encrypt_to = [var.backup_recipient]
  rpo        = "24h"
  rto        = "2h"
}
