package wrangler

import (
	"errors"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
	"github.com/tailscale/hujson"
)

// node is a value of either format, with the line it starts on: the one tree that the
// reading of wrangler's keys works on, whatever the file's format.
type node struct {
	kind    nodeKind
	str     string   // a string's value
	items   []*node  // an array's elements
	members []member // a table's keys, in file order
	line    int
}

type nodeKind int

const (
	otherNode nodeKind = iota // numbers, booleans, dates, null
	stringNode
	arrayNode
	objectNode
)

type member struct {
	key  string
	line int
	val  *node
}

func (n *node) member(key string) *member {
	for i := range n.members {
		if n.members[i].key == key {
			return &n.members[i]
		}
	}
	return nil
}

// describe names the node's type for messages ("a string"); table is how the format
// names a table with its article ("a table", "an object").
func (n *node) describe(table string) string {
	switch n.kind {
	case stringNode:
		return "a string"
	case arrayNode:
		return "an array"
	case objectNode:
		return table
	}
	return "a " + n.str
}

// lines maps byte offsets to line numbers.
type lines []int // offsets of the newlines

func newLines(src []byte) lines {
	var nl lines
	for i, b := range src {
		if b == '\n' {
			nl = append(nl, i)
		}
	}
	return nl
}

func (nl lines) line(offset int) int { return sort.SearchInts(nl, offset) + 1 }

