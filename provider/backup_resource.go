package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/monotask/flareops/reconciler"
)

// flareops_backup: a declared backup of a D1 database, KV namespace or R2 bucket into an
// R2 bucket. The kind is the engine's reconciler.BackupKind; its cron, with worker, goes
// through the engine's one Worker merge.

const backupDescription = "A backup of a D1 database, a KV namespace or an R2 bucket into an R2 bucket, with tiered retention and recovery targets. " +
	"What this resource makes in the account is the destination bucket (created if missing, never deleted: it holds the backups) " +
	"and one object lifecycle rule per retention tier on the tier's prefix (`<prefix>/daily/` objects expire after the daily age, and so on), named `flareops-backup:<prefix>:<tier>`; " +
	"the bucket's other lifecycle rules are kept as they are, and a rule flareops does not own that would delete the backups (an enabled rule that deletes objects under one of the tiers) is a plan error. " +
	"With `worker`, the schedule becomes a cron trigger on that existing Worker, beside its own crons. " +
	"The backups themselves are made, verified, restored and drilled by `flareops backup run|list|verify|restore|drill`, which read the same declaration. " +
	"The bucket layout (`<prefix>/<tier>/<id>/` with `manifest.json` written last, drill reports under `<prefix>/drills/`) and the choice of tier are described in the CLI reference (`docs/cli/backup.md`).\n\n" +
	"The same kind as the `backup` block of the `flareops` CLI. A read costs one read of the bucket's lifecycle rules (shared by every backup into that bucket) and, with `worker`, one read of the Worker's crons."

var backupTexts = map[string]string{
	idAttr: "The backup's prefix, which identifies it: its lifecycle rules are `flareops-backup:<id>:<tier>`. Import a backup by its prefix.",
}

// NewBackupResource is the flareops_backup resource.
func NewBackupResource() resource.Resource {
	return &kindResource{
		schemaKind:  reconciler.BackupKind{},
		description: backupDescription,
		texts:       backupTexts,
	}
}
