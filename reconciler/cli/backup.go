package cli

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

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
