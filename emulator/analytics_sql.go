package emulator

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The Analytics Engine SQL subset (analytics.md §2), parsed and evaluated for real:
//
//	SHOW TABLES [FORMAT f]
//	SELECT expr [AS alias], … | * FROM <dataset> [WHERE c] [GROUP BY e, …] [HAVING c]
//	    [ORDER BY e [ASC|DESC], …] [LIMIT n|ALL [OFFSET m]] [FORMAT JSON|JSONEachRow|TabSeparated]
//
// Expressions: columns, numeric and string literals, + - * / %, comparisons, AND OR NOT,
// [NOT] IN (…), BETWEEN, if(), count() sum() avg() min() max(),
// quantileExactWeighted(q)(x, w), quantileWeighted(q, x, w), now(), toDateTime(),
// toUnixTimestamp(), toStartOfInterval(t, INTERVAL 'n' UNIT) and toStartOf{Minute,
// FiveMinutes,FifteenMinutes,Hour,Day}, INTERVAL arithmetic. Types follow ClickHouse
// (which serves the real API), because they decide the output: 64-bit integers are
// JSON strings. Anything else is an *aeError (HTTP 422), never a guessed answer.

// aeError is a query the emulator refuses: invalid, or outside the subset.
type aeError struct{ msg string }

func (e *aeError) Error() string { return e.msg }

func aeErrf(format string, args ...any) error { return &aeError{fmt.Sprintf(format, args...)} }

// --- lexer ---

type aeTok struct {
	kind byte // 'i' identifier, 'q' quoted identifier, 'n' number, 's' string, 'o' operator, 0 end
	text string
	pos  int
}

func aeLex(src string) ([]aeTok, error) {
	var toks []aeTok
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case strings.HasPrefix(src[i:], "--"):
			i = d1SkipTo(src, i, "\n")
		case strings.HasPrefix(src[i:], "/*"):
			j := strings.Index(src[i+2:], "*/")
			if j < 0 {
				return nil, aeErrf("unterminated comment at position %d", i)
			}
			i += j + 4
		case c == '\'':
			s, n, err := aeLexString(src, i)
			if err != nil {
				return nil, err
			}
			toks, i = append(toks, aeTok{'s', s, i}), n
		case c == '`' || c == '"':
			j := strings.IndexByte(src[i+1:], c)
			if j < 0 {
				return nil, aeErrf("unterminated quoted identifier at position %d", i)
			}
			toks, i = append(toks, aeTok{'q', src[i+1 : i+1+j], i}), i+j+2
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := aeLexNumber(src, i)
			toks, i = append(toks, aeTok{'n', src[i:j], i}), j
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(src) && (src[j] == '_' || src[j] >= 'a' && src[j] <= 'z' || src[j] >= 'A' && src[j] <= 'Z' || src[j] >= '0' && src[j] <= '9') {
				j++
			}
			toks, i = append(toks, aeTok{'i', src[i:j], i}), j
		default:
			op := ""
			for _, o := range []string{"<=", ">=", "!=", "<>", "==", "(", ")", ",", "+", "-", "*", "/", "%", "=", "<", ">", ";", "."} {
				if strings.HasPrefix(src[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, aeErrf("unexpected character %q at position %d", c, i)
			}
			toks, i = append(toks, aeTok{'o', op, i}), i+len(op)
		}
	}
	return append(toks, aeTok{0, "", len(src)}), nil
}

// aeLexString reads a '…' literal (” and backslash escapes) starting at i.
func aeLexString(src string, i int) (string, int, error) {
	var b strings.Builder
	for j := i + 1; j < len(src); j++ {
		switch c := src[j]; {
		case c == '\'' && j+1 < len(src) && src[j+1] == '\'':
			b.WriteByte('\'')
			j++
		case c == '\'':
			return b.String(), j + 1, nil
		case c == '\\' && j+1 < len(src):
			j++
			b.WriteByte(aeUnescape(src[j]))
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, aeErrf("unterminated string literal at position %d", i)
}

func aeUnescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 't':
		return '\t'
	case 'r':
		return '\r'
	case '0':
		return 0
	}
	return c
}

func aeLexNumber(src string, i int) int {
	j := i
	digits := func() {
		for j < len(src) && src[j] >= '0' && src[j] <= '9' {
			j++
		}
	}
	digits()
	if j < len(src) && src[j] == '.' {
		j++
		digits()
	}
	if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
		k := j + 1
		if k < len(src) && (src[k] == '+' || src[k] == '-') {
			k++
		}
		if k < len(src) && src[k] >= '0' && src[k] <= '9' {
			j = k
			digits()
		}
	}
	return j
}

// --- parser ---

// aeAST is a parsed expression. kind: 'n' number, 's' string, 'i' identifier,
// 'c' call, 'b' binary operator, 'u' unary operator, 'I' [NOT] IN, 'v' INTERVAL.
type aeAST struct {
	kind   byte
	text   string // literal text, identifier, function name or operator
	args   []*aeAST
	params []*aeAST // a parametric aggregate's first parentheses
	not    bool     // NOT IN
	star   bool     // count(*)
}

type aeSelectItem struct {
	expr  *aeAST // nil for *
	alias string
}

type aeOrder struct {
	expr *aeAST
	desc bool
}

type aeQuery struct {
	show    bool
	items   []aeSelectItem
	table   string
	where   *aeAST
	groupBy []*aeAST
	having  *aeAST
	orderBy []aeOrder
	limit   int64 // -1: none
	offset  int64
	format  string
}

type aeParser struct {
	toks []aeTok
	i    int
}

func (p *aeParser) peek() aeTok { return p.toks[p.i] }

func (p *aeParser) next() aeTok {
	t := p.toks[p.i]
	if t.kind != 0 {
		p.i++
	}
	return t
}

func (p *aeParser) isKw(kws ...string) bool {
	t := p.peek()
	for _, kw := range kws {
		if t.kind == 'i' && strings.EqualFold(t.text, kw) {
			return true
		}
	}
	return false
}

func (p *aeParser) acceptKw(kw string) bool {
	if p.isKw(kw) {
		p.i++
		return true
	}
	return false
}

func (p *aeParser) expectKw(kw string) error {
	if !p.acceptKw(kw) {
		return p.unexpected("expected " + kw)
	}
	return nil
}

func (p *aeParser) isOp(op string) bool { t := p.peek(); return t.kind == 'o' && t.text == op }

func (p *aeParser) acceptOp(op string) bool {
	if p.isOp(op) {
		p.i++
		return true
	}
	return false
}

func (p *aeParser) expectOp(op string) error {
	if !p.acceptOp(op) {
		return p.unexpected("expected " + op)
	}
	return nil
}

func (p *aeParser) unexpected(want string) error {
	t := p.peek()
	if t.kind == 0 {
		return aeErrf("syntax error: %s, found end of query", want)
	}
	return aeErrf("syntax error at position %d: %s, found %q", t.pos, want, t.text)
}

