package cli

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// cmdHelp is what `flareops help CMD` and `flareops CMD -h` print above the flags.
type cmdHelp struct {
	usage string // the synopsis: positional arguments spelled out, flags as [flags]
	desc  string // what the command does and what its exit codes mean
	// flagless commands parse no flags before their subcommand (or have none): Main
	// answers their -h itself.
	flagless bool
	subs     []string // subcommands, each with its own entry "CMD SUB"
}

// helps is keyed by the name a command gives newFlags ("plan", "state list"), so a
// command's usage is declared here without touching its run function.
var helps = map[string]cmdHelp{
	"validate": {
		usage: "flareops validate [flags] [-wrangler PATH...]",
		desc: "Check the configuration. Exit 0 when it is valid; 1 with diagnostics (file:line:col) on stderr. " +
			"With -wrangler, also read the team's wrangler files (a directory means the wrangler.json, wrangler.jsonc or wrangler.toml in it) " +
			"and report every binding, cron trigger, queue consumer or setting (cpu_ms, observability) declared both there and here, " +
			"on the same Worker (environments deploy <name>-<env>), with both file:line locations and which side should keep it; exit 1 when there is any. " +
			"-format json or sarif prints every diagnostic as one document on stdout instead (SARIF 2.1.0 for GitHub code scanning, which annotates the pull request); the exit codes are the same.",
	},
	"fmt": {
		usage: "flareops fmt [flags]",
		desc:  "Rewrite the configuration files in canonical format. With -check, change nothing and exit 1 if a file is not formatted.",
	},
	"plan": {
		usage: "flareops plan [flags]",
		desc:  "Show the changes apply would make. With -detailed-exitcode: 0 no changes, 2 changes, 1 error.",
	},
	"apply": {
		usage: "flareops apply [flags] [PLANFILE]",
		desc: "Make the account match the configuration, after showing the plan and asking. With PLANFILE (from plan -out, from any directory), apply exactly that plan; refused, naming them, when the configuration or an object the plan touches or references changed since. " +
			"On a terminal (or with -progress, or FLAREOPS_PROGRESS=1) a line per finished change on stderr gives the elapsed time and the request budget: requests left in the window, waits so far. " +
			"-format json prints one result document on stdout instead of text and progress (with -auto-approve or PLANFILE).",
	},
	"drift": {
		usage: "flareops drift [flags]",
		desc:  "Report where the live account differs from the configuration, changes made outside flareops apart from configuration changes not applied yet. Exit 0 in sync, 2 changed outside flareops, 3 only configuration changes pending, 1 error.",
	},
	"import": {
		usage: "flareops import [flags] ADDRESS ID|NAME",
		desc:  "Bring an existing object under management: ADDRESS is its block in the configuration (KIND.NAME, e.g. queue.jobs), ID|NAME the object's id or name in the account.",
	},
	"state": {
		usage:    "flareops state list|show|rm|unlock|migrate [flags] [ADDRESS]",
		desc:     "Inspect the inventory of what flareops manages in the selected target and workspace; break a remote state's stale lock; move the state between .flareops/ and R2.",
		flagless: true,
		subs:     []string{"list", "show", "rm", "unlock", "migrate"},
	},
	"state list": {
		usage: "flareops state list [flags]",
		desc:  "List the addresses flareops manages.",
	},
	"state show": {
		usage: "flareops state show [flags] ADDRESS",
		desc:  "Print what the state records for ADDRESS (live id, name, dependencies).",
	},
	"state rm": {
		usage: "flareops state rm [flags] ADDRESS",
		desc:  "Stop managing ADDRESS: forget it in the state and leave the object in the account.",
	},
	"state unlock": {
		usage: "flareops state unlock [flags]",
		desc:  "Break the lock of a remote state (the backend block) left by a process that is gone: shows who holds it, from where, since when and its lock id, and asks for 'yes' (-force: no question, for CI). It breaks only the lock it showed; if the lock changed meanwhile, nothing is done. Give -id LOCK_ID, the id the refused command printed, to break that lock only: one released and taken again since has another id and is left alone. -force without -id breaks whatever lock it reads.",
	},
	"state migrate": {
		usage: "flareops state migrate -to r2|local [flags]",
		desc:  "Move the state of the selected workspace from .flareops/ to the R2 object the backend block names (-to r2), or back (-to local), holding both locks. A destination that holds a state is not overwritten without -force. The source is kept (state.json.migrated, or KEY.backup in R2); after -to local, remove the backend block.",
	},
	"destroy": {
		usage: "flareops destroy [flags]",
		desc:  "Delete every object flareops manages here, after showing the plan and asking. prevent_destroy = true stops it. -progress and -format json as for apply.",
	},
	"graph": {
		usage: "flareops graph [flags]",
		desc: "Draw the declared objects and their references: between blocks (a queue's dead-letter queue), and to objects outside the configuration " +
			"(a consumer's Worker, the Workers a dataset is bound in, a sandbox's Worker and containers application), drawn dashed. " +
			"With -plan PLANFILE (from plan -out), each object is colored by what the plan does to it, with a legend. " +
			"SVG (the default) is laid out by Graphviz compiled to WebAssembly: nothing to install, nothing fetched. Reads only the configuration. Exit 0, or 1 on error.",
	},
	"local": {
		usage:    "flareops local serve [flags]",
		desc:     "The built-in local Cloudflare (API and R2 S3), for development and tests.",
		flagless: true,
		subs:     []string{"serve"},
	},
	"local serve": {
		usage: "flareops local serve [flags]",
		desc:  "Serve the local Cloudflare until interrupted, and print the environment that points flareops and S3 clients at it.",
	},
	"slo": {
		usage:    "flareops slo status [flags]",
		desc:     "Service level objectives, evaluated against the live analytics.",
		flagless: true,
		subs:     []string{"status"},
	},
	"slo status": {
		usage: "flareops slo status [flags]",
		desc: "Report every SLO now: its SLI over the window, the error budget left (100 % with no traffic, negative when overspent), the burn rate over every alert window and which burn-rate rules fire. " +
			"-format html writes one self-contained page with a chart per SLO. Exit 0 whenever it could report (a breached SLO is news, not an error), 1 when it could not.",
	},
	"alerts": {
		usage:    "flareops alerts check [flags]",
		desc:     "Alert rules: metric rules and the burn-rate rules of SLOs.",
		flagless: true,
		subs:     []string{"check"},
	},
	"alerts check": {
		usage: "flareops alerts check [flags]",
		desc:  "Evaluate every metric alert rule and SLO burn-rate rule now against the live data and print what fires, with its runbook. Exit 0 when nothing fires, 3 when a page rule fires, 4 when only ticket rules fire, 1 on error.",
	},
	"backup": {
		usage:    "flareops backup run|list|verify|restore|drill [flags] NAME",
		desc:     "Run, list, verify, restore and drill the backups declared by backup blocks. Exit 0 on success; 1 on an error or a failed check (a damaged backup, a drill that misses its RTO or RPO).",
		flagless: true,
		subs:     []string{"run", "list", "verify", "restore", "drill"},
	},
	"backup run": {
		usage: "flareops backup run [flags] NAME",
		desc:  "Back up backup.NAME's source now: streamed, gzip-compressed, encrypted with age when encrypt_to is set, under <prefix>/<tier>/<id>/ with manifest.json written last.",
	},
	"backup list": {
		usage: "flareops backup list [flags] [NAME]",
		desc:  "List the complete backups (those with a manifest), newest first, of NAME or of every backup block.",
	},
	"backup verify": {
		usage: "flareops backup verify [flags] NAME",
		desc:  "Re-read a backup (the newest, or -id): every part's SHA-256, decryption (FLAREOPS_BACKUP_IDENTITY), the plaintext and its per-table counts and checksums against the manifest.",
	},
	"backup restore": {
		usage: "flareops backup restore [flags] -to TARGET NAME",
		desc:  "Verify a backup whole, then restore it into TARGET (a D1 database, KV namespace or R2 bucket, created when missing). A non-empty TARGET needs -force.",
	},
	"backup drill": {
		usage: "flareops backup drill [flags] NAME",
		desc:  "Restore the newest backup into a scratch target, compare it with the manifest, time it against the RTO and its age against the RPO, delete the scratch target and store the report under <prefix>/drills/.",
	},
	"version": {
		usage:    "flareops version",
		desc:     "Print the version (also: flareops -version, flareops --version).",
		flagless: true,
	},
	"help": {
		usage:    "flareops help [COMMAND [SUBCOMMAND]]",
		desc:     "Print the list of commands, or a command's arguments and flags (same as flareops COMMAND -h).",
		flagless: true,
	},
}

