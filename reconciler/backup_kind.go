package reconciler

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"filippo.io/age"

	"github.com/monotask/flareops/reconciler/alerting"
	"github.com/monotask/flareops/reconciler/backup"
	"github.com/monotask/flareops/reconciler/cloudflare"
	"github.com/monotask/flareops/reconciler/cronexpr"
	"github.com/monotask/flareops/reconciler/workerset"
)

// BackupKind is the `backup` block: a declared backup of a D1 database, a KV namespace or
// an R2 bucket into an R2 bucket. What apply makes of it in the account is the
// destination bucket (created if missing) and one lifecycle rule per retention tier, on
// the tier's prefix (`<prefix>/daily/` expires after the daily age, ...), merged with the
// bucket's other rules, which are never dropped or changed; and, with `worker`, the
// schedule as a cron trigger on that Worker through the one Worker merge. The backups
// themselves are made by `flareops backup run` (reconciler/backup), which reads the
// declaration from the desired object's Private (a backup.Job).
//
// A backup's identity is its prefix: its rules are named flareops-backup:<prefix>:<tier>,
// and only rules so named are flareops's. Source, schedule, recipients, RPO and RTO have
// no object in Cloudflare: they are the declaration, recorded in the state, and a change
// to them is an update that writes nothing but the state (and the cron, with worker).
type BackupKind struct {
	API     BackupAPI
	Workers *workerset.Set
	// FindD1 looks a D1 database up by name: nil when found, an error for which
	// cloudflare.IsNotFound is true when there is none.
	FindD1 func(ctx context.Context, name string) error
	run    *backupRun
}

// BackupAPI is what the backup kind needs of the account; *cloudflare.Client implements
// it.
type BackupAPI interface {
	ListR2Buckets(ctx context.Context) ([]cloudflare.R2Bucket, error)
	R2Bucket(ctx context.Context, name string) (cloudflare.R2Bucket, bool, error)
	CreateR2Bucket(ctx context.Context, name string) (cloudflare.R2Bucket, error)
	R2Lifecycle(ctx context.Context, bucket string) ([]cloudflare.LifecycleRule, error)
	PutR2Lifecycle(ctx context.Context, bucket string, rules []cloudflare.LifecycleRule) error
	ListKVNamespaces(ctx context.Context) ([]cloudflare.KVNamespace, error)
}

// NewBackupKind wires the kind for one run, with the run's Worker set.
func NewBackupKind(api BackupAPI, ws *workerset.Set) BackupKind {
	return BackupKind{API: api, Workers: ws, run: newBackupRun()}
}

// BackupSpec is the normalized, comparable form of a backup.
type BackupSpec struct {
	Prefix      string          `diff:"prefix"`
	Bucket      string          `diff:"bucket,zero=(missing)"`
	D1Database  string          `diff:"d1_database,omitzero"`
	KVNamespace string          `diff:"kv_namespace,omitzero"`
	R2Bucket    string          `diff:"r2_bucket,omitzero"`
	Schedule    string          `diff:"schedule"`
	Worker      string          `diff:"worker,omitzero,zero=(none)"`
	Retention   BackupRetention `diff:"retention"`
	EncryptTo   []string        `diff:"encrypt_to"`
	RPO         int64           `diff:"rpo,s"`
	RTO         int64           `diff:"rto,s"`
}

// BackupRetention is each tier's age in seconds; live, 0 is a tier without its rule.
type BackupRetention struct {
	Daily   int64 `diff:"daily,s,zero=(no rule)"`
	Weekly  int64 `diff:"weekly,s,zero=(no rule)"`
	Monthly int64 `diff:"monthly,s,zero=(no rule)"`
}

func (r BackupRetention) age(t backup.Tier) int64 {
	switch t {
	case backup.Daily:
		return r.Daily
	case backup.Weekly:
		return r.Weekly
	}
	return r.Monthly
}

func (r *BackupRetention) set(t backup.Tier, secs int64) {
	switch t {
	case backup.Daily:
		r.Daily = secs
	case backup.Weekly:
		r.Weekly = secs
	default:
		r.Monthly = secs
	}
}

// backupTiers in the order the plan and the rules list them.
var backupTiers = []backup.Tier{backup.Daily, backup.Weekly, backup.Monthly}

// BackupRulePrefix starts the id of every lifecycle rule flareops owns for backups.
const BackupRulePrefix = "flareops-backup:"

// backupRuleID names the rule of one tier of the backup at prefix.
func backupRuleID(prefix string, t backup.Tier) string {
	return BackupRulePrefix + prefix + ":" + string(t)
}

