// Package gvcache keeps go-graphviz's compiled WebAssembly out of the shared temporary
// directory.
//
// github.com/goccy/go-graphviz compiles its Graphviz WebAssembly module when its package
// is initialized, in every flareops process (and so in every Terraform provider process),
// and keeps the compiled machine code in os.TempDir()/go-graphviz, a directory anyone on
// the machine may create first. wazero loads that cache without verifying it (its file
// cache says so: "this can be expanded to do binary signing/verification"), so on a
// shared machine another user could plant code that flareops would run. Without a usable
// cache every start costs a compile (1.75 s on the 2-core reference machine, against 0.06 s
// with one).
//
// This package's init points TMPDIR at a directory only this user can write,
// <user cache dir>/flareops (created 0700 and checked: a directory, owned by this user,
// not group- or world-writable), for as long as packages are being initialized; Restore,
// called from the init of the package that renders graphs (reconciler/cli), puts TMPDIR
// back. When no such directory can be had, a fresh private temporary directory stands in
// (no cache survives the run, but nothing foreign is loaded) and Restore removes it; when
// not even that can be made, go-graphviz is pointed where it cannot make a cache at all.
//
// Ordering: Go initializes, at each step, the first package by import path whose imports
// are all initialized (the language specification, "Package initialization", Go 1.21 and
// later). This package imports only the standard library and its path sorts before
// github.com/tetratelabs/wazero, on which go-graphviz's module loader depends, so its
// init always runs before that loader's. TestGraphvizCacheIsPrivate checks the effect on
// the built binary.
package gvcache

import (
	"fmt"
	"os"
	"path/filepath"
)

var (
	prevTMPDIR string
	hadTMPDIR  bool
	scratch    string // a fallback directory to remove in Restore
	// Dir is where go-graphviz's cache was pointed; Err says why the user cache directory
	// could not be used ("" when it was).
	Dir string
	Err error
)

func init() {
	prevTMPDIR, hadTMPDIR = os.LookupEnv("TMPDIR")
	Dir, Err = privateDir()
	if Err != nil {
		d, err := os.MkdirTemp("", "flareops-graphviz-")
		if err != nil {
			// Nothing private to point at: a path under a file, where go-graphviz can
			// neither find nor make its cache directory, so it runs without one.
			Err = fmt.Errorf("%w; and no private temporary directory: %v", Err, err)
			d = filepath.Join(os.DevNull, "flareops-no-cache")
		} else {
			scratch = d
		}
		Dir = d
	}
	_ = os.Setenv("TMPDIR", Dir)
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
	fi, err := os.Lstat(dir)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%s is not a directory", dir)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return "", fmt.Errorf("%s is writable by others (%v)", dir, fi.Mode().Perm())
	}
	if !ownedByMe(fi) {
		return "", fmt.Errorf("%s belongs to another user", dir)
	}
	return dir, nil
}

// Restore puts TMPDIR back as it was before this package's init, and removes the
// fallback directory if one was made. It is safe to call more than once.
func Restore() {
	if hadTMPDIR {
		_ = os.Setenv("TMPDIR", prevTMPDIR)
	} else {
		_ = os.Unsetenv("TMPDIR")
	}
	if scratch != "" {
		_ = os.RemoveAll(scratch)
		scratch = ""
	}
}
