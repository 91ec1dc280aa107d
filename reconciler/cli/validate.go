package cli

import (
	"fmt"
	"strings"

	"github.com/monotask/flareops/reconciler/config"
)

// runValidate is `flareops validate`: exit 0 when the configuration is valid (and, with
// -wrangler, nothing is declared both there and here), 1 otherwise. -format text prints
// diagnostics with their source lines on stderr; json and sarif print one document on
// stdout, whatever the outcome, for CI (see validate_report.go).
func runValidate(args []string, io IO) int {
	fs := newFlags("validate", io)
	var cf configFlags
	cf.register(fs)
	var wranglerPaths multiFlag
	fs.Var(&wranglerPaths, "wrangler", "also read the wrangler file `PATH` (wrangler.toml, wrangler.json, wrangler.jsonc, or a directory holding one) and report every binding, cron, queue consumer or setting declared both there and here (repeatable; the arguments after it are paths too)")
	format := fs.String("format", "text", "output `FORMAT`: text (diagnostics on stderr), json or sarif (a document on stdout: SARIF 2.1.0 for GitHub code scanning)")
	if !parse(fs, args) {
		return ExitError
	}
	switch *format {
	case "text", "json", "sarif":
	default:
		return errorf(io, "-format %q: use text, json or sarif", *format)
	}
	if fs.NArg() > 0 {
		if len(wranglerPaths) == 0 {
			return errorf(io, "validate takes no arguments (got %s): to check wrangler files, write -wrangler PATH...", strings.Join(fs.Args(), " "))
		}
		wranglerPaths = append(wranglerPaths, fs.Args()...)
	}
	if *format != "text" {
		return validateReport(cf, wranglerPaths, *format, io)
	}
	cfg, ok := loadConfig(cf, io)
	configs, read := loadWrangler(wranglerPaths, io)
	if !ok || !read {
		return ExitError
	}
	fmt.Fprintf(io.Stdout, "The configuration is valid: %d block(s).\n", len(cfg.desired))
	if len(wranglerPaths) == 0 {
		return ExitOK
	}
	clashes := wranglerClashes(registry(nil, cfg.settings), cfg.desired, configs)
	if len(clashes) > 0 {
		if err := config.WriteDiagnostics(io.Stderr, cfg.cfg.Files, clashDiagnostics(clashes, cfg), colorOn(io.Stderr, cf, io)); err != nil {
			fmt.Fprintf(io.Stderr, "Error: cannot print diagnostics: %v\n", err)
		}
		fmt.Fprintf(io.Stderr, "%d declaration(s) in both flareops and wrangler.\n", len(clashes))
		return ExitError
	}
	workers := 0
	for _, c := range configs {
		workers += len(c.Workers)
	}
	fmt.Fprintf(io.Stdout, "Nothing is declared both here and in the wrangler files: %d file(s), %d Worker(s).\n", len(configs), workers)
	return ExitOK
}

// validateReport is validate -format json|sarif: every diagnostic of the configuration
// (and of the wrangler overlap) in one document on stdout. Exit 1 when there is an error;
// a command-line mistake (a bad -var, an unreadable wrangler file) is an error on stderr
// with no document.
func validateReport(cf configFlags, wranglerPaths []string, format string, io IO) int {
	cfg, diags, _, ok := loadConfigDiags(cf, io)
	if !ok && !diags.HasErrors() {
		return ExitError
	}
	configs, read := loadWrangler(wranglerPaths, io)
	if !read {
		return ExitError
	}
	if ok && len(wranglerPaths) > 0 {
		if clashes := wranglerClashes(registry(nil, cfg.settings), cfg.desired, configs); len(clashes) > 0 {
			diags = append(diags, clashDiagnostics(clashes, cfg)...)
		}
	}
	rep := newDiagReport(diags)
	var err error
	if format == "sarif" {
		err = writeJSON(io.Stdout, rep.sarif(Version))
	} else {
		err = writeJSON(io.Stdout, rep.json())
	}
	if err != nil {
		return errorf(io, "cannot print the report: %v", err)
	}
	if diags.HasErrors() {
		return ExitError
	}
	return ExitOK
}
