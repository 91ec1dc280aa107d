# A backup is imported by its prefix: its lifecycle rules flareops-backup:<prefix>:<tier>
# are found in the account's buckets. Its source, schedule, recipients and targets exist only
# in the declaration: the next plan takes them from the configuration (an update that
# writes nothing to the account).
terraform import flareops_backup.tasks_db d1/tasks
