package backup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// A drill proves the newest backup restores: into a scratch target it creates and deletes,
// compared with the manifest, timed against the RTO, its age held against the RPO. Its
// report is kept under <prefix>/drills/, which no tier rule expires.

// DrillReport is what one drill found.
type DrillReport struct {
	Job        string    `json:"job"`
	Source     Source    `json:"source"`
	ID         string    `json:"id"` // the drill's start time, like a backup id
	At         time.Time `json:"at"`
	Tool       string    `json:"tool"`
	BackupID   string    `json:"backup_id,omitempty"`
	BackupTier Tier      `json:"backup_tier,omitempty"`
	Scratch    string    `json:"scratch"` // the scratch target, e.g. "D1 database flareops-drill-1a2b3c4d"
	// RestoreSeconds is the measured recovery time: verifying, restoring and reading the
	// scratch target back.
	RestoreSeconds   float64         `json:"restore_seconds"`
	RTOSeconds       float64         `json:"rto_seconds"`
	BackupAgeSeconds float64         `json:"backup_age_seconds"`
	RPOSeconds       float64         `json:"rpo_seconds"`
	Contents         []ContentResult `json:"contents,omitempty"`
	Skipped          int             `json:"skipped,omitempty"` // KV keys expired since the backup
	Checks           []Check         `json:"checks"`
	Cleanup          string          `json:"cleanup"`
	Passed           bool            `json:"passed"`
}

// ContentResult compares one table, namespace or prefix after the restore.
type ContentResult struct {
	Name      string `json:"name"`
	Want      int64  `json:"want"`
	Got       int64  `json:"got"`
	WantSHA   string `json:"want_sha256"`
	GotSHA    string `json:"got_sha256"`
	Identical bool   `json:"identical"`
}

// Check is one pass/fail finding.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

func (r *DrillReport) check(name string, ok bool, format string, args ...any) {
	r.Checks = append(r.Checks, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
}

// Drill restores the newest backup of job into a scratch target and checks it. The
// report is returned (and stored) also when a check fails; err is for what kept the drill
// from producing one.
func (e *Env) Drill(ctx context.Context, job Job) (*DrillReport, error) {
	at := e.now().Truncate(time.Second)
	r := &DrillReport{Job: job.Name, Source: job.Source, ID: ID(at), At: at, Tool: "flareops " + e.Version,
		RTOSeconds: job.RTO.Seconds(), RPOSeconds: job.RPO.Seconds()}
	b, err := e.Find(ctx, job, "")
	if err != nil {
		return nil, err
	}
	r.BackupID, r.BackupTier = b.ID, b.Tier
	if started, err := ParseID(b.ID); err == nil {
		r.BackupAgeSeconds = at.Sub(started).Seconds()
	}
	scratch, err := scratchName(job)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	res, rerr := e.Restore(ctx, b, RestoreOptions{To: scratch})
	if res != nil {
		r.Scratch, r.Skipped = res.Target, res.Skipped
	} else {
		r.Scratch = fmt.Sprintf("%s %s", kindNoun(job.Source.Kind), scratch)
	}
	var got []Content
	if rerr == nil {
		got, rerr = e.readBack(ctx, job.Source.Kind, scratch)
	}
	r.RestoreSeconds = time.Since(start).Seconds()
	r.Cleanup = e.dropScratch(job.Source.Kind, scratch)
	if rerr != nil {
		r.check("restore", false, "%v", rerr)
	} else {
		r.check("restore", true, "restored %s %s into %s", b.Tier, b.ID, r.Scratch)
		want := res.Contents // the manifest's, less keys KV can no longer hold
		r.compare(want, got, job.Source.Kind.noun())
		if res.Skipped > 0 {
			r.Checks[len(r.Checks)-1].Detail += fmt.Sprintf(" (%d keys expired since the backup and cannot be restored)", res.Skipped)
		}
	}
	r.check("rto", rerr == nil && (job.RTO == 0 || r.RestoreSeconds <= r.RTOSeconds), "restore took %s; the RTO is %s", dur(r.RestoreSeconds), dur(r.RTOSeconds))
	r.check("rpo", job.RPO == 0 || r.BackupAgeSeconds <= r.RPOSeconds, "the newest backup is %s old; the RPO is %s", dur(r.BackupAgeSeconds), dur(r.RPOSeconds))
	r.check("cleanup", r.Cleanup == "deleted", "%s: %s", r.Scratch, r.Cleanup)
	r.Passed = true
	for _, c := range r.Checks {
		r.Passed = r.Passed && c.OK
	}
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return r, err
	}
	key := DrillPrefix(job.Prefix) + r.ID + ".json"
	if _, err := e.R2.Put(ctx, job.Bucket, key, append(raw, '\n'), cloudflare.PutOptions{ContentType: "application/json"}); err != nil {
		return r, fmt.Errorf("the drill ran but its report could not be stored: %w", err)
	}
	return r, nil
}

