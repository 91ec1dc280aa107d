package config

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// EnvPrefix starts the environment variables that set variables: FLAREOPS_VAR_env=prod.
const EnvPrefix = "FLAREOPS_VAR_"

// sensitiveMark marks values that derive from a sensitive variable.
type markKind string

const sensitiveMark markKind = "sensitive"

// variable is a declared variable.
type variable struct {
	name        string
	declRange   hcl.Range
	typ         cty.Type
	defaults    *typeexpr.Defaults
	hasValue    bool
	value       cty.Value // converted to typ, unmarked
	sensitive   bool
	description string
	failed      bool // the declaration or a given value is invalid
}

func (l *loader) collectVariable(b *hcl.Block) {
	name := b.Labels[0]
	if !hclsyntax.ValidIdentifier(name) {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid variable name",
			Detail:   "A variable name starts with a letter or an underscore and has only letters, digits, underscores and dashes, e.g. \"env\".",
			Subject:  b.LabelRanges[0].Ptr(),
		})
		return
	}
	if n := utf8.RuneCountInString(name); n > maxNameLength {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid variable name",
			Detail:   fmt.Sprintf("A variable name is at most %d characters; this one has %d.", maxNameLength, n),
			Subject:  b.LabelRanges[0].Ptr(),
		})
		return
	}
	if prev := l.vars[name]; prev != nil {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Duplicate variable declaration",
			Detail:   fmt.Sprintf("Variable %q was already declared at %s. Remove one of the two declarations.", name, lineOf(prev.declRange)),
			Subject:  b.DefRange.Ptr(),
		})
		return
	}
	v := &variable{name: name, declRange: b.DefRange, typ: cty.DynamicPseudoType}
	l.vars[name] = v
	l.varNames = append(l.varNames, name)

	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"},
	}})
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		v.failed = true
	}
	if a := content.Attributes["type"]; a != nil {
		ty, defaults, diags := typeexpr.TypeConstraintWithDefaults(a.Expr)
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			v.failed = true
		} else {
			v.typ, v.defaults = ty, defaults
		}
	}
	if a := content.Attributes["description"]; a != nil {
		if s, ok := l.constValue(a, cty.String, "a string"); ok && !s.IsNull() {
			v.description = s.AsString()
		}
	}
	if a := content.Attributes["sensitive"]; a != nil {
		if s, ok := l.constValue(a, cty.Bool, "true or false"); ok && !s.IsNull() {
			v.sensitive = s.True()
		}
	}
	if a := content.Attributes["default"]; a != nil && !v.failed {
		val, diags := a.Expr.Value(nil)
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			v.failed = true
			return
		}
		l.setVariable(v, val, a.Expr.Range(), "default value")
	}
}

// constValue evaluates an argument that may not refer to anything.
func (l *loader) constValue(a *hcl.Attribute, ty cty.Type, want string) (cty.Value, bool) {
	val, diags := a.Expr.Value(nil)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	conv, err := convert.Convert(val, ty)
	if err != nil || !conv.IsWhollyKnown() {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Incorrect attribute value type",
			Detail:   fmt.Sprintf("%s must be %s; got %s.", a.Name, want, describe(val, false)),
			Subject:  a.Expr.Range().Ptr(),
		})
		return cty.NilVal, false
	}
	return conv, true
}

// setVariable converts val to the variable's type and makes it the variable's value.
func (l *loader) setVariable(v *variable, val cty.Value, rng hcl.Range, source string) {
	if v.defaults != nil {
		val = v.defaults.Apply(val)
	}
	conv, err := convert.Convert(val, v.typ)
	if err == nil && !conv.IsWhollyKnown() {
		err = fmt.Errorf("the value is not known")
	}
	if err != nil {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for variable",
			Detail: fmt.Sprintf("The %s of var.%s does not match its type %s: %s. Give a value of that type.",
				source, v.name, typeexpr.TypeString(v.typ), convertError(err)),
			Subject: rng.Ptr(),
		})
		v.failed = true
		return
	}
	v.value, v.hasValue = conv, true
}