// aeReserved words end an expression; they are never implicit aliases.
var aeReserved = map[string]bool{
	"FROM": true, "WHERE": true, "GROUP": true, "HAVING": true, "ORDER": true, "LIMIT": true, "OFFSET": true,
	"FORMAT": true, "UNION": true, "AS": true, "AND": true, "OR": true, "NOT": true, "IN": true, "BETWEEN": true,
	"LIKE": true, "ILIKE": true, "ASC": true, "DESC": true, "JOIN": true, "INNER": true, "LEFT": true, "RIGHT": true,
	"FULL": true, "CROSS": true, "ARRAY": true, "SETTINGS": true, "WITH": true, "BY": true,
}

func aeParse(src string) (*aeQuery, error) {
	toks, err := aeLex(src)
	if err != nil {
		return nil, err
	}
	p := &aeParser{toks: toks}
	q := &aeQuery{limit: -1, format: "JSON"}
	switch {
	case p.acceptKw("SHOW"):
		if !p.acceptKw("TABLES") {
			return nil, aeErrf("only SHOW TABLES is supported")
		}
		q.show = true
	case p.acceptKw("SELECT"):
		if err := p.parseSelect(q); err != nil {
			return nil, err
		}
	case p.peek().kind == 0:
		return nil, aeErrf("empty query")
	default:
		return nil, aeErrf("unsupported statement %q: only SELECT and SHOW TABLES are supported", p.peek().text)
	}
	if p.acceptKw("FORMAT") {
		t := p.next()
		if t.kind != 'i' {
			return nil, aeErrf("FORMAT needs a format name")
		}
		q.format = t.text
	}
	p.acceptOp(";")
	if p.isKw("UNION") {
		return nil, aeErrf("UNION is not supported: Analytics Engine SQL queries a single table")
	}
	if p.peek().kind != 0 {
		return nil, p.unexpected("expected end of query")
	}
	return q, nil
}

func (p *aeParser) parseSelect(q *aeQuery) error {
	if p.isKw("DISTINCT") {
		return aeErrf("SELECT DISTINCT is not supported by the emulator")
	}
	for {
		item, err := p.parseSelectItem()
		if err != nil {
			return err
		}
		q.items = append(q.items, item)
		if !p.acceptOp(",") {
			break
		}
	}
	if err := p.expectKw("FROM"); err != nil {
		return err
	}
	if p.isOp("(") {
		return aeErrf("subqueries are not supported by the emulator")
	}
	t := p.next()
	if t.kind != 'i' && t.kind != 'q' {
		return aeErrf("FROM needs a dataset name")
	}
	q.table = t.text
	if p.isOp(".") {
		return aeErrf("database-qualified tables are not supported: use the dataset name")
	}
	if p.isOp(",") || p.isKw("JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "ARRAY", "ANY", "ALL", "GLOBAL") {
		return aeErrf("JOIN is not supported: Analytics Engine SQL queries a single table")
	}
	return p.parseClauses(q)
}

func (p *aeParser) parseSelectItem() (aeSelectItem, error) {
	if p.acceptOp("*") {
		return aeSelectItem{}, nil
	}
	e, err := p.parseExpr()
	if err != nil {
		return aeSelectItem{}, err
	}
	item := aeSelectItem{expr: e}
	if p.acceptKw("AS") {
		t := p.next()
		if t.kind != 'i' && t.kind != 'q' {
			return item, aeErrf("AS needs an alias")
		}
		item.alias = t.text
	} else if t := p.peek(); t.kind == 'q' || t.kind == 'i' && !aeReserved[strings.ToUpper(t.text)] {
		item.alias = p.next().text
	}
	return item, nil
}

func (p *aeParser) parseClauses(q *aeQuery) error {
	var err error
	if p.acceptKw("WHERE") {
		if q.where, err = p.parseExpr(); err != nil {
			return err
		}
	}
	if p.acceptKw("GROUP") {
		if err := p.expectKw("BY"); err != nil {
			return err
		}
		if q.groupBy, err = p.parseList(); err != nil {
			return err
		}
	}
	if p.acceptKw("HAVING") {
		if q.having, err = p.parseExpr(); err != nil {
			return err
		}
	}
	if p.acceptKw("ORDER") {
		if err := p.expectKw("BY"); err != nil {
			return err
		}
		for {
			e, err := p.parseExpr()
			if err != nil {
				return err
			}
			o := aeOrder{expr: e}
			if p.acceptKw("DESC") {
				o.desc = true
			} else {
				p.acceptKw("ASC")
			}
			q.orderBy = append(q.orderBy, o)
			if !p.acceptOp(",") {
				break
			}
		}
	}
	return p.parseLimit(q)
}

func (p *aeParser) parseLimit(q *aeQuery) error {
	if p.acceptKw("LIMIT") && !p.acceptKw("ALL") {
		n, err := p.parseCount()
		if err != nil {
			return err
		}
		q.limit = n
		if p.acceptOp(",") { // LIMIT offset, count
			if q.limit, err = p.parseCount(); err != nil {
				return err
			}
			q.offset = n
		}
	}
	if p.acceptKw("OFFSET") {
		n, err := p.parseCount()
		if err != nil {
			return err
		}
		q.offset = n
	}
	return nil
}

func (p *aeParser) parseCount() (int64, error) {
	t := p.next()
	n, err := strconv.ParseInt(t.text, 10, 64)
	if t.kind != 'n' || err != nil || n < 0 {
		return 0, aeErrf("LIMIT and OFFSET need a non-negative integer, found %q", t.text)
	}
	return n, nil
}

func (p *aeParser) parseList() ([]*aeAST, error) {
	var list []*aeAST
	for {
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		list = append(list, e)
		if !p.acceptOp(",") {
			return list, nil
		}
	}
}

func (p *aeParser) parseExpr() (*aeAST, error) { return p.parseBinary(0) }

// aeLevels are the binary operators by precedence, loosest first.
var aeLevels = [][]string{{"OR"}, {"AND"}, {"NOT"}, {"=", "==", "!=", "<>", "<", "<=", ">", ">="}, {"+", "-"}, {"*", "/", "%"}}

func (p *aeParser) parseBinary(level int) (*aeAST, error) {
	switch {
	case level == 2:
		if p.acceptKw("NOT") {
			x, err := p.parseBinary(2)
			return &aeAST{kind: 'u', text: "NOT", args: []*aeAST{x}}, err
		}
		return p.parseBinary(3)
	case level == 3:
		return p.parseComparison()
	case level == len(aeLevels):
		return p.parseUnary()
	}
	l, err := p.parseBinary(level + 1)
	for err == nil {
		op, ok := p.acceptAny(aeLevels[level])
		if !ok {
			break
		}
		var r *aeAST
		r, err = p.parseBinary(level + 1)
		l = &aeAST{kind: 'b', text: op, args: []*aeAST{l, r}}
	}
	return l, err
}

