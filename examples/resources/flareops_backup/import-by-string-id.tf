# Brings a backup that another configuration (or the flareops CLI) applied under management
# at the next plan and apply. The id is the backup's prefix.
import {
  to = flareops_backup.tasks_db
  id = "d1/tasks"
}
