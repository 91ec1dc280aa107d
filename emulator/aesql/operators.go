package aesql

import (
	"math"
	"strings"
)

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
