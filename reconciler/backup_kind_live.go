package reconciler

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/monotask/flareops/reconciler/backup"
	"github.com/monotask/flareops/reconciler/cloudflare"
	"github.com/monotask/flareops/reconciler/suggest"
)

// Observing a backup costs one read of its bucket's lifecycle rules (shared by every
// backup into that bucket, once per run) and, with worker, one read of the Worker's
// crons (shared with every kind on that Worker). Importing a backup whose bucket nothing
// names lists the buckets and reads each one's rules.

// backupSeen is one backup in the scope of a plan.
type backupSeen struct {
	desired, applied *BackupSpec
	managed          bool
}

// ObserveScoped observes the backups the configuration declares and the state manages.
func (k BackupKind) ObserveScoped(ctx context.Context, scope Scope) ([]Object, error) {
	seen := map[string]*backupSeen{}
	get := func(prefix string) *backupSeen {
		if seen[prefix] == nil {
			seen[prefix] = &backupSeen{}
		}
		return seen[prefix]
	}
	for _, o := range scope.Desired {
		s := o.Spec.(BackupSpec)
		get(s.Prefix).desired = &s
	}
	for _, en := range scope.Managed {
		sn := get(en.Key)
		sn.managed = true
		if a, ok := decodeApplied(en.Applied, BackupSpec{}); ok {
			s := a.(BackupSpec)
			sn.applied = &s
		}
	}
	var out []Object
	for _, prefix := range sortedKeys(seen) {
		sn := seen[prefix]
		ref := sn.applied
		if ref == nil {
			ref = sn.desired
		}
		if ref == nil { // a bare id being imported: find its bucket
			found, err := k.find(ctx, prefix)
			if err != nil {
				return nil, err
			}
			if found == nil {
				continue
			}
			ref = found
		}
		live, ours, err := k.observe(ctx, prefix, ref)
		if err != nil {
			return nil, fmt.Errorf("backup %s: %w", prefix, err)
		}
		if !sn.managed && ours == 0 {
			continue // nothing of it exists: to be created
		}
		out = append(out, Object{Key: prefix, ID: prefix, Spec: live})
	}
	return out, nil
}

// Observe lists every backup whose rules are in some bucket of the account: for import,
// not for plans (which observe their scope). It reads every bucket's rules.
func (k BackupKind) Observe(ctx context.Context) ([]Object, error) {
	buckets, err := k.API.ListR2Buckets(ctx)
	if err != nil {
		return nil, err
	}
	var out []Object
	for _, b := range buckets {
		rules, _, err := k.rules(ctx, b.Name)
		if err != nil {
			return nil, err
		}
		prefixes := map[string]bool{}
		for _, r := range rules {
			if p, ok := backupRulePrefix(r.ID); ok {
				prefixes[p] = true
			}
		}
		for _, p := range sortedKeys(prefixes) {
			live, _, err := k.observe(ctx, p, &BackupSpec{Prefix: p, Bucket: b.Name})
			if err != nil {
				return nil, err
			}
			out = append(out, Object{Key: p, ID: p, Spec: live})
		}
	}
	return out, nil
}

// find looks for the bucket that holds the rules of the backup at prefix.
func (k BackupKind) find(ctx context.Context, prefix string) (*BackupSpec, error) {
	objs, err := k.Observe(ctx)
	if err != nil {
		return nil, err
	}
	var hit *BackupSpec
	for _, o := range objs {
		if o.Key != prefix {
			continue
		}
		s := o.Spec.(BackupSpec)
		if hit != nil {
			return nil, fmt.Errorf("backup %s has lifecycle rules in buckets %s and %s: declare it (with its bucket) before importing it", prefix, hit.Bucket, s.Bucket)
		}
		hit = &s
	}
	return hit, nil
}

// backupRulePrefix is the backup prefix of a rule id flareops owns.
func backupRulePrefix(id string) (string, bool) {
	rest, ok := strings.CutPrefix(id, BackupRulePrefix)
	if !ok {
		return "", false
	}
	i := strings.LastIndex(rest, ":")
	if i <= 0 || !slices.Contains(backupTiers, backup.Tier(rest[i+1:])) {
		return "", false
	}
	return rest[:i], true
}

