package aesql

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
// JSON strings. Anything else is an *Error (HTTP 422), never a guessed answer.

// Error is a query the emulator refuses: invalid, or outside the subset.
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

func aeErrf(format string, args ...any) error { return &Error{fmt.Sprintf(format, args...)} }

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
