package backup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// Backup is one complete backup in the destination bucket.
type Backup struct {
	Bucket   string
	Folder   string // <prefix>/<tier>/<id>/
	Tier     Tier
	ID       string
	Manifest *Manifest
}

// Where names the backup's manifest object.
func (b *Backup) Where() string { return fmt.Sprintf("r2://%s/%s%s", b.Bucket, b.Folder, ManifestName) }

// Listing is what the destination holds for a job: complete backups, newest first, and
// the folders of runs that never finished (no manifest: never verified or restored).
type Listing struct {
	Backups    []*Backup
	Incomplete []string
	// Damaged are folders whose manifest cannot be read ("r2://…/manifest.json: why"):
	// listed so that one bad manifest does not hide the good backups beside it.
	Damaged []string
}

// maxManifest bounds a manifest read (parts and contents are small lists).
const maxManifest = 16 << 20

// List reads the job's backups and their manifests. Only a folder with a manifest is a
// backup.
func (e *Env) List(ctx context.Context, job Job) (*Listing, error) {
	l, err := e.scan(ctx, job)
	if err != nil {
		return nil, err
	}
	good := l.Backups[:0]
	for _, b := range l.Backups {
		loaded, err := e.load(ctx, job.Bucket, b.Folder, b.Tier, b.ID)
		if err != nil {
			if ctx.Err() != nil || !isManifestProblem(err) {
				return nil, err
			}
			l.Damaged = append(l.Damaged, err.Error())
			continue
		}
		good = append(good, loaded)
	}
	l.Backups = good
	return l, nil
}

// scan lists the job's backups from the object listing alone (Manifest nil).
func (e *Env) scan(ctx context.Context, job Job) (*Listing, error) {
	out := &Listing{}
	for _, tier := range Tiers {
		tp := TierPrefix(job.Prefix, tier)
		folders := map[string]bool{}
		var manifests []string
		err := e.R2.List(ctx, job.Bucket, tp, func(o cloudflare.R2Object) error {
			rest := strings.TrimPrefix(o.Key, tp)
			id, name, ok := strings.Cut(rest, "/")
			if !ok {
				return nil
			}
			if _, err := ParseID(id); err != nil {
				return nil // not ours
			}
			folders[id] = folders[id] || false
			if name == ManifestName {
				folders[id] = true
				manifests = append(manifests, id)
			}
			return nil
		})
		if errors.Is(err, cloudflare.ErrNoSuchKey) {
			return nil, fmt.Errorf("the destination bucket %q of backup %q does not exist: run `flareops apply` to create it (%w)", job.Bucket, job.Name, err)
		}
		if err != nil {
			return nil, err
		}
		for id, complete := range folders {
			if !complete {
				out.Incomplete = append(out.Incomplete, tp+id+"/")
			}
		}
		for _, id := range manifests {
			out.Backups = append(out.Backups, &Backup{Bucket: job.Bucket, Folder: BackupPrefix(job.Prefix, tier, id), Tier: tier, ID: id})
		}
	}
	sort.Slice(out.Backups, func(i, j int) bool { return out.Backups[i].ID > out.Backups[j].ID })
	sort.Strings(out.Incomplete)
	return out, nil
}

// manifestError is a manifest that exists but cannot be used (unreadable, inconsistent,
// not matching its folder, gone since it was listed), as opposed to a failed request.
type manifestError struct{ msg string }

func (e *manifestError) Error() string { return e.msg }

func isManifestProblem(err error) bool {
	var me *manifestError
	return errors.As(err, &me)
}

