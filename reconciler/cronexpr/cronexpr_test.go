package cronexpr

import (
	"strings"
	"testing"
	"time"
)

func TestLongestGap(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want time.Duration
	}{
		{"0 2 * * *", 24 * time.Hour},
		{"*/5 * * * *", 5 * time.Minute},
		{"0 * * * *", time.Hour},
		{"0 2 * * 2-6", 72 * time.Hour},          // Mon-Fri (1 is Sunday): Fri 02:00 to Mon 02:00
		{"0 2 * * MON-FRI", 72 * time.Hour},      // the same by name
		{"30 3 1 * *", 31 * 24 * time.Hour},      // monthly: the longest month
		{"0 0 L * *", 31 * 24 * time.Hour},       // the last day of each month
		{"0 4 * * 1#1", 35 * 24 * time.Hour},     // the first Sunday: five weeks apart at most
		{"0 4 * * 7L", 35 * 24 * time.Hour},      // the last Saturday
		{"0 0,12 * * *", 12 * time.Hour},         // a list
		{"0 6-18/6 * * *", 12 * time.Hour},       // 6, 12, 18, then 6 the next day
		{"0 0 29 2 *", 4 * 365 * 24 * time.Hour}, // once in the four years
	} {
		s, err := Parse(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		g, ok := s.LongestGap()
		if tc.expr == "0 0 29 2 *" {
			if ok {
				t.Errorf("%s: gap %v, want no bound (fires once in four years)", tc.expr, g.Length)
			}
			continue
		}
		if !ok || g.Length != tc.want {
			t.Errorf("%s: longest gap %v (after %v), want %v", tc.expr, g.Length, g.After, tc.want)
		}
	}
}

func TestWeekdaysAreCloudflares(t *testing.T) {
	s, err := Parse("0 2 * * 1") // 1 is Sunday on Cloudflare
	if err != nil {
		t.Fatal(err)
	}
	fs := s.Firings(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC))
	if len(fs) != 2 || fs[0].Weekday() != time.Sunday || fs[0].Day() != 3 {
		t.Errorf("firings of `0 2 * * 1` in early January 2027: %v, want Sundays the 3rd and 10th", fs)
	}
}

func TestParseErrors(t *testing.T) {
	for expr, want := range map[string]string{
		"0 2 * *":     "needs 5 fields",
		"60 2 * * *":  `minute field "60"`,
		"0 2 * * 0":   `day of week field "0"`,
		"0 2 15W * *": "W (nearest weekday) is not supported",
		"0 2 * * 1#6": "#1 to #5",
		"0 5-2 * * *": "backwards",
		"*/0 * * * *": "step /0",
		"0 2 * FOO *": `"FOO" is not a value`,
	} {
		if _, err := Parse(expr); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", expr, err, want)
		}
	}
}
