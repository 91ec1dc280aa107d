package alerting

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The filter grammar (docs/cli/alert-rules.md#filters):
//
//	filter     = or
//	or         = and { "or" and }
//	and        = term { "and" term }
//	term       = "(" filter ")" | comparison
//	comparison = column op value | column [ "not" ] "in" "(" value { "," value } ")"
//	op         = "=" | "!=" | "<" | "<=" | ">" | ">="
//	value      = number | string
//	number     = [ "-" ] digits [ "." digits ] [ ( "e" | "E" ) [ "+" | "-" ] digits ]
//	string     = "'" { character | "\\" | "\'" | "''" } "'"
//	column     = letter_or_underscore { letter | digit | "_" }
//
// Keywords (and, or, not, in) are case-insensitive; column names are not. Inside a string,
// a backslash escapes a backslash or a quote (\\ and \'), and a doubled quote ('') is a
// quote; any other backslash is an error, so nothing is silently dropped. Strings may hold
// any other character, including `--`, `;` and newlines: they are values, never SQL.

// MaxFilterDepth is how deeply parentheses may nest. Deeper input is an error, not a
// stack overflow; real filters nest two or three levels.
const MaxFilterDepth = 64

// MaxFilterBytes bounds the length of a filter: it is a condition, not a program.
const MaxFilterBytes = 16 << 10

// Pos is a position inside a filter string: the byte offset from its start, and the
// 1-based line and column (in characters). A caller that knows where the string starts in
// a file adds the two to report file:line:col (see Pos.In).
type Pos struct {
	Offset int
	Line   int
	Column int
}

// In returns the position p inside a string whose first character is at start in a
// file: on the string's first line the columns add up; on later lines the column is p's.
func (p Pos) In(start Pos) Pos {
	out := Pos{Offset: start.Offset + p.Offset, Line: start.Line + p.Line - 1, Column: p.Column}
	if p.Line == 1 {
		out.Column = start.Column + p.Column - 1
	}
	return out
}

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Column) }

// FilterError is an error at a position of a filter.
type FilterError struct {
	Pos Pos
	Msg string
}

func (e *FilterError) Error() string { return fmt.Sprintf("%s: %s", e.Pos, e.Msg) }

// Filter is a parsed filter: its source and its syntax tree.
type Filter struct {
	Source string
	Root   Expr
}

// Expr is a node of a filter: a *Logic or a *Compare.
type Expr interface{ At() Pos }

// Logic joins two or more terms with "and" or "or".
type Logic struct {
	Op    string // "and" or "or"
	Terms []Expr
	Pos   Pos
}

// Compare compares a column with one value (Op "=", "!=", "<", "<=", ">", ">=") or a
// list of values (Op "in", "not in").
type Compare struct {
	Column    string
	ColumnPos Pos
	Op        string
	Values    []Value
}

// Value is a literal: a string (IsString) or a number.
type Value struct {
	IsString bool
	Str      string
	Num      float64
	Pos      Pos
}

func (l *Logic) At() Pos   { return l.Pos }
func (c *Compare) At() Pos { return c.ColumnPos }

func (v Value) String() string {
	if v.IsString {
		return QuoteString(v.Str)
	}
	return formatNumber(v.Num)
}

// QuoteString writes s as a filter string literal: quotes around it, and a backslash
// before every quote and backslash. ParseFilter reads it back as s.
func QuoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// String renders the filter in canonical form (keywords lowercase, one space between
// tokens, parentheses only where needed).
func (f *Filter) String() string {
	if f == nil || f.Root == nil {
		return ""
	}
	var b strings.Builder
	writeExpr(&b, f.Root, "")
	return b.String()
}

func writeExpr(b *strings.Builder, e Expr, parent string) {
	switch n := e.(type) {
	case *Logic:
		paren := parent != "" && parent != n.Op
		if paren {
			b.WriteByte('(')
		}
		for i, t := range n.Terms {
			if i > 0 {
				b.WriteString(" " + n.Op + " ")
			}
			writeExpr(b, t, n.Op)
		}
		if paren {
			b.WriteByte(')')
		}
	case *Compare:
		b.WriteString(n.Column + " " + n.Op + " ")
		if n.Op == "in" || n.Op == "not in" {
			b.WriteByte('(')
			for i, v := range n.Values {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(v.String())
			}
			b.WriteByte(')')
			return
		}
		b.WriteString(n.Values[0].String())
	}
}

