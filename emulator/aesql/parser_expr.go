package aesql

import (
	"strconv"
	"strings"
)

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
