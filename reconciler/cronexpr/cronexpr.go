// Package cronexpr reads the five-field cron expressions of Cloudflare's cron triggers and
// says when they fire (UTC), so that a backup's schedule can be checked against its RPO
// before anything runs. It knows nothing of HCL, Terraform or the API.
//
// The language is Cloudflare's (DOCS workers/configuration/cron-triggers): minute 0-59,
// hour 0-23, day of month 1-31 or L (the last day), month 1-12 or JAN-DEC, day of week
// 1-7 or SUN-SAT (1 is Sunday), with `*`, lists `a,b`, ranges `a-b` and steps `/n`, and in
// the day of week `nL` (the last such weekday of the month) and `n#k` (its k-th one).
// `W` (nearest weekday) is refused: a schedule flareops cannot predict cannot be checked.
package cronexpr

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed expression.
type Schedule struct {
	expr               string
	minutes, hours     uint64 // bit n: minute / hour n
	doms, months, dows uint64 // bit n: day of month n, month n, weekday n (1 = Sunday)
	lastDOM            bool   // L in the day of month
	lastDOW            uint64 // bit n: nL, the last weekday n of the month
	nthDOW             map[int]uint64
	domStar, dowStar   bool
}

type field struct {
	name     string
	min, max int
	names    []string
}

var fields = [5]field{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day of month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	{name: "day of week", min: 1, max: 7, names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
}

// Parse reads a cron expression; its error says which field is wrong and why.
func Parse(expr string) (Schedule, error) {
	parts := strings.Fields(expr)
	if len(parts) != 5 {
		return Schedule{}, fmt.Errorf("%q is not a cron expression: it needs 5 fields (minute hour day-of-month month day-of-week), e.g. \"0 2 * * *\"; it has %d", expr, len(parts))
	}
	s := Schedule{expr: strings.Join(parts, " "), nthDOW: map[int]uint64{}}
	for i, f := range fields {
		for _, item := range strings.Split(strings.ToUpper(parts[i]), ",") {
			if err := s.item(i, f, item); err != nil {
				return Schedule{}, fmt.Errorf("cron %q: %s field %q: %w", expr, f.name, parts[i], err)
			}
		}
	}
	s.domStar, s.dowStar = parts[2] == "*", parts[4] == "*"
	return s, nil
}

// String is the expression with single spaces between its fields.
func (s Schedule) String() string { return s.expr }

func (s *Schedule) item(i int, f field, item string) error {
	switch {
	case i == 2 && item == "L":
		s.lastDOM = true
		return nil
	case i == 2 && strings.Contains(item, "W"):
		return fmt.Errorf("W (nearest weekday) is not supported here: flareops cannot check such a schedule against the RPO; list the days instead")
	case i == 4 && len(item) > 1 && strings.HasSuffix(item, "L"):
		d, err := f.value(strings.TrimSuffix(item, "L"))
		s.lastDOW |= 1 << d
		return err
	case i == 4 && strings.Contains(item, "#"):
		day, nth, _ := strings.Cut(item, "#")
		d, err := f.value(day)
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(nth)
		if err != nil || n < 1 || n > 5 {
			return fmt.Errorf("#%s must be #1 to #5", nth)
		}
		s.nthDOW[n] |= 1 << d
		return nil
	}
	base, stepText, hasStep := strings.Cut(item, "/")
	step := 1
	if hasStep {
		n, err := strconv.Atoi(stepText)
		if err != nil || n < 1 || n > f.max {
			return fmt.Errorf("step /%s must be between 1 and %d", stepText, f.max)
		}
		step = n
	}
	lo, hi := f.min, f.max
	if base != "*" {
		a, b, isRange := strings.Cut(base, "-")
		var err error
		if lo, err = f.value(a); err != nil {
			return err
		}
		hi = lo
		if isRange {
			if hi, err = f.value(b); err != nil {
				return err
			}
			if lo > hi {
				return fmt.Errorf("range %s is backwards", base)
			}
		} else if hasStep {
			hi = f.max // "5/15": from 5 on, every 15
		}
	}
	var bits uint64
	for v := lo; v <= hi; v += step {
		bits |= 1 << v
	}
	switch i {
	case 0:
		s.minutes |= bits
	case 1:
		s.hours |= bits
	case 2:
		s.doms |= bits
	case 3:
		s.months |= bits
	case 4:
		s.dows |= bits
	}
	return nil
}

func (f field) value(v string) (int, error) {
	for i, n := range f.names {
		if v == n {
			return f.min + i, nil
		}
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < f.min || n > f.max {
		return 0, fmt.Errorf("%q is not a value between %d and %d", v, f.min, f.max)
	}
	return n, nil
}

// day reports whether the schedule fires on the UTC day of t. When both the day of month
// and the day of week are restricted, either may match, as in every Unix cron.
// Unknown upstream: Cloudflare does not say how it combines them; a schedule that
// restricts both is rare, and this is the reading its authors most likely mean.
func (s Schedule) day(t time.Time) bool {
	if s.months&(1<<int(t.Month())) == 0 {
		return false
	}
	last := time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
	dow := int(t.Weekday()) + 1 // 1 is Sunday
	dom := s.doms&(1<<t.Day()) != 0 || (s.lastDOM && t.Day() == last)
	wd := s.dows&(1<<dow) != 0 || (s.lastDOW&(1<<dow) != 0 && t.Day()+7 > last) || s.nthDOW[(t.Day()-1)/7+1]&(1<<dow) != 0
	switch {
	case s.domStar && s.dowStar:
		return true
	case s.domStar:
		return wd
	case s.dowStar:
		return dom
	}
	return dom || wd
}

// Firings lists the times the schedule fires in [from, to), in order.
func (s Schedule) Firings(from, to time.Time) []time.Time {
	var out []time.Time
	s.each(from, to, func(t time.Time) { out = append(out, t) })
	return out
}

// each calls f with every firing in [from, to), in order.
func (s Schedule) each(from, to time.Time, f func(time.Time)) {
	from, to = from.UTC(), to.UTC()
	for d := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC); d.Before(to); d = d.AddDate(0, 0, 1) {
		if !s.day(d) {
			continue
		}
		for h := 0; h < 24; h++ {
			if s.hours&(1<<h) == 0 {
				continue
			}
			for m := 0; m < 60; m++ {
				if s.minutes&(1<<m) == 0 {
					continue
				}
				if t := d.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute); !t.Before(from) && t.Before(to) {
					f(t)
				}
			}
		}
	}
}

// Gap is the longest time between two consecutive firings, and where it starts.
type Gap struct {
	Length      time.Duration
	After, Next time.Time // the firings on either side of the gap
}

// LongestGap finds the longest gap between consecutive firings over four years from the
// start of 2027 (every weekday of every month, a leap year, and the wrap from one year to
// the next). A schedule that fires at most once in that time has no bound: ok is false.
func (s Schedule) LongestGap() (g Gap, ok bool) {
	from := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	var prev time.Time
	n := 0
	s.each(from, from.AddDate(4, 0, 0), func(t time.Time) {
		if n > 0 {
			if d := t.Sub(prev); d > g.Length {
				g = Gap{Length: d, After: prev, Next: t}
			}
		}
		prev = t
		n++
	})
	return g, n >= 2
}