func (r *DrillReport) compare(want, got []Content, noun string) {
	g := map[string]Content{}
	for _, c := range got {
		g[c.Name] = c
	}
	for _, w := range want {
		o := g[w.Name]
		r.Contents = append(r.Contents, ContentResult{Name: w.Name, Want: w.Items, Got: o.Items, WantSHA: w.SHA256, GotSHA: o.SHA256, Identical: o.Items == w.Items && o.SHA256 == w.SHA256})
	}
	diffs := compareContents(want, got, noun)
	if len(diffs) > 0 {
		r.check("content", false, "the restored %s differ from the backup: %s", noun, strings.Join(diffs, "; "))
		return
	}
	var n int64
	for _, c := range want {
		n += c.Items
	}
	r.check("content", true, "%d %s in %d %s, all identical to the manifest (counts and checksums)", n, noun, len(want), contentsNoun(noun))
}

func contentsNoun(noun string) string {
	switch noun {
	case "rows":
		return "tables"
	case "keys":
		return "namespace"
	}
	return "prefixes"
}

func kindNoun(k SourceKind) string {
	switch k {
	case SourceD1:
		return "D1 database"
	case SourceKV:
		return "KV namespace"
	}
	return "R2 bucket"
}

// readBack reads a restored target the way a backup reads its source, for its Contents.
func (e *Env) readBack(ctx context.Context, kind SourceKind, name string) ([]Content, error) {
	e.startProgress("read back "+name, kind.noun())
	defer e.endProgress()
	got, err := e.dump(ctx, Source{Kind: kind, Name: name}, io.Discard)
	if err != nil {
		return nil, fmt.Errorf("cannot read the restored %s %s back: %w", kindNoun(kind), name, err)
	}
	return got, nil
}

// scratchName is a fresh name for a drill's scratch target (valid as a D1 database, KV
// title and R2 bucket name).
func scratchName(job Job) (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "flareops-drill-" + hex.EncodeToString(b[:]), nil
}

// dropScratch deletes a drill's scratch target, on a fresh context so that an interrupted
// drill still cleans up; it answers "deleted" or what is left.
func (e *Env) dropScratch(kind SourceKind, name string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var err error
	switch kind {
	case SourceD1:
		var db cloudflare.D1Database
		if db, err = e.API.FindD1Database(ctx, name); err == nil {
			err = e.API.DeleteD1Database(ctx, db.UUID)
		}
	case SourceKV:
		var ns cloudflare.KVNamespace
		if ns, err = e.API.FindKVNamespace(ctx, name); err == nil {
			err = e.API.DeleteKVNamespace(ctx, ns.ID)
		}
	case SourceR2:
		var ok bool
		if ok, err = e.R2.BucketExists(ctx, name); err == nil && ok {
			var keys []string
			if err = e.R2.List(ctx, name, "", func(o cloudflare.R2Object) error { keys = append(keys, o.Key); return nil }); err == nil {
				if err = e.R2.DeleteKeys(ctx, name, keys); err == nil {
					err = e.R2.DeleteBucket(ctx, name)
				}
			}
		}
	}
	if cloudflare.IsNotFound(err) {
		err = nil // never created: the restore failed before
	}
	if err != nil {
		return fmt.Sprintf("NOT deleted, delete it by hand: %v", err)
	}
	return "deleted"
}

// Drills reads the drill history of job, oldest first.
func (e *Env) Drills(ctx context.Context, job Job) ([]DrillReport, error) {
	var keys []string
	if err := e.R2.List(ctx, job.Bucket, DrillPrefix(job.Prefix), func(o cloudflare.R2Object) error {
		if strings.HasSuffix(o.Key, ".json") {
			keys = append(keys, o.Key)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	var out []DrillReport
	for _, k := range keys {
		raw, _, err := e.R2.GetBytes(ctx, job.Bucket, k, maxManifest)
		if errors.Is(err, cloudflare.ErrNoSuchKey) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var r DrillReport
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("r2://%s/%s: not a drill report: %w", job.Bucket, k, err)
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// dur renders seconds as a short duration ("1m30s", "25h0m0s" → "25h").
func dur(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d >= time.Hour:
		d = d.Round(time.Minute)
	case d >= time.Minute:
		d = d.Round(time.Second)
	default:
		d = d.Round(time.Millisecond)
	}
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}
