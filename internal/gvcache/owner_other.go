//go:build !unix

package gvcache

import "os"

// ownedByMe: outside Unix the user cache directory is the user's own (on Windows,
// %LocalAppData%), and there is no owner id to compare.
func ownedByMe(os.FileInfo) bool { return true }