// convertError renders a cty conversion error, whose path is not part of its message.
func convertError(err error) string {
	if pe, ok := err.(cty.PathError); ok && len(pe.Path) > 0 {
		return fmt.Sprintf("at %s: %s", pathString(pe.Path), pe.Error())
	}
	return err.Error()
}

func pathString(p cty.Path) string {
	var b strings.Builder
	for _, step := range p {
		switch s := step.(type) {
		case cty.GetAttrStep:
			b.WriteString("." + s.Name)
		case cty.IndexStep:
			switch {
			case s.Key.Type() == cty.String && s.Key.IsKnown() && !s.Key.IsNull():
				fmt.Fprintf(&b, "[%q]", s.Key.AsString())
			case s.Key.Type() == cty.Number && s.Key.IsKnown() && !s.Key.IsNull():
				fmt.Fprintf(&b, "[%s]", s.Key.AsBigFloat().Text('f', -1))
			default:
				b.WriteString("[...]")
			}
		}
	}
	return strings.TrimPrefix(b.String(), ".")
}

// resolveVariables gives every variable its value. From lowest to highest precedence: the
// default, FLAREOPS_VAR_<name> in the environment, each -var-file in order, -var.
func (l *loader) resolveVariables() {
	for _, kv := range l.opts.Env {
		rest, found := strings.CutPrefix(kv, EnvPrefix)
		if !found {
			continue
		}
		name, raw, found := strings.Cut(rest, "=")
		v := l.vars[name]
		if !found || v == nil || v.failed {
			continue // the environment holds many things; only declared variables matter
		}
		l.setRaw(v, "<env "+EnvPrefix+name+">", EnvPrefix+name+"=", raw, "value of "+EnvPrefix+name)
	}
	for _, path := range l.opts.VarFiles {
		l.readVarFile(path)
	}
	names := make([]string, 0, len(l.opts.Vars))
	for name := range l.opts.Vars {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		raw := l.opts.Vars[name]
		filename := "<-var " + name + ">"
		v := l.vars[name]
		if v == nil {
			src := name + "=" + raw
			l.files[filename] = &hcl.File{Bytes: []byte(src)}
			rng := hcl.Range{Filename: filename, Start: hcl.InitialPos,
				End: hcl.Pos{Line: 1, Column: utf8.RuneCountInString(name) + 1, Byte: len(name)}}
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Value for undeclared variable",
				Detail: fmt.Sprintf("-var sets %q, but the configuration declares no variable of that name.%s Declare it with a variable %q block, or remove the -var.",
					name, didYouMean(name, l.varNames), name),
				Subject: rng.Ptr(),
			})
			continue
		}
		if v.failed {
			continue
		}
		l.setRaw(v, filename, name+"=", raw, "-var value")
	}
	for _, name := range l.varNames {
		v := l.vars[name]
		if v.failed || v.hasValue {
			continue
		}
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No value for required variable",
			Detail: fmt.Sprintf("Variable %q has no default, so it needs a value: pass -var %s=VALUE, set %s = VALUE in a -var-file, or set the environment variable %s%s=VALUE.",
				name, name, name, EnvPrefix, name),
			Subject: v.declRange.Ptr(),
		})
		v.failed = true
	}
	attrs := map[string]cty.Value{}
	for name, v := range l.vars {
		if !v.failed {
			attrs[name] = markIf(v.value, v.sensitive)
		}
	}
	l.varObj = cty.ObjectVal(attrs)
}

