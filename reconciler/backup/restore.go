package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// RestoreOptions say where a restore goes.
type RestoreOptions struct {
	// To names the target: a D1 database, KV namespace (title) or R2 bucket of the same
	// kind as the backup's source. It is created when missing.
	To string
	// Force writes over a non-empty target and makes it exactly the backup: D1 tables
	// and views not in the backup are dropped, KV keys and R2 objects not in it deleted.
	Force bool
}

// Restored is what a restore did.
type Restored struct {
	Backup  *Backup
	Target  string
	Created bool // the target did not exist and was created
	// Contents is what was written: the manifest's, less Skipped.
	Contents []Content
	// Skipped counts KV keys whose expiration has passed, or is under KV's 60-second
	// minimum, since the backup: KV cannot write them.
	Skipped  int
	Deleted  int // -force: keys or objects removed because the backup does not have them
	Verified time.Duration
	Took     time.Duration
}

// Restore verifies the whole backup first and only then writes the target, so a damaged
// backup or wrong key changes nothing. A D1 restore is one import, which D1 runs as one
// transaction. KV and R2 writes are many requests: if one fails, the error says how many
// were written and what the target holds.
func (e *Env) Restore(ctx context.Context, b *Backup, opt RestoreOptions) (*Restored, error) {
	start := time.Now()
	kind := b.Manifest.Source.Kind
	if opt.To == "" {
		return nil, errors.New("restore needs a target: -to NAME (a D1 database, KV namespace or R2 bucket)")
	}
	if kind == SourceR2 && opt.To == b.Bucket {
		return nil, fmt.Errorf("restore into R2 bucket %s refused: it holds the backups themselves; restore into another bucket", opt.To)
	}
	tgt, err := e.openTarget(ctx, kind, opt.To)
	if err != nil {
		return nil, err
	}
	if !tgt.empty && !opt.Force {
		return nil, fmt.Errorf("%s is not empty (%s): restore refuses to write over it; restore into a new name, or add -force to replace its content with the backup's", tgt.desc, tgt.what)
	}
	v, err := e.verify(ctx, b, tgt.dropSQL)
	if err != nil {
		return nil, fmt.Errorf("%w\nnothing was written to %s", err, tgt.desc)
	}
	out := &Restored{Backup: b, Target: tgt.desc, Verified: time.Since(start)}
	if tgt.create != nil {
		if err := tgt.create(); err != nil {
			return nil, err
		}
		out.Created = true
	}
	e.startProgress("restore "+b.ID+" into "+opt.To, kind.noun())
	defer e.endProgress()
	switch kind {
	case SourceD1:
		err = e.restoreD1(ctx, b, v, tgt, out)
	case SourceKV:
		err = e.restoreKV(ctx, b, v, tgt, opt.Force, out)
	case SourceR2:
		err = e.restoreR2(ctx, b, v, tgt, opt.Force, out)
	}
	out.Took = time.Since(start)
	return out, err
}

// restoreD1 streams the backup (again checked against the manifest) as one import file.
func (e *Env) restoreD1(ctx context.Context, b *Backup, v *Verified, t *target, out *Restored) error {
	o, err := e.open(ctx, b)
	if err != nil {
		return fmt.Errorf("%w\nnothing was written to %s", err, t.desc)
	}
	defer o.Close()
	st := newSQLTally()
	st.onRow = e.prog.item
	body := io.MultiReader(strings.NewReader(t.dropSQL), io.TeeReader(o, st))
	if _, err := e.API.ImportD1(ctx, t.id, v.importMD5, v.importSize, body); err != nil {
		state := "as it was before the restore"
		if out.Created {
			state = "empty (it was created for this restore)"
		}
		return fmt.Errorf("restore of %s into %s failed: %w\nD1 runs an import as one transaction: %s is %s", b.ID, t.desc, err, t.desc, state)
	}
	out.Contents = v.Contents
	return nil
}

// kvMinTTL is KV's shortest expiration: a key expiring sooner cannot be written.
const kvMinTTL = 60 * time.Second

