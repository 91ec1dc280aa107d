package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/monotask/flareops/reconciler/backup"
)

// flareops backup run|list|verify|restore|drill: the backup kind's commands. Each loads the
// configuration as plan does and takes backup.NAME's Job from the kind's Build.

var backupSubs = []string{"run", "list", "verify", "restore", "drill"}

// backupOpts are the flags of every backup subcommand (each uses some).
type backupOpts struct {
	cf     configFlags
	sub    string
	format string
	id     string
	to     string
	force  bool
	out    string
	name   string
}

func runBackup(args []string, io IO) int {
	if len(args) == 0 || !contains(backupSubs, args[0]) {
		if len(args) > 0 && !isHelpFlag(args[0]) {
			return unknownCommand(io, "flareops backup", args[0])
		}
		return errorf(io, "usage: flareops backup run|list|verify|restore|drill [flags] NAME")
	}
	o := backupOpts{sub: args[0]}
	fs := newFlags("backup "+o.sub, io)
	o.cf.register(fs)
	switch o.sub {
	case "list":
		fs.StringVar(&o.format, "format", "text", "output `FORMAT`: text or json")
	case "run", "verify", "restore":
		fs.StringVar(&o.format, "format", "text", "output `FORMAT`: text or json (json: no progress)")
	case "drill":
		fs.StringVar(&o.format, "format", "text", "report `FORMAT`: text, json or html")
		fs.StringVar(&o.out, "out", "", "write the report to `FILE` instead of stdout")
	}
	if o.sub == "verify" || o.sub == "restore" {
		fs.StringVar(&o.id, "id", "", "the backup `ID` (a UTC time like 20261203T020000Z; default the newest)")
	}
	if o.sub == "restore" {
		fs.StringVar(&o.to, "to", "", "the `TARGET`: a D1 database, KV namespace or R2 bucket name (created when missing)")
		fs.BoolVar(&o.force, "force", false, "write over a non-empty target, making it exactly the backup")
	}
	if !parse(fs, args[1:]) {
		return ExitError
	}
	allowed := []string{"text", "json"}
	if o.sub == "drill" {
		allowed = append(allowed, "html")
	}
	if !contains(allowed, o.format) {
		return errorf(io, "-format %q: use %s", o.format, strings.Join(allowed, ", "))
	}
	switch rest := fs.Args(); {
	case len(rest) == 1:
		o.name = rest[0]
	case len(rest) == 0 && o.sub == "list":
	default:
		return errorf(io, "usage: %s", helpFor("backup "+o.sub).usage)
	}
	if o.sub == "restore" && o.to == "" {
		return errorf(io, "restore needs -to TARGET: the D1 database, KV namespace or R2 bucket to restore into (created when missing; a non-empty one needs -force)")
	}
	return runBackupSub(o, io)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func runBackupSub(o backupOpts, io IO) int {
	l, ok := loadConfig(o.cf, io)
	if !ok {
		return ExitError
	}
	jobs, err := backupJobs(l)
	if err != nil {
		return errorf(io, "%v", err)
	}
	var selected []backup.Job
	if o.name == "" {
		for _, j := range jobs {
			selected = append(selected, j)
		}
		sort.Slice(selected, func(i, j int) bool { return selected[i].Name < selected[j].Name })
	} else {
		j, ok := jobs[o.name]
		if !ok {
			return errorf(io, "no backup %q in the configuration in %s%s", o.name, o.cf.dir, declared(jobs))
		}
		selected = []backup.Job{j}
	}
	ws, err := resolveWorkspace(o.cf.workspace, io)
	if err != nil {
		return errorf(io, "%v", err)
	}
	ref, err := resolveTarget(o.cf.dir, ws, io)
	if err != nil {
		return errorf(io, "%v", err)
	}
	tgt, err := openTarget(o.cf.dir, ref, io)
	if err != nil {
		return errorf(io, "%v", err)
	}
	defer tgt.close() //nolint:errcheck // the command's outcome is already decided
	r2, err := tgt.R2("backups")
	if err != nil {
		return errorf(io, "%v", err)
	}
	env := &backup.Env{API: tgt.client, R2: r2, Version: Version, Identity: io.Getenv(backup.EnvIdentity)}
	if o.format != "json" {
		if f, ok := io.Stderr.(*os.File); ok && isTerminal(f) {
			env.Progress = io.Stderr
		}
	}
	ctx, cancel := interruptible()
	defer cancel()
	switch o.sub {
	case "run":
		return backupRun(ctx, env, selected[0], o, io)
	case "list":
		return backupList(ctx, env, selected, o, io)
	case "verify":
		return backupVerify(ctx, env, selected[0], o, io)
	case "restore":
		return backupRestore(ctx, env, selected[0], o, io)
	}
	return backupDrill(ctx, env, selected[0], o, io)
}

// backupJobs builds every backup block of the configuration into its Job.
func backupJobs(l *loaded) (map[string]backup.Job, error) {
	out := map[string]backup.Job{}
	k, ok := registry(nil, l.settings).Kind("backup")
	if !ok {
		return nil, errors.New("this flareops has no backup kind: the backup commands need backup blocks in the configuration")
	}
	for _, d := range l.desired {
		if d.Addr.Kind != "backup" {
			continue
		}
		obj, err := k.Build(d.Values)
		if err != nil {
			return nil, fmt.Errorf("%s: backup %q: %w", d.Source, d.Addr.Name, err)
		}
		j, ok := obj.Private.(backup.Job)
		if !ok {
			return nil, fmt.Errorf("%s: backup %q: the kind did not describe a backup job", d.Source, d.Addr.Name)
		}
		j.Name = d.Addr.Name // the kind sees only the block's values
		out[d.Addr.Name] = j
	}
	return out, nil
}

func declared(jobs map[string]backup.Job) string {
	if len(jobs) == 0 {
		return " (it declares none)"
	}
	names := make([]string, 0, len(jobs))
	for n := range jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	return "; it declares " + strings.Join(names, ", ")
}

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
	fmt.Fprintf(io.Stdout, "  %s in %s; %d bytes, %d stored in %d parts%s\n", itemsText(m), contentsText(m), m.Plaintext.Bytes, m.StoredBytes, len(m.Parts), map[bool]string{true: ", encrypted with age"}[m.Encrypted])
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