func (p *aeParser) acceptAny(ops []string) (string, bool) {
	for _, op := range ops {
		if op[0] >= 'A' && op[0] <= 'Z' {
			if p.acceptKw(op) {
				return op, true
			}
		} else if p.acceptOp(op) {
			return op, true
		}
	}
	return "", false
}

func (p *aeParser) parseComparison() (*aeAST, error) {
	l, err := p.parseBinary(4)
	if err != nil {
		return nil, err
	}
	if op, ok := p.acceptAny(aeLevels[3]); ok {
		r, err := p.parseBinary(4)
		return &aeAST{kind: 'b', text: op, args: []*aeAST{l, r}}, err
	}
	not := false
	if p.isKw("NOT") && p.i+1 < len(p.toks) && p.toks[p.i+1].kind == 'i' {
		switch strings.ToUpper(p.toks[p.i+1].text) {
		case "IN", "BETWEEN", "LIKE", "ILIKE":
			p.i++
			not = true
		}
	}
	switch {
	case p.acceptKw("IN"):
		if err := p.expectOp("("); err != nil {
			return nil, err
		}
		list, err := p.parseList()
		if err != nil {
			return nil, err
		}
		return &aeAST{kind: 'I', not: not, args: append([]*aeAST{l}, list...)}, p.expectOp(")")
	case p.acceptKw("BETWEEN"):
		lo, err := p.parseBinary(4)
		if err != nil {
			return nil, err
		}
		if err := p.expectKw("AND"); err != nil {
			return nil, err
		}
		hi, err := p.parseBinary(4)
		between := &aeAST{kind: 'b', text: "AND", args: []*aeAST{{kind: 'b', text: ">=", args: []*aeAST{l, lo}}, {kind: 'b', text: "<=", args: []*aeAST{l, hi}}}}
		if not {
			between = &aeAST{kind: 'u', text: "NOT", args: []*aeAST{between}}
		}
		return between, err
	case p.isKw("LIKE", "ILIKE"):
		return nil, aeErrf("LIKE is not supported by the emulator")
	}
	return l, nil
}

func (p *aeParser) parseUnary() (*aeAST, error) {
	if p.acceptOp("-") {
		x, err := p.parseUnary()
		return &aeAST{kind: 'u', text: "-", args: []*aeAST{x}}, err
	}
	return p.parsePrimary()
}

func (p *aeParser) parsePrimary() (*aeAST, error) {
	t := p.peek()
	switch {
	case t.kind == 'n' || t.kind == 's':
		p.i++
		return &aeAST{kind: t.kind, text: t.text}, nil
	case t.kind == 'q':
		p.i++
		return &aeAST{kind: 'i', text: t.text}, nil
	case p.acceptOp("("):
		if p.isKw("SELECT") {
			return nil, aeErrf("subqueries are not supported by the emulator")
		}
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if p.isOp(",") {
			return nil, aeErrf("tuples are not supported by the emulator")
		}
		return e, p.expectOp(")")
	case p.acceptKw("INTERVAL"):
		return p.parseInterval()
	case t.kind == 'i':
		switch strings.ToUpper(t.text) {
		case "NULL", "TRUE", "FALSE", "CASE", "CAST", "DISTINCT", "EXISTS":
			return nil, aeErrf("%s is not supported by the emulator", strings.ToUpper(t.text))
		}
		if aeReserved[strings.ToUpper(t.text)] {
			return nil, p.unexpected("expected an expression")
		}
		p.i++
		if p.isOp("(") {
			return p.parseCall(t.text)
		}
		return &aeAST{kind: 'i', text: t.text}, nil
	}
	return nil, p.unexpected("expected an expression")
}

var aeUnits = map[string]bool{"SECOND": true, "MINUTE": true, "HOUR": true, "DAY": true, "WEEK": true, "MONTH": true, "QUARTER": true, "YEAR": true}

// parseInterval reads INTERVAL 'n' UNIT or INTERVAL n UNIT.
func (p *aeParser) parseInterval() (*aeAST, error) {
	t := p.next()
	n, err := strconv.ParseInt(strings.TrimSpace(t.text), 10, 64)
	if (t.kind != 'n' && t.kind != 's') || err != nil {
		return nil, aeErrf("INTERVAL needs an integer count such as INTERVAL '1' HOUR, found %q", t.text)
	}
	u := p.next()
	unit := strings.ToUpper(u.text)
	if u.kind != 'i' || !aeUnits[unit] {
		return nil, aeErrf("INTERVAL unit %q is invalid: use SECOND, MINUTE, HOUR, DAY, WEEK, MONTH, QUARTER or YEAR", u.text)
	}
	return &aeAST{kind: 'v', text: unit, args: []*aeAST{{kind: 'n', text: strconv.FormatInt(n, 10)}}}, nil
}

func (p *aeParser) parseCall(name string) (*aeAST, error) {
	call := &aeAST{kind: 'c', text: name}
	args, star, err := p.parseArgs()
	if err != nil {
		return nil, err
	}
	call.args, call.star = args, star
	if p.isOp("(") { // name(params)(args)
		if star {
			return nil, aeErrf("syntax error: * in the parameters of %s", name)
		}
		call.params = append([]*aeAST{}, args...) // non-nil even for f()(x)
		if call.args, call.star, err = p.parseArgs(); err != nil {
			return nil, err
		}
	}
	return call, nil
}

func (p *aeParser) parseArgs() ([]*aeAST, bool, error) {
	if err := p.expectOp("("); err != nil {
		return nil, false, err
	}
	if p.acceptOp(")") {
		return nil, false, nil
	}
	if p.acceptOp("*") {
		return nil, true, p.expectOp(")")
	}
	if p.isKw("DISTINCT") {
		return nil, false, aeErrf("DISTINCT inside aggregates is not supported by the emulator")
	}
	args, err := p.parseList()
	if err != nil {
		return nil, false, err
	}
	return args, false, p.expectOp(")")
}

// --- types and values ---

type aeKind byte

const (
	aeString aeKind = iota + 1
	aeInt
	aeFloat
	aeDateTime
	aeInterval
)

// aeType is a ClickHouse type: String, (U)Int8–64, Float64, DateTime or an interval.
type aeType struct {
	kind   aeKind
	bits   int // integers: 8, 16, 32 or 64
	signed bool
	unit   string // intervals: SECOND … YEAR
}

var (
	aeTString   = aeType{kind: aeString}
	aeTFloat    = aeType{kind: aeFloat}
	aeTDateTime = aeType{kind: aeDateTime}
	aeTUInt8    = aeType{kind: aeInt, bits: 8}
	aeTUInt32   = aeType{kind: aeInt, bits: 32}
	aeTUInt64   = aeType{kind: aeInt, bits: 64}
	aeTInt64    = aeType{kind: aeInt, bits: 64, signed: true}
)

func (t aeType) String() string {
	switch t.kind {
	case aeString:
		return "String"
	case aeFloat:
		return "Float64"
	case aeDateTime:
		return "DateTime"
	case aeInterval:
		return "Interval" + t.unit[:1] + strings.ToLower(t.unit[1:])
	case aeInt:
		if t.signed {
			return "Int" + strconv.Itoa(t.bits)
		}
		return "UInt" + strconv.Itoa(t.bits)
	}
	return "Nothing"
}

