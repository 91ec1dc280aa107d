package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/monotask/flareops/reconciler/backup"
)

func printJSON(io IO, v any) int {
	enc := json.NewEncoder(io.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return errorf(io, "%v", err)
	}
	return ExitOK
}

func backupRun(ctx context.Context, env *backup.Env, job backup.Job, o backupOpts, io IO) int {
	b, err := env.Run(ctx, job)
	if err != nil {
		return errorf(io, "%v", err)
	}
	if o.format == "json" {
		return printJSON(io, backupView(b))
	}
	m := b.Manifest
	fmt.Fprintf(io.Stdout, "Backed up %s to r2://%s/%s (%s)\n", m.Source, b.Bucket, b.Folder, b.Tier)
	parts := "parts"
	if len(m.Parts) == 1 {
		parts = "part"
	}
	fmt.Fprintf(io.Stdout, "  %s in %s; %d bytes, %d stored in %d %s%s\n", itemsText(m), contentsText(m), m.Plaintext.Bytes, m.StoredBytes, len(m.Parts), parts, map[bool]string{true: ", encrypted with age"}[m.Encrypted])
	return ExitOK
}

func itemsText(m *backup.Manifest) string {
	var n int64
	for _, c := range m.Contents {
		n += c.Items
	}
	noun := map[backup.SourceKind]string{backup.SourceD1: "rows", backup.SourceKV: "keys", backup.SourceR2: "objects"}[m.Source.Kind]
	return fmt.Sprintf("%d %s", n, noun)
}

func contentsText(m *backup.Manifest) string {
	switch m.Source.Kind {
	case backup.SourceD1:
		return fmt.Sprintf("%d tables", len(m.Contents))
	case backup.SourceKV:
		return "the namespace"
	}
	return fmt.Sprintf("%d prefixes", len(m.Contents))
}

// backupJSON is how list and run show a backup in JSON.
type backupJSON struct {
	ID       string           `json:"id"`
	Tier     backup.Tier      `json:"tier"`
	Location string           `json:"location"`
	Manifest *backup.Manifest `json:"manifest"`
}

func backupView(b *backup.Backup) backupJSON {
	return backupJSON{ID: b.ID, Tier: b.Tier, Location: fmt.Sprintf("r2://%s/%s", b.Bucket, b.Folder), Manifest: b.Manifest}
}

func backupList(ctx context.Context, env *backup.Env, jobs []backup.Job, o backupOpts, io IO) int {
	type jobJSON struct {
		Name       string       `json:"name"`
		Bucket     string       `json:"bucket"`
		Backups    []backupJSON `json:"backups"`
		Incomplete []string     `json:"incomplete"`
		Damaged    []string     `json:"damaged"`
	}
	var all []jobJSON
	tw := tabwriter.NewWriter(io.Stdout, 0, 4, 2, ' ', 0)
	if o.format == "text" {
		fmt.Fprintln(tw, "BACKUP\tID\tTIER\tSOURCE\tCONTENT\tSTORED\tENCRYPTED")
	}
	for _, job := range jobs {
		l, err := env.List(ctx, job)
		if err != nil {
			return errorf(io, "%s: %v", job.Name, err)
		}
		jj := jobJSON{Name: job.Name, Bucket: job.Bucket, Backups: []backupJSON{}, Incomplete: l.Incomplete}
		if jj.Incomplete == nil {
			jj.Incomplete = []string{}
		}
		jj.Damaged = append([]string{}, l.Damaged...)
		for _, b := range l.Backups {
			jj.Backups = append(jj.Backups, backupView(b))
			if o.format == "text" {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%v\n", job.Name, b.ID, b.Tier, b.Manifest.Source, itemsText(b.Manifest), b.Manifest.StoredBytes, b.Manifest.Encrypted)
			}
		}
		all = append(all, jj)
	}
	if o.format == "json" {
		return printJSON(io, all)
	}
	tw.Flush()
	for _, jj := range all {
		for _, f := range jj.Incomplete {
			fmt.Fprintf(io.Stdout, "%s: r2://%s/%s has no manifest (a run that did not finish): not a backup\n", jj.Name, jj.Bucket, f)
		}
		for _, d := range jj.Damaged {
			fmt.Fprintf(io.Stdout, "%s: DAMAGED, cannot be verified or restored: %s\n", jj.Name, d)
		}
	}
	return ExitOK
}

