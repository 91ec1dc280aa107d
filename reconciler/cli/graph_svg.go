package cli

import (
	"bytes"
	"context"
	"fmt"
	"regexp"

	"github.com/goccy/go-graphviz"

	"github.com/monotask/flareops/internal/gvcache"
)

// go-graphviz has compiled its WebAssembly module by now, its cache in a directory private
// to this user (see internal/gvcache); TMPDIR is put back for everything else.
func init() { gvcache.Restore() }

// renderSVG lays dot out with Graphviz's dot layout (github.com/goccy/go-graphviz: Graphviz
// compiled to WebAssembly and run by wazero, so no cgo and no program to install) and
// returns the SVG, self-contained: the DOCTYPE line that names the SVG 1.1 DTD by URL is
// dropped (browsers never fetch it, but a picture pinned in a repository should refer to
// nothing), and the result has no other reference outside itself (no images, no fonts,
// no links: the labels are text in a font family every browser has). Starting the
// WebAssembly runtime takes about a second; it is done once per call.
func renderSVG(dot []byte) ([]byte, error) {
	ctx := context.Background()
	gv, err := graphviz.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot start graphviz: %w", err)
	}
	defer gv.Close()
	g, err := graphviz.ParseBytes(dot)
	if err != nil {
		return nil, fmt.Errorf("graphviz cannot read the graph: %w", err)
	}
	defer g.Close()
	var b bytes.Buffer
	if err := gv.Render(ctx, g, graphviz.SVG, &b); err != nil {
		return nil, fmt.Errorf("graphviz cannot lay out the graph: %w", err)
	}
	return doctype.ReplaceAll(b.Bytes(), nil), nil
}

var doctype = regexp.MustCompile(`(?s)<!DOCTYPE[^>]*>\n?`)
