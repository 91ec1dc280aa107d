package aesql

import (
	"strconv"
	"strings"
)

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
