package alerting

import (
	"errors"
	"fmt"
	"strings"
)

// SQLString quotes s as an Analytics Engine (ClickHouse) SQL string literal: a backslash
// before every backslash and quote, and control characters as escapes, so that nothing in
// s (quotes, backslashes, `--`, `;`, newlines) can end the literal.
func SQLString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case 0:
			b.WriteString(`\0`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

func sqlNumber(f float64) string {
	if f < 0 {
		return "(" + formatNumber(f) + ")"
	}
	return formatNumber(f)
}

var sqlOps = map[string]string{"=": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "in": "IN", "not in": "NOT IN"}

// CompileSQL compiles f into an Analytics Engine SQL condition over the positional
// columns cols maps names to (status < 500 becomes double1 < 500). Values are literals,
// quoted by SQLString; column names never come from the filter text. A nil filter is
// "every event": "1 = 1". f must pass Check against cols.
func CompileSQL(f *Filter, cols Columns) (string, error) {
	if f == nil || f.Root == nil {
		return "1 = 1", nil
	}
	if errs := Check(f, cols, "the columns"); len(errs) > 0 {
		return "", errors.Join(errs...)
	}
	var b strings.Builder
	compileSQL(&b, f.Root, cols, true)
	return b.String(), nil
}

func compileSQL(b *strings.Builder, e Expr, cols Columns, top bool) {
	switch n := e.(type) {
	case *Logic:
		if !top {
			b.WriteByte('(')
		}
		for i, t := range n.Terms {
			if i > 0 {
				b.WriteString(" " + strings.ToUpper(n.Op) + " ")
			}
			compileSQL(b, t, cols, false)
		}
		if !top {
			b.WriteByte(')')
		}
	case *Compare:
		b.WriteString(cols[n.Column].Field + " " + sqlOps[n.Op] + " ")
		lit := func(v Value) string {
			if v.IsString {
				return SQLString(v.Str)
			}
			return sqlNumber(v.Num)
		}
		if n.Op == "in" || n.Op == "not in" {
			b.WriteByte('(')
			for i, v := range n.Values {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(lit(v))
			}
			b.WriteByte(')')
			return
		}
		b.WriteString(lit(n.Values[0]))
	}
}

var graphQLSuffix = map[string]string{"=": "", "!=": "_neq", "<": "_lt", "<=": "_leq", ">": "_gt", ">=": "_geq", "in": "_in", "not in": "_notin"}

// CompileGraphQL compiles f into a GraphQL Analytics filter object (analytics.md §1.3):
// status = 'x' becomes {"status": "x"}, and/or become {"AND": [...]} / {"OR": [...]}.
// It is sent as (part of) a query variable, never pasted into the query text. A nil
// filter is an empty object. f must pass Check against cols.
func CompileGraphQL(f *Filter, cols Columns) (map[string]any, error) {
	if f == nil || f.Root == nil {
		return map[string]any{}, nil
	}
	if errs := Check(f, cols, "the columns"); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return compileGraphQL(f.Root, cols), nil
}

func compileGraphQL(e Expr, cols Columns) map[string]any {
	switch n := e.(type) {
	case *Logic:
		terms := make([]any, len(n.Terms))
		for i, t := range n.Terms {
			terms[i] = compileGraphQL(t, cols)
		}
		return map[string]any{strings.ToUpper(n.Op): terms}
	case *Compare:
		val := func(v Value) any {
			if v.IsString {
				return v.Str
			}
			return v.Num
		}
		key := cols[n.Column].Field + graphQLSuffix[n.Op]
		if n.Op == "in" || n.Op == "not in" {
			list := make([]any, len(n.Values))
			for i, v := range n.Values {
				list[i] = val(v)
			}
			return map[string]any{key: list}
		}
		return map[string]any{key: val(n.Values[0])}
	}
	panic(fmt.Sprintf("alerting: unknown filter node %T", e))
}
