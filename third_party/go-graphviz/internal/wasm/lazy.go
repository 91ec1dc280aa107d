package wasm

import "sync"

// Patched for flareops: the module is instantiated on first use, not in a package init, so
// that a program linking go-graphviz pays for Graphviz (about 8 MB resident and a module
// load) only when it draws.

// CacheDir is the directory wazero keeps compiled code in between processes; "" keeps
// none. Set it before the first Load.
var CacheDir string

var (
	loadOnce sync.Once
	loadErr  error
)

// Load instantiates the Graphviz module once; every later call returns the first's error.
func Load() error {
	loadOnce.Do(func() { loadErr = load() })
	return loadErr
}
