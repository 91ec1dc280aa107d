// Package gvcache says where Graphviz's compiled WebAssembly is kept between runs.
//
// flareops draws graphs with github.com/goccy/go-graphviz, Graphviz compiled to WebAssembly
// and run by wazero. wazero can keep the machine code it compiles in a directory and load
// it again in later processes, without verifying it (its file cache says so: "this can be
// expanded to do binary signing/verification"). Upstream go-graphviz keeps that cache in
// os.TempDir()/go-graphviz, a directory anyone on the machine may create first and fill,
// and it instantiates the module in a package init, in every process that links it.
// flareops builds a patched copy (third_party/go-graphviz, see its FLAREOPS.md) that
// instantiates the module on first use and keeps the cache where it is told, or nowhere;
// Dir is that place: <user cache dir>/flareops/go-graphviz, private to this user.
//
// Without a usable cache every drawing compiles the module first (about 1.5 s on the
// 2-core reference machine, against 0.06 s with one).
package gvcache

import (
	"fmt"
	"os"
	"path/filepath"
)

// Dir is <user cache dir>/flareops/go-graphviz, made (0700) and checked to be a directory
// of this user's that no one else can write; or an error saying why there is none, and
// then nothing is cached.
func Dir() (string, error) {
	base, err := privateDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(base, "go-graphviz")
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return "", err
	}
	if err := checkPrivate(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// privateDir is <user cache dir>/flareops, made private to this user.
func privateDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(base, "flareops")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if err := checkPrivate(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// checkPrivate says why dir is not a directory of this user's that only this user can
// write, or nil.
func checkPrivate(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s is writable by others (%v)", dir, fi.Mode().Perm())
	}
	if !ownedByMe(fi) {
		return fmt.Errorf("%s belongs to another user", dir)
	}
	return nil
}
