package main

import (
	"bytes"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/monotask/flareops/reconciler"
)

// TestListAndFloatRows: the reference shows lists and fractional numbers by type, default
// and what is allowed.
func TestListAndFloatRows(t *testing.T) {
	var b bytes.Buffer
	writeSchema(&b, reconciler.BlockSchema{Attrs: []reconciler.Attr{
		{Name: "blobs", Type: reconciler.StringList, MaxItems: 20, Unique: true, Pattern: regexp.MustCompile(`^[a-z_]+$`), PatternText: "lowercase letters and `_`", Description: "Column names."},
		{Name: "tags", Type: reconciler.StringList, Default: []string{}, Description: "Tags."},
		{Name: "rate", Type: reconciler.Float, FloatBounded: true, FloatMin: 0, FloatMax: 1, Default: 0.1, Description: "Sampling."},
		{Name: "floor", Type: reconciler.Float, FloatBounded: true, FloatMin: 0.5, FloatMax: math.Inf(1), Description: "At least a half."},
		{Name: "count", Type: reconciler.Int, Min: 1, Max: 10, Description: "A count."},
	}}, "")
	for _, row := range []string{
		"| `blobs` | list of strings | no | — | at most 20 elements, each lowercase letters and `_`, all different | Column names. |",
		"| `tags` | list of strings | no | `[]` | — | Tags. |",
		"| `rate` | number | no | `0.1` | between 0 and 1 | Sampling. |",
		"| `floor` | number | no | — | at least 0.5 | At least a half. |",
		"| `count` | whole number | no | — | 1 to 10 | A count. |",
	} {
		if !strings.Contains(b.String(), row+"\n") {
			t.Errorf("no row %s in:\n%s", row, b.String())
		}
	}
}
