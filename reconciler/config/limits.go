package config

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Limits on what the loader hands to the HCL parser. hclsyntax parses, walks and evaluates
// nested expressions recursively, so a file nested 100,000 deep overflows the goroutine
// stack: a fatal error that no recover catches, after using gigabytes of memory. Every
// source (configuration files, -var-file files, -var and FLAREOPS_VAR_ values) is scanned
// first and refused, with the place the limit was crossed, when it is too large or nested
// too deep. Real configurations are kilobytes and nest a handful of levels.
const (
	// MaxFileSize is the largest source the loader reads, in bytes: 1 MiB, ten times the
	// largest configuration we can imagine. Within the other limits, loading time and memory
	// grow with the size of a source; at 1 MiB the worst input we know (a string of 250,000
	// interpolations) loads in seconds.
	MaxFileSize = 1 << 20
	// MaxNesting is how deep expressions may nest: brackets, parentheses, braces (blocks and
	// objects), strings and heredocs, template interpolations and directives (${, %{, and
	// if/for inside templates), conditionals (a ? b : c) and runs of unary operators (- and !)
	// each count one level. Deeply nested HCL stays within 20.
	MaxNesting = 64
	// MaxChain is how many operators one expression may chain at one level of nesting
	// (a + b + ..., a && b && ..., x[i][j]..., a.b.c...): the parser builds such a chain as a
	// tree as deep as it is long, which evaluation walks recursively. A comma, and a newline
	// between arguments or object items, start a new expression. Real expressions chain
	// fewer than 20.
	MaxChain = 256
)

// checkLimits scans src, written from start on (hcl.InitialPos for a file), and returns a
// diagnostic at the place where it crosses MaxFileSize or MaxNesting, or nil. The scan
// follows hclsyntax's scanner where it matters for nesting (comments, quoted and heredoc
// templates, their escapes) and otherwise errs on the side of counting too deep: it may
// count a level the parser does not recurse into, never the reverse.
func checkLimits(src []byte, filename string, start hcl.Pos) *hcl.Diagnostic {
	if len(src) > MaxFileSize {
		at := posAt(src, start, MaxFileSize)
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "File too large",
			Detail: fmt.Sprintf("%s is %s; flareops reads sources up to %s (%d bytes), which is far more than any configuration needs. "+
				"Check that this is the file you meant (not generated or binary data), or split the configuration into several *%s files.",
				filename, sizeText(len(src)), sizeText(MaxFileSize), MaxFileSize, FileSuffix),
			Subject: &hcl.Range{Filename: filename, Start: at, End: at},
		}
	}
	off, problem := scanNesting(src)
	if problem == withinLimits {
		return nil
	}
	at := posAt(src, start, off)
	end := at
	if off < len(src) {
		_, n := utf8.DecodeRune(src[off:])
		end = hcl.Pos{Line: at.Line, Column: at.Column + 1, Byte: at.Byte + n}
	}
	d := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Expression nested too deeply",
		Detail: fmt.Sprintf("Here the nesting (brackets, braces, parentheses, strings, template interpolations, conditionals and unary operators) goes deeper than %d levels, "+
			"the most flareops accepts. Flatten the expression: move inner parts into locals and refer to them, e.g. local.part.", MaxNesting),
		Subject: &hcl.Range{Filename: filename, Start: at, End: end},
	}
	if problem == tooLong {
		d.Summary = "Expression too long"
		d.Detail = fmt.Sprintf("Here one expression chains more than %d operators (such as +, &&, ==, . or [index]), the most flareops accepts. "+
			"Split it: compute parts in locals and combine those, e.g. local.part_a && local.part_b.", MaxChain)
	}
	return d
}

// sizeText renders a byte count for a person: "4 MiB", "5.3 MiB".
func sizeText(n int) string {
	mib := float64(n) / (1 << 20)
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%.1f MiB", mib)
}

// posAt returns the position of byte off of src, which starts at start. Columns count
// characters, as hcl's do for ASCII and most text.
func posAt(src []byte, start hcl.Pos, off int) hcl.Pos {
	off = min(off, len(src))
	pos := start
	lineStart := 0
	if i := bytes.LastIndexByte(src[:off], '\n'); i >= 0 {
		pos.Line += bytes.Count(src[:off], []byte{'\n'})
		pos.Column = 1
		lineStart = i + 1
	}
	pos.Column += utf8.RuneCount(src[lineStart:off])
	pos.Byte += off
	return pos
}

// frameKind is what opened a nesting level.
type frameKind byte