// ParseFilter parses a filter. Errors are *FilterError with the position in src.
func ParseFilter(src string) (*Filter, error) {
	if len(src) > MaxFilterBytes {
		return nil, &FilterError{Pos{0, 1, 1}, fmt.Sprintf("filter is %d bytes, over the limit of %d", len(src), MaxFilterBytes)}
	}
	if !utf8.ValidString(src) {
		return nil, &FilterError{Pos{0, 1, 1}, "filter is not valid UTF-8"}
	}
	toks, err := lexFilter(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks}
	if p.peek().kind == tokEnd {
		return nil, p.errAt(p.peek(), "empty filter: write a condition such as status < 500")
	}
	root, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEnd {
		return nil, p.errAt(t, fmt.Sprintf("unexpected %s: join conditions with and / or", t.describe()))
	}
	return &Filter{Source: src, Root: root}, nil
}

type tokKind int

const (
	tokEnd tokKind = iota
	tokIdent
	tokNumber
	tokString
	tokOp     // = != < <= > >=
	tokLParen // (
	tokRParen // )
	tokComma  // ,
)

type token struct {
	kind tokKind
	text string // identifier, operator or number text; a string's decoded value
	num  float64
	off  int
}

func (t token) describe() string {
	switch t.kind {
	case tokEnd:
		return "end of filter"
	case tokString:
		return "string " + QuoteString(t.text)
	case tokNumber:
		return "number " + t.text
	case tokIdent:
		return fmt.Sprintf("%q", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }

func lexFilter(src string) ([]token, error) {
	var toks []token
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks, i = append(toks, token{kind: tokLParen, text: "(", off: i}), i+1
		case c == ')':
			toks, i = append(toks, token{kind: tokRParen, text: ")", off: i}), i+1
		case c == ',':
			toks, i = append(toks, token{kind: tokComma, text: ",", off: i}), i+1
		case c == '=' || c == '<' || c == '>' || c == '!':
			op := string(c)
			if i+1 < len(src) && src[i+1] == '=' {
				op += "="
			}
			switch op {
			case "!":
				return nil, &FilterError{position(src, i), "unexpected \"!\": write != for not equal"}
			case "==":
				return nil, &FilterError{position(src, i), "unexpected \"==\": write = for equal"}
			}
			toks, i = append(toks, token{kind: tokOp, text: op, off: i}), i+len(op)
		case c == '\'':
			s, n, err := lexString(src, i)
			if err != nil {
				return nil, err
			}
			toks, i = append(toks, token{kind: tokString, text: s, off: i}), n
		case isDigit(c) || c == '-' || c == '.':
			j := lexNumber(src, i)
			text := src[i:j]
			f, err := strconv.ParseFloat(text, 64)
			if j == i || err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				if j == i {
					j = i + 1
				}
				return nil, &FilterError{position(src, i), fmt.Sprintf("%q is not a number (write digits, optionally with a decimal point and exponent, e.g. 500 or 0.25)", src[i:j])}
			}
			if j < len(src) && isIdentStart(src[j]) {
				return nil, &FilterError{position(src, j), fmt.Sprintf("unexpected %q after the number %s: numbers have no units here", src[j:j+1], text)}
			}
			toks, i = append(toks, token{kind: tokNumber, text: text, num: f, off: i}), j
		case isIdentStart(c):
			j := i + 1
			for j < len(src) && (isIdentStart(src[j]) || isDigit(src[j])) {
				j++
			}
			toks, i = append(toks, token{kind: tokIdent, text: src[i:j], off: i}), j
		case c == '"':
			return nil, &FilterError{position(src, i), "strings are in single quotes: write 'value', not \"value\""}
		default:
			r, _ := utf8.DecodeRuneInString(src[i:])
			return nil, &FilterError{position(src, i), fmt.Sprintf("unexpected character %q", r)}
		}
	}
	return append(toks, token{kind: tokEnd, off: len(src)}), nil
}