func (e *Env) load(ctx context.Context, bucket, folder string, tier Tier, id string) (*Backup, error) {
	b := &Backup{Bucket: bucket, Folder: folder, Tier: tier, ID: id}
	raw, _, err := e.R2.GetBytes(ctx, bucket, folder+ManifestName, maxManifest)
	if errors.Is(err, cloudflare.ErrNoSuchKey) {
		return nil, &manifestError{fmt.Sprintf("%s: missing: the backup is incomplete (a run that did not finish), so it cannot be verified or restored", b.Where())}
	}
	if errors.Is(err, cloudflare.ErrTooLarge) {
		return nil, &manifestError{fmt.Sprintf("%s: larger than %d bytes: not a backup manifest", b.Where(), maxManifest)}
	}
	if err != nil {
		return nil, err
	}
	m, err := parseManifest(raw, b.Where())
	if err != nil {
		return nil, &manifestError{err.Error()}
	}
	if m.ID != id || m.Tier != tier {
		return nil, &manifestError{fmt.Sprintf("%s: the manifest is for backup %s/%s, not %s/%s: the manifest does not match its folder", b.Where(), m.Tier, m.ID, tier, id)}
	}
	b.Manifest = m
	return b, nil
}

// Find returns the backup with id, or the newest when id is empty.
func (e *Env) Find(ctx context.Context, job Job, id string) (*Backup, error) {
	if id != "" {
		if _, err := ParseID(id); err != nil {
			return nil, err
		}
		for _, tier := range Tiers {
			folder := BackupPrefix(job.Prefix, tier, id)
			found := false
			if err := e.R2.List(ctx, job.Bucket, folder, func(cloudflare.R2Object) error { found = true; return nil }); err != nil {
				return nil, err
			}
			if found {
				return e.load(ctx, job.Bucket, folder, tier, id)
			}
		}
		return nil, fmt.Errorf("backup %s: nothing under r2://%s/%s/{daily,weekly,monthly}/%s/: run `flareops backup list` for the backups there", id, job.Bucket, strings.Trim(job.Prefix, "/"), id)
	}
	l, err := e.scan(ctx, job)
	if err != nil {
		return nil, err
	}
	if len(l.Backups) == 0 {
		if len(l.Incomplete) > 0 {
			return nil, fmt.Errorf("no complete backup of %s in r2://%s/%s/: r2://%s/%s%s is missing (a run that did not finish), so that backup cannot be used; run `flareops backup run %s`", job.Source, job.Bucket, strings.Trim(job.Prefix, "/"), job.Bucket, l.Incomplete[len(l.Incomplete)-1], ManifestName, job.Name)
		}
		return nil, fmt.Errorf("no complete backup of %s in r2://%s/%s/: run `flareops backup run %s` first", job.Source, job.Bucket, strings.Trim(job.Prefix, "/"), job.Name)
	}
	newest := l.Backups[0]
	return e.load(ctx, job.Bucket, newest.Folder, newest.Tier, newest.ID)
}

// ChooseTier picks the tier of a backup started at t: monthly when no complete backup of
// the job exists under monthly/ for t's UTC calendar month, else weekly when none exists
// under weekly/ for t's ISO week, else daily.
func ChooseTier(existing []*Backup, t time.Time) Tier {
	t = t.UTC()
	haveMonth, haveWeek := false, false
	y, w := t.ISOWeek()
	for _, b := range existing {
		bt, err := ParseID(b.ID)
		if err != nil {
			continue
		}
		switch b.Tier {
		case Monthly:
			haveMonth = haveMonth || (bt.Year() == t.Year() && bt.Month() == t.Month())
		case Weekly:
			by, bw := bt.ISOWeek()
			haveWeek = haveWeek || (by == y && bw == w)
		}
	}
	switch {
	case !haveMonth:
		return Monthly
	case !haveWeek:
		return Weekly
	}
	return Daily
}

