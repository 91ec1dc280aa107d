// Package sandbox is what flareops knows about sandboxes that is not reconciliation: the
// cleanup interval as a cron trigger, the containers instance sizes and their limits
// (cloudflare-api.md §6), and the policy document that the platform's sandbox lifecycle
// code reads at runtime. It knows nothing of kinds, HCL or Terraform.
package sandbox

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// CleanupIntervals are the intervals a cleanup may run at, in the spelling the language
// accepts: a whole number of minutes that divides an hour, of hours that divides a day, or
// a day. Each is exactly one cron trigger that fires at even intervals (a cron cannot run
// every 7 minutes: "*/7" fires at :56 and again at :00).
var CleanupIntervals = []string{
	"1m", "2m", "3m", "4m", "5m", "6m", "10m", "12m", "15m", "20m", "30m",
	"1h", "2h", "3h", "4h", "6h", "8h", "12h",
	"1d",
}

// CleanupRule says in words which intervals are allowed.
const CleanupRule = "a whole number of minutes that divides an hour (1m, 2m, 3m, 4m, 5m, 6m, 10m, 12m, 15m, 20m, 30m), of hours that divides a day (1h, 2h, 3h, 4h, 6h, 8h, 12h), or 1d"

// Cleanup is a cleanup schedule: the interval as written and the cron trigger it becomes.
type Cleanup struct {
	Every    string        // "5m"
	Interval time.Duration // 5 * time.Minute
	Cron     string        // "*/5 * * * *"
}

// ParseCleanup turns an interval of CleanupIntervals into its cron trigger: "5m" is
// "*/5 * * * *", "2h" is "0 */2 * * *", "1d" is "0 0 * * *".
func ParseCleanup(every string) (Cleanup, error) {
	bad := fmt.Errorf("cleanup_every must be %s; got %q", CleanupRule, every)
	if len(every) < 2 {
		return Cleanup{}, bad
	}
	n, err := strconv.Atoi(every[:len(every)-1])
	if err != nil || n < 1 || strings.HasPrefix(every, "0") {
		return Cleanup{}, bad
	}
	c := Cleanup{Every: every}
	switch every[len(every)-1] {
	case 'm':
		if 60%n != 0 || n == 60 {
			return Cleanup{}, bad
		}
		c.Interval, c.Cron = time.Duration(n)*time.Minute, "*/"+strconv.Itoa(n)+" * * * *"
		if n == 1 {
			c.Cron = "* * * * *"
		}
	case 'h':
		if 24%n != 0 || n == 24 {
			return Cleanup{}, bad
		}
		c.Interval, c.Cron = time.Duration(n)*time.Hour, "0 */"+strconv.Itoa(n)+" * * *"
		if n == 1 {
			c.Cron = "0 * * * *"
		}
	case 'd':
		if n != 1 {
			return Cleanup{}, bad
		}
		c.Interval, c.Cron = 24*time.Hour, "0 0 * * *"
	default:
		return Cleanup{}, bad
	}
	return c, nil
}