var (
	// A prefix is path segments of letters, digits, `.`, `_` and `-`: no leading or
	// trailing slash, no empty or dot-only segment, so that "<prefix>/daily/" is exactly
	// one place and no rule of one backup covers another's.
	backupPrefixPattern = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$`)
	kvTitlePattern      = regexp.MustCompile(`^[^\s\p{Cc}](?:[^\p{Cc}]*[^\s\p{Cc}])?$`)
	d1NamePattern       = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
)

const (
	r2BucketRule     = "3 to 63 lowercase letters, digits and `-`, starting and ending with a letter or digit"
	backupPrefixRule = "path segments of letters, digits, `.`, `_` and `-` separated by single `/`, with no `/` at either end (e.g. `d1/tasks`)"
	d1NameRule       = "lowercase letters, digits and `-`, starting with a letter or digit, at most 63 characters"
	day              = int64(24 * 3600)
)

func retentionAttr(tier, example string) Attr {
	return Attr{Name: tier, Type: Duration, Unit: time.Second, Required: true, Min: day, Max: 100 * 365 * day,
		Description: fmt.Sprintf("How long %s backups are kept, in whole days, e.g. `%q`: the lifecycle rule on `<prefix>/%s/` deletes objects that age. At least the RPO.", tier, example, tier)}
}

var backupSchema = BlockSchema{
	Attrs: []Attr{
		{Name: "d1_database", Type: String, MaxLen: 63, Pattern: d1NamePattern, PatternText: d1NameRule,
			Description: "Name of the D1 database to back up (exported through D1's export flow). Exactly one of `d1_database`, `kv_namespace` and `r2_bucket`."},
		{Name: "kv_namespace", Type: String, MaxLen: 512, Pattern: kvTitlePattern, PatternText: opsKVTitleRule,
			Description: "Title of the KV namespace to back up: every key with its value, metadata and expiration. Exactly one of `d1_database`, `kv_namespace` and `r2_bucket`."},
		{Name: "r2_bucket", Type: String, MaxLen: 63, Pattern: r2BucketPattern, PatternText: r2BucketRule,
			Description: "Name of the R2 bucket to back up: a copy of each object. Exactly one of `d1_database`, `kv_namespace` and `r2_bucket`."},
		{Name: "schedule", Type: String, Required: true, MaxLen: 100,
			Description: "When backups run: a cron expression in UTC as Cloudflare's cron triggers read it (minute hour day-of-month month day-of-week; day of week 1-7 or SUN-SAT, 1 is Sunday), e.g. `\"0 2 * * *\"` for 02:00 every day. The longest gap between two runs must not exceed `rpo`."},
		{Name: "bucket", Type: String, Required: true, MaxLen: 63, Pattern: r2BucketPattern, PatternText: r2BucketRule,
			Description: "The destination R2 bucket (in the default jurisdiction): " + r2BucketRule + ". Created if missing, with R2's defaults (and never deleted by flareops: it holds the backups). Its lifecycle rules that flareops does not own are kept as they are."},
		{Name: "prefix", Type: String, Required: true, ForceNew: true, MaxLen: 200, Pattern: backupPrefixPattern, PatternText: backupPrefixRule,
			Description: "Where in the bucket the backups go, and the backup's identity: backups are stored under `<prefix>/<tier>/<id>/`, drill reports under `<prefix>/drills/`. Changing it replaces the backup (its lifecycle rules move; stored backups stay where they are)."},
		{Name: "encrypt_to", Type: StringList, MaxItems: 20, Unique: true,
			Description: "age recipients (`age1...`, as `age-keygen -y` prints them) that backups are encrypted to; each can decrypt them with the standard `age` tool. Only public keys are needed here: the machine that runs backups cannot read them. Omit for no encryption."},
		{Name: "rpo", Type: Duration, Unit: time.Second, Required: true, Min: 60, Max: 366 * day,
			Description: "Recovery point objective, e.g. `\"24h\"`: the most data a restore may lose. The schedule must run at least this often, and every tier must keep backups at least this long; `flareops backup drill` checks the age of the newest backup against it."},
		{Name: "rto", Type: Duration, Unit: time.Second, Required: true, Min: 60, Max: 30 * day,
			Description: "Recovery time objective, e.g. `\"1h\"`: how long a restore may take. `flareops backup drill` measures a restore and compares it with this."},
		{Name: "worker", Type: String, MaxLen: 63, Pattern: workerNamePattern, PatternText: workerNameRule,
			Description: "An existing Worker that runs the schedule: `schedule` is added to its cron triggers (its other crons, bindings and settings are kept). Unset: something else runs `flareops backup run` on the schedule (a CI job, say)."},
	},
	Blocks: []NestedBlock{{
		Name:        "retention",
		MaxItems:    1,
		Description: "How long each tier of backups is kept (required). `flareops backup run` stores the first backup of a UTC calendar month under `monthly/`, else the first of an ISO week under `weekly/`, else under `daily/`; each tier's lifecycle rule deletes its objects at its age.",
		Schema: BlockSchema{Attrs: []Attr{
			retentionAttr("daily", "30d"), retentionAttr("weekly", "90d"), retentionAttr("monthly", "365d"),
		}},
	}},
}

