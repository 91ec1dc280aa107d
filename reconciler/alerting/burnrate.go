package alerting

import (
	"math"
	"strconv"
	"time"
)

// BurnWindow is one tier of multi-window multi-burn-rate alerting (SRE Workbook ch. 5):
// it fires when the burn rate over both Long and Short exceeds Factor, that is when
// BudgetPercent of the SLO window's error budget would be spent within Long.
type BurnWindow struct {
	Severity      Severity
	BudgetPercent float64 // share of the window's budget spent in Long at Factor
	Long          time.Duration
	Short         time.Duration
	Factor        float64 // burn rate threshold
}

// baseWindow is the SLO window the Workbook's table is written for.
const baseWindow = 30 * 24 * time.Hour

// baseTiers are the Workbook's tiers for a 30-day window (analytics.md §5).
var baseTiers = []BurnWindow{
	{Severity: Page, BudgetPercent: 2, Long: time.Hour, Short: 5 * time.Minute},
	{Severity: Page, BudgetPercent: 5, Long: 6 * time.Hour, Short: 30 * time.Minute},
	{Severity: Ticket, BudgetPercent: 10, Long: 3 * 24 * time.Hour, Short: 6 * time.Hour},
}

// Windows returns the burn-rate tiers of an SLO window (docs/cli/alert-rules.md#burn-rates):
// for 30 days, the Workbook's 14.4× over 1h/5m and 6× over 6h/30m (page) and 1× over
// 3d/6h (ticket). Other windows keep the budget shares (2 %, 5 %, 10 %) and scale the
// long windows in proportion to the SLO window, as Pyrra does, rounded to the minute; each
// short window is its long window / 12 (at least a minute); the factor is then
// recomputed from the rounded long window, factor = share × window / long, so that a
// firing rule always means the same share of the budget.
func Windows(window time.Duration) []BurnWindow {
	out := make([]BurnWindow, len(baseTiers))
	for i, t := range baseTiers {
		long := scaleMinutes(t.Long, window)
		short := max(time.Minute, (long / 12).Round(time.Minute))
		if window == baseWindow {
			short = t.Short
		}
		out[i] = BurnWindow{
			Severity:      t.Severity,
			BudgetPercent: t.BudgetPercent,
			Long:          long,
			Short:         short,
			// Whole minutes over whole minutes: 2 × 43200 / (100 × 60) is exactly 14.4.
			Factor: round12(t.BudgetPercent * float64(window/time.Minute) / (100 * float64(long/time.Minute))),
		}
	}
	return out
}

// scaleMinutes is d × window / 30d rounded to the minute, at least a minute.
func scaleMinutes(d, window time.Duration) time.Duration {
	mins := math.Round(float64(d/time.Minute) * float64(window/time.Minute) / float64(baseWindow/time.Minute))
	return max(time.Minute, time.Duration(mins)*time.Minute)
}

// BurnRule is one generated rule of an SLO.
type BurnRule struct {
	SLO string
	ID  string // "page-1h": severity and long window, unique within the SLO
	BurnWindow
	// ErrorRatio is the error-ratio threshold, Factor × (1 − objective): the rule fires
	// when the error ratio over both windows is above it.
	ErrorRatio float64
	To         []string
	Runbook    string
}

// Budget is the error budget of an objective as a fraction: 0.001 for 99.9 %. It is
// rounded to 12 significant digits, so that 100 − 99.9 is 0.1 and not 0.0999999999999943.
func Budget(objective float64) float64 { return round12((100 - objective) / 100) }

// BurnRules compiles an SLO into its multi-window multi-burn-rate rules, page tiers to
// PageTo and the ticket tier to TicketTo. A tier whose severity has no destinations is
// still generated (alerts check and slo status show it) with no destinations, unless the
// SLO names no destination of either kind. Call Validate first.
func (s SLO) BurnRules() []BurnRule {
	b := Budget(s.Objective)
	var rules []BurnRule
	for _, w := range Windows(s.Window) {
		to := s.PageTo
		if w.Severity == Ticket {
			to = s.TicketTo
		}
		rules = append(rules, BurnRule{
			SLO:        s.Name,
			ID:         string(w.Severity) + "-" + formatDuration(w.Long),
			BurnWindow: w,
			ErrorRatio: round12(w.Factor * b),
			To:         to,
			Runbook:    s.Runbook,
		})
	}
	return rules
}

// round12 rounds to 12 significant digits, which removes the binary noise of decimal
// arithmetic (14.4 × 0.001) without changing any meaningful digit.
func round12(f float64) float64 {
	if f == 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return f
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 12, 64), 64)
	return r
}
