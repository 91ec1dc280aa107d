package config

import (
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/monotask/flareops/reconciler"
)

// The settings block, `flareops { ... }`, says what the configuration needs about the
// platform as a whole rather than declaring an object: at most one per configuration, in
// any file, without a label. Its language is reconciler.SettingsSchema, decoded by the
// same code as a kind block's body (so nested blocks added to that schema need nothing
// here but a field), and evaluated in dependency order like a local: its arguments may use
// variables and locals. Nothing refers to it.

// Settings is the flareops block of a configuration, decoded.
type Settings struct {
	OpsKVNamespace string // title of the ops KV namespace; "" when not set
	// Backend is where the state lives; nil: files under .flareops/.
	Backend *Backend
	// DeclRange is the block's header; zero (no Filename) when the configuration has no
	// flareops block.
	DeclRange hcl.Range
}

// Engine returns the settings the engine's kinds take (reconciler.KindsWith).
func (s Settings) Engine() reconciler.Settings {
	return reconciler.Settings{OpsKVNamespace: s.OpsKVNamespace}
}

// Backend is the settings block's `backend "TYPE" { ... }`, decoded.
type Backend struct {
	reconciler.Backend
	DeclRange hcl.Range
}

// settingsKind lets the settings block be decoded and evaluated as a kind block is.
var settingsKind = &KindSchema{Name: reconciler.SettingsBlock, Schema: reconciler.SettingsSchema()}

func (l *loader) collectSettings(b *hcl.Block) {
	if prev := l.settings; prev != nil {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Duplicate flareops block",
			Detail:   fmt.Sprintf("A configuration has at most one flareops block, and one is already at %s. Move these settings into that block.", lineOf(prev.declRange)),
			Subject:  b.DefRange.Ptr(),
		})
		return
	}
	n := &node{addr: reconciler.SettingsBlock, kind: reconciler.SettingsBlock, declRange: b.DefRange, decl: &blockDecl{kind: settingsKind}}
	l.nodes[n.addr] = n
	l.settings = n
	rest := l.collectBackend(b.Body)
	body, ok := l.decodeStructure(rest, settingsKind.Schema, settingsKind.Name, b.DefRange, false)
	n.decl.body = body
	if !ok {
		n.invalid = true
	}
}

// settingsOf returns the evaluated settings. A setting may not derive from a sensitive
// variable: settings are printed (the namespace a document goes to is part of the plan).
func (l *loader) settingsOf() Settings {
	n := l.settings
	if n == nil || !n.ok {
		return Settings{}
	}
	for _, p := range n.sensitive {
		subject := n.declRange
		if r, ok := n.attrRange(p); ok {
			subject = r
		}
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Sensitive value in the flareops block",
			Detail:   fmt.Sprintf("%s derives from a sensitive variable, but settings appear in plans and state. Give it a value that is not sensitive.", p),
			Subject:  subject.Ptr(),
		})
	}
	if len(n.sensitive) > 0 {
		return Settings{}
	}
	s := Settings{DeclRange: n.declRange, Backend: l.backend}
	s.OpsKVNamespace, _ = n.values["ops_kv_namespace"].(string)
	return s
}

// collectBackend decodes the backend block of the settings block's body and returns the
// rest of the body. Its values are literal: the state is found before variables and
// locals are evaluated (and a state location that depends on them would move with them).
func (l *loader) collectBackend(body hcl.Body) hcl.Body {
	content, rest, diags := body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "backend", LabelNames: []string{"type"}}}})
	l.diags = append(l.diags, diags...)
	for i, b := range content.Blocks {
		if i > 0 {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate backend block",
				Detail:   fmt.Sprintf("The state lives in one place, and a backend block is already at %s. Remove this one.", lineOf(content.Blocks[0].DefRange)),
				Subject:  b.DefRange.Ptr(),
			})
			continue
		}
		if be, ok := l.decodeBackend(b); ok {
			l.backend = be
		}
	}
	return rest
}

func (l *loader) decodeBackend(b *hcl.Block) (*Backend, bool) {
	typ := b.Labels[0]
	if !slices.Contains(reconciler.BackendTypes, typ) {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unknown backend type",
			Detail:   fmt.Sprintf("flareops keeps remote state in %q (an R2 bucket), not %q: write backend \"r2\" { bucket = \"...\" key = \"...\" }, or remove the block to keep the state in .flareops/.", reconciler.BackendTypes[0], typ),
			Subject:  b.LabelRanges[0].Ptr(),
		})
		return nil, false
	}
	schema := reconciler.BackendSchema()
	hs := &hcl.BodySchema{}
	for _, a := range schema.Attrs {
		hs.Attributes = append(hs.Attributes, hcl.AttributeSchema{Name: a.Name, Required: a.Required})
	}
	content, diags := b.Body.Content(hs)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return nil, false
	}
	vals := map[string]string{}
	ok := true
	for _, a := range schema.Attrs {
		attr := content.Attributes[a.Name]
		v, vd := attr.Expr.Value(nil)
		if vd.HasErrors() {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Backend values must be literal",
				Detail:   fmt.Sprintf("%s in the backend block must be literal text, such as \"monotask-state\": the state is found before variables and locals are evaluated.", a.Name),
				Subject:  attr.Expr.Range().Ptr(),
			})
			ok = false
			continue
		}
		if v.IsNull() || !v.Type().Equals(cty.String) {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid backend " + a.Name,
				Detail:   fmt.Sprintf("%s must be text, such as \"monotask-state\".", a.Name),
				Subject:  attr.Expr.Range().Ptr(),
			})
			ok = false
			continue
		}
		if err := a.CheckText(v.AsString()); err != nil {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid backend " + a.Name,
				Detail:   err.Error() + ".",
				Subject:  attr.Expr.Range().Ptr(),
			})
			ok = false
			continue
		}
		vals[a.Name] = v.AsString()
	}
	if !ok {
		return nil, false
	}
	return &Backend{Backend: reconciler.Backend{Type: typ, Bucket: vals["bucket"], Key: vals["key"]}, DeclRange: b.DefRange}, true
}
