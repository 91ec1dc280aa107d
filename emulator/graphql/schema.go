package graphql

import (
	"fmt"
	"strings"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// The schema: the subset of Cloudflare's (type names as in its introspection dump,
// analytics.md "SCHEMA"), generated from the dataset specs. Cloudflare's scalars are
// lower-case (string, uint64, float32, …) besides Time and Date.

var filterSuffixes = []string{"", "_gt", "_lt", "_geq", "_leq", "_neq", "_in", "_notin"}

func scalarOf(kind dimKind) string {
	switch kind {
	case dimTime:
		return "Time"
	case dimDate:
		return "Date"
	}
	return "string"
}

func buildSDL() string {
	var b strings.Builder
	b.WriteString(`scalar string
scalar uint64
scalar uint32
scalar float32
scalar float64
scalar Time
scalar Date

type Query {
  viewer: viewer
}

type viewer {
  accounts(filter: AccountFilter_InputObject!): [account!]!
}

input AccountFilter_InputObject {
  accountTag: string
}

type Settings {
  enabled: Boolean!
  availableFields: [string!]!
  maxDuration: uint64!
  maxNumberOfFields: uint64!
  maxPageSize: uint64!
  notOlderThan: uint64!
}

`)
	b.WriteString("type AccountSettings {\n")
	for _, d := range datasets {
		fmt.Fprintf(&b, "  %s: Settings\n", d.node)
	}
	b.WriteString("}\n\ntype account {\n  settings: AccountSettings\n")
	for _, d := range datasets {
		fmt.Fprintf(&b, "  %s(filter: %sFilter_InputObject!, limit: uint64!, orderBy: [%sOrderBy!]): [%s!]!\n", d.node, d.typ, d.typ, d.typ)
	}
	b.WriteString("}\n\n")
	for _, d := range datasets {
		writeDataset(&b, d)
	}
	return b.String()
}

func writeDataset(b *strings.Builder, d *datasetSpec) {
	fmt.Fprintf(b, "type %s {\n  dimensions: %sDimensions\n", d.typ, d.typ)
	if d.count {
		b.WriteString("  count: uint64!\n")
	}
	for _, bl := range d.blocks {
		fmt.Fprintf(b, "  %s: %s%s\n", bl.name, d.typ, upperFirst(bl.name))
	}
	b.WriteString("}\n\n")

	fmt.Fprintf(b, "type %sDimensions {\n", d.typ)
	for _, dm := range d.dims {
		fmt.Fprintf(b, "  %s: %s!\n", dm.name, scalarOf(dm.kind))
	}
	b.WriteString("}\n\n")
	for _, bl := range d.blocks {
		fmt.Fprintf(b, "type %s%s {\n", d.typ, upperFirst(bl.name))
		for _, m := range bl.metrics {
			fmt.Fprintf(b, "  %s: %s!\n", m.name, m.kind)
		}
		b.WriteString("}\n\n")
	}

	fmt.Fprintf(b, "input %sFilter_InputObject {\n", d.typ)
	fmt.Fprintf(b, "  AND: [%sFilter_InputObject!]\n  OR: [%sFilter_InputObject!]\n", d.typ, d.typ)
	for _, dm := range d.dims {
		sc := scalarOf(dm.kind)
		for _, suf := range filterSuffixes {
			if suf == "_in" || suf == "_notin" {
				fmt.Fprintf(b, "  %s%s: [%s!]\n", dm.name, suf, sc)
			} else {
				fmt.Fprintf(b, "  %s%s: %s\n", dm.name, suf, sc)
			}
		}
		if dm.kind == dimString {
			fmt.Fprintf(b, "  %s_like: string\n  %s_notlike: string\n", dm.name, dm.name)
		}
	}
	b.WriteString("}\n\n")

	fmt.Fprintf(b, "enum %sOrderBy {\n", d.typ)
	for _, key := range d.orderKeys() {
		fmt.Fprintf(b, "  %s_ASC\n  %s_DESC\n", key, key)
	}
	b.WriteString("}\n\n")
}

// orderKeys are what orderBy can name: dimensions, count, and <block>_<field>.
func (d *datasetSpec) orderKeys() []string {
	var keys []string
	for _, dm := range d.dims {
		keys = append(keys, dm.name)
	}
	if d.count {
		keys = append(keys, "count")
	}
	for _, bl := range d.blocks {
		for _, m := range bl.metrics {
			keys = append(keys, bl.name+"_"+m.name)
		}
	}
	return keys
}

func upperFirst(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// schema is loaded once; a failure is a bug in the specs above.
var schema = func() *ast.Schema {
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "cloudflare-subset.graphql", Input: buildSDL()})
	if err != nil {
		panic(fmt.Sprintf("emulator/graphql: the generated schema does not load: %v", err))
	}
	return s
}()