func backupVerify(ctx context.Context, env *backup.Env, job backup.Job, o backupOpts, io IO) int {
	b, err := env.Find(ctx, job, o.id)
	if err != nil {
		return errorf(io, "%v", err)
	}
	v, err := env.Verify(ctx, b)
	if err != nil {
		return errorf(io, "verify failed: %v", err)
	}
	if o.format == "json" {
		return printJSON(io, map[string]any{"verified": true, "backup": backupView(b), "contents": v.Contents})
	}
	m := b.Manifest
	fmt.Fprintf(io.Stdout, "Backup %s/%s of %s verified: %d parts (%d bytes) match their SHA-256, %sthe plaintext (%d bytes) and its %s match the manifest\n",
		b.Tier, b.ID, m.Source, len(m.Parts), m.StoredBytes, map[bool]string{true: "decryption succeeded, "}[m.Encrypted], m.Plaintext.Bytes, itemsText(m))
	return ExitOK
}

func backupRestore(ctx context.Context, env *backup.Env, job backup.Job, o backupOpts, io IO) int {
	b, err := env.Find(ctx, job, o.id)
	if err != nil {
		return errorf(io, "%v", err)
	}
	r, err := env.Restore(ctx, b, backup.RestoreOptions{To: o.to, Force: o.force})
	if err != nil {
		return errorf(io, "%v", err)
	}
	if o.format == "json" {
		return printJSON(io, map[string]any{"backup": backupView(b), "target": r.Target, "created": r.Created,
			"contents": r.Contents, "skipped_expired_keys": r.Skipped, "deleted": r.Deleted, "seconds": r.Took.Seconds()})
	}
	fmt.Fprintf(io.Stdout, "Restored %s/%s of %s into %s%s in %s: %s\n", b.Tier, b.ID, b.Manifest.Source, r.Target,
		map[bool]string{true: " (created)"}[r.Created], r.Took.Round(1e6), itemsText(&backup.Manifest{Source: b.Manifest.Source, Contents: r.Contents}))
	if r.Skipped > 0 {
		fmt.Fprintf(io.Stdout, "  %d keys expired since the backup (or expire within a minute) and were not written\n", r.Skipped)
	}
	if r.Deleted > 0 {
		fmt.Fprintf(io.Stdout, "  -force: deleted %d keys or objects the backup does not have\n", r.Deleted)
	}
	return ExitOK
}

func backupDrill(ctx context.Context, env *backup.Env, job backup.Job, o backupOpts, io IO) int {
	r, err := env.Drill(ctx, job)
	if r == nil {
		return errorf(io, "drill failed: %v", err)
	}
	w := io.Stdout
	var file *os.File
	if o.out != "" {
		f, ferr := os.Create(o.out)
		if ferr != nil {
			return errorf(io, "-out: %v", ferr)
		}
		file, w = f, f
	}
	var werr error
	switch o.format {
	case "json":
		werr = r.WriteJSON(w)
	case "html":
		history, herr := env.Drills(ctx, job)
		if herr != nil {
			werr = herr
			break
		}
		werr = r.WriteHTML(w, history)
	default:
		werr = r.WriteText(w)
	}
	if file != nil {
		werr = errors.Join(werr, file.Close())
	}
	if werr != nil {
		return errorf(io, "cannot write the drill report: %v", werr)
	}
	if err != nil {
		return errorf(io, "%v", err)
	}
	if !r.Passed {
		fmt.Fprintf(io.Stderr, "Error: the drill of %s failed (see the report)\n", job.Name)
		return ExitError
	}
	return ExitOK
}
