package reconciler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/monotask/flareops/reconciler/backup"
	"github.com/monotask/flareops/reconciler/cloudflare"
	"github.com/monotask/flareops/reconciler/workerset"
)

// The writes of a backup, in the order that leaves least behind when one is refused:
//
//  1. the cron on its Worker (the likeliest refusal: the account's limit of cron
//     triggers), so that a refusal leaves the account as it was; an update sets it after
//     step 3 instead, so that one failing halfway never leaves a cron that the next plan
//     would take for someone else's (only the cron last applied is the backup's own);
//  2. the destination bucket, created if missing;
//  3. its lifecycle rules: the bucket's list is read afresh, the backup's rules replaced
//     in it, every other rule kept byte for byte, and the list written back, under a
//     lock per bucket for the run (two backups into one bucket never lose each other's
//     rules). A rule not flareops's that would delete the backups refuses the write;
//  4. for a backup that moved bucket or Worker, its rules and cron are taken off the old
//     one, after the new one has them.
//
// The bucket is never deleted: it holds the backups.

// Create makes the backup's bucket, rules and cron.
func (k BackupKind) Create(ctx context.Context, desired Object) (string, error) {
	want := desired.Spec.(BackupSpec)
	if err := k.foreignCron(ctx, want); err != nil {
		return "", err
	}
	done, err := k.apply(ctx, BackupSpec{Prefix: want.Prefix}, want, false)
	if err != nil && len(done) == 0 {
		return "", err
	}
	return want.Prefix, err
}

// Update changes what differs between live and desired.
func (k BackupKind) Update(ctx context.Context, _ string, live, desired Object) error {
	_, err := k.apply(ctx, live.Spec.(BackupSpec), desired.Spec.(BackupSpec), true)
	return err
}

// Delete takes the backup's rules off its bucket and its cron off its Worker. The bucket
// and the backups in it are kept. Deleting what is gone is success.
func (k BackupKind) Delete(ctx context.Context, _ string, live Object) error {
	s := live.Spec.(BackupSpec)
	if s.Worker != "" {
		if err := k.Workers.Change(ctx, s.Worker, workerset.Want{Crons: []string{s.Schedule}}, workerset.Want{}); err != nil {
			return fmt.Errorf("cannot remove cron `%s` from Worker %s: %w", s.Schedule, s.Worker, err)
		}
	}
	if s.Bucket == "" {
		return nil
	}
	return k.writeRules(ctx, s.Bucket, s.Prefix, BackupRetention{})
}

// apply turns have (live) into want. update is false for a create, which sets the cron
// first (the likeliest refusal, so that one leaves the account as it was); an update sets
// it after the rules, so that an update that fails halfway never leaves its new cron
// behind, where the next plan would take it for someone else's.
func (k BackupKind) apply(ctx context.Context, have, want BackupSpec, update bool) (done []string, err error) {
	defer func() {
		if err != nil && len(done) > 0 {
			err = fmt.Errorf("%w (already done: %s; the next plan shows what is left)", err, strings.Join(done, "; "))
		}
	}()
	oldCron := ""
	if have.Worker == want.Worker {
		oldCron = cronOf(have)
	}
	n := cronOf(want)
	if n != oldCron && want.Worker != "" {
		// Observation reads only the cron last applied as the backup's own, so a Worker
		// that has the new one has it from someone else (its own cron still there, or
		// replaced by a deploy that rewrote the Worker's crons), and the backup would take
		// it over: removing the backup would remove it.
		if err := k.foreignCron(ctx, want); err != nil {
			return done, err
		}
	}
	setCron := func() error {
		if n == oldCron || want.Worker == "" {
			return nil
		}
		if err := k.Workers.Change(ctx, want.Worker, workerset.Want{Crons: nonEmpty(oldCron)}, workerset.Want{Crons: nonEmpty(n)}); err != nil {
			return fmt.Errorf("cannot set the backup schedule's cron on Worker %s: %w", want.Worker, err)
		}
		done = append(done, fmt.Sprintf("cron `%s` set on Worker %s", n, want.Worker))
		return nil
	}
	if !update {
		if err := setCron(); err != nil {
			return done, err
		}
	}
	if have.Bucket != want.Bucket || have.Retention != want.Retention {
		created, err := k.ensureBucket(ctx, want.Bucket)
		if err != nil {
			return done, err
		}
		if created {
			done = append(done, "bucket "+want.Bucket+" created")
		}
		if err := k.writeRules(ctx, want.Bucket, want.Prefix, want.Retention); err != nil {
			return done, err
		}
		done = append(done, "lifecycle rules of bucket "+want.Bucket+" written")
	}
	if have.Bucket != "" && have.Bucket != want.Bucket {
		if err := k.writeRules(ctx, have.Bucket, have.Prefix, BackupRetention{}); err != nil {
			return done, err
		}
		done = append(done, "lifecycle rules taken off bucket "+have.Bucket)
	}
	if update {
		if err := setCron(); err != nil {
			return done, err
		}
	}
	if have.Worker != "" && have.Worker != want.Worker {
		if err := k.Workers.Change(ctx, have.Worker, workerset.Want{Crons: []string{have.Schedule}}, workerset.Want{}); err != nil {
			return done, fmt.Errorf("cannot remove cron `%s` from Worker %s: %w", have.Schedule, have.Worker, err)
		}
	}
	return done, nil
}

