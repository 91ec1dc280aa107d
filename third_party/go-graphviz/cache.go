package graphviz

import "github.com/goccy/go-graphviz/internal/wasm"

// SetCompilationCacheDir sets the directory in which wazero keeps Graphviz's compiled code
// between processes ("" keeps none, the default). Call it before the first New or
// ParseBytes. Patched for flareops: upstream always uses os.TempDir()/go-graphviz, a
// directory anyone on a shared machine may create and fill.
func SetCompilationCacheDir(dir string) { wasm.CacheDir = dir }
