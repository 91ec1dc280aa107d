package cli

import (
	"flag"
	"fmt"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"

	"github.com/monotask/flareops/reconciler"
	"github.com/monotask/flareops/reconciler/config"
)

// configFlags are the flags of every command that reads the configuration.
type configFlags struct {
	dir       string
	vars      multiFlag
	varFiles  multiFlag
	noColor   bool
	workspace string
}

func (c *configFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.dir, "dir", ".", "configuration `DIR` (every *.flareops.hcl file in it)")
	fs.Var(&c.vars, "var", "set a variable: -var `name=value` (repeatable)")
	fs.Var(&c.varFiles, "var-file", "read variables from an HCL `FILE` (repeatable)")
	fs.BoolVar(&c.noColor, "no-color", false, "no ANSI colors in output")
	fs.StringVar(&c.workspace, "workspace", "", "`NAME` of the workspace, a separate state for the same configuration (default $FLAREOPS_WORKSPACE, else \"default\")")
}

// resolveWorkspace picks the workspace: -workspace, then FLAREOPS_WORKSPACE, then the
// default one.
func resolveWorkspace(flagValue string, io IO) (string, error) {
	ws := flagValue
	if ws == "" {
		ws = io.Getenv("FLAREOPS_WORKSPACE")
	}
	if ws == "" {
		ws = reconciler.DefaultWorkspace
	}
	if err := reconciler.CheckWorkspace(ws); err != nil {
		return "", err
	}
	return ws, nil
}

// loaded is a configuration decoded into what the engine plans from.
type loaded struct {
	cfg      *config.Config
	settings reconciler.Settings // from the flareops block, for the kinds of the run
	desired  []reconciler.Desired
}

// loadConfig loads and validates the configuration, printing diagnostics with their
// source lines. ok is false when there are errors. The language is the kinds' schemas,
// which no setting changes; the kinds' own checks (Build) run with the loaded settings.
func loadConfig(cf configFlags, io IO) (*loaded, bool) {
	out, diags, files, ok := loadConfigDiags(cf, io)
	if len(diags) > 0 {
		if err := config.WriteDiagnostics(io.Stderr, files, diags, colorOn(io.Stderr, cf, io)); err != nil {
			fmt.Fprintf(io.Stderr, "Error: cannot print diagnostics: %v\n", err)
		}
	}
	return out, ok
}

// loadConfigDiags is loadConfig returning the diagnostics and the files they point into
// instead of printing them (validate -format json|sarif). A bad -var is printed as an
// error (ok false, no diagnostics): it is a mistake on the command line, not in a file.
func loadConfigDiags(cf configFlags, io IO) (out *loaded, diags hcl.Diagnostics, files map[string]*hcl.File, ok bool) {
	vars := map[string]string{}
	for _, kv := range cf.vars {
		k, v, found := cutEq(kv)
		if !found {
			errorf(io, "-var %q: write -var name=value", kv)
			return nil, nil, nil, false
		}
		vars[k] = v
	}
	var kinds []config.KindSchema
	for _, k := range registry(nil, reconciler.Settings{}).Kinds() {
		ks := config.KindSchema{Name: k.Name(), Schema: k.Schema(), KeyAttr: k.KeyAttr()}
		if rn, ok := k.(reconciler.RefNamer); ok {
			ks.RefName = rn.RefName
		}
		kinds = append(kinds, ks)
	}
	env := []string(nil)
	if io.Environ != nil {
		env = io.Environ()
	}
	var evaluating atomic.Pointer[hcl.Range]
	stop := guardLoad(&evaluating, io)
	cfg, diags := config.Load(cf.dir, config.Options{Kinds: kinds, Vars: vars, VarFiles: cf.varFiles, Env: env, Evaluating: &evaluating})
	stop()
	if !diags.HasErrors() {
		diags = append(diags, buildCheck(cfg, registry(nil, cfg.Settings.Engine()))...)
	}
	files = map[string]*hcl.File{}
	if cfg != nil {
		files = cfg.Files
	}
	if diags.HasErrors() {
		return nil, diags, files, false
	}
	out = &loaded{cfg: cfg, settings: cfg.Settings.Engine()}
	for _, b := range cfg.Blocks {
		d := reconciler.Desired{
			Addr:           reconciler.Address{Kind: b.Kind, Name: b.Name},
			Values:         b.Values,
			PreventDestroy: b.PreventDestroy,
			Spelling:       b.Spelling,
			Source:         fmt.Sprintf("%s:%d", b.DeclRange.Filename, b.DeclRange.Start.Line),
		}
		for _, dep := range b.Deps {
			a, err := reconciler.ParseAddress(dep)
			if err != nil {
				errorf(io, "%s: %v", d.Source, err)
				return nil, diags, files, false
			}
			d.Deps = append(d.Deps, a)
		}
		out.desired = append(out.desired, d)
	}
	return out, diags, files, true
}

// buildCheck runs each kind's cross-attribute rules at validate time, so those errors too
// point at the block in its file.
func buildCheck(cfg *config.Config, reg *reconciler.Registry) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, b := range cfg.Blocks {
		k, ok := reg.Kind(b.Kind)
		if !ok {
			continue
		}
		if _, err := k.Build(b.Values); err != nil {
			if fd := fieldDiagnostics(cfg, b, err); len(fd) > 0 {
				diags = append(diags, fd...)
				continue
			}
			rng := b.DeclRange
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Invalid %s %q", b.Kind, b.Name),
				Detail:   err.Error() + ".",
				Subject:  &rng,
			})
		}
	}
	// Two declarations setting the same thing on one Worker.
	var desired []reconciler.Desired
	ranges := map[string]hcl.Range{}
	for _, b := range cfg.Blocks {
		addr := reconciler.Address{Kind: b.Kind, Name: b.Name}
		ranges[addr.String()] = b.DeclRange
		desired = append(desired, reconciler.Desired{Addr: addr, Values: b.Values, Source: fmt.Sprintf("%s:%d", b.DeclRange.Filename, b.DeclRange.Start.Line)})
	}
	for _, c := range reconciler.CheckDeployers(reg, desired) {
		rng := ranges[c.Decl.Addr.String()]
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("%s on Worker %s, which %s deploys", c.Claim.What, c.Claim.Worker, c.Tool),
			Detail:   c.String() + ".",
			Subject:  &rng,
		})
	}
	for _, c := range reconciler.CheckClaims(reg, desired) {
		rng := ranges[c.Then.Addr.String()]
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("%s set twice on Worker %s", c.Claim.What, c.Claim.Worker),
			Detail:   fmt.Sprintf("%s also sets %s on Worker %s (%s). One entry has one owner: keep it in one of them.", c.First.Addr, c.Claim.What, c.Claim.Worker, c.First.Source),
			Subject:  &rng,
		})
	}
	return diags
}

func cutEq(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '=' {
			return s[:i], s[i+1:], i > 0
		}
	}
	return "", "", false
}