func (t aeType) numeric() bool { return t.kind == aeInt || t.kind == aeFloat }

// aeValue is one typed value. Signed integers, DateTime (unix seconds) and interval
// counts use i; unsigned integers u; Float64 f; String s.
type aeValue struct {
	t aeType
	s string
	i int64
	u uint64
	f float64
}

func aeU(t aeType, u uint64) aeValue { return aeValue{t: t, u: u} }
func aeI(t aeType, i int64) aeValue  { return aeValue{t: t, i: i} }
func aeF(f float64) aeValue          { return aeValue{t: aeTFloat, f: f} }
func aeS(s string) aeValue           { return aeValue{t: aeTString, s: s} }
func aeDT(sec int64) aeValue         { return aeValue{t: aeTDateTime, i: sec} }

func aeBool(b bool) aeValue {
	if b {
		return aeU(aeTUInt8, 1)
	}
	return aeU(aeTUInt8, 0)
}

// signedish: the value lives in i.
func (v aeValue) signedish() bool {
	return v.t.kind == aeDateTime || v.t.kind == aeInterval || v.t.kind == aeInt && v.t.signed
}

func (v aeValue) float() float64 {
	switch {
	case v.t.kind == aeFloat:
		return v.f
	case v.signedish():
		return float64(v.i)
	}
	return float64(v.u)
}

func (v aeValue) int64() int64 {
	switch {
	case v.t.kind == aeFloat:
		return int64(v.f)
	case v.signedish():
		return v.i
	}
	return int64(v.u)
}

func (v aeValue) uint64() uint64 {
	switch {
	case v.t.kind == aeFloat:
		return uint64(v.f)
	case v.signedish():
		return uint64(v.i)
	}
	return v.u
}

func (v aeValue) truthy() bool {
	if v.t.kind == aeFloat {
		return v.f != 0
	}
	return v.i != 0 || v.u != 0
}

func (v aeValue) isNaN() bool { return v.t.kind == aeFloat && math.IsNaN(v.f) }

// key encodes the value for grouping.
func (v aeValue) key() string {
	switch {
	case v.t.kind == aeString:
		return "s" + v.s
	case v.t.kind == aeFloat:
		return "f" + strconv.FormatFloat(v.f, 'g', -1, 64)
	case v.signedish():
		return "i" + strconv.FormatInt(v.i, 10)
	}
	return "u" + strconv.FormatUint(v.u, 10)
}

// aeCast converts v to t (a supertype of v's type).
func aeCast(v aeValue, t aeType) aeValue {
	switch {
	case t.kind == aeFloat:
		return aeF(v.float())
	case t.kind == aeInt && t.signed:
		return aeI(t, v.int64())
	case t.kind == aeInt:
		return aeU(t, v.uint64())
	}
	v.t = t
	return v
}

// aeCompare orders two comparable values (see aeComparable); NaN compares equal here.
func aeCompare(a, b aeValue) int {
	switch {
	case a.t.kind == aeString:
		return strings.Compare(a.s, b.s)
	case a.t.kind == aeFloat || b.t.kind == aeFloat:
		x, y := a.float(), b.float()
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	aNeg, bNeg := a.signedish() && a.i < 0, b.signedish() && b.i < 0
	switch {
	case aNeg && bNeg:
		return aeCmpInt64(a.i, b.i)
	case aNeg:
		return -1
	case bNeg:
		return 1
	}
	x, y := a.uint64(), b.uint64()
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func aeCmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// aeSuper is the common type of if() branches and IN lists (ClickHouse getLeastSupertype).
func aeSuper(a, b aeType) (aeType, bool) {
	switch {
	case a == b:
		return a, true
	case a.kind == aeInt && b.kind == aeInt && a.signed == b.signed:
		return aeType{kind: aeInt, bits: max(a.bits, b.bits), signed: a.signed}, true
	case a.kind == aeInt && b.kind == aeInt:
		s, u := a, b
		if u.signed {
			s, u = u, s
		}
		if u.bits == 64 {
			return aeType{}, false
		}
		bits := s.bits
		if u.bits >= bits {
			bits = u.bits * 2
		}
		return aeType{kind: aeInt, bits: bits, signed: true}, true
	case a.numeric() && b.numeric():
		return aeTFloat, true
	}
	return aeType{}, false
}

// aeNumber types a numeric literal as ClickHouse does: the smallest unsigned type that
// holds an integer, Float64 otherwise.
func aeNumber(text string) (aeValue, error) {
	if strings.ContainsAny(text, ".eE") {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return aeValue{}, aeErrf("invalid number %q", text)
		}
		return aeF(f), nil
	}
	u, err := strconv.ParseUint(text, 10, 64)
	if err != nil {
		return aeValue{}, aeErrf("number %s is out of range", text)
	}
	bits := 64
	switch {
	case u <= math.MaxUint8:
		bits = 8
	case u <= math.MaxUint16:
		bits = 16
	case u <= math.MaxUint32:
		bits = 32
	}
	return aeU(aeType{kind: aeInt, bits: bits}, u), nil
}

// aeParseDateTime reads 'YYYY-MM-DD hh:mm:ss' or 'YYYY-MM-DD' (UTC), as toDateTime does.
func aeParseDateTime(s string) (aeValue, error) {
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return aeDT(t.Unix()), nil
		}
	}
	return aeValue{}, aeErrf("cannot parse %q as DateTime: use 'YYYY-MM-DD hh:mm:ss'", s)
}

// --- compiler ---

// aeExpr is a typed, compiled expression. Leaves are columns and constants; an
// aggregate node computes over a group's rows; other nodes combine their args with fn.
type aeExpr struct {
	typ     aeType
	key     string // ClickHouse-style text: names unaliased columns, matches GROUP BY
	leaf    func(r *aeRow) aeValue
	isCol   bool
	isConst bool
	val     aeValue // constants
	args    []*aeExpr
	fn      func(v []aeValue) (aeValue, error)
	agg     *aeAgg
	hasAgg  bool // an aggregate is this node or below it
}

func aeConst(v aeValue, key string) *aeExpr {
	return &aeExpr{typ: v.t, key: key, isConst: true, val: v, leaf: func(*aeRow) aeValue { return v }}
}

func aeNode(typ aeType, key string, fn func([]aeValue) (aeValue, error), args ...*aeExpr) *aeExpr {
	e := &aeExpr{typ: typ, key: key, fn: fn, args: args}
	for _, a := range args {
		e.hasAgg = e.hasAgg || a.hasAgg
	}
	return e
}

