package config

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/monotask/flareops/reconciler"
)

var reservedNames = map[string]bool{"variable": true, "locals": true, "var": true, "local": true, reconciler.SettingsBlock: true}

// checkKinds rejects kind schemas the loader cannot honour; these are bugs in flareops, not
// in the user's configuration.
func (l *loader) checkKinds() bool {
	ok := true
	bad := func(format string, args ...any) {
		ok = false
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid kind schema",
			Detail:   fmt.Sprintf(format, args...) + ". This is a bug in flareops: please report it.",
		})
	}
	for i := range l.opts.Kinds {
		k := &l.opts.Kinds[i]
		switch {
		case !hclsyntax.ValidIdentifier(k.Name) || reservedNames[k.Name]:
			bad("kind name %q is not allowed", k.Name)
		case l.kinds[k.Name] != nil:
			bad("kind %q is declared twice", k.Name)
		default:
			l.kinds[k.Name] = k
		}
		if k.KeyAttr != "" {
			if _, found := k.Schema.Attr(k.KeyAttr); !found {
				bad("kind %q has no attribute %q for its key", k.Name, k.KeyAttr)
			}
		}
		if _, found := k.Schema.Attr(preventDestroy); found {
			bad("kind %q declares %s, which every kind block has already", k.Name, preventDestroy)
		}
		for _, msg := range checkSchema(k.Schema) {
			bad("kind %q: %s", k.Name, msg)
		}
	}
	return ok
}

func checkSchema(s reconciler.BlockSchema) []string {
	var msgs []string
	for _, a := range s.Attrs {
		if a.Type == reconciler.Duration && a.Unit <= 0 {
			msgs = append(msgs, fmt.Sprintf("duration %q has no unit", a.Name))
		}
		if a.Type < reconciler.String || a.Type > reconciler.StringListMap {
			msgs = append(msgs, fmt.Sprintf("attribute %q has an unknown type", a.Name))
		}
		if (a.Pattern != nil || a.MaxLen > 0) && a.Type != reconciler.String && a.Type != reconciler.StringList && a.Type != reconciler.StringListMap {
			msgs = append(msgs, fmt.Sprintf("attribute %q has a pattern or a length but is no string", a.Name))
		}
		msgs = append(msgs, checkTypes(a)...)
	}
	for _, b := range s.Blocks {
		msgs = append(msgs, checkSchema(b.Schema)...)
	}
	return msgs
}

const preventDestroy = "prevent_destroy"

var blockNamePattern = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// maxNameLength bounds block and variable names, as the product bounds its other names
// (workspaces, alert rule names): a name is read in addresses, plans and state.
const maxNameLength = 64

// collect records the declarations of one file: variables, locals, the settings block
// (settings.go) and kind blocks.
func (l *loader) collect(f *hcl.File) {
	schema := &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: reconciler.SettingsBlock},
	}}
	for _, k := range l.opts.Kinds {
		schema.Blocks = append(schema.Blocks, hcl.BlockHeaderSchema{Type: k.Name, LabelNames: []string{"name"}})
	}
	content, _, diags := f.Body.PartialContent(schema)
	l.diags = append(l.diags, diags...)
	names := bodyNames{where: "at the top level of a file"}
	for _, b := range schema.Blocks {
		names.blocks = append(names.blocks, b.Type)
	}
	l.unknownNames(f.Body, names)
	for _, b := range content.Blocks {
		switch b.Type {
		case "variable":
			l.collectVariable(b)
		case "locals":
			l.collectLocals(b)
		case reconciler.SettingsBlock:
			l.collectSettings(b)
		default:
			l.collectBlock(b)
		}
	}
}

func (l *loader) collectLocals(b *hcl.Block) {
	attrs, diags := b.Body.JustAttributes()
	l.diags = append(l.diags, diags...)
	for _, a := range sortedAttrs(attrs) {
		addr := "local." + a.Name
		if prev := l.nodes[addr]; prev != nil {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate local value",
				Detail:   fmt.Sprintf("local.%s was already defined at %s. Each local value needs its own name: rename or remove one of them.", a.Name, lineOf(prev.declRange)),
				Subject:  a.NameRange.Ptr(),
			})
			continue
		}
		n := &node{addr: addr, kind: "local", name: a.Name, declRange: a.NameRange, local: a}
		l.nodes[addr] = n
		l.locals = append(l.locals, n)
	}
}

