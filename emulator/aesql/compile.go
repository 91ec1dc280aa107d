package aesql

import (
	"strconv"
	"strings"
	"time"
)

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
			return e.evalRow(&aeRow{p: &Point{}})
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