// parseTOML reads a TOML document. The decoder checks the document first (duplicate keys,
// tables defined twice: its errors carry the position); the parser's AST, whose nodes
// carry their place in the input, then builds the tree as TOML defines tables.
func parseTOML(path string, src []byte) (*node, error) {
	var check map[string]any
	if err := toml.Unmarshal(src, &check); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return nil, &Error{Pos: Pos{File: path, Line: row}, Col: col, Msg: strings.TrimPrefix(de.Error(), "toml: ")}
		}
		return nil, &Error{Pos: Pos{File: path, Line: 1}, Msg: err.Error()}
	}
	b := tomlBuilder{path: path, lines: newLines(src), root: &node{kind: objectNode, line: 1}}
	var p unstable.Parser
	p.Reset(src)
	current := b.root
	for p.NextExpression() {
		e := p.Expression()
		var err error
		switch e.Kind {
		case unstable.Table:
			current, err = b.descendAll(b.root, b.keys(e))
		case unstable.ArrayTable:
			current, err = b.arrayTable(b.keys(e))
		case unstable.KeyValue:
			err = b.keyValue(current, e)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := p.Error(); err != nil {
		return nil, &Error{Pos: Pos{File: path, Line: 1}, Msg: err.Error()}
	}
	return b.root, nil
}

type tomlBuilder struct {
	path  string
	lines lines
	root  *node
}

type keyPart struct {
	name string
	line int
}

func (b tomlBuilder) keys(e *unstable.Node) []keyPart {
	var parts []keyPart
	it := e.Key()
	for it.Next() {
		k := it.Node()
		parts = append(parts, keyPart{name: string(k.Data), line: b.lines.line(int(k.Raw.Offset))})
	}
	return parts
}

// descend enters the table k of t, making it if absent; an array of tables is entered at
// its last element, as TOML defines.
func (b tomlBuilder) descend(t *node, k keyPart) (*node, error) {
	if m := t.member(k.name); m != nil {
		switch {
		case m.val.kind == objectNode:
			return m.val, nil
		case m.val.kind == arrayNode && len(m.val.items) > 0 && m.val.items[len(m.val.items)-1].kind == objectNode:
			return m.val.items[len(m.val.items)-1], nil
		}
		return nil, &Error{Pos: Pos{File: b.path, Line: k.line}, Msg: k.name + " is not a table"}
	}
	n := &node{kind: objectNode, line: k.line}
	t.members = append(t.members, member{key: k.name, line: k.line, val: n})
	return n, nil
}

func (b tomlBuilder) descendAll(t *node, parts []keyPart) (*node, error) {
	for _, k := range parts {
		var err error
		if t, err = b.descend(t, k); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// arrayTable appends a table to the array [[parts]] and returns it.
func (b tomlBuilder) arrayTable(parts []keyPart) (*node, error) {
	parent, err := b.descendAll(b.root, parts[:len(parts)-1])
	if err != nil {
		return nil, err
	}
	last := parts[len(parts)-1]
	m := parent.member(last.name)
	if m == nil {
		parent.members = append(parent.members, member{key: last.name, line: last.line, val: &node{kind: arrayNode, line: last.line}})
		m = &parent.members[len(parent.members)-1]
	}
	if m.val.kind != arrayNode {
		return nil, &Error{Pos: Pos{File: b.path, Line: last.line}, Msg: last.name + " is not an array of tables"}
	}
	t := &node{kind: objectNode, line: last.line}
	m.val.items = append(m.val.items, t)
	return t, nil
}

// keyValue sets a (possibly dotted) key of t.
func (b tomlBuilder) keyValue(t *node, e *unstable.Node) error {
	parts := b.keys(e)
	t, err := b.descendAll(t, parts[:len(parts)-1])
	if err != nil {
		return err
	}
	last := parts[len(parts)-1]
	v, err := b.value(e.Value(), last.line)
	if err != nil {
		return err
	}
	t.members = append(t.members, member{key: last.name, line: last.line, val: v})
	return nil
}

// value converts a value node; line is where it is when the node does not say (arrays).
func (b tomlBuilder) value(v *unstable.Node, line int) (*node, error) {
	if v.Raw.Length > 0 {
		line = b.lines.line(int(v.Raw.Offset))
	}
	n := &node{line: line}
	switch v.Kind {
	case unstable.String:
		n.kind, n.str = stringNode, string(v.Data)
	case unstable.Array:
		n.kind = arrayNode
		it := v.Children()
		for it.Next() {
			item, err := b.value(it.Node(), line)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, item)
		}
	case unstable.InlineTable:
		n.kind = objectNode
		it := v.Children()
		for it.Next() {
			if err := b.keyValue(n, it.Node()); err != nil {
				return nil, err
			}
		}
	case unstable.Bool:
		n.str = "boolean"
	case unstable.Integer, unstable.Float:
		n.str = "number"
	default:
		n.str = "date or time"
	}
	return n, nil
}

// hujsonError is how hujson reports where the input is wrong.
var hujsonError = regexp.MustCompile(`^hujson: line (\d+), column (\d+): (.*)$`)

// parseJSONC reads JSON with comments and trailing commas, as wrangler does for both
// wrangler.json and wrangler.jsonc.
func parseJSONC(path string, src []byte) (*node, error) {
	v, err := hujson.Parse(src)
	if err != nil {
		if m := hujsonError.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			col, _ := strconv.Atoi(m[2])
			return nil, &Error{Pos: Pos{File: path, Line: line}, Col: col, Msg: m[3]}
		}
		return nil, &Error{Pos: Pos{File: path, Line: 1}, Msg: err.Error()}
	}
	return jsonValue(path, newLines(src), &v)
}

func jsonValue(path string, nl lines, v *hujson.Value) (*node, error) {
	n := &node{line: nl.line(v.StartOffset)}
	switch t := v.Value.(type) {
	case hujson.Literal:
		switch t.Kind() {
		case '"':
			n.kind, n.str = stringNode, t.String()
		case '0':
			n.str = "number"
		case 't', 'f':
			n.str = "boolean"
		default:
			n.str = "null"
		}
	case *hujson.Array:
		n.kind = arrayNode
		for i := range t.Elements {
			item, err := jsonValue(path, nl, &t.Elements[i])
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, item)
		}
	case *hujson.Object:
		n.kind = objectNode
		for i := range t.Members {
			m := &t.Members[i]
			key, line := m.Name.Value.(hujson.Literal).String(), nl.line(m.Name.StartOffset)
			if n.member(key) != nil {
				return nil, &Error{Pos: Pos{File: path, Line: line}, Msg: "duplicate key " + strconv.Quote(key) + ": keep one"}
			}
			val, err := jsonValue(path, nl, &m.Value)
			if err != nil {
				return nil, err
			}
			n.members = append(n.members, member{key: key, line: line, val: val})
		}
	}
	return n, nil
}