func (BackupKind) Name() string        { return "backup" }
func (BackupKind) KeyAttr() string     { return "prefix" }
func (BackupKind) Schema() BlockSchema { return backupSchema }

// Build checks what the schema cannot: exactly one source, a retention block, whole days,
// age recipients, and that the schedule and the tiers can keep the RPO. The desired
// object's Private is the backup.Job that `flareops backup` commands run.
func (BackupKind) Build(v Values) (Object, error) {
	spec := BackupSpec{Prefix: v.str("prefix"), Bucket: v.str("bucket"), D1Database: v.str("d1_database"), KVNamespace: v.str("kv_namespace"),
		R2Bucket: v.str("r2_bucket"), Schedule: v.str("schedule"), Worker: v.str("worker"), EncryptTo: v.strs("encrypt_to")}
	spec.RPO, _ = v.int("rpo")
	spec.RTO, _ = v.int("rto")
	if n := countSet(spec.D1Database, spec.KVNamespace, spec.R2Bucket); n != 1 {
		return Object{}, fmt.Errorf("set exactly one of d1_database, kv_namespace and r2_bucket (the source to back up); %d are set", n)
	}
	if spec.R2Bucket != "" && spec.R2Bucket == spec.Bucket {
		return Object{}, fmt.Errorf("r2_bucket and bucket are both %q: a bucket cannot be backed up into itself; choose another destination bucket", spec.Bucket)
	}
	rb := v.blocks("retention")
	if len(rb) == 0 {
		return Object{}, fmt.Errorf("a retention block is required: retention { daily = \"30d\" weekly = \"90d\" monthly = \"365d\" }")
	}
	for _, t := range backupTiers {
		secs, _ := rb[0].int(string(t))
		if secs%day != 0 {
			return Object{}, fmt.Errorf("retention: %s must be a whole number of days (R2 expires objects by the day); got %s", t, FormatDuration(time.Duration(secs)*time.Second))
		}
		if secs < spec.RPO {
			return Object{}, fmt.Errorf("retention: %s keeps backups %s, less than the RPO of %s: backups younger than the RPO would be deleted; keep each tier at least %s",
				t, FormatDuration(time.Duration(secs)*time.Second), FormatDuration(time.Duration(spec.RPO)*time.Second), FormatDuration(time.Duration(spec.RPO)*time.Second))
		}
		spec.Retention.set(t, secs)
	}
	if canon := strings.Join(strings.Fields(spec.Schedule), " "); canon != spec.Schedule && canon != "" {
		// One spelling per schedule: it is compared with the Worker's crons as written.
		return Object{}, &alerting.FieldError{Field: "schedule", Err: fmt.Errorf("write %q with one space between fields: %q", spec.Schedule, canon)}
	}
	if err := checkSchedule(spec.Schedule, spec.RPO); err != nil {
		return Object{}, err
	}
	for _, r := range spec.EncryptTo {
		if err := checkRecipient(r); err != nil {
			return Object{}, err
		}
	}
	return Object{Key: spec.Prefix, Spec: spec, Private: spec.job()}, nil
}

func countSet(ss ...string) int {
	n := 0
	for _, s := range ss {
		if s != "" {
			n++
		}
	}
	return n
}

// checkSchedule parses the cron and refuses one whose longest gap between runs exceeds
// the RPO (a backup could then be older than the RPO when it is needed). Its errors are
// *alerting.FieldErrors naming schedule, so that the CLI points at the attribute.
func checkSchedule(expr string, rpo int64) error {
	s, err := cronexpr.Parse(expr)
	if err != nil {
		return &alerting.FieldError{Field: "schedule", Err: err}
	}
	gap, ok := s.LongestGap()
	limit := time.Duration(rpo) * time.Second
	switch {
	case !ok:
		return &alerting.FieldError{Field: "schedule", Err: fmt.Errorf("%q runs at most once in four years, which cannot meet the RPO of %s; run it at least every %s", expr, FormatDuration(limit), FormatDuration(limit))}
	case gap.Length > limit:
		return &alerting.FieldError{Field: "schedule", Err: fmt.Errorf("%q cannot meet the RPO of %s: it leaves %s between the runs of %s and %s; run it at least every %s, or raise rpo",
			expr, FormatDuration(limit), FormatDuration(gap.Length), gap.After.Format("Mon 2006-01-02 15:04 UTC"), gap.Next.Format("Mon 2006-01-02 15:04 UTC"), FormatDuration(limit))}
	}
	return nil
}