const (
	frameBody    frameKind = 0   // the file
	frameParen   frameKind = '(' // (
	frameBrack   frameKind = '[' // [
	frameBrace   frameKind = '{' // a block body or an object
	frameInterp  frameKind = '$' // ${ ... } or %{ ... }: an expression inside a template
	frameString  frameKind = '"' // a quoted template
	frameHeredoc frameKind = '<' // a heredoc template
)

type frame struct {
	kind frameKind
	// soft counts the levels within this frame that have no closing token: conditionals
	// (the parser recurses into both results) and, in templates, open if/for directives.
	soft int
	// chain counts the operator characters of the current expression in this frame.
	chain  int
	marker []byte // a heredoc's end marker
}

// nesting scans a source for its nesting depth.
type nesting struct {
	src       []byte
	stack     []frame
	depth     int  // levels open: frames above the body, their soft levels, the unary run
	unary     int  // length of the current run of - and ! operators, part of depth
	long      bool // an expression chained more than MaxChain operators
	lineStart bool // in a heredoc, at the start of a line
}

// What scanNesting found.
const (
	withinLimits = iota
	tooDeep      // nested deeper than MaxNesting
	tooLong      // an expression chains more than MaxChain operators
)

// scanNesting returns the offset at which src first nests deeper than MaxNesting or chains
// more than MaxChain operators (the character that opens the level or adds the operator
// one too many), and which of them happened.
func scanNesting(src []byte) (int, int) {
	n := &nesting{src: src, stack: []frame{{kind: frameBody}}}
	for i := 0; i < len(src); {
		var next int
		switch n.top().kind {
		case frameString, frameHeredoc:
			next = n.template(i)
		default:
			next = n.expression(i)
		}
		switch {
		case n.depth > MaxNesting:
			return i, tooDeep
		case n.long:
			return i, tooLong
		}
		i = next
	}
	return 0, withinLimits
}

func (n *nesting) top() *frame { return &n.stack[len(n.stack)-1] }

func (n *nesting) push(f frame) {
	n.stack = append(n.stack, f)
	n.depth++
}

func (n *nesting) pop() {
	n.depth -= 1 + n.top().soft
	n.stack = n.stack[:len(n.stack)-1]
}

func (n *nesting) soft(delta int) {
	f := n.top()
	delta = max(delta, -f.soft)
	f.soft += delta
	n.depth += delta
}

// expression scans one step outside templates from src[i] and returns where to go on.
func (n *nesting) expression(i int) int {
	src, c := n.src, n.src[i]
	switch c {
	case '-', '!':
		n.unary++
		n.depth++
	case ' ', '\t', '\r', '\n':
	default:
		n.depth -= n.unary
		n.unary = 0
	}
	// Every operator character counts, in the frame the operator is in (== counts twice,
	// a tuple's [ once): more than needed, never less.
	switch c {
	case '+', '-', '*', '/', '%', '<', '>', '=', '!', '&', '|', '.', '[':
		n.top().chain++
		n.long = n.long || n.top().chain > MaxChain
	}
	switch {
	case c == '#' || (c == '/' && at(src, i+1) == '/'):
		// A line comment runs to the end of the line (or of the file).
		if j := bytes.IndexByte(src[i:], '\n'); j >= 0 {
			return i + j
		}
		return len(src)
	case c == '/' && at(src, i+1) == '*':
		// Unterminated, it is no comment to hcl's scanner but two operators.
		if j := bytes.Index(src[i+2:], []byte("*/")); j >= 0 {
			return i + 2 + j + 2
		}
	case c == '"':
		n.push(frame{kind: frameString})
	case c == '<' && at(src, i+1) == '<':
		if marker, next, ok := heredocStart(src, i); ok {
			n.push(frame{kind: frameHeredoc, marker: marker})
			n.lineStart = true
			return next
		}
	case c == '(':
		n.push(frame{kind: frameParen})
	case c == '[':
		n.push(frame{kind: frameBrack})
	case c == '{':
		n.push(frame{kind: frameBrace})
	case c == ')' || c == ']' || c == '}':
		// Only a matching token closes a level: a stray one is a syntax error, and
		// ignoring it can only count deeper.
		k := n.top().kind
		if (c == ')' && k == frameParen) || (c == ']' && k == frameBrack) || (c == '}' && (k == frameBrace || k == frameInterp)) {
			n.pop()
		}
	case c == '?':
		n.soft(1)
	case c == ',':
		n.endExpression()
	case c == '\n':
		// A newline ends an argument or an object item; inside parentheses, brackets and
		// interpolations an expression goes on over the next line.
		if k := n.top().kind; k == frameBody || k == frameBrace {
			n.endExpression()
		}
	}
	return i + 1
}

