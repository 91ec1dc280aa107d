// Package cli is the flareops command line: each command is an options struct and a run
// function, with its IO injected so tests drive commands without a terminal.
package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Exit codes relied on by users' CI.
const (
	ExitOK      = 0
	ExitError   = 1
	ExitChanges = 2 // plan -detailed-exitcode with changes; drift: changed outside flareops
	ExitPending = 3 // drift: nothing changed outside flareops, but configuration changes are not applied yet
)

// IO is what a command reads and writes.
type IO struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment (os.Getenv in main; a map in tests).
	Getenv func(string) string
	// Environ lists the environment as KEY=VALUE (for FLAREOPS_VAR_ variables).
	Environ func() []string
}

// SystemIO is the process's own IO.
func SystemIO() IO {
	return IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Environ: os.Environ}
}

// Version is set at build time.
var Version = "0.1.0-dev"

type command struct {
	name    string
	summary string
	run     func(args []string, io IO) int
}

func commands() []command {
	return []command{
		{"validate", "check the configuration", runValidate},
		{"fmt", "rewrite configuration files to canonical format", runFmt},
		{"plan", "show the changes apply would make", runPlan},
		{"apply", "make the account match the configuration", runApply},
		{"drift", "report where the account differs from the configuration (exit 2 on drift)", runDrift},
		{"import", "bring an existing object under management: import ADDRESS ID", runImport},
		{"state", "inspect the inventory: state list|show|rm", runState},
		{"destroy", "delete every object flareops manages here", runDestroy},
		{"local", "the built-in local Cloudflare: local serve", runLocal},
		{"backup", "backups: run|list|verify|restore|drill", notYet("backup", "the backup kind")},
		{"slo", "SLOs: status", notYet("slo", "the slo kind")},
		{"alerts", "alert rules: check", notYet("alerts", "the alert_rule kind")},
		{"version", "print the version", runVersion},
	}
}

// Main runs the command line and returns the exit code.
func Main(args []string, io IO) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(io.Stderr)
		if len(args) == 0 {
			return ExitError
		}
		return ExitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], io)
		}
	}
	fmt.Fprintf(io.Stderr, "flareops: unknown command %q%s\n\n", args[0], suggest(args[0]))
	usage(io.Stderr)
	return ExitError
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: flareops <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nWithout CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID, commands run against the built-in local Cloudflare in .flareops/local/.")
}

func suggest(name string) string {
	var names []string
	for _, c := range commands() {
		if strings.HasPrefix(c.name, name[:1]) {
			names = append(names, c.name)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return ""
	}
	return "; did you mean " + strings.Join(names, " or ") + "?"
}

func notYet(cmd, kind string) func([]string, IO) int {
	return func(_ []string, io IO) int {
		fmt.Fprintf(io.Stderr, "flareops %s: not implemented yet: it arrives with %s.\n", cmd, kind)
		return ExitError
	}
}

func runVersion(_ []string, io IO) int {
	fmt.Fprintf(io.Stdout, "flareops %s\n", Version)
	return ExitOK
}

// newFlags builds a flag set that reports to stderr and never exits the process.
func newFlags(name string, io IO) *flag.FlagSet {
	fs := flag.NewFlagSet("flareops "+name, flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	return fs
}

// parse parses flags; it returns false on bad flags or -h (the flag package has printed
// the error and the usage).
func parse(fs *flag.FlagSet, args []string) bool {
	return fs.Parse(args) == nil
}

// multiFlag collects a repeated flag (-var, -var-file).
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func errorf(io IO, format string, args ...any) int {
	fmt.Fprintf(io.Stderr, "Error: "+format+"\n", args...)
	return ExitError
}

// useColor is true when output goes to a terminal and -no-color is not set.
func useColor(cf configFlags, io IO) bool {
	if cf.noColor || io.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := io.Stdout.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
