package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/zclconf/go-cty/cty"

	"github.com/monotask/flareops/reconciler"
	"github.com/monotask/flareops/reconciler/config"
)

// runGraph is `flareops graph`: the declared objects, what each refers to inside and
// outside the configuration, and with -plan what the plan does to each, as DOT or as a
// self-contained SVG laid out by Graphviz compiled to WebAssembly (graph_svg.go). It
// reads only the configuration (and the plan file): no state, no request.
func runGraph(args []string, io IO) int {
	fs := newFlags("graph", io)
	var cf configFlags
	cf.register(fs)
	format := fs.String("format", "svg", "output `FORMAT`: svg (a self-contained picture) or dot (the Graphviz source)")
	planFile := fs.String("plan", "", "color the objects by what the saved plan `PLANFILE` (from plan -out) does to them, with a legend")
	out := fs.String("out", "", "write to `FILE` instead of stdout")
	if !parse(fs, args) {
		return ExitError
	}
	if fs.NArg() > 0 {
		return errorf(io, "graph takes no arguments (got %q): the configuration is read from -dir", fs.Args())
	}
	if *format != "svg" && *format != "dot" {
		return errorf(io, "-format %q: use svg or dot", *format)
	}
	var plan *reconciler.Plan
	if *planFile != "" {
		p, err := readPlanFile(*planFile, cf.dir)
		if err != nil {
			return errorf(io, "%v", err)
		}
		if p.warning != "" {
			fmt.Fprintf(io.Stderr, "Warning: %s\n", p.warning)
		}
		plan = p.plan
	}
	cfg, ok := loadConfig(cf, io)
	if !ok {
		return ExitError
	}
	g := reconciler.BuildGraph(registry(nil, cfg.settings), cfg.desired, reconciler.GraphOptions{Plan: plan, Secrets: sensitiveValues(cfg.cfg)})
	var dot bytes.Buffer
	if err := g.WriteDOT(&dot, plan != nil); err != nil {
		return errorf(io, "cannot draw the graph: %v", err)
	}
	doc := dot.Bytes()
	if *format == "svg" {
		svg, warning, err := renderSVG(dot.Bytes())
		if err != nil {
			return errorf(io, "cannot draw the graph: %v", err)
		}
		if warning != "" {
			fmt.Fprintf(io.Stderr, "Warning: %s\n", warning)
		}
		doc = svg
	}
	if *out == "" {
		if _, err := io.Stdout.Write(doc); err != nil {
			return errorf(io, "cannot write the graph: %v", err)
		}
		return ExitOK
	}
	if err := os.WriteFile(*out, doc, 0o644); err != nil {
		return errorf(io, "cannot write the graph: %v", err)
	}
	fmt.Fprintf(io.Stderr, "Wrote the graph of %d object(s) and %d reference(s) to %s.\n", len(g.Nodes), len(g.Edges), *out)
	return ExitOK
}

type readPlan struct {
	plan    *reconciler.Plan
	warning string
}

// readPlanFile reads a saved plan (plan -out); warning is set when it was made from
// another directory than dir.
func readPlanFile(path, dir string) (readPlan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return readPlan{}, fmt.Errorf("cannot read the plan: %w", err)
	}
	var saved savedPlan
	if err := json.Unmarshal(b, &saved); err != nil || saved.Plan == nil {
		return readPlan{}, fmt.Errorf("%s is not a flareops plan file (write one with flareops plan -out %s)", path, path)
	}
	if saved.Plan.FormatVersion != reconciler.PlanFormatVersion {
		return readPlan{}, fmt.Errorf("%s was made by another flareops version (plan format %s): run plan again", path, saved.Plan.FormatVersion)
	}
	r := readPlan{plan: saved.Plan}
	if abs, err := filepath.Abs(dir); err == nil && saved.Dir != "" && filepath.Clean(saved.Dir) != abs {
		r.warning = fmt.Sprintf("%s was made from %s, not %s: the colors may not match this configuration", path, saved.Dir, abs)
	}
	return r, nil
}

// sensitiveValues are the string values of the configuration's sensitive variables, which
// the graph must not show.
func sensitiveValues(cfg *config.Config) []string {
	var out []string
	for _, v := range cfg.Variables {
		if v.Sensitive {
			out = append(out, ctyStrings(v.Value)...)
		}
	}
	return out
}

func ctyStrings(v cty.Value) []string {
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	switch {
	case v.Type() == cty.String:
		return []string{v.AsString()}
	case v.CanIterateElements():
		var out []string
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			out = append(out, ctyStrings(e)...)
		}
		return out
	}
	return nil
}
