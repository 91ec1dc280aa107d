package sandbox

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseCleanup(t *testing.T) {
	tests := []struct {
		every    string
		cron     string
		interval time.Duration
	}{
		{"1m", "* * * * *", time.Minute},
		{"5m", "*/5 * * * *", 5 * time.Minute},
		{"30m", "*/30 * * * *", 30 * time.Minute},
		{"1h", "0 * * * *", time.Hour},
		{"2h", "0 */2 * * *", 2 * time.Hour},
		{"12h", "0 */12 * * *", 12 * time.Hour},
		{"1d", "0 0 * * *", 24 * time.Hour},
		// Refused: not dividing an hour or a day, another spelling, not an interval.
		{"7m", "", 0}, {"60m", "", 0}, {"45m", "", 0}, {"5h", "", 0}, {"24h", "", 0}, {"2d", "", 0},
		{"300s", "", 0}, {"05m", "", 0}, {"0m", "", 0}, {"m", "", 0}, {"", "", 0}, {"5", "", 0}, {"-5m", "", 0},
	}
	for _, tt := range tests {
		c, err := ParseCleanup(tt.every)
		if tt.cron == "" {
			if err == nil || !strings.Contains(err.Error(), CleanupRule) {
				t.Errorf("ParseCleanup(%q) = %+v, %v; want an error giving the allowed values", tt.every, c, err)
			}
			continue
		}
		if err != nil || c.Cron != tt.cron || c.Interval != tt.interval {
			t.Errorf("ParseCleanup(%q) = %+v, %v; want %q every %v", tt.every, c, err, tt.cron, tt.interval)
		}
	}
}

// Every interval the language offers is one the parser accepts, and no other is.
func TestCleanupIntervalsAreExactlyTheParsable(t *testing.T) {
	allowed := map[string]bool{}
	for _, e := range CleanupIntervals {
		allowed[e] = true
		if _, err := ParseCleanup(e); err != nil {
			t.Errorf("%s is offered but refused: %v", e, err)
		}
	}
	for n := 1; n <= 60; n++ {
		for _, u := range []string{"m", "h", "d"} {
			e := strconv.Itoa(n) + u
			if _, err := ParseCleanup(e); (err == nil) != allowed[e] {
				t.Errorf("ParseCleanup(%q) error %v, but offered %v", e, err, allowed[e])
			}
		}
	}
}

func TestCheckCustom(t *testing.T) {
	tests := []struct {
		vcpu float64
		mem  int64
		ok   bool
	}{
		{1, 3072, true}, {2, 8192, true}, {4, 12288, true}, {1.5, 4608, true},
		{0.5, 4096, false}, {4.5, 12288, false}, {2, 4096, false}, {4, 12289, false}, {1, 0, false},
	}
	for _, tt := range tests {
		if err := CheckCustom(tt.vcpu, tt.mem); (err == nil) != tt.ok {
			t.Errorf("CheckCustom(%v, %d) = %v, want ok %v", tt.vcpu, tt.mem, err, tt.ok)
		}
	}
}

func TestParsePolicy(t *testing.T) {
	p, err := ParsePolicy([]byte(`{"schema":"flareops.sandbox-policy/v1","sandbox":"agent","worker":"w","execution_timeout_ms":1000,"idle_timeout_ms":2000,"future_field":true}`))
	if err != nil || p.Sandbox != "agent" || p.ExecutionTimeoutMs != 1000 {
		t.Fatalf("ParsePolicy = %+v, %v", p, err)
	}
	for _, bad := range []string{`{"schema":"flareops.sandbox-policy/v2"}`, `{"schema":"flareops.rules/v1"}`, `not json`} {
		if _, err := ParsePolicy([]byte(bad)); err == nil {
			t.Errorf("ParsePolicy(%s) accepted", bad)
		}
	}
}
