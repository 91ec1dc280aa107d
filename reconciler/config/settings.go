package config

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"

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
	// DeclRange is the block's header; zero (no Filename) when the configuration has no
	// flareops block.
	DeclRange hcl.Range
}

// Engine returns the settings the engine's kinds take (reconciler.KindsWith).
func (s Settings) Engine() reconciler.Settings {
	return reconciler.Settings{OpsKVNamespace: s.OpsKVNamespace}
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
	body, ok := l.decodeStructure(b.Body, settingsKind.Schema, settingsKind.Name, b.DefRange, false)
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
		if a := n.decl.body.attrs[p]; a != nil {
			subject = a.Expr.Range()
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
	s := Settings{DeclRange: n.declRange}
	s.OpsKVNamespace, _ = n.values["ops_kv_namespace"].(string)
	return s
}