func (l *loader) collectBlock(b *hcl.Block) {
	k := l.kinds[b.Type]
	name := b.Labels[0]
	addr := k.Name + "." + name
	if prev := l.nodes[addr]; prev != nil {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Duplicate %s block", k.Name),
			Detail:   fmt.Sprintf("%s %q was already declared at %s. Each %s block needs its own name: rename or remove one of them.", k.Name, name, lineOf(prev.declRange), k.Name),
			Subject:  b.DefRange.Ptr(),
		})
		return
	}
	n := &node{addr: addr, kind: k.Name, name: name, declRange: b.DefRange, decl: &blockDecl{kind: k}}
	l.nodes[addr] = n
	l.blocks = append(l.blocks, n)
	if long, bad := len(name) > maxNameLength, !blockNamePattern.MatchString(name); long || bad {
		detail := "A block name starts with a lowercase letter or an underscore and has only lowercase letters, digits and underscores, e.g. \"agent_jobs_dlq\"."
		if long {
			detail = fmt.Sprintf("A block name is at most %d characters; this one has %d.", maxNameLength, utf8.RuneCountInString(name))
		}
		if k.KeyAttr != "" {
			detail += fmt.Sprintf(" The label only names the block in the configuration; the %s in the account is set by its %s argument.", k.Name, k.KeyAttr)
		}
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Invalid %s name", k.Name),
			Detail:   detail,
			Subject:  b.LabelRanges[0].Ptr(),
		})
		n.invalid = true
	}
	body, ok := l.decodeStructure(b.Body, k.Schema, k.Name, b.DefRange, true)
	n.decl.body = body
	if pd := body.attrs.get(preventDestroy); pd != nil {
		n.decl.preventDestroy = pd
		body.attrs = body.attrs.without(preventDestroy)
	}
	if !ok {
		n.invalid = true
	}
}

// blockDecl is a kind block as written, checked against its schema but not evaluated.
type blockDecl struct {
	kind           *KindSchema
	body           *bodyDecl
	preventDestroy *hcl.Attribute
}

// bodyDecl is the content of a block or nested block.
type bodyDecl struct {
	schema   reconciler.BlockSchema
	typeName string // "queue", "consumer"
	attrs    attrList
	nested   []*nestedDecl // source order
	defRange hcl.Range     // where a missing argument is reported
	// misspelt are the arguments an unknown argument was suggested to be: a missing one
	// among them is reported once, as the unknown argument.
	misspelt map[string]bool
}

// attrList is a body's attributes in source order. A slice: a body has a handful, and
// hcl.Attributes, a map, cost more than the attributes themselves in a large
// configuration.
type attrList []*hcl.Attribute

// get returns the attribute called name, or nil.
func (as attrList) get(name string) *hcl.Attribute {
	for _, a := range as {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// without returns the list less the attribute called name.
func (as attrList) without(name string) attrList {
	return slices.DeleteFunc(as, func(a *hcl.Attribute) bool { return a.Name == name })
}

type nestedDecl struct {
	typeName string
	body     *bodyDecl
}

// decodeStructure checks a body's arguments and nested blocks against the schema; unknown
// names are reported with suggestions from the schema's names.
func (l *loader) decodeStructure(body hcl.Body, s reconciler.BlockSchema, typeName string, defRange hcl.Range, top bool) (*bodyDecl, bool) {
	hs := &hcl.BodySchema{}
	names := bodyNames{where: fmt.Sprintf("in a %s block", typeName)}
	for _, a := range s.Attrs {
		hs.Attributes = append(hs.Attributes, hcl.AttributeSchema{Name: a.Name})
		names.attrs = append(names.attrs, a.Name)
	}
	if top {
		hs.Attributes = append(hs.Attributes, hcl.AttributeSchema{Name: preventDestroy})
		names.attrs = append(names.attrs, preventDestroy)
	}
	for _, nb := range s.Blocks {
		hs.Blocks = append(hs.Blocks, hcl.BlockHeaderSchema{Type: nb.Name})
		names.blocks = append(names.blocks, nb.Name)
	}
	content, _, diags := body.PartialContent(hs)
	l.diags = append(l.diags, diags...)
	namesOK, suggested := l.unknownNames(body, names)
	ok := !diags.HasErrors() && namesOK
	bd := &bodyDecl{schema: s, typeName: typeName, attrs: attrList(sortedAttrs(content.Attributes)), defRange: defRange, misspelt: suggested}
	counts := map[string]int{}
	for _, b := range content.Blocks {
		var nb reconciler.NestedBlock
		for _, cand := range s.Blocks {
			if cand.Name == b.Type {
				nb = cand
			}
		}
		counts[b.Type]++
		if nb.MaxItems > 0 && counts[b.Type] > nb.MaxItems {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Too many %s blocks", b.Type),
				Detail:   fmt.Sprintf("A %s block accepts at most %d %s %s: remove this one or merge it into the first.", typeName, nb.MaxItems, b.Type, plural(nb.MaxItems, "block", "blocks")),
				Subject:  b.DefRange.Ptr(),
			})
			ok = false
			continue
		}
		child, childOK := l.decodeStructure(b.Body, nb.Schema, b.Type, b.DefRange, false)
		ok = ok && childOK
		bd.nested = append(bd.nested, &nestedDecl{typeName: b.Type, body: child})
	}
	return bd, ok
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// sortedAttrs returns attributes in source order.
func sortedAttrs(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return rangeLess(out[i].Range, out[j].Range) })
	return out
}

func rangeLess(a, b hcl.Range) bool {
	if a.Filename != b.Filename {
		return a.Filename < b.Filename
	}
	if a.Start.Byte != b.Start.Byte {
		return a.Start.Byte < b.Start.Byte
	}
	return a.End.Byte < b.End.Byte
}

// lineOf renders a range as file:line, for details that point at a second place.
func lineOf(r hcl.Range) string {
	return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line)
}