// setRaw sets a variable from text given outside the configuration (-var, environment): a
// string variable (or one without a type) takes the text as it is, others parse it as an
// HCL expression. The text is kept as a file named filename, prefix included, so that its
// diagnostics can show it, unless the variable is sensitive.
func (l *loader) setRaw(v *variable, filename, prefix, raw, source string) {
	if v.typ == cty.String || v.typ == cty.DynamicPseudoType {
		l.setVariable(v, cty.StringVal(raw), hcl.Range{Filename: filename}, source)
		return
	}
	if !v.sensitive {
		l.files[filename] = &hcl.File{Bytes: []byte(prefix + raw)}
	}
	start := hcl.Pos{Line: 1, Column: utf8.RuneCountInString(prefix) + 1, Byte: len(prefix)}
	if d := checkLimits([]byte(raw), filename, start); d != nil {
		l.diags = append(l.diags, d)
		v.failed = true
		return
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), filename, start)
	if !diags.HasErrors() && len(expr.Variables()) > 0 {
		// A word (num=word) parses as a reference, which such a value cannot make: it is
		// text, of the wrong type.
		l.diags = append(l.diags, wordForTypedVariable(v, raw, prefix, source, expr.Range()))
		v.failed = true
		return
	}
	if !diags.HasErrors() {
		var more hcl.Diagnostics
		var val cty.Value
		val, more = expr.Value(nil)
		diags = append(diags, more...)
		if !diags.HasErrors() {
			l.setVariable(v, val, expr.Range(), source)
			return
		}
	}
	l.diags = append(l.diags, diags...)
	v.failed = true
}

// wordForTypedVariable is the error of text given for a variable of another type than
// string, with how to write a value of that type where it was given (prefix).
func wordForTypedVariable(v *variable, raw, prefix, source string, rng hcl.Range) *hcl.Diagnostic {
	shown := fmt.Sprintf(", %q,", raw)
	if v.sensitive {
		shown = " (sensitive, not shown)"
	}
	if strings.HasPrefix(source, "-var") {
		prefix = "-var " + prefix
	}
	want, how := "a "+typeexpr.TypeString(v.typ), "Write the value in HCL syntax, with strings in quotes."
	switch v.typ {
	case cty.Number:
		want, how = "a number", fmt.Sprintf("Write a number, e.g. %s5.", prefix)
	case cty.Bool:
		want, how = "true or false", fmt.Sprintf("Write true or false, e.g. %strue.", prefix)
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid value for variable",
		Detail:   fmt.Sprintf("The %s for var.%s%s is not %s. %s", source, v.name, shown, want, how),
		Subject:  rng.Ptr(),
	}
}

func (l *loader) readVarFile(path string) {
	src, err := os.ReadFile(path)
	if err != nil {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cannot read a variables file",
			Detail:   fmt.Sprintf("%v. Check the path given to -var-file.", err),
		})
		return
	}
	if d := checkLimits(src, path, hcl.InitialPos); d != nil {
		l.diags = append(l.diags, d)
		l.files[path] = &hcl.File{Bytes: src}
		return
	}
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	l.diags = append(l.diags, diags...)
	if f == nil || diags.HasErrors() {
		return
	}
	l.files[path] = f
	attrs, diags := f.Body.JustAttributes()
	l.diags = append(l.diags, diags...)
	for _, a := range sortedAttrs(attrs) {
		v := l.vars[a.Name]
		if v == nil {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Value for undeclared variable",
				Detail: fmt.Sprintf("The variables file sets %q, but the configuration declares no variable of that name; the value is ignored.%s",
					a.Name, didYouMean(a.Name, l.varNames)),
				Subject: a.NameRange.Ptr(),
			})
			continue
		}
		if v.failed {
			continue
		}
		val, diags := a.Expr.Value(nil)
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			v.failed = true
			continue
		}
		l.setVariable(v, val, a.Expr.Range(), "value in "+path)
	}
}

// variables lists the declared variables that have a value, by name.
func (l *loader) variables() []Variable {
	var out []Variable
	for _, name := range l.varNames {
		v := l.vars[name]
		if v.failed {
			continue
		}
		out = append(out, Variable{
			Name: v.name, Type: v.typ, Value: v.value, Sensitive: v.sensitive,
			Description: v.description, DeclRange: v.declRange,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func markIf(v cty.Value, sensitive bool) cty.Value {
	if sensitive {
		return v.Mark(sensitiveMark)
	}
	return v
}