func (e *aeExpr) evalRow(r *aeRow) (aeValue, error) {
	switch {
	case e.leaf != nil:
		return e.leaf(r), nil
	case e.agg != nil:
		return aeValue{}, aeErrf("aggregate function %s used outside an aggregation", e.key)
	}
	vals := make([]aeValue, len(e.args))
	for i, a := range e.args {
		v, err := a.evalRow(r)
		if err != nil {
			return aeValue{}, err
		}
		vals[i] = v
	}
	return e.fn(vals)
}

// evalGroup evaluates e for a group: aggregates over its rows, the rest (grouped, so the
// same for every row) on its first row.
func (e *aeExpr) evalGroup(rows []*aeRow) (aeValue, error) {
	switch {
	case e.agg != nil:
		return e.agg.run(rows)
	case !e.hasAgg:
		if len(rows) == 0 {
			return e.evalRow(&aeRow{p: &aePoint{}})
		}
		return e.evalRow(rows[0])
	}
	vals := make([]aeValue, len(e.args))
	for i, a := range e.args {
		v, err := a.evalGroup(rows)
		if err != nil {
			return aeValue{}, err
		}
		vals[i] = v
	}
	return e.fn(vals)
}

type aeCompiler struct {
	aliases   map[string]*aeAST
	expanding map[string]bool
	allowAgg  bool
	now       time.Time
}

func aeCompileQuery(q *aeQuery, now time.Time) (*aePlan, error) {
	c := &aeCompiler{aliases: map[string]*aeAST{}, expanding: map[string]bool{}, now: now.Truncate(time.Second)}
	var items []aeSelectItem
	for _, it := range q.items {
		if it.expr == nil {
			for _, col := range aeAllColumns() {
				items = append(items, aeSelectItem{expr: &aeAST{kind: 'i', text: col}})
			}
			continue
		}
		if it.alias != "" {
			if _, dup := c.aliases[it.alias]; dup {
				return nil, aeErrf("alias %s is defined twice", it.alias)
			}
			c.aliases[it.alias] = it.expr
		}
		items = append(items, it)
	}
	pl := &aePlan{}
	c.allowAgg = true
	for _, it := range items {
		e, err := c.compile(it.expr)
		if err != nil {
			return nil, err
		}
		name := it.alias
		if name == "" {
			name = e.key
		}
		pl.items, pl.names = append(pl.items, e), append(pl.names, name)
	}
	if err := c.compileClauses(q, items, pl); err != nil {
		return nil, err
	}
	return pl, nil
}

func (c *aeCompiler) compileClauses(q *aeQuery, items []aeSelectItem, pl *aePlan) error {
	var err error
	c.allowAgg = false
	if q.where != nil {
		if pl.where, err = c.condition(q.where, "WHERE"); err != nil {
			return err
		}
	}
	for _, g := range q.groupBy {
		e, err := c.compilePositional(g, items)
		if err != nil {
			return err
		}
		pl.groupBy = append(pl.groupBy, e)
	}
	c.allowAgg = true
	if q.having != nil {
		if pl.having, err = c.condition(q.having, "HAVING"); err != nil {
			return err
		}
	}
	for _, o := range q.orderBy {
		e, err := c.compilePositional(o.expr, items)
		if err != nil {
			return err
		}
		pl.orderBy, pl.desc = append(pl.orderBy, e), append(pl.desc, o.desc)
	}
	outputs := append(append([]*aeExpr{pl.having}, pl.items...), pl.orderBy...)
	pl.aggregate = len(pl.groupBy) > 0 || pl.having != nil
	for _, e := range outputs[1:] {
		pl.aggregate = pl.aggregate || e.hasAgg
	}
	if !pl.aggregate {
		return nil
	}
	grouped := map[string]bool{}
	for _, g := range pl.groupBy {
		grouped[g.key] = true
	}
	for _, e := range outputs {
		if err := aeCheckGrouped(e, grouped); err != nil {
			return err
		}
	}
	return nil
}

// compilePositional compiles a GROUP BY or ORDER BY item; an integer literal n means the
// n-th SELECT item, as in ClickHouse (enable_positional_arguments).
func (c *aeCompiler) compilePositional(n *aeAST, items []aeSelectItem) (*aeExpr, error) {
	if n.kind == 'n' && !strings.ContainsAny(n.text, ".eE") {
		i, err := strconv.Atoi(n.text)
		if err != nil || i < 1 || i > len(items) {
			return nil, aeErrf("positional argument %s is out of range: the SELECT has %d columns", n.text, len(items))
		}
		n = items[i-1].expr
	}
	return c.compile(n)
}

func (c *aeCompiler) condition(n *aeAST, clause string) (*aeExpr, error) {
	e, err := c.compile(n)
	if err != nil {
		return nil, err
	}
	if !e.typ.numeric() {
		return nil, aeErrf("%s condition %s has type %s: it must be a number or a comparison", clause, e.key, e.typ)
	}
	return e, nil
}

// aeCheckGrouped refuses a column used outside aggregates and GROUP BY.
func aeCheckGrouped(e *aeExpr, grouped map[string]bool) error {
	if e == nil || e.agg != nil || grouped[e.key] {
		return nil
	}
	if e.isCol {
		return aeErrf("column %s is neither aggregated nor in GROUP BY", e.key)
	}
	for _, a := range e.args {
		if err := aeCheckGrouped(a, grouped); err != nil {
			return err
		}
	}
	return nil
}

func (c *aeCompiler) compile(n *aeAST) (*aeExpr, error) {
	switch n.kind {
	case 'n':
		v, err := aeNumber(n.text)
		if err != nil {
			return nil, err
		}
		return aeConst(v, n.text), nil
	case 's':
		return aeConst(aeS(n.text), "'"+strings.ReplaceAll(n.text, "'", "\\'")+"'"), nil
	case 'v':
		cnt, _ := strconv.ParseInt(n.args[0].text, 10, 64) // the parser checked it
		t := aeType{kind: aeInterval, unit: n.text}
		return aeConst(aeI(t, cnt), "to"+t.String()+"("+n.args[0].text+")"), nil
	case 'i':
		return c.ident(n.text)
	case 'c':
		return c.call(n)
	case 'I':
		return c.in(n)
	}
	args := make([]*aeExpr, len(n.args))
	for i, a := range n.args {
		e, err := c.compile(a)
		if err != nil {
			return nil, err
		}
		args[i] = e
	}
	switch {
	case n.kind == 'u' && n.text == "-":
		return aeNegate(args[0])
	case n.kind == 'u':
		return aeLogic("not", args...)
	case n.text == "AND" || n.text == "OR":
		return aeLogic(strings.ToLower(n.text), args...)
	case strings.Contains("+-*/%", n.text):
		return aeArith(n.text, args[0], args[1])
	}
	return aeComparison(n.text, args[0], args[1])
}

// ident resolves an alias (ClickHouse lets aliases be used anywhere) or a column.
func (c *aeCompiler) ident(name string) (*aeExpr, error) {
	if a, ok := c.aliases[name]; ok && !c.expanding[name] {
		c.expanding[name] = true
		defer delete(c.expanding, name)
		return c.compile(a)
	}
	get, typ, ok := aeColumnGetter(name)
	if !ok {
		return nil, aeErrf("unknown column or alias %q", name)
	}
	return &aeExpr{typ: typ, key: name, leaf: get, isCol: true}, nil
}

