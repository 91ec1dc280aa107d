package cli

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"sync"

	"github.com/goccy/go-graphviz"

	"github.com/monotask/flareops/internal/gvcache"
)

// renderSVG lays dot out with Graphviz's dot layout (github.com/goccy/go-graphviz: Graphviz
// compiled to WebAssembly and run by wazero, so no cgo and no program to install) and
// returns the SVG, self-contained: the DOCTYPE line that names the SVG 1.1 DTD by URL is
// dropped (browsers never fetch it, but a picture pinned in a repository should refer to
// nothing), and the result has no other reference outside itself (no images, no fonts,
// no links: the labels are text in a font family every browser has). Starting the
// WebAssembly module is done on the first call only (flareops builds go-graphviz patched to
// do it then, not when any flareops process starts: third_party/go-graphviz), with its
// compiled code cached in a directory private to this user (internal/gvcache).
// A warning is returned (with the SVG) when no private cache directory could be had, so
// that the module was compiled for this run alone.
func renderSVG(dot []byte) (svg []byte, warning string, err error) {
	ctx := context.Background()
	cacheOnce.Do(func() {
		dir, err := gvcache.Dir()
		if err != nil {
			cacheWarning = fmt.Sprintf("Graphviz's compiled code is not cached, so each drawing compiles it again (about a second): %v", err)
			return
		}
		graphviz.SetCompilationCacheDir(dir)
	})
	gv, err := graphviz.New(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("cannot start graphviz: %w", err)
	}
	defer gv.Close()
	g, err := graphviz.ParseBytes(dot)
	if err != nil {
		return nil, "", fmt.Errorf("graphviz cannot read the graph: %w", err)
	}
	defer g.Close()
	var b bytes.Buffer
	if err := gv.Render(ctx, g, graphviz.SVG, &b); err != nil {
		return nil, "", fmt.Errorf("graphviz cannot lay out the graph: %w", err)
	}
	return doctype.ReplaceAll(b.Bytes(), nil), cacheWarning, nil
}

// cacheOnce points go-graphviz at its cache before it first loads (without a private
// directory it caches nothing and compiles on each run).
var (
	cacheOnce    sync.Once
	cacheWarning string
)

var doctype = regexp.MustCompile(`(?s)<!DOCTYPE[^>]*>\n?`)