// cronOf is the cron the backup puts on its Worker, "" without one.
func cronOf(s BackupSpec) string {
	if s.Worker == "" {
		return ""
	}
	return s.Schedule
}

// ensureBucket creates the bucket if it is missing; created says whether it did.
func (k BackupKind) ensureBucket(ctx context.Context, bucket string) (created bool, err error) {
	run := k.r()
	if _, exists, err := k.rules(ctx, bucket); err != nil || exists {
		return false, err
	}
	if _, err := k.API.CreateR2Bucket(ctx, bucket); err != nil && !cloudflare.IsR2BucketTaken(err) {
		var amb *cloudflare.AmbiguousError
		if !errors.As(err, &amb) {
			return false, fmt.Errorf("cannot create bucket %s for the backups: %w", bucket, err)
		}
		// The answer was lost: the next read says whether the bucket is there.
		if _, found, ferr := k.API.R2Bucket(ctx, bucket); ferr != nil || !found {
			return false, err
		}
	}
	run.mu.Lock()
	delete(run.missing, bucket)
	delete(run.rules, bucket)
	run.mu.Unlock()
	return true, nil
}

// backupRule is flareops's rule for one tier: delete what is under the tier's prefix at
// its age (seconds).
func backupRule(prefix string, t backup.Tier, age int64) cloudflare.LifecycleRule {
	return cloudflare.LifecycleRule{ID: backupRuleID(prefix, t), Enabled: true, Prefix: backup.TierPrefix(prefix, t), DeleteAfter: time.Duration(age) * time.Second}
}

// writeRules sets the rules of the backup at prefix in bucket to r (zero ages: none),
// keeping every other rule as it is. It reads the list afresh under the bucket's lock, and
// refuses, writing nothing, when a rule it does not own would delete the backups.
func (k BackupKind) writeRules(ctx context.Context, bucket, prefix string, r BackupRetention) error {
	run := k.r()
	mu := run.lock(bucket)
	mu.Lock()
	defer mu.Unlock()
	cur, err := k.API.R2Lifecycle(ctx, bucket)
	if cloudflare.IsNotFound(err) && r == (BackupRetention{}) {
		return nil // a bucket that is gone holds no rules to take off
	}
	if err != nil {
		return fmt.Errorf("cannot read the lifecycle rules of bucket %s: %w", bucket, err)
	}
	if r != (BackupRetention{}) {
		if bad := overlapping(cur, prefix); len(bad) > 0 {
			return Refused(fmt.Errorf("%s; nothing was changed", overlapText(BackupSpec{Bucket: bucket, Prefix: prefix}, bad[0])))
		}
	}
	next := make([]cloudflare.LifecycleRule, 0, len(cur)+3)
	for _, rule := range cur {
		if p, ours := backupRulePrefix(rule.ID); !ours || p != prefix {
			next = append(next, rule)
		}
	}
	for _, t := range backupTiers {
		if age := r.age(t); age > 0 {
			next = append(next, backupRule(prefix, t, age))
		}
	}
	if sameRules(cur, next) {
		k.remember(bucket, cur)
		return nil
	}
	if err := k.API.PutR2Lifecycle(ctx, bucket, next); err != nil {
		return fmt.Errorf("cannot write the lifecycle rules of bucket %s: %w", bucket, err)
	}
	k.remember(bucket, next)
	return nil
}

// sameRules compares rule lists by what is written (a rule read back has Raw; one made
// here has not, so they compare by their fields).
func sameRules(a, b []cloudflare.LifecycleRule) bool {
	return slices.EqualFunc(a, b, func(x, y cloudflare.LifecycleRule) bool {
		return x.ID == y.ID && x.Enabled == y.Enabled && x.Prefix == y.Prefix && x.DeleteAfter == y.DeleteAfter &&
			x.DeleteOn.Equal(y.DeleteOn) && x.AbortUploadsAfter == y.AbortUploadsAfter && x.Transitions == y.Transitions
	})
}

// foreignCron refuses a new backup whose Worker already has its cron: that cron is
// someone else's, and removing the backup would remove it.
func (k BackupKind) foreignCron(ctx context.Context, want BackupSpec) error {
	run := k.r()
	if want.Worker == "" {
		return nil
	}
	run.mu.Lock()
	crons, seen := run.crons[want.Worker]
	run.mu.Unlock()
	if !seen {
		var err error
		if crons, err = k.crons(ctx, want.Worker); err != nil {
			return err
		}
	}
	if !slices.Contains(crons, want.Schedule) {
		return nil
	}
	return Refused(fmt.Errorf("Worker %s already has cron `%s`, which flareops does not manage: a backup never takes a cron over (removing the backup would remove it). "+
		"Choose another schedule (a minute later, say), or remove that cron from the Worker (if an earlier apply of this backup failed halfway and left it there, that is the way out: remove it, then apply again); nothing was changed", want.Worker, want.Schedule))
}