// observe reads the backup at prefix as ref (the spec last applied, or declared) says it
// is: the tiers whose rules are in its bucket as flareops writes them, and the schedule's
// cron on its Worker. The declaration's own fields are ref's: they have no live object.
// ours counts the rules of the backup in the bucket, in whatever shape.
func (k BackupKind) observe(ctx context.Context, prefix string, ref *BackupSpec) (live BackupSpec, ours int, err error) {
	live = BackupSpec{Prefix: prefix, D1Database: ref.D1Database, KVNamespace: ref.KVNamespace, R2Bucket: ref.R2Bucket,
		Schedule: ref.Schedule, EncryptTo: ref.EncryptTo, RPO: ref.RPO, RTO: ref.RTO}
	rules, exists, err := k.rules(ctx, ref.Bucket)
	if err != nil {
		return live, 0, err
	}
	if exists {
		live.Bucket = ref.Bucket
	}
	for _, r := range rules {
		for _, t := range backupTiers {
			if r.ID != backupRuleID(prefix, t) {
				continue
			}
			ours++
			if want := backupRule(prefix, t, 1); r.Enabled && r.Prefix == want.Prefix && r.DeleteAfter > 0 && r.DeleteOn.IsZero() && r.Transitions == 0 && r.AbortUploadsAfter == 0 {
				live.Retention.set(t, int64(r.DeleteAfter.Seconds()))
			}
		}
	}
	if ref.Worker != "" {
		crons, err := k.crons(ctx, ref.Worker)
		if err != nil {
			return live, ours, err
		}
		if slices.Contains(crons, ref.Schedule) {
			live.Worker = ref.Worker
		}
	}
	return live, ours, nil
}

