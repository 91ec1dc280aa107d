package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// A loaded configuration keeps, for the rest of a run, only what diagnostics need: each
// file's bytes, the ranges of its top-level blocks (for "in queue "jobs"" context lines)
// and the range of each attribute of each block (AttrRanges). The syntax trees are dropped
// once the blocks are evaluated: at 10,000 blocks they were a third of a plan's memory.

// compactFiles replaces each parsed file by its bytes and a navigator of its blocks.
func compactFiles(files map[string]*hcl.File) {
	for name, f := range files {
		if f != nil {
			files[name] = compactFile(f)
		}
	}
}

// compactFile is f as its bytes and a navigator of its blocks.
func compactFile(f *hcl.File) *hcl.File {
	if _, done := f.Nav.(*blockNav); done {
		return f
	}
	nav := &blockNav{}
	if body, ok := f.Body.(*hclsyntax.Body); ok {
		nav.blocks = make([]navBlock, 0, len(body.Blocks))
		for _, b := range body.Blocks {
			r := b.Range()
			nav.blocks = append(nav.blocks, navBlock{start: r.Start.Byte, end: r.End.Byte, typ: b.Type, labels: b.Labels, def: b.DefRange()})
		}
		// Source order is byte order; sort anyway so that lookups may bisect.
		sort.Slice(nav.blocks, func(i, j int) bool { return nav.blocks[i].start < nav.blocks[j].start })
	}
	return &hcl.File{Bytes: f.Bytes, Nav: nav}
}

// blockNav answers hclsyntax's navigation questions from the block ranges alone.
type blockNav struct{ blocks []navBlock }

type navBlock struct {
	start, end int
	typ        string
	labels     []string
	def        hcl.Range
}

func (n *blockNav) find(offset int) *navBlock {
	i := sort.Search(len(n.blocks), func(i int) bool { return n.blocks[i].end > offset })
	if i < len(n.blocks) && n.blocks[i].start <= offset {
		return &n.blocks[i]
	}
	return nil
}

// ContextString is `queue "jobs"` for an offset inside that top-level block, else "".
func (n *blockNav) ContextString(offset int) string {
	b := n.find(offset)
	if b == nil {
		return ""
	}
	var sb strings.Builder
	sb.WriteString(b.typ)
	for _, l := range b.labels {
		if r := []rune(l); len(r) > maxNameLength {
			l = string(r[:maxNameLength]) + "…" // too long a name, reported as such
		}
		fmt.Fprintf(&sb, " %q", l)
	}
	return sb.String()
}

// ContextDefRange is the header range of the top-level block around offset.
func (n *blockNav) ContextDefRange(offset int) hcl.Range {
	if b := n.find(offset); b != nil {
		return b.def
	}
	return hcl.Range{}
}

// attrRange is one attribute path of a block and its value's range (see AttrRanges).
type attrRange struct {
	path string
	rng  hcl.Range
}

// compactRanges lists a block's attribute ranges as attrRanges maps them (a nested block's
// attributes under its type, the first block of a type only), without the maps.
func compactRanges(d *blockDecl) []attrRange {
	var out []attrRange
	var walk func(b *bodyDecl, prefix string)
	walk = func(b *bodyDecl, prefix string) {
		if b == nil {
			return
		}
		for _, a := range b.attrs {
			out = append(out, attrRange{prefix + a.Name, a.Expr.Range()})
		}
		seen := map[string]bool{}
		for _, nb := range b.nested {
			if !seen[nb.typeName] {
				seen[nb.typeName] = true
				walk(nb.body, prefix+nb.typeName+".")
			}
		}
	}
	walk(d.body, "")
	return out
}