func (e *Env) restoreKV(ctx context.Context, b *Backup, v *Verified, t *target, force bool, out *Restored) error {
	o, err := e.open(ctx, b)
	if err != nil {
		return fmt.Errorf("%w\nnothing was written to %s", err, t.desc)
	}
	defer o.Close()
	written, total := 0, 0
	for _, c := range v.Contents {
		total += int(c.Items)
	}
	stopped := func(err error) error {
		return fmt.Errorf("restore of %s into %s stopped after writing %d of %d keys: %w\n%s now holds those %d keys as backed up besides what it held before; run the restore again with -force to finish it", b.ID, t.desc, written, total, err, t.desc, written)
	}
	wrote := newTally()
	wrote.declare(kvContent)
	var batch []cloudflare.KVEntry
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := e.API.BulkPutKV(ctx, t.id, batch); err != nil {
			return err
		}
		written += len(batch)
		batch, size = batch[:0], 0
		return nil
	}
	deadline := e.now().Add(kvMinTTL).Unix()
	wk := walker{kind: SourceKV, onKV: func(r kvRecord) error {
		if r.Expiration != 0 && r.Expiration <= deadline {
			out.Skipped++
			delete(v.keys, keyDigest(r.Key)) // -force: the target's own key of that name goes too
			return nil
		}
		kvItem(wrote, r)
		batch = append(batch, r)
		size += len(r.Key) + len(r.Value)*4/3 + len(r.Metadata) + 64
		if len(batch) >= 1000 || size >= cloudflare.KVBulkWriteBytes {
			return flush()
		}
		return nil
	}}
	if _, err := wk.walk(o, e.prog); err != nil {
		return stopped(o.explainWalk(err))
	}
	if err := flush(); err != nil {
		return stopped(err)
	}
	if err := o.Check(); err != nil {
		return stopped(err)
	}
	out.Contents = wrote.contents()
	if force {
		n, err := e.deleteExtraKV(ctx, t.id, v.keys)
		out.Deleted = n
		if err != nil {
			return fmt.Errorf("restore of %s into %s wrote all %d keys but could not delete the keys the backup does not have (%d deleted): %w; run it again with -force", b.ID, t.desc, written, n, err)
		}
	}
	return nil
}

func (e *Env) deleteExtraKV(ctx context.Context, nsID string, keep map[[16]byte]bool) (int, error) {
	var extra []string
	err := e.API.EachKVKeyPage(ctx, nsID, func(keys []cloudflare.KVKey) error {
		for _, k := range keys {
			if !keep[keyDigest(k.Name)] {
				extra = append(extra, k.Name)
			}
		}
		if len(extra) >= cloudflare.KVBulkWriteMax {
			return errNotEmpty
		}
		return nil
	})
	if err != nil && !errors.Is(err, errNotEmpty) {
		return 0, err
	}
	if len(extra) == 0 {
		return 0, nil
	}
	if err := e.API.BulkDeleteKV(ctx, nsID, extra); err != nil {
		return 0, err
	}
	if errors.Is(err, errNotEmpty) { // more than one request's worth: go again
		n, err := e.deleteExtraKV(ctx, nsID, keep)
		return len(extra) + n, err
	}
	return len(extra), nil
}

func (e *Env) restoreR2(ctx context.Context, b *Backup, v *Verified, t *target, force bool, out *Restored) error {
	o, err := e.open(ctx, b)
	if err != nil {
		return fmt.Errorf("%w\nnothing was written to %s", err, t.desc)
	}
	defer o.Close()
	written, total := 0, 0
	for _, c := range v.Contents {
		total += int(c.Items)
	}
	wk := walker{kind: SourceR2, onR2: func(r r2Entry) error {
		if _, err := e.R2.Upload(ctx, t.name, r.Key, r.Body, cloudflare.UploadOptions{ContentType: r.ContentType, Metadata: r.Metadata, Chunk: e.Chunk, SizeHint: r.Size}); err != nil {
			return err
		}
		written++
		return nil
	}}
	if _, err := wk.walk(o, e.prog); err == nil {
		err = o.Check()
	} else {
		err = o.explainWalk(err)
	}
	if err != nil {
		return fmt.Errorf("restore of %s into %s stopped after writing %d of %d objects: %w\n%s now holds those %d objects as backed up besides what it held before; run the restore again with -force to finish it", b.ID, t.desc, written, total, err, t.desc, written)
	}
	out.Contents = v.Contents
	if force {
		var extra []string
		if err := e.R2.List(ctx, t.name, "", func(o cloudflare.R2Object) error {
			if !v.keys[keyDigest(o.Key)] {
				extra = append(extra, o.Key)
			}
			return nil
		}); err != nil {
			return err
		}
		if err := e.R2.DeleteKeys(ctx, t.name, extra); err != nil {
			return fmt.Errorf("restore of %s into %s wrote all %d objects but could not delete the objects the backup does not have: %w; run it again with -force", b.ID, t.desc, written, err)
		}
		out.Deleted = len(extra)
	}
	return nil
}
