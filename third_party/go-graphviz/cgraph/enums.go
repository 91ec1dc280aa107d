package cgraph

import "github.com/goccy/go-graphviz/internal/wasm"

// bindEnums sets the package's enum values from the loaded Graphviz module. Patched for
// flareops: upstream sets them in package-level declarations, which need the module
// instantiated by a package init.
func bindEnums() {
	GRAPH = ObjectTag(wasm.GRAPH)
	NODE = ObjectTag(wasm.NODE)
	OUTEDGE = ObjectTag(wasm.OUT_EDGE)
	INEDGE = ObjectTag(wasm.IN_EDGE)
	EDGE = ObjectTag(wasm.EDGE)
}