// aeColumnGetter is the table's columns (analytics.md §2). Unknown upstream: the type
// of _sample_interval; we choose UInt32, so that its sum is UInt64 (a JSON string).
func aeColumnGetter(name string) (func(*aeRow) aeValue, aeType, bool) {
	switch name {
	case "dataset":
		return func(r *aeRow) aeValue { return aeS(r.dataset) }, aeTString, true
	case "timestamp":
		return func(r *aeRow) aeValue { return aeDT(r.p.Timestamp.Unix()) }, aeTDateTime, true
	case "_sample_interval":
		return func(r *aeRow) aeValue { return aeU(aeTUInt32, uint64(r.p.SampleInterval)) }, aeTUInt32, true
	case "index1":
		return func(r *aeRow) aeValue { return aeS(r.p.Index) }, aeTString, true
	}
	for prefix, typ := range map[string]aeType{"blob": aeTString, "double": aeTFloat} {
		rest, ok := strings.CutPrefix(name, prefix)
		n, err := strconv.Atoi(rest)
		if !ok || err != nil || n < 1 || n > 20 || rest != strconv.Itoa(n) {
			continue
		}
		if prefix == "blob" {
			return func(r *aeRow) aeValue {
				if n <= len(r.p.Blobs) {
					return aeS(r.p.Blobs[n-1])
				}
				return aeS("")
			}, typ, true
		}
		return func(r *aeRow) aeValue {
			if n <= len(r.p.Doubles) {
				return aeF(r.p.Doubles[n-1])
			}
			return aeF(0)
		}, typ, true
	}
	return nil, aeType{}, false
}

func aeNegate(x *aeExpr) (*aeExpr, error) {
	var t aeType
	switch {
	case x.typ.kind == aeFloat:
		t = aeTFloat
	case x.typ.kind == aeInt && x.isConst && !x.typ.signed:
		// A negative literal: the smallest signed type that holds it (-1 is Int8).
		t = aeType{kind: aeInt, bits: 64, signed: true}
		for _, bits := range []int{8, 16, 32} {
			if x.val.u <= 1<<(bits-1) {
				t.bits = bits
				break
			}
		}
	case x.typ.kind == aeInt:
		t = aeType{kind: aeInt, bits: min(64, x.typ.bits*aeIf(x.typ.signed, 1, 2)), signed: true}
	default:
		return nil, aeErrf("cannot negate %s of type %s", x.key, x.typ)
	}
	neg := func(v aeValue) aeValue {
		if t.kind == aeFloat {
			return aeF(-v.f)
		}
		return aeI(t, -v.int64())
	}
	if x.isConst {
		return aeConst(neg(x.val), "-"+x.key), nil
	}
	return aeNode(t, "negate("+x.key+")", func(v []aeValue) (aeValue, error) { return neg(v[0]), nil }, x), nil
}

func aeLogic(op string, args ...*aeExpr) (*aeExpr, error) {
	keys := make([]string, len(args))
	for i, a := range args {
		if !a.typ.numeric() {
			return nil, aeErrf("%s needs numbers or comparisons, got %s of type %s", strings.ToUpper(op), a.key, a.typ)
		}
		keys[i] = a.key
	}
	return aeNode(aeTUInt8, op+"("+strings.Join(keys, ", ")+")", func(v []aeValue) (aeValue, error) {
		switch op {
		case "not":
			return aeBool(!v[0].truthy()), nil
		case "and":
			return aeBool(v[0].truthy() && v[1].truthy()), nil
		}
		return aeBool(v[0].truthy() || v[1].truthy()), nil
	}, args...), nil
}

var aeOpNames = map[string]string{
	"+": "plus", "-": "minus", "*": "multiply", "/": "divide", "%": "modulo",
	"=": "equals", "==": "equals", "!=": "notEquals", "<>": "notEquals",
	"<": "less", "<=": "lessOrEquals", ">": "greater", ">=": "greaterOrEquals",
}

func aeArith(op string, l, r *aeExpr) (*aeExpr, error) {
	key := aeOpNames[op] + "(" + l.key + ", " + r.key + ")"
	if op == "+" && l.typ.kind == aeInterval && r.typ.kind == aeDateTime {
		l, r = r, l
	}
	switch {
	case (op == "+" || op == "-") && l.typ.kind == aeDateTime && r.typ.kind == aeInterval:
		sign := int64(aeIf(op == "+", 1, -1))
		return aeNode(aeTDateTime, key, func(v []aeValue) (aeValue, error) {
			return aeDT(aeAddInterval(v[0].i, sign*v[1].i, r.typ.unit)), nil
		}, l, r), nil
	case !l.typ.numeric() || !r.typ.numeric():
		return nil, aeErrf("operator %s cannot apply to %s and %s", op, l.typ, r.typ)
	case op == "/":
		return aeNode(aeTFloat, key, func(v []aeValue) (aeValue, error) { return aeF(v[0].float() / v[1].float()), nil }, l, r), nil
	}
	t := aeType{kind: aeInt, bits: min(64, 2*max(l.typ.bits, r.typ.bits)), signed: l.typ.signed || r.typ.signed || op == "-"}
	if op == "%" {
		t.bits = max(l.typ.bits, r.typ.bits)
	}
	if l.typ.kind == aeFloat || r.typ.kind == aeFloat {
		t = aeTFloat
	}
	return aeNode(t, key, func(v []aeValue) (aeValue, error) { return aeCompute(op, t, v[0], v[1]) }, l, r), nil
}

func aeCompute(op string, t aeType, a, b aeValue) (aeValue, error) {
	if op == "%" && t.kind == aeInt && b.uint64() == 0 {
		return aeValue{}, aeErrf("division by zero in modulo")
	}
	switch {
	case t.kind == aeFloat:
		x, y := a.float(), b.float()
		return aeF(map[string]float64{"+": x + y, "-": x - y, "*": x * y, "%": math.Mod(x, y)}[op]), nil
	case t.signed:
		x, y := a.int64(), b.int64()
		switch op {
		case "+":
			return aeI(t, x+y), nil
		case "-":
			return aeI(t, x-y), nil
		case "*":
			return aeI(t, x*y), nil
		}
		return aeI(t, x%y), nil
	}
	x, y := a.uint64(), b.uint64()
	switch op {
	case "+":
		return aeU(t, x+y), nil
	case "*":
		return aeU(t, x*y), nil
	}
	return aeU(t, x%y), nil
}