// checkRecipient checks an age recipient with age's own parser.
func checkRecipient(r string) error {
	if strings.ContainsAny(r, "\n#") || strings.TrimSpace(r) != r {
		return fmt.Errorf("encrypt_to: %q is not an age recipient: write one public key per element, e.g. \"age1...\" as age-keygen -y prints it", r)
	}
	rs, err := age.ParseRecipients(strings.NewReader(r))
	if err != nil || len(rs) != 1 {
		return fmt.Errorf("encrypt_to: %q is not an age recipient (age1... as age-keygen -y prints it; never the secret key AGE-SECRET-KEY-1...): %v", shortText(r), err)
	}
	return nil
}

// shortText shows the start of what may be a secret pasted by mistake, never all of it.
func shortText(s string) string {
	if strings.HasPrefix(strings.ToUpper(s), "AGE-SECRET-KEY-") {
		return "AGE-SECRET-KEY-1…"
	}
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}

// job is the declaration as `flareops backup` commands run it. Its Name is left for them
// to set from the block's address (the kind sees only the block's values).
func (s BackupSpec) job() backup.Job {
	j := backup.Job{Schedule: s.Schedule, Bucket: s.Bucket, Prefix: s.Prefix, Recipients: s.EncryptTo,
		RPO: time.Duration(s.RPO) * time.Second, RTO: time.Duration(s.RTO) * time.Second,
		Retention: backup.Retention{Daily: secs(s.Retention.Daily), Weekly: secs(s.Retention.Weekly), Monthly: secs(s.Retention.Monthly)}}
	switch {
	case s.D1Database != "":
		j.Source = backup.Source{Kind: backup.SourceD1, Name: s.D1Database}
	case s.KVNamespace != "":
		j.Source = backup.Source{Kind: backup.SourceKV, Name: s.KVNamespace}
	default:
		j.Source = backup.Source{Kind: backup.SourceR2, Name: s.R2Bucket}
	}
	return j
}

func secs(n int64) time.Duration { return time.Duration(n) * time.Second }

// Flatten turns a backup spec back into block values.
func (BackupKind) Flatten(spec any) Values {
	s := spec.(BackupSpec)
	v := Values{"prefix": s.Prefix, "bucket": s.Bucket, "schedule": s.Schedule, "rpo": s.RPO, "rto": s.RTO,
		"retention": []Values{{"daily": s.Retention.Daily, "weekly": s.Retention.Weekly, "monthly": s.Retention.Monthly}}}
	for attr, val := range map[string]string{"d1_database": s.D1Database, "kv_namespace": s.KVNamespace, "r2_bucket": s.R2Bucket, "worker": s.Worker} {
		if val != "" {
			v[attr] = val
		}
	}
	if len(s.EncryptTo) > 0 {
		v["encrypt_to"] = append([]string{}, s.EncryptTo...)
	}
	return v
}

var _ WorkerClaimer = BackupKind{}

// Claims is the schedule's cron on the backup's Worker: one cron has one owner, so two
// backups run by one Worker need schedules of their own.
func (BackupKind) Claims(v Values) []Claim {
	if v.str("worker") == "" {
		return nil
	}
	return []Claim{{Worker: v.str("worker"), What: CronClaim(v.str("schedule"))}}
}

// backupRun is what the kind remembers during one run: each bucket's lifecycle rules as
// read (nil rules and missing true: no bucket), and a lock per bucket, since the rules
// are one list that each write replaces whole.
type backupRun struct {
	mu      sync.Mutex
	rules   map[string][]cloudflare.LifecycleRule
	missing map[string]bool
	locks   map[string]*sync.Mutex
	crons   map[string][]string
}

func newBackupRun() *backupRun {
	return &backupRun{rules: map[string][]cloudflare.LifecycleRule{}, missing: map[string]bool{}, locks: map[string]*sync.Mutex{}, crons: map[string][]string{}}
}

func (r *backupRun) lock(bucket string) *sync.Mutex {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.locks[bucket] == nil {
		r.locks[bucket] = &sync.Mutex{}
	}
	return r.locks[bucket]
}

// r is the run's memory; a kind made without NewBackupKind (the language only) gets a
// fresh one per call, which caches nothing.
func (k BackupKind) r() *backupRun {
	if k.run == nil {
		return newBackupRun()
	}
	return k.run
}

var (
	_ Kind           = BackupKind{}
	_ ScopedObserver = BackupKind{}
)