// endExpression starts a new expression in the current frame.
func (n *nesting) endExpression() {
	n.soft(-n.top().soft)
	n.top().chain = 0
}

// template scans one step inside a quoted or heredoc template from src[i] and returns
// where to go on.
func (n *nesting) template(i int) int {
	src, f := n.src, n.top()
	if f.kind == frameHeredoc && n.lineStart {
		// hcl ends a heredoc at a line that is only its marker, give or take spaces.
		end := bytes.IndexByte(src[i:], '\n')
		if end < 0 {
			end = len(src) - i
		}
		if bytes.Equal(bytes.TrimSpace(src[i:i+end]), f.marker) {
			n.pop()
			return i + end
		}
	}
	n.lineStart = false
	c := src[i]
	switch {
	case c == '\n':
		n.lineStart = true
	case c == '\\' && f.kind == frameString:
		// An escape: the next character is literal (a newline never is).
		if next := at(src, i+1); next != '\n' && next != '\r' && i+1 < len(src) {
			return i + 2
		}
	case c == '"' && f.kind == frameString:
		n.pop()
	case (c == '$' || c == '%') && at(src, i+1) == c && at(src, i+2) == '{':
		return i + 3 // $${ and %%{ are literal
	case (c == '$' || c == '%') && at(src, i+1) == '{':
		if c == '%' {
			switch directive(src[i+2:]) {
			case "if", "for":
				n.soft(1)
			case "endif", "endfor":
				n.soft(-1)
			}
		}
		n.push(frame{kind: frameInterp})
		return i + 2
	}
	return i + 1
}

// directive returns the keyword that follows %{ (and an optional ~), e.g. "if".
func directive(b []byte) string {
	i := 0
	if at(b, 0) == '~' {
		i++
	}
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	j := i
	for j < len(b) && b[j] >= 'a' && b[j] <= 'z' {
		j++
	}
	return string(b[i:j])
}

// heredocStart recognizes <<ID or <<-ID followed by a newline at src[i] (hcl's
// BeginHeredocTmpl, with ASCII identifiers only: a heredoc missed here is counted as
// expression text, which can only count deeper). next is the offset after the newline.
func heredocStart(src []byte, i int) (marker []byte, next int, ok bool) {
	j := i + 2
	if at(src, j) == '-' {
		j++
	}
	if c := at(src, j); c != '_' && !isLetter(c) {
		return nil, 0, false
	}
	k := j + 1
	for k < len(src) && (src[k] == '_' || src[k] == '-' || isLetter(src[k]) || (src[k] >= '0' && src[k] <= '9')) {
		k++
	}
	switch {
	case at(src, k) == '\n':
		return src[j:k], k + 1, true
	case at(src, k) == '\r' && at(src, k+1) == '\n':
		return src[j:k], k + 2, true
	}
	return nil, 0, false
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// at returns src[i], or 0 past the end.
func at(src []byte, i int) byte {
	if i < len(src) {
		return src[i]
	}
	return 0
}

// MaxValueSize bounds a local's value, in bytes of text (strings, and numbers and booleans
// as written) plus 16 per element of a collection: a local may combine others, so a chain
// of locals each twice the one before would otherwise grow past any memory from a file of
// a few hundred bytes. A value larger than the largest source flareops reads is refused.
const MaxValueSize = MaxFileSize

// valueSize is v's size as MaxValueSize counts it, or a number above limit as soon as the
// walk passes it (so that a huge value is not walked whole).
func valueSize(v cty.Value, limit int) int {
	size := 0
	var walk func(v cty.Value)
	walk = func(v cty.Value) {
		if size > limit || v.IsNull() || !v.IsKnown() {
			return
		}
		v, _ = v.Unmark()
		ty := v.Type()
		switch {
		case ty == cty.String:
			size += len(v.AsString())
		case ty.IsPrimitiveType():
			size += 8
		case ty.IsListType() || ty.IsSetType() || ty.IsTupleType() || ty.IsMapType() || ty.IsObjectType():
			for it := v.ElementIterator(); it.Next() && size <= limit; {
				k, e := it.Element()
				size += 16
				if ty.IsMapType() || ty.IsObjectType() {
					walk(k)
				}
				walk(e)
			}
		}
	}
	walk(v)
	return size
}