// aeComparable makes two operands comparable, turning a String compared with a DateTime
// into a DateTime. It fails for types ClickHouse cannot compare.
func aeComparable(l, r *aeExpr) (*aeExpr, *aeExpr, error) {
	switch {
	case l.typ.kind == aeString && r.typ.kind == aeString,
		(l.typ.numeric() || l.typ.kind == aeDateTime) && (r.typ.numeric() || r.typ.kind == aeDateTime):
		return l, r, nil
	case l.typ.kind == aeDateTime && r.typ.kind == aeString:
		r, err := aeToDateTime(r)
		return l, r, err
	case l.typ.kind == aeString && r.typ.kind == aeDateTime:
		l, err := aeToDateTime(l)
		return l, r, err
	}
	return nil, nil, aeErrf("cannot compare %s of type %s with %s of type %s", l.key, l.typ, r.key, r.typ)
}

func aeComparison(op string, l, r *aeExpr) (*aeExpr, error) {
	l, r, err := aeComparable(l, r)
	if err != nil {
		return nil, err
	}
	return aeNode(aeTUInt8, aeOpNames[op]+"("+l.key+", "+r.key+")", func(v []aeValue) (aeValue, error) {
		if v[0].isNaN() || v[1].isNaN() {
			return aeBool(op == "!=" || op == "<>"), nil // NaN is unordered
		}
		c := aeCompare(v[0], v[1])
		switch op {
		case "=", "==":
			return aeBool(c == 0), nil
		case "!=", "<>":
			return aeBool(c != 0), nil
		case "<":
			return aeBool(c < 0), nil
		case "<=":
			return aeBool(c <= 0), nil
		case ">":
			return aeBool(c > 0), nil
		}
		return aeBool(c >= 0), nil
	}, l, r), nil
}

// in compiles x [NOT] IN (constants…).
func (c *aeCompiler) in(n *aeAST) (*aeExpr, error) {
	x, err := c.compile(n.args[0])
	if err != nil {
		return nil, err
	}
	var list []aeValue
	var keys []string
	for _, a := range n.args[1:] {
		e, err := c.compile(a)
		if err != nil {
			return nil, err
		}
		if !e.isConst {
			return nil, aeErrf("IN needs a list of constants, found %s", e.key)
		}
		_, conv, err := aeComparable(x, e)
		if err != nil {
			return nil, err
		}
		v, err := conv.evalRow(nil)
		if err != nil {
			return nil, err
		}
		list, keys = append(list, v), append(keys, e.key)
	}
	name := aeIf(n.not, "notIn", "in")
	return aeNode(aeTUInt8, name+"("+x.key+", ("+strings.Join(keys, ", ")+"))", func(v []aeValue) (aeValue, error) {
		found := false
		for _, item := range list {
			if !v[0].isNaN() && !item.isNaN() && aeCompare(v[0], item) == 0 {
				found = true
				break
			}
		}
		return aeBool(found != n.not), nil
	}, x), nil
}

func aeIf[T any](cond bool, a, b T) T {
	if cond {
		return a
	}
	return b
}

// --- functions ---

var aeAggregates = map[string]bool{"count": true, "sum": true, "avg": true, "min": true, "max": true, "quantileexactweighted": true, "quantileweighted": true}

// aeStartOf are the fixed toStartOf… functions, by their interval in seconds (UTC).
var aeStartOf = map[string]int64{"tostartofminute": 60, "tostartoffiveminutes": 300, "tostartoffiveminute": 300, "tostartoffifteenminutes": 900, "tostartofhour": 3600, "tostartofday": 86400}

func (c *aeCompiler) compileArgs(nodes []*aeAST) ([]*aeExpr, []string, error) {
	args := make([]*aeExpr, len(nodes))
	keys := make([]string, len(nodes))
	for i, n := range nodes {
		e, err := c.compile(n)
		if err != nil {
			return nil, nil, err
		}
		args[i], keys[i] = e, e.key
	}
	return args, keys, nil
}

func aeArity(name string, args []*aeExpr, lo, hi int) error {
	if len(args) < lo || len(args) > hi {
		if lo == hi {
			return aeErrf("%s takes %d arguments, got %d", name, lo, len(args))
		}
		return aeErrf("%s takes %d to %d arguments, got %d", name, lo, hi, len(args))
	}
	return nil
}

// aeCheckTZ accepts an optional time zone argument only if it is UTC (the default).
func aeCheckTZ(name string, args []*aeExpr, at int) error {
	if len(args) <= at {
		return nil
	}
	tz := args[at]
	if !tz.isConst || tz.typ.kind != aeString || (tz.val.s != "UTC" && tz.val.s != "Etc/UTC") {
		return aeErrf("%s: time zones other than UTC are not supported by the emulator", name)
	}
	return nil
}

func (c *aeCompiler) call(n *aeAST) (*aeExpr, error) {
	name := strings.ToLower(n.text)
	if aeAggregates[name] {
		return c.aggregate(n, name)
	}
	if n.params != nil || n.star {
		return nil, aeErrf("%s is not a parametric aggregate function", n.text)
	}
	args, keys, err := c.compileArgs(n.args)
	if err != nil {
		return nil, err
	}
	key := n.text + "(" + strings.Join(keys, ", ") + ")"
	switch {
	case name == "if":
		return aeIfFunc(key, args)
	case name == "now":
		if err := aeArity(n.text, args, 0, 0); err != nil {
			return nil, err
		}
		return aeConst(aeDT(c.now.Unix()), key), nil
	case name == "todatetime":
		if err := aeArity(n.text, args, 1, 2); err != nil {
			return nil, err
		}
		if err := aeCheckTZ(n.text, args, 1); err != nil {
			return nil, err
		}
		e, err := aeToDateTime(args[0])
		if err != nil || e.isConst {
			return e, err
		}
		return aeNode(aeTDateTime, key, func(v []aeValue) (aeValue, error) { return v[0], nil }, e), nil
	case name == "tounixtimestamp":
		return aeToUnix(key, args)
	case name == "tostartofinterval":
		return aeStartOfIntervalFunc(key, args)
	case aeStartOf[name] > 0:
		if err := aeArity(n.text, args, 1, 2); err != nil {
			return nil, err
		}
		if err := aeCheckTZ(n.text, args, 1); err != nil {
			return nil, err
		}
		if args[0].typ.kind != aeDateTime {
			return nil, aeErrf("%s needs a DateTime, got %s", n.text, args[0].typ)
		}
		step := aeStartOf[name]
		return aeNode(aeTDateTime, key, func(v []aeValue) (aeValue, error) { return aeDT(aeFloorDiv(v[0].i, step) * step), nil }, args[0]), nil
	}
	return nil, aeErrf("unknown function %s", n.text)
}

func aeIfFunc(key string, args []*aeExpr) (*aeExpr, error) {
	if err := aeArity("if", args, 3, 3); err != nil {
		return nil, err
	}
	if !args[0].typ.numeric() {
		return nil, aeErrf("if: the condition %s has type %s, it must be a number or a comparison", args[0].key, args[0].typ)
	}
	t, ok := aeSuper(args[1].typ, args[2].typ)
	if !ok {
		return nil, aeErrf("if: the branches have no common type (%s and %s)", args[1].typ, args[2].typ)
	}
	return aeNode(t, key, func(v []aeValue) (aeValue, error) {
		if v[0].truthy() {
			return aeCast(v[1], t), nil
		}
		return aeCast(v[2], t), nil
	}, args...), nil
}

