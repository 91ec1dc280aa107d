// Package backup runs, lists, verifies, restores and drills backups of D1 databases, KV
// namespaces and R2 buckets. It holds no HCL or Terraform types: the backup kind builds a Job
// from its declaration and puts it in the desired Object's Private; the CLI commands take it
// from there.
package backup

import (
	"fmt"
	"path"
	"strings"
	"time"
)

// SourceKind says what a backup copies.
type SourceKind string

const (
	SourceD1 SourceKind = "d1" // a D1 database, through the export polling flow
	SourceKV SourceKind = "kv" // a KV namespace: every key with value, metadata and expiration
	SourceR2 SourceKind = "r2" // an R2 bucket: a copy of each object
)

// Source names what is backed up: a D1 database, KV namespace or R2 bucket, by name.
type Source struct {
	Kind SourceKind
	Name string
}

func (s Source) String() string { return string(s.Kind) + " " + s.Name }

// Retention is how long each tier's backups are kept (zero: the tier is never expired).
type Retention struct {
	Daily   time.Duration
	Weekly  time.Duration
	Monthly time.Duration
}

// Job is one declared backup: what to copy, when, where to, how long to keep it, who can read
// it, and the recovery targets a drill measures.
type Job struct {
	Name       string // the declaration's name: backup "NAME"
	Source     Source // what is backed up
	Schedule   string // cron, UTC
	Bucket     string // destination R2 bucket
	Prefix     string // key prefix in Bucket, without a trailing slash
	Retention  Retention
	Recipients []string // age recipients (age1...); empty: stored unencrypted
	RPO        time.Duration
	RTO        time.Duration
}

// Tier is a retention class; each has its own key prefix and lifecycle rule.
type Tier string

const (
	Daily   Tier = "daily"
	Weekly  Tier = "weekly"
	Monthly Tier = "monthly"
)

// Tiers lists the tiers in the order the tier choice tries them.
var Tiers = []Tier{Monthly, Weekly, Daily}

// Age is how long the tier's backups are kept.
func (r Retention) Age(t Tier) time.Duration {
	switch t {
	case Daily:
		return r.Daily
	case Weekly:
		return r.Weekly
	case Monthly:
		return r.Monthly
	}
	return 0
}

// IDLayout formats a backup's id: its UTC start time, e.g. 20261203T020000Z.
const IDLayout = "20060102T150405Z"

// ID is the backup id for a run started at t.
func ID(t time.Time) string { return t.UTC().Format(IDLayout) }

// ParseID reads a backup id back into its start time.
func ParseID(id string) (time.Time, error) {
	t, err := time.Parse(IDLayout, id)
	if err != nil {
		return time.Time{}, fmt.Errorf("backup id %q is not a UTC time like 20261203T020000Z", id)
	}
	return t, nil
}

// The layout in the destination bucket (docs/cli/backup.md):
//
//	<prefix>/<tier>/<id>/<parts...>      the stored parts
//	<prefix>/<tier>/<id>/manifest.json   written last: present means complete
//	<prefix>/drills/<id>.json            drill reports, never expired by tier rules

// ManifestName is the object beside the parts that marks a backup complete.
const ManifestName = "manifest.json"

// TierPrefix is the key prefix of one tier's backups ("d1/tasks/daily/"), the prefix of that
// tier's lifecycle rule.
func TierPrefix(prefix string, t Tier) string { return join(prefix, string(t)) + "/" }

// DrillPrefix is where drill reports are kept; no tier rule covers it.
func DrillPrefix(prefix string) string { return join(prefix, "drills") + "/" }

// BackupPrefix is the folder of one backup's parts and manifest.
func BackupPrefix(prefix string, t Tier, id string) string {
	return TierPrefix(prefix, t) + id + "/"
}

func join(prefix, name string) string {
	prefix = strings.Trim(prefix, "/")
	if prefix == "" {
		return name
	}
	return path.Join(prefix, name)
}
