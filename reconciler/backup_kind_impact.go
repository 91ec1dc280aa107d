package reconciler

import (
	"fmt"
	"strings"

	"github.com/monotask/flareops/reconciler/backup"
)

// Impact says in words what a backup change does: which objects expire when, where the
// backups go, who can read them, what runs them.
func (k BackupKind) Impact(action Action, f FieldChange, live, desired any) string {
	have, _ := live.(BackupSpec)
	want, _ := desired.(BackupSpec)
	if action == Delete {
		if f.Field == "prefix" {
			return deleteBackupImpact(have)
		}
		return ""
	}
	if tier, ok := strings.CutPrefix(f.Path, "retention."); ok {
		return tierImpact(backup.Tier(tier), want, f)
	}
	switch f.Field {
	case "bucket":
		switch {
		case action == Create || !f.OldSet:
			return fmt.Sprintf("backups go to bucket %s under %s/ (created if missing; never deleted by flareops)", want.Bucket, want.Prefix)
		default:
			return fmt.Sprintf("new backups go to bucket %s; the rules come off %s, whose backups stay there and no longer expire", want.Bucket, have.Bucket)
		}
	case "schedule":
		if want.Worker != "" {
			return fmt.Sprintf("backups run at `%s` (UTC): a cron trigger on Worker %s", want.Schedule, want.Worker)
		}
		return fmt.Sprintf("backups are due at `%s` (UTC): run `flareops backup run` on that schedule (no worker is set)", want.Schedule)
	case "worker":
		if want.Worker == "" {
			return fmt.Sprintf("cron `%s` removed from Worker %s: nothing runs this backup on a schedule any more", have.Schedule, have.Worker)
		}
		return fmt.Sprintf("cron `%s` added to Worker %s (its other crons are kept)", want.Schedule, want.Worker)
	case "encrypt_to":
		if len(want.EncryptTo) == 0 {
			return "new backups are stored unencrypted: anyone who can read the bucket can read them"
		}
		return fmt.Sprintf("new backups are encrypted with age to %d recipient(s); only their identities can read them", len(want.EncryptTo))
	case "rpo":
		return fmt.Sprintf("`flareops backup drill` fails when the newest backup is older than %s", f.New)
	case "rto":
		return fmt.Sprintf("`flareops backup drill` fails when a restore takes longer than %s", f.New)
	}
	return ""
}

// tierImpact is what the plan promises about one tier: "d1/tasks/daily/ objects expire
// after 30 days".
func tierImpact(t backup.Tier, want BackupSpec, f FieldChange) string {
	age := want.Retention.age(t)
	where := backup.TierPrefix(want.Prefix, t)
	if age == 0 {
		return fmt.Sprintf("%s objects no longer expire", where)
	}
	what := fmt.Sprintf("%s objects expire after %s (lifecycle rule %s of bucket %s)", where, days(age), backupRuleID(want.Prefix, t), want.Bucket)
	if f.OldSet && f.Old != "(no rule)" {
		what += fmt.Sprintf("; was %s", f.Old)
	}
	return what
}

func days(secs int64) string {
	d := secs / day
	if d == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", d)
}

func deleteBackupImpact(s BackupSpec) string {
	parts := []string{fmt.Sprintf("its lifecycle rules come off bucket %s: the backups under %s/ stay and no longer expire", s.Bucket, s.Prefix)}
	if s.Worker != "" {
		parts = append(parts, fmt.Sprintf("cron `%s` removed from Worker %s", s.Schedule, s.Worker))
	}
	parts = append(parts, "the bucket is kept")
	return "backup removed: " + strings.Join(parts, "; ")
}
