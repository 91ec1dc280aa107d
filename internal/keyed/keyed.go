// Package keyed keeps small slices sorted by a string key, for the handful of elements
// where a Go map would cost more than the elements themselves (a queue's consumers, a
// configuration block's references): found by binary search, inserted in order.
package keyed

import (
	"slices"
	"sort"
	"strings"
)

// Find returns the index of the element of s whose key is key, or where it would be
// inserted; s is sorted by keyOf.
func Find[T any](s []T, key string, keyOf func(T) string) (int, bool) {
	return sort.Find(len(s), func(i int) int { return strings.Compare(key, keyOf(s[i])) })
}

// Put returns s with v in key order, replacing the element with v's key.
func Put[T any](s []T, v T, keyOf func(T) string) []T {
	i, ok := Find(s, keyOf(v), keyOf)
	if ok {
		s[i] = v
		return s
	}
	return slices.Insert(s, i, v)
}
