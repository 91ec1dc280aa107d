package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/monotask/flareops/reconciler/suggest"
)

// The loader decodes bodies with PartialContent and reports the names a body does not
// accept itself, so that every unknown argument or block type gets a suggestion from the
// schema's names (suggest.Names: typos, words of a longer name, initials), or else the list
// of the names that are accepted.

// bodyNames is what a body accepts, for messages: where is "in a consumer block" or "here".
type bodyNames struct {
	where  string
	attrs  []string
	blocks []string
}

// unknownNames reports the arguments and blocks of body that names does not list, and
// returns the argument names it suggested instead (a missing required argument among them
// is the same mistake, not reported again). Bodies that are not native syntax (none,
// today: every file is parsed by hclsyntax) are left to the caller's decoding.
func (l *loader) unknownNames(body hcl.Body, names bodyNames) (ok bool, suggested map[string]bool) {
	sb, native := body.(*hclsyntax.Body)
	if !native {
		return true, nil
	}
	ok, suggested = true, map[string]bool{}
	for _, a := range sortedSyntaxAttrs(sb) {
		if slices.Contains(names.attrs, a.Name) {
			continue
		}
		ok = false
		detail := fmt.Sprintf("An argument named %q is not expected %s.", a.Name, names.where)
		switch {
		case slices.Contains(names.blocks, a.Name):
			detail += fmt.Sprintf(" %s is a block: write %s { ... }, without the equals sign.", a.Name, a.Name)
		default:
			detail += names.hint(a.Name, names.attrs, "arguments")
			for _, s := range suggest.Names(a.Name, names.attrs) {
				suggested[s] = true
			}
		}
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unsupported argument",
			Detail:   detail,
			Subject:  a.NameRange.Ptr(),
		})
	}
	for _, b := range sb.Blocks {
		if slices.Contains(names.blocks, b.Type) {
			continue
		}
		ok = false
		detail := fmt.Sprintf("Blocks of type %q are not expected %s.", b.Type, names.where)
		switch {
		case slices.Contains(names.attrs, b.Type):
			detail += fmt.Sprintf(" %s is an argument: write %s = <value>.", b.Type, b.Type)
		default:
			detail += names.hint(b.Type, names.blocks, "blocks")
		}
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unsupported block type",
			Detail:   detail,
			Subject:  b.TypeRange.Ptr(),
		})
	}
	return ok, suggested
}

// hint suggests what given was meant to be, first among the names of its own sort
// (arguments or blocks), then among the others; failing that, it lists what is accepted.
func (n bodyNames) hint(given string, same []string, sort string) string {
	if s := didYouMean(given, same); s != "" {
		return s
	}
	if s := didYouMean(given, append(append([]string(nil), n.attrs...), n.blocks...)); s != "" {
		return s
	}
	if len(same) == 0 {
		return fmt.Sprintf(" No %s are accepted %s.", sort, n.where)
	}
	return fmt.Sprintf(" The %s accepted %s are: %s.", sort, n.where, strings.Join(same, ", "))
}

// sortedSyntaxAttrs returns the attributes of a native body in source order.
func sortedSyntaxAttrs(b *hclsyntax.Body) []*hclsyntax.Attribute {
	out := make([]*hclsyntax.Attribute, 0, len(b.Attributes))
	for _, a := range b.Attributes {
		out = append(out, a)
	}
	slices.SortFunc(out, func(x, y *hclsyntax.Attribute) int { return x.SrcRange.Start.Byte - y.SrcRange.Start.Byte })
	return out
}