// Run backs the job's source up: streamed, compressed, encrypted when the job has
// recipients, uploaded under the chosen tier, and completed by writing the manifest last.
// A run that fails leaves no manifest, so no backup that List shows; it deletes the parts
// it wrote where it can.
func (e *Env) Run(ctx context.Context, job Job) (*Backup, error) {
	start := e.now().Truncate(time.Second)
	l, err := e.scan(ctx, job)
	if err != nil {
		return nil, err
	}
	tier := ChooseTier(l.Backups, start)
	id := ID(start)
	b := &Backup{Bucket: job.Bucket, Folder: BackupPrefix(job.Prefix, tier, id), Tier: tier, ID: id}
	// Two runs in one second would share the folder: the second refuses.
	taken := false
	if err := e.R2.List(ctx, job.Bucket, b.Folder, func(cloudflare.R2Object) error { taken = true; return errNotEmpty }); err != nil && !errors.Is(err, errNotEmpty) {
		return nil, err
	}
	if taken {
		return nil, fmt.Errorf("r2://%s/%s already holds objects of another run started in the same second: run again", job.Bucket, b.Folder)
	}
	payload, ext := payloadOf(job.Source.Kind)
	if len(job.Recipients) > 0 {
		ext += ".age"
	}
	e.startProgress("backup "+job.Name, job.Source.Kind.noun())
	defer e.endProgress()

	pr, pw := io.Pipe()
	type result struct {
		contents []Content
		plain    Checksums
		err      error
	}
	done := make(chan result, 1)
	go func() {
		var res result
		s, err := newSealer(pw, job.Recipients, e.prog)
		if err == nil {
			res.contents, err = e.dump(ctx, job.Source, s)
			if err == nil {
				err = s.Close()
			}
			res.plain = s.checksums()
		}
		res.err = err
		pw.CloseWithError(err) // nil: EOF
		done <- res
	}()
	// The parts' names are this run's own: a run of the same second that lost the race
	// for the manifest deletes only its parts, never the winner's.
	var run [4]byte
	if _, err := rand.Read(run[:]); err != nil {
		return nil, fmt.Errorf("cannot name this run's parts: %w", err)
	}
	parts, upErr := e.storeParts(ctx, job.Bucket, b.Folder, "part-"+ext+"."+hex.EncodeToString(run[:]), pr)
	pr.CloseWithError(errors.New("the upload stopped")) // unblocks the dump if the upload failed
	res := <-done
	if err := errors.Join(res.err, upErr); err != nil {
		return nil, e.abandon(b, parts, fmt.Errorf("backup %s of %s failed, no backup was recorded: %w", id, job.Source, firstErr(res.err, upErr)))
	}
	m := &Manifest{
		Format: ManifestFormat, Tool: "flareops " + e.Version, Job: job.Name, Source: job.Source,
		ID: id, Tier: tier, StartedAt: start, FinishedAt: e.now(), Compression: "gzip",
		Encrypted: len(job.Recipients) > 0, Recipients: job.Recipients, Payload: payload,
		Plaintext: res.plain, Parts: parts, Contents: res.contents,
	}
	for _, p := range parts {
		m.StoredBytes += p.Bytes
	}
	raw, err := m.marshal()
	if err != nil {
		return nil, e.abandon(b, parts, err)
	}
	// Written last and only if absent: its presence is what makes the backup complete.
	if _, err := e.R2.Put(ctx, job.Bucket, b.Folder+ManifestName, raw, cloudflare.PutOptions{IfNoneMatch: "*", ContentType: "application/json"}); err != nil {
		return nil, e.abandon(b, parts, fmt.Errorf("backup %s of %s: cannot write its manifest, no backup was recorded: %w", id, job.Source, err))
	}
	b.Manifest = m
	return b, nil
}

// firstErr prefers the cause over its echo: when the upload failed, the dump fails with
// "the upload stopped", and the other way round.
func firstErr(dump, upload error) error {
	if upload != nil && (dump == nil || strings.Contains(dump.Error(), "the upload stopped") || errors.Is(dump, io.ErrClosedPipe)) {
		return upload
	}
	return dump
}

// abandon deletes the parts of a failed run (best effort: without a manifest they are
// never used) and returns err, saying what was left when the deletion failed.
func (e *Env) abandon(b *Backup, parts []Part, err error) error {
	keys := make([]string, len(parts))
	for i, p := range parts {
		keys[i] = b.Folder + p.Name
	}
	if len(keys) == 0 {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if derr := e.R2.DeleteKeys(ctx, b.Bucket, keys); derr != nil {
		return fmt.Errorf("%w (its %d parts under r2://%s/%s could not be deleted: %v; without a manifest they are never used)", err, len(keys), b.Bucket, b.Folder, derr)
	}
	return err
}
