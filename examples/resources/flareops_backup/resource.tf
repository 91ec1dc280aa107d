# The seed platform's D1 database, backed up every day at 02:00 UTC into the bucket
# monotask-backups (created if missing) under d1/tasks/. Daily backups are kept 30 days,
# weekly ones 90 days, monthly ones a year: three lifecycle rules on d1/tasks/daily/,
# d1/tasks/weekly/ and d1/tasks/monthly/, beside the bucket's own rules, which are kept.
# `flareops backup run tasks_db` (from a CI schedule here) makes the backups, encrypted with
# age to the recipient; `flareops backup drill tasks_db` proves they restore within the RTO.
variable "backup_recipient" {
  type        = string
  description = "age recipient (age1...) the backups are encrypted to."
}

resource "flareops_backup" "tasks_db" {
  d1_database = "monotask-tasks"
  schedule    = "0 2 * * *"
  bucket      = "monotask-backups"
  prefix      = "d1/tasks"

  retention {
    daily   = "30d"
    weekly  = "90d"
    monthly = "365d"
  }

  encrypt_to = [var.backup_recipient]
  rpo        = "24h"
  rto        = "1h"
}

# The ops KV namespace every hour (RPO 1 hour), the schedule run by an existing Worker:
# flareops adds the cron `15 * * * *` to its cron triggers, beside its own.
resource "flareops_backup" "ops_kv" {
  kv_namespace = "monotask-ops"
  schedule     = "15 * * * *"
  worker       = "monotask-backup-runner"
  bucket       = "monotask-backups"
  prefix       = "kv/ops"

  retention {
    daily   = "30d"
    weekly  = "90d"
    monthly = "365d"
  }

  encrypt_to = [var.backup_recipient]
  rpo        = "1h"
  rto        = "30m"
}
