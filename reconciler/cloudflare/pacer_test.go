package cloudflare

import (
	"testing"
	"time"
)

func TestParseRateLimit(t *testing.T) {
	tests := []struct {
		in     string
		limit  int
		window time.Duration
		ok     bool
	}{
		{"", 1200, 5 * time.Minute, true},
		{"1200/5m", 1200, 5 * time.Minute, true},
		{"10/1s", 10, time.Second, true},
		{"fast", 0, 0, false},
		{"0/5m", 0, 0, false},
		{"10/", 0, 0, false},
		{"10/-1s", 0, 0, false},
	}
	for _, tt := range tests {
		l, w, err := ParseRateLimit(tt.in)
		if (err == nil) != tt.ok || l != tt.limit || w != tt.window {
			t.Errorf("ParseRateLimit(%q) = %d, %v, %v", tt.in, l, w, err)
		}
	}
}