// rules reads a bucket's lifecycle rules once per run; exists is false when there is no
// such bucket.
func (k BackupKind) rules(ctx context.Context, bucket string) (rules []cloudflare.LifecycleRule, exists bool, err error) {
	run := k.r()
	if bucket == "" {
		return nil, false, nil
	}
	run.mu.Lock()
	rules, cached := run.rules[bucket]
	missing := run.missing[bucket]
	run.mu.Unlock()
	if cached || missing {
		return rules, !missing, nil
	}
	rules, err = k.API.R2Lifecycle(ctx, bucket)
	if cloudflare.IsNotFound(err) {
		run.mu.Lock()
		run.missing[bucket] = true
		run.mu.Unlock()
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	run.mu.Lock()
	run.rules[bucket] = rules
	run.mu.Unlock()
	return rules, true, nil
}

// remember records a bucket's rules as this run last wrote (or found) them.
func (k BackupKind) remember(bucket string, rules []cloudflare.LifecycleRule) {
	run := k.r()
	run.mu.Lock()
	defer run.mu.Unlock()
	run.rules[bucket] = rules
	delete(run.missing, bucket)
}

// crons reads a Worker's crons (once per run, through the Worker set).
func (k BackupKind) crons(ctx context.Context, worker string) ([]string, error) {
	run := k.r()
	if k.Workers == nil {
		return nil, fmt.Errorf("no Worker set")
	}
	crons, err := k.Workers.Crons(ctx, worker)
	if err != nil {
		return nil, fmt.Errorf("cannot read the cron triggers of Worker %s: %w", worker, err)
	}
	run.mu.Lock()
	run.crons[worker] = slices.Clone(crons)
	run.mu.Unlock()
	return crons, nil
}

var _ LiveValidator = BackupKind{}

// ValidateLive checks, for the plan, what the account must hold for each backup: its
// source (D1 database, KV namespace, source bucket), no lifecycle rule in the destination
// bucket that would delete the backups on another schedule, and no two backups in one
// place. A missing destination bucket is not a problem: apply creates it.
func (k BackupKind) ValidateLive(ctx context.Context, desired []Desired) ([]LiveProblem, error) {
	var out []LiveProblem
	type decl struct {
		d Desired
		s BackupSpec
	}
	var decls []decl
	for _, d := range desired {
		obj, err := k.Build(d.Values)
		if err != nil {
			continue
		}
		decls = append(decls, decl{d, obj.Spec.(BackupSpec)})
	}
	for i, a := range decls {
		for _, b := range decls[:i] {
			if p := samePlace(a.s, b.s); p != "" {
				out = append(out, LiveProblem{Addr: a.d.Addr, Source: a.d.Source, Object: "backup prefix", Name: a.s.Prefix,
					Detail: fmt.Sprintf("%s (%s) %s: give each backup a prefix of its own that is not inside another's (e.g. d1/tasks and kv/ops)", b.d.Addr, b.d.Source, p)})
			}
		}
	}
	sources := &backupSources{k: k}
	for _, dc := range decls {
		ps, err := sources.check(ctx, dc.d, dc.s)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
		if w := dc.s.Worker; w != "" && k.Workers != nil {
			ws, err := k.Workers.Read(ctx, w)
			if err != nil {
				return nil, fmt.Errorf("cannot read Worker %s: %w", w, err)
			}
			if !ws.Exists {
				out = append(out, LiveProblem{Addr: dc.d.Addr, Source: dc.d.Source, Object: "Worker", Name: w,
					Detail: fmt.Sprintf("Worker %s, which runs the backup's schedule, does not exist in the account; deploy it first (flareops never uploads Worker code), or fix the name", w)})
			}
		}
		rules, _, err := k.rules(ctx, dc.s.Bucket)
		if err != nil {
			return nil, err
		}
		for _, r := range overlapping(rules, dc.s.Prefix) {
			out = append(out, LiveProblem{Addr: dc.d.Addr, Source: dc.d.Source, Object: "lifecycle rule", Name: r.ID, Detail: overlapText(dc.s, r)})
		}
	}
	return out, nil
}

// samePlace says how two backups would write to one place, or "".
func samePlace(a, b BackupSpec) string {
	switch {
	case a.Prefix == b.Prefix && a.Bucket == b.Bucket:
		return fmt.Sprintf("writes to bucket %s under prefix %s too", a.Bucket, a.Prefix)
	case a.Prefix == b.Prefix:
		return fmt.Sprintf("has prefix %s too (in bucket %s), and the prefix names a backup's lifecycle rules", a.Prefix, b.Bucket)
	case a.Bucket == b.Bucket && (strings.HasPrefix(a.Prefix+"/", b.Prefix+"/") || strings.HasPrefix(b.Prefix+"/", a.Prefix+"/")):
		return fmt.Sprintf("writes under prefix %s of bucket %s, and one prefix lies inside the other: one backup's lifecycle rules would expire the other's backups", b.Prefix, a.Bucket)
	}
	return ""
}

// overlapping lists the enabled rules not of the backup at prefix that delete objects
// under its tiers: they would expire backups on their own schedule. Rules that only abort
// multipart uploads or change storage classes never lose a backup, and are kept as they are.
func overlapping(rules []cloudflare.LifecycleRule, prefix string) []cloudflare.LifecycleRule {
	var out []cloudflare.LifecycleRule
	for _, r := range rules {
		if p, ours := backupRulePrefix(r.ID); (ours && p == prefix) || !r.Enabled || !r.Deletes() {
			continue
		}
		for _, t := range backupTiers {
			tp := backup.TierPrefix(prefix, t)
			if strings.HasPrefix(tp, r.Prefix) || strings.HasPrefix(r.Prefix, tp) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

func overlapText(s BackupSpec, r cloudflare.LifecycleRule) string {
	what := "deletes objects on " + r.DeleteOn.Format("2006-01-02")
	if r.DeleteAfter > 0 {
		what = "deletes objects after " + FormatDuration(r.DeleteAfter)
	}
	where := fmt.Sprintf("under %q", r.Prefix)
	if r.Prefix == "" {
		where = "anywhere in the bucket"
	}
	return fmt.Sprintf("lifecycle rule %q of bucket %s, which flareops does not manage, %s %s, which covers this backup's tiers under %s/: backups would expire on its schedule, not the declared retention. "+
		"flareops never changes a rule it does not own: narrow that rule's prefix, disable or delete it, or choose another bucket or prefix", r.ID, s.Bucket, what, where, s.Prefix)
}

// backupSources checks sources with one list per kind of source per plan.
type backupSources struct {
	k        BackupKind
	kv       []string
	buckets  []string
	listedKV bool
	listedR2 bool
}

func (b *backupSources) check(ctx context.Context, d Desired, s BackupSpec) ([]LiveProblem, error) {
	problem := func(object, name string, names []string, make string) []LiveProblem {
		return []LiveProblem{{Addr: d.Addr, Source: d.Source, Object: object, Name: name,
			Detail: fmt.Sprintf("the %s to back up, %q, does not exist in the account.%s Create it first (%s), or fix the name", object, name, suggest.DidYouMean(name, names), make)}}
	}
	switch {
	case s.D1Database != "":
		if b.k.FindD1 == nil {
			return nil, fmt.Errorf("cannot look up D1 database %q: no D1 lookup is wired", s.D1Database)
		}
		if err := b.k.FindD1(ctx, s.D1Database); cloudflare.IsNotFound(err) {
			return problem("D1 database", s.D1Database, nil, "wrangler d1 create "+s.D1Database), nil
		} else if err != nil {
			return nil, err
		}
	case s.KVNamespace != "":
		if !b.listedKV {
			nss, err := b.k.API.ListKVNamespaces(ctx)
			if err != nil {
				return nil, err
			}
			for _, ns := range nss {
				b.kv = append(b.kv, ns.Title)
			}
			b.listedKV = true
		}
		if !slices.Contains(b.kv, s.KVNamespace) {
			return problem("KV namespace", s.KVNamespace, b.kv, "wrangler kv namespace create"), nil
		}
	case s.R2Bucket != "":
		if !b.listedR2 {
			bs, err := b.k.API.ListR2Buckets(ctx)
			if err != nil {
				return nil, err
			}
			for _, x := range bs {
				b.buckets = append(b.buckets, x.Name)
			}
			b.listedR2 = true
		}
		if !slices.Contains(b.buckets, s.R2Bucket) {
			return problem("R2 bucket", s.R2Bucket, b.buckets, "wrangler r2 bucket create "+s.R2Bucket), nil
		}
	}
	return nil, nil
}
