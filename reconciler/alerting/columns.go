package alerting

import (
	"fmt"
	"sort"
	"strings"

	"github.com/monotask/flareops/reconciler/suggest"
)

// Type is the type of a column: what a filter may compare it with.
type Type string

const (
	String Type = "string"
	Number Type = "number"
)

// Column is a named column and where a query finds it: an Analytics Engine positional
// column ("index1", "blob3", "double2") or a GraphQL dimension ("status").
type Column struct {
	Name  string
	Type  Type
	Field string
}

// Columns is the set of columns a filter may name, by name.
type Columns map[string]Column

// Names lists the column names, sorted.
func (c Columns) Names() []string {
	names := make([]string, 0, len(c))
	for n := range c {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Dataset is an Analytics Engine dataset as an analytics_dataset block declares it: its
// name (also its SQL table) and the names of its positional columns.
type Dataset struct {
	Name    string   `json:"dataset"`
	Index   string   `json:"index,omitempty"`
	Blobs   []string `json:"blobs,omitempty"`
	Doubles []string `json:"doubles,omitempty"`
}

// Columns returns the dataset's named columns: the index and blobs are strings, the
// doubles numbers.
func (d Dataset) Columns() Columns {
	c := Columns{}
	if d.Index != "" {
		c[d.Index] = Column{Name: d.Index, Type: String, Field: "index1"}
	}
	for i, b := range d.Blobs {
		if b != "" {
			c[b] = Column{Name: b, Type: String, Field: fmt.Sprintf("blob%d", i+1)}
		}
	}
	for i, n := range d.Doubles {
		if n != "" {
			c[n] = Column{Name: n, Type: Number, Field: fmt.Sprintf("double%d", i+1)}
		}
	}
	return c
}

// WorkerColumns are the columns a filter on Cloudflare's Workers invocations
// (workersInvocationsAdaptive, analytics.md §1.5) may name, beside the script that the
// SLI names itself.
var WorkerColumns = Columns{
	"status":         {Name: "status", Type: String, Field: "status"},
	"script_version": {Name: "script_version", Type: String, Field: "scriptVersion"},
	"environment":    {Name: "environment", Type: String, Field: "environmentName"},
	"usage_model":    {Name: "usage_model", Type: String, Field: "usageModel"},
}

// Check reports every column of f that cols lacks (with the closest names), and every
// comparison of a column with a value of the other type or with an ordering a string
// cannot have. Each error is a *FilterError at the offending token; what names the set
// (e.g. `dataset "api"`) says where the columns come from.
func Check(f *Filter, cols Columns, what string) []error {
	if f == nil || f.Root == nil {
		return nil
	}
	var errs []error
	walk(f.Root, func(c *Compare) {
		col, ok := cols[c.Column]
		if !ok {
			msg := fmt.Sprintf("unknown column %q in %s.", c.Column, what)
			if hint := suggest.DidYouMean(c.Column, cols.Names()); hint != "" {
				msg += hint
			} else if len(cols) > 0 {
				msg += " Its columns: " + strings.Join(cols.Names(), ", ") + "."
			} else {
				msg += " It names no columns: add a columns block to it."
			}
			errs = append(errs, &FilterError{c.ColumnPos, msg})
			return
		}
		if col.Type == String && c.Op != "=" && c.Op != "!=" && c.Op != "in" && c.Op != "not in" {
			errs = append(errs, &FilterError{c.ColumnPos, fmt.Sprintf("%s is a string column: compare it with = != in or not in, not %s", c.Column, c.Op)})
			return
		}
		for _, v := range c.Values {
			switch {
			case col.Type == Number && v.IsString:
				errs = append(errs, &FilterError{v.Pos, fmt.Sprintf("%s is a number column: compare it with a number, not the string %s", c.Column, v)})
			case col.Type == String && !v.IsString:
				errs = append(errs, &FilterError{v.Pos, fmt.Sprintf("%s is a string column: quote the value, e.g. %s", c.Column, QuoteString(v.String()))})
			}
		}
	})
	return errs
}

// Columns lists the column names f uses, in order of first use.
func (f *Filter) Columns() []string {
	if f == nil || f.Root == nil {
		return nil
	}
	var names []string
	seen := map[string]bool{}
	walk(f.Root, func(c *Compare) {
		if !seen[c.Column] {
			seen[c.Column] = true
			names = append(names, c.Column)
		}
	})
	return names
}

// walk calls fn for every comparison; its depth is the parser's, which is bounded.
func walk(e Expr, fn func(*Compare)) {
	switch n := e.(type) {
	case *Logic:
		for _, t := range n.Terms {
			walk(t, fn)
		}
	case *Compare:
		fn(n)
	}
}
