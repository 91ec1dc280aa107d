package graphql

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// pred is a compiled filter.
type pred func(r *row) bool

// compileFilter compiles a dataset filter (already checked against the schema: only
// known keys reach here). Values are typed by their dimension: Time is RFC 3339, Date
// YYYY-MM-DD, string a string.
func compileFilter(d *datasetSpec, m map[string]any, at string) (pred, error) {
	var preds []pred
	for _, key := range sortedKeys(m) {
		val := m[key]
		if val == nil {
			continue // an explicit null (or an unset variable) filters nothing
		}
		where := at + "." + key
		switch key {
		case "AND", "OR":
			list, ok := val.([]any)
			if !ok {
				list = []any{val}
			}
			var subs []pred
			for i, item := range list {
				sm, ok := item.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%s[%d]: must be a filter object", where, i)
				}
				p, err := compileFilter(d, sm, fmt.Sprintf("%s[%d]", where, i))
				if err != nil {
					return nil, err
				}
				subs = append(subs, p)
			}
			if key == "AND" {
				preds = append(preds, all(subs))
			} else {
				preds = append(preds, anyOf(subs))
			}
		default:
			p, err := compileComparison(d, key, val, where)
			if err != nil {
				return nil, err
			}
			preds = append(preds, p)
		}
	}
	return all(preds), nil
}

func all(ps []pred) pred {
	return func(r *row) bool {
		for _, p := range ps {
			if !p(r) {
				return false
			}
		}
		return true
	}
}

func anyOf(ps []pred) pred {
	return func(r *row) bool {
		for _, p := range ps {
			if p(r) {
				return true
			}
		}
		return len(ps) == 0
	}
}

var ops = []string{"_notlike", "_notin", "_like", "_geq", "_leq", "_neq", "_gt", "_lt", "_in"}

// splitKey splits "datetime_geq" into the dimension and the operator ("" for equality).
func splitKey(d *datasetSpec, key string) (dimSpec, string, bool) {
	for _, op := range ops {
		if name, ok := strings.CutSuffix(key, op); ok {
			if dm, ok := d.dim(name); ok {
				return dm, op, true
			}
		}
	}
	dm, ok := d.dim(key)
	return dm, "", ok
}

func compileComparison(d *datasetSpec, key string, val any, where string) (pred, error) {
	dm, op, ok := splitKey(d, key)
	if !ok {
		return nil, fmt.Errorf("%s: unknown field", where)
	}
	if op == "_in" || op == "_notin" {
		list, ok := val.([]any)
		if !ok {
			list = []any{val}
		}
		keys := make([]string, len(list))
		for i, item := range list {
			k, err := scalarKey(dm, item, fmt.Sprintf("%s[%d]", where, i))
			if err != nil {
				return nil, err
			}
			keys[i] = k
		}
		in := op == "_in"
		return func(r *row) bool { return slices.Contains(keys, rowKey(dm, r)) == in }, nil
	}
	if op == "_like" || op == "_notlike" {
		s, ok := val.(string)
		if !ok {
			return nil, fmt.Errorf("%s: %s is not a string", where, short(val))
		}
		re := likePattern(s)
		like := op == "_like"
		return func(r *row) bool { return re.MatchString(r.s[dm.idx]) == like }, nil
	}
	want, err := scalarKey(dm, val, where)
	if err != nil {
		return nil, err
	}
	return func(r *row) bool {
		c := strings.Compare(rowKey(dm, r), want)
		switch op {
		case "":
			return c == 0
		case "_neq":
			return c != 0
		case "_gt":
			return c > 0
		case "_lt":
			return c < 0
		case "_geq":
			return c >= 0
		}
		return c <= 0 // _leq
	}, nil
}

// rowKey and scalarKey render values so that string order is value order: times and
// dates as 8 big-endian bytes of their unix nanoseconds (sign bit flipped), strings as
// they are.
func rowKey(dm dimSpec, r *row) string {
	switch dm.kind {
	case dimTime:
		return timeKey(r.t.Truncate(dm.trunc))
	case dimDate:
		return timeKey(startOfDay(r.t))
	}
	return r.s[dm.idx]
}

func startOfDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func timeKey(t time.Time) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(t.UnixNano())^(1<<63))
	return string(b[:])
}

func scalarKey(dm dimSpec, val any, where string) (string, error) {
	s, ok := val.(string)
	if !ok {
		if n, isNum := val.(json.Number); isNum {
			s = n.String()
		} else if dm.kind != dimString {
			return "", fmt.Errorf("%s: %s is not a %s", where, short(val), scalarOf(dm.kind))
		} else {
			return "", fmt.Errorf("%s: %s is not a string", where, short(val))
		}
	}
	switch dm.kind {
	case dimTime:
		t, err := parseTime(s)
		if err != nil {
			return "", fmt.Errorf("%s: %q is not a Time (RFC 3339, e.g. 2026-01-02T15:04:05Z)", where, s)
		}
		return timeKey(t), nil
	case dimDate:
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return "", fmt.Errorf("%s: %q is not a Date (YYYY-MM-DD)", where, s)
		}
		return timeKey(t), nil
	}
	return s, nil
}

func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }

func likePattern(s string) *regexp.Regexp {
	parts := strings.Split(s, "%")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^(?s:" + strings.Join(parts, ".*") + ")$")
}

// timeRange is the range a filter's conjunction of time bounds allows: [lo, hi). OR
// branches do not narrow it. ok is false when there is no lower bound.
func timeRange(d *datasetSpec, m map[string]any, now time.Time) (lo, hi time.Time, hasLo bool) {
	hi = now
	var walk func(m map[string]any)
	walk = func(m map[string]any) {
		for key, val := range m {
			if key == "AND" {
				list, _ := val.([]any)
				for _, item := range list {
					if sm, ok := item.(map[string]any); ok {
						walk(sm)
					}
				}
				continue
			}
			dm, op, ok := splitKey(d, key)
			s, isString := val.(string)
			if !ok || !isString || dm.kind == dimString {
				continue
			}
			var start time.Time
			width := dm.trunc
			if dm.kind == dimDate {
				t, err := time.Parse(time.DateOnly, s)
				if err != nil {
					continue
				}
				start, width = t, day
			} else {
				t, err := parseTime(s)
				if err != nil {
					continue
				}
				start = t.Truncate(width)
			}
			var l, h time.Time
			switch op {
			case "":
				l, h = start, start.Add(width)
			case "_geq":
				l = start
			case "_gt":
				l = start.Add(width)
			case "_leq":
				h = start.Add(width)
			case "_lt":
				h = start
			}
			if !l.IsZero() && (!hasLo || l.After(lo)) {
				lo, hasLo = l, true
			}
			if !h.IsZero() && h.Before(hi) {
				hi = h
			}
		}
	}
	walk(m)
	return lo, hi, hasLo
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
