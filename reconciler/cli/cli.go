// Package cli is the flareops command line: each command is an options struct and a run
// function, with its IO injected so tests drive commands without a terminal.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
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

	// helped is set by Main: a command's flag set records there that it printed its
	// help, so the command exits 0 whatever it returns.
	helped *bool
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
	// comingWith names the kind a reserved command arrives with; until then it is listed
	// apart and answers "not implemented yet".
	comingWith string
}

func commands() []command {
	return []command{
		{name: "validate", summary: "check the configuration", run: runValidate},
		{name: "fmt", summary: "rewrite configuration files to canonical format", run: runFmt},
		{name: "plan", summary: "show the changes apply would make", run: runPlan},
		{name: "apply", summary: "make the account match the configuration", run: runApply},
		{name: "drift", summary: "report where the account differs from the configuration (exit 2 on drift)", run: runDrift},
		{name: "import", summary: "bring an existing object under management", run: runImport},
		{name: "state", summary: "inspect the inventory: state list|show|rm", run: runState},
		{name: "destroy", summary: "delete every object flareops manages here", run: runDestroy},
		{name: "graph", summary: "draw the declared objects and their references (SVG or DOT)", run: runGraph},
		{name: "local", summary: "the built-in local Cloudflare: local serve", run: runLocal},
		{name: "backup", summary: "backups: run|list|verify|restore|drill", run: runBackup},
		{name: "version", summary: "print the version", run: runVersion},
		{name: "slo", summary: "SLOs: status (SLI, budget left, burn rates; -format html charts)", run: runSLO},
		{name: "alerts", summary: "alert rules: check (exit 3 page, 4 tickets only)", run: runAlerts},
	}
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// Main runs the command line and returns the exit code. Help asked for (-h, help) goes to
// stdout with exit 0; help given because the command line was wrong goes to stderr with
// exit 1.
func Main(args []string, io IO) int {
	if len(args) == 0 {
		usage(io.Stderr)
		return ExitError
	}
	switch {
	case isHelpFlag(args[0]):
		usage(io.Stdout)
		return ExitOK
	case args[0] == "help":
		return runHelp(args[1:], io)
	case args[0] == "-version" || args[0] == "--version":
		return runVersion(args[1:], io)
	}
	c, ok := lookup(args[0])
	if !ok {
		return unknownCommand(io, "flareops", args[0])
	}
	return runCommand(c, args[1:], io)
}

// runCommand runs c, answering -h itself for commands that parse no flags before their
// subcommand. A command whose flag set printed its help (see parse) exits 0.
func runCommand(c command, args []string, io IO) int {
	if c.comingWith == "" && len(args) > 0 && isHelpFlag(args[0]) && helpFor(c.name).flagless {
		printHelp(io.Stdout, c.name, nil)
		return ExitOK
	}
	helped := false
	io.helped = &helped
	code := c.run(args, io)
	if helped {
		return ExitOK
	}
	return code
}

func unknownCommand(io IO, prefix, name string) int {
	fmt.Fprintf(io.Stderr, "%s: unknown command %q%s\n", prefix, name, suggest(name))
	fmt.Fprintln(io.Stderr, "Run 'flareops help' for the list of commands.")
	return ExitError
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: flareops <command> [flags] [arguments]\n\nCommands:")
	var coming []command
	for _, c := range commands() {
		if c.comingWith != "" {
			coming = append(coming, c)
			continue
		}
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	if len(coming) > 0 {
		fmt.Fprintln(w, "\nComing with their kinds (not available yet):")
		for _, c := range coming {
			fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
		}
	}
	fmt.Fprintln(w, "\nRun 'flareops help <command>' or 'flareops <command> -h' for a command's arguments and flags.")
	fmt.Fprintln(w, "Without CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID, commands run against the built-in local Cloudflare in .flareops/local/.")
}

func notYet(name, summary, kind string) command {
	return command{name: name, summary: summary, comingWith: kind, run: func(_ []string, io IO) int {
		fmt.Fprintf(io.Stderr, "flareops %s: not implemented yet: it arrives with %s.\n", name, kind)
		return ExitError
	}}
}

func runVersion(_ []string, io IO) int {
	fmt.Fprintf(io.Stdout, "flareops %s\n", Version)
	return ExitOK
}

// newFlags builds a flag set for the command name ("plan", "state list"); it never exits
// the process. Errors go to stderr; -h prints the command's help to stdout (see parse).
func newFlags(name string, io IO) *flag.FlagSet {
	fs := flag.NewFlagSet("flareops "+name, flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	fs.Usage = func() {
		printHelp(io.Stdout, name, fs)
		if io.helped != nil {
			*io.helped = true
		}
	}
	return fs
}

// parse parses flags. It returns false after printing either the help (-h, -help,
// --help: on stdout, and the command then exits 0) or a flag error (on stderr, exit 1).
func parse(fs *flag.FlagSet, args []string) bool {
	// The flag package calls Usage on errors too; the help is printed only when asked for.
	help := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = help
	switch {
	case err == nil:
		return true
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
	default: // the flag package has printed the error
		name := strings.TrimPrefix(fs.Name(), "flareops ")
		fmt.Fprintf(fs.Output(), "Usage: %s\nRun 'flareops help %s' for the flags.\n", helpFor(name).usage, name)
	}
	return false
}

// multiFlag collects a repeated flag (-var, -var-file).
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func errorf(io IO, format string, args ...any) int {
	fmt.Fprintf(io.Stderr, "Error: "+format+"\n", args...)
	return ExitError
}

// useColor says whether to colour what goes to stdout (the plan): see colorOn.
func useColor(cf configFlags, io IO) bool { return colorOn(io.Stdout, cf, io) }

// colorOn is true when w is a terminal and neither -no-color, NO_COLOR (any non-empty
// value, see no-color.org) nor TERM=dumb turns colour off. Diagnostics go to stderr, so
// they ask about io.Stderr; the plan goes to stdout.
func colorOn(w io.Writer, cf configFlags, io IO) bool {
	if cf.noColor || io.Getenv("NO_COLOR") != "" || io.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && isTerminal(f)
}

// isTerminal is true for a character device other than the null device.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(st, null)
}