// lexString reads a '…' literal starting at i and returns its value and the offset after it.
func lexString(src string, i int) (string, int, error) {
	var b strings.Builder
	for j := i + 1; j < len(src); j++ {
		switch c := src[j]; {
		case c == '\'' && j+1 < len(src) && src[j+1] == '\'':
			b.WriteByte('\'')
			j++
		case c == '\'':
			return b.String(), j + 1, nil
		case c == '\\':
			if j+1 < len(src) && (src[j+1] == '\\' || src[j+1] == '\'') {
				b.WriteByte(src[j+1])
				j++
				continue
			}
			return "", 0, &FilterError{position(src, j), `unknown escape in string: only \\ (a backslash) and \' (a quote) are escapes; write \\ for a literal backslash`}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, &FilterError{position(src, i), "string is not closed: add a ' at its end (write \\' or '' for a quote inside it)"}
}

func lexNumber(src string, i int) int {
	j := i
	if j < len(src) && src[j] == '-' {
		j++
	}
	digits := func() bool {
		k := j
		for j < len(src) && isDigit(src[j]) {
			j++
		}
		return j > k
	}
	whole := digits()
	if j < len(src) && src[j] == '.' {
		j++
		if !digits() && !whole {
			return j
		}
	} else if !whole {
		return j
	}
	if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
		k := j
		j++
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if !digits() {
			return k
		}
	}
	return j
}

// position turns a byte offset into a line and a column counted in characters.
func position(src string, off int) Pos {
	line, col := 1, 1
	for i, r := range src {
		if i >= off {
			break
		}
		if r == '\n' {
			line, col = line+1, 1
			continue
		}
		col++
	}
	return Pos{Offset: off, Line: line, Column: col}
}

type parser struct {
	src  string
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEnd {
		p.i++
	}
	return t
}
func (p *parser) pos(t token) Pos { return position(p.src, t.off) }
func (p *parser) errAt(t token, msg string) error {
	return &FilterError{p.pos(t), msg}
}

func (p *parser) keyword(t token, kw string) bool {
	return t.kind == tokIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) or(depth int) (Expr, error) { return p.logic(depth, "or") }

// logic parses terms joined by op ("or" over "and" terms, "and" over comparisons), into
// one flat node, so that long chains cost no recursion.
func (p *parser) logic(depth int, op string) (Expr, error) {
	first := p.peek()
	sub := func() (Expr, error) {
		if op == "or" {
			return p.logic(depth, "and")
		}
		return p.term(depth)
	}
	e, err := sub()
	if err != nil {
		return nil, err
	}
	terms := []Expr{e}
	for p.keyword(p.peek(), op) {
		p.next()
		e, err := sub()
		if err != nil {
			return nil, err
		}
		terms = append(terms, e)
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return &Logic{Op: op, Terms: terms, Pos: p.pos(first)}, nil
}

func (p *parser) term(depth int) (Expr, error) {
	t := p.next()
	switch {
	case t.kind == tokLParen:
		if depth+1 > MaxFilterDepth {
			return nil, p.errAt(t, fmt.Sprintf("parentheses nest deeper than %d levels", MaxFilterDepth))
		}
		e, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokRParen {
			return nil, p.errAt(c, fmt.Sprintf("expected ) to close the ( at %s, found %s", p.pos(t), c.describe()))
		}
		return e, nil
	case t.kind == tokIdent && !p.keyword(t, "and") && !p.keyword(t, "or") && !p.keyword(t, "in") && !p.keyword(t, "not"):
		return p.comparison(t)
	case t.kind == tokEnd:
		return nil, p.errAt(t, "the filter ends where a condition should be: write column op value, e.g. status < 500")
	case t.kind == tokString || t.kind == tokNumber:
		return nil, p.errAt(t, fmt.Sprintf("expected a column name, found %s: write the column first (status < 500)", t.describe()))
	}
	return nil, p.errAt(t, fmt.Sprintf("expected a condition (column op value), found %s", t.describe()))
}

func (p *parser) comparison(col token) (Expr, error) {
	c := &Compare{Column: col.text, ColumnPos: p.pos(col)}
	op := p.next()
	switch {
	case op.kind == tokOp:
		c.Op = op.text
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		c.Values = []Value{v}
		return c, nil
	case p.keyword(op, "not"):
		if in := p.next(); !p.keyword(in, "in") {
			return nil, p.errAt(in, fmt.Sprintf("expected in after not, found %s", in.describe()))
		}
		c.Op = "not in"
	case p.keyword(op, "in"):
		c.Op = "in"
	default:
		return nil, p.errAt(op, fmt.Sprintf("expected an operator (= != < <= > >= in) after %s, found %s", col.text, op.describe()))
	}
	if l := p.next(); l.kind != tokLParen {
		return nil, p.errAt(l, fmt.Sprintf("expected ( after %s, found %s: write %s %s ('a', 'b')", c.Op, l.describe(), col.text, c.Op))
	}
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		c.Values = append(c.Values, v)
		switch t := p.next(); t.kind {
		case tokComma:
			continue
		case tokRParen:
			return c, nil
		default:
			return nil, p.errAt(t, fmt.Sprintf("expected , or ) in the list, found %s", t.describe()))
		}
	}
}

func (p *parser) value() (Value, error) {
	t := p.next()
	switch t.kind {
	case tokString:
		return Value{IsString: true, Str: t.text, Pos: p.pos(t)}, nil
	case tokNumber:
		return Value{Num: t.num, Pos: p.pos(t)}, nil
	case tokIdent:
		return Value{}, p.errAt(t, fmt.Sprintf("expected a number or a quoted string, found %s: quote strings, e.g. '%s'", t.describe(), t.text))
	}
	return Value{}, p.errAt(t, fmt.Sprintf("expected a number or a quoted string, found %s", t.describe()))
}