// helpFor returns name's help; a command missing from helps still gets a usage line.
func helpFor(name string) cmdHelp {
	if h, ok := helps[name]; ok {
		return h
	}
	return cmdHelp{usage: "flareops " + name + " [flags]"}
}

// printHelp writes name's usage, description, subcommands and, given its flag set, flags.
func printHelp(w io.Writer, name string, fs *flag.FlagSet) {
	h := helpFor(name)
	fmt.Fprintf(w, "Usage: %s\n", h.usage)
	if h.desc != "" {
		fmt.Fprintf(w, "\n%s\n", wrap(h.desc, 80))
	}
	if len(h.subs) > 0 {
		fmt.Fprintln(w, "\nSubcommands:")
		for _, sub := range h.subs {
			fmt.Fprintf(w, "  %-6s %s\n", sub, helpFor(name+" "+sub).desc)
		}
		fmt.Fprintf(w, "\nRun 'flareops help %s SUBCOMMAND' for its flags.\n", name)
	}
	if fs == nil {
		return
	}
	fmt.Fprintln(w, "\nFlags:")
	out := fs.Output()
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(out)
}

// wrap breaks text into lines of at most width bytes, between words.
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(text) {
		switch {
		case i == 0:
		case n+1+len(word) > width:
			b.WriteByte('\n')
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}

func isHelpFlag(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

// runHelp is `flareops help [COMMAND [SUBCOMMAND]]`: the same as `COMMAND [SUBCOMMAND] -h`.
func runHelp(args []string, io IO) int {
	if len(args) == 0 {
		usage(io.Stdout)
		return ExitOK
	}
	if args[0] == "help" || isHelpFlag(args[0]) {
		printHelp(io.Stdout, "help", nil)
		return ExitOK
	}
	c, ok := lookup(args[0])
	if !ok {
		return unknownCommand(io, "flareops help", args[0])
	}
	if c.comingWith != "" {
		return c.run(nil, io)
	}
	switch h := helpFor(c.name); {
	case len(args) > 2 || (len(args) == 2 && len(h.subs) == 0):
		return errorf(io, "too many arguments: %s", helpFor("help").usage)
	case len(args) == 2 && !slices.Contains(h.subs, args[1]):
		return errorf(io, "flareops %s has no subcommand %q: use %s", c.name, args[1], strings.Join(h.subs, ", "))
	case len(args) == 2:
		return runCommand(c, []string{args[1], "-h"}, io)
	}
	return runCommand(c, []string{"-h"}, io)
}

// suggest returns "; did you mean X?" naming the commands closest to name: within an edit
// distance of 1 for names up to 4 letters and 2 beyond, or starting with name (3+ letters).
func suggest(name string) string {
	limit := 1
	if len(name) > 4 {
		limit = 2
	}
	best := limit + 1
	var names []string
	for _, c := range commands() {
		d := editDistance(name, c.name)
		if len(name) >= 3 && strings.HasPrefix(c.name, name) {
			d = min(d, limit)
		}
		switch {
		case d > limit:
		case d < best:
			best, names = d, []string{c.name}
		case d == best:
			names = append(names, c.name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	slices.Sort(names)
	return "; did you mean " + strings.Join(names, " or ") + "?"
}

// editDistance counts the insertions, deletions, substitutions and transpositions of
// adjacent letters that turn a into b (optimal string alignment distance).
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	// d[i][j] is the distance between x[:i] and y[:j].
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}