// aeToDateTime converts unix seconds or 'YYYY-MM-DD hh:mm:ss' text to a DateTime.
func aeToDateTime(e *aeExpr) (*aeExpr, error) {
	var conv func(v aeValue) (aeValue, error)
	switch {
	case e.typ.kind == aeDateTime:
		return e, nil
	case e.typ.kind == aeString:
		conv = func(v aeValue) (aeValue, error) { return aeParseDateTime(v.s) }
	case e.typ.numeric():
		conv = func(v aeValue) (aeValue, error) { return aeDT(v.int64()), nil }
	default:
		return nil, aeErrf("cannot convert %s of type %s to DateTime", e.key, e.typ)
	}
	key := "toDateTime(" + e.key + ")"
	if e.isConst {
		v, err := conv(e.val)
		if err != nil {
			return nil, err
		}
		return aeConst(v, key), nil
	}
	return aeNode(aeTDateTime, key, func(v []aeValue) (aeValue, error) { return conv(v[0]) }, e), nil
}

func aeToUnix(key string, args []*aeExpr) (*aeExpr, error) {
	if err := aeArity("toUnixTimestamp", args, 1, 2); err != nil {
		return nil, err
	}
	if err := aeCheckTZ("toUnixTimestamp", args, 1); err != nil {
		return nil, err
	}
	if args[0].typ.kind != aeDateTime && args[0].typ.kind != aeString {
		return nil, aeErrf("toUnixTimestamp needs a DateTime or a String, got %s", args[0].typ)
	}
	t, err := aeToDateTime(args[0])
	if err != nil {
		return nil, err
	}
	return aeNode(aeTUInt32, key, func(v []aeValue) (aeValue, error) { return aeU(aeTUInt32, uint64(v[0].i)), nil }, t), nil
}

func aeStartOfIntervalFunc(key string, args []*aeExpr) (*aeExpr, error) {
	if err := aeArity("toStartOfInterval", args, 2, 3); err != nil {
		return nil, err
	}
	if err := aeCheckTZ("toStartOfInterval", args, 2); err != nil {
		return nil, err
	}
	iv := args[1]
	switch {
	case args[0].typ.kind != aeDateTime:
		return nil, aeErrf("toStartOfInterval needs a DateTime first, got %s", args[0].typ)
	case !iv.isConst || iv.typ.kind != aeInterval:
		return nil, aeErrf("toStartOfInterval needs an INTERVAL constant second, got %s", iv.key)
	case iv.val.i <= 0:
		return nil, aeErrf("toStartOfInterval needs a positive interval, got %s", iv.key)
	case iv.typ.unit == "WEEK":
		return nil, aeErrf("toStartOfInterval with a WEEK interval is not supported by the emulator")
	}
	n, unit := iv.val.i, iv.typ.unit
	return aeNode(aeTDateTime, key, func(v []aeValue) (aeValue, error) { return aeDT(aeStartOfInterval(v[0].i, n, unit)), nil }, args[0]), nil
}

// aggregate compiles count, sum, avg, min, max and the weighted quantiles; their
// arguments may not hold aggregates.
func (c *aeCompiler) aggregate(n *aeAST, name string) (*aeExpr, error) {
	if !c.allowAgg {
		return nil, aeErrf("aggregate function %s is not allowed in WHERE, GROUP BY or inside another aggregate", n.text)
	}
	c.allowAgg = false
	args, keys, err := c.compileArgs(n.args)
	var params []*aeExpr
	var pkeys []string
	if err == nil && n.params != nil {
		params, pkeys, err = c.compileArgs(n.params)
	}
	c.allowAgg = true
	if err != nil {
		return nil, err
	}
	key := n.text + "(" + strings.Join(keys, ", ") + ")"
	if n.params != nil {
		key = n.text + "(" + strings.Join(pkeys, ", ") + ")(" + strings.Join(keys, ", ") + ")"
	}
	a := &aeAgg{name: name, args: args}
	if err := a.check(n.text, params); err != nil {
		return nil, err
	}
	return &aeExpr{typ: a.typ, key: key, agg: a, hasAgg: true}, nil
}

// check validates an aggregate's parameters and arguments and sets its result type.
func (a *aeAgg) check(name string, params []*aeExpr) error {
	if params != nil && a.name != "quantileexactweighted" {
		return aeErrf("%s is not a parametric aggregate function", name)
	}
	switch a.name {
	case "count":
		a.typ = aeTUInt64
		return aeArity(name, a.args, 0, 1)
	case "sum", "avg", "min", "max":
		if err := aeArity(name, a.args, 1, 1); err != nil {
			return err
		}
		return a.checkSimple(name)
	case "quantileweighted": // quantileWeighted(q, x, w), Analytics Engine's legacy form
		if err := aeArity(name, a.args, 3, 3); err != nil {
			return err
		}
		params, a.args = a.args[:1], a.args[1:]
	case "quantileexactweighted":
		if len(params) != 1 {
			return aeErrf("%s needs one level parameter: %s(0.95)(value, weight)", name, name)
		}
		if err := aeArity(name, a.args, 2, 2); err != nil {
			return err
		}
	}
	return a.checkQuantile(name, params[0])
}

func (a *aeAgg) checkSimple(name string) error {
	t := a.args[0].typ
	switch {
	case a.name == "min" || a.name == "max":
		if t.kind == aeInterval {
			return aeErrf("%s cannot aggregate %s", name, t)
		}
		a.typ = t
	case !t.numeric():
		return aeErrf("%s needs a number, got %s of type %s", name, a.args[0].key, t)
	case a.name == "avg" || t.kind == aeFloat:
		a.typ = aeTFloat
	case t.signed:
		a.typ = aeTInt64
	default:
		a.typ = aeTUInt64
	}
	return nil
}

// checkQuantile: the level is a constant in [0, 1]; the value a number or DateTime; the
// weight an unsigned integer such as _sample_interval. quantileExactWeighted returns
// the value's type. Unknown upstream: quantileWeighted's algorithm and type; we compute
// it as quantileExactWeighted and return Float64.
func (a *aeAgg) checkQuantile(name string, level *aeExpr) error {
	if !level.isConst || !level.typ.numeric() || level.val.float() < 0 || level.val.float() > 1 {
		return aeErrf("%s: the level must be a constant between 0 and 1, got %s", name, level.key)
	}
	a.level = level.val.float()
	x, w := a.args[0].typ, a.args[1].typ
	if !x.numeric() && x.kind != aeDateTime {
		return aeErrf("%s needs a numeric value, got %s", name, x)
	}
	if w.kind != aeInt || w.signed {
		return aeErrf("%s: the weight must be an unsigned integer such as _sample_interval, got %s", name, w)
	}
	a.typ = x
	if a.name == "quantileweighted" {
		a.typ = aeTFloat
	}
	return nil
}
