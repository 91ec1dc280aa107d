package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/monotask/flareops/reconciler/alerting"
)

// Exit codes of alerts check (docs/cli/alert-rules.md#alerts-check).
const (
	ExitPage   = 3 // a page rule fires
	ExitTicket = 4 // only ticket rules fire
)

// alertsCheckSchema names the JSON output of alerts check.
const alertsCheckSchema = "flareops.alerts-check/v1"

func runAlerts(args []string, io IO) int {
	if len(args) == 0 {
		return errorf(io, "flareops alerts needs a subcommand: %s", helpFor("alerts").usage)
	}
	switch args[0] {
	case "check":
		return runAlertsCheck(args[1:], io)
	}
	return errorf(io, "flareops alerts has no subcommand %q: use check", args[0])
}

func runAlertsCheck(args []string, io IO) int {
	fs := newFlags("alerts check", io)
	var cf configFlags
	cf.register(fs)
	format := fs.String("format", "text", "output format: text or json")
	if !parse(fs, args) {
		return ExitError
	}
	if fs.NArg() > 0 {
		return errorf(io, "unexpected argument %q: %s", fs.Arg(0), helpFor("alerts check").usage)
	}
	if *format != "text" && *format != "json" {
		return errorf(io, "-format %q: use text or json", *format)
	}
	s, ok := openAlerting(cf, io)
	if !ok {
		return ExitError
	}
	defer s.close()
	ctx, cancel := interruptible()
	defer cancel()
	return checkAndReport(ctx, s.eval, s.slos, s.rules, *format, io)
}

// checkAndReport evaluates the rules, prints the report and returns the exit code.
func checkAndReport(ctx context.Context, ev *alerting.Evaluator, slos []alerting.SLO, rules []alerting.MetricRule, format string, io IO) int {
	res, err := ev.Check(ctx, slos, rules)
	if err != nil {
		return errorf(io, "cannot evaluate the rules: %v", err)
	}
	if format == "json" {
		err = writeCheckJSON(io.Stdout, res, ev.Now)
	} else {
		err = writeCheckText(io.Stdout, res)
	}
	if err != nil {
		return errorf(io, "cannot print the report: %v", err)
	}
	return checkExit(res)
}

// checkExit is 3 when a page rule fires, 4 when only ticket rules fire, 0 when quiet.
func checkExit(res alerting.CheckResult) int {
	switch {
	case res.Pages():
		return ExitPage
	case res.Tickets():
		return ExitTicket
	}
	return ExitOK
}

// writeCheckText prints the firing rules, pages first, each with its numbers, runbook
// and destinations, then one summary line.
func writeCheckText(w io.Writer, res alerting.CheckResult) error {
	var b strings.Builder
	firing, noData := 0, 0
	for _, sev := range []alerting.Severity{alerting.Page, alerting.Ticket} {
		for _, r := range res.Rules {
			if !r.Firing || r.Severity != sev {
				continue
			}
			firing++
			fmt.Fprintf(&b, "%s %s\n", strings.ToUpper(string(r.Severity)), ruleLine(r))
			if r.Runbook != "" {
				fmt.Fprintf(&b, "  runbook: %s\n", r.Runbook)
			}
			fmt.Fprintf(&b, "  to: %s\n", destList(r.To))
		}
	}
	for _, r := range res.Rules {
		if r.NoData && !r.Firing {
			noData++
		}
	}
	if firing > 0 {
		b.WriteByte('\n')
	}
	switch {
	case firing == 0:
		fmt.Fprintf(&b, "Quiet: none of %d %s fires %s", len(res.Rules), plural(len(res.Rules), "rule", "rules"), severityText(res))
	default:
		fmt.Fprintf(&b, "%d of %d %s %s", firing, len(res.Rules), plural(len(res.Rules), "rule", "rules"), plural(firing, "fires", "fire")+" "+severityText(res))
	}
	if noData > 0 {
		fmt.Fprintf(&b, "; %d without data (no data never fires)", noData)
	}
	b.WriteString(".\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// ruleLine says what a rule measured against its threshold, e.g.
// "slo.api_errors page-1h: burn rate 20.0 over 1h and 20.0 over 5m, above 14.4".
func ruleLine(r alerting.RuleResult) string {
	if r.Kind == "burn_rate" {
		id := strings.TrimPrefix(r.ID, "slo/"+r.Name+"/")
		return fmt.Sprintf("slo.%s %s: burn rate %s over %s and %s over %s, above %s",
			r.Name, id, burn(r.LongBurn), fmtDuration(r.Long), burn(r.ShortBurn), fmtDuration(r.Short), num(r.Factor))
	}
	cmp := ""
	switch {
	case r.Above != nil:
		cmp = "above " + num(*r.Above)
	case r.Below != nil:
		cmp = "below " + num(*r.Below)
	}
	v := "no data"
	if !math.IsNaN(r.Value) {
		v = num(r.Value)
	}
	return fmt.Sprintf("alert_rule.%s: %s over the last %s, %s", r.Name, v, fmtDuration(r.For), cmp)
}

func severityText(res alerting.CheckResult) string {
	switch {
	case res.Pages():
		return "(exit 3: page)"
	case res.Tickets():
		return "(exit 4: tickets only)"
	}
	return "(exit 0: quiet)"
}

func burn(b float64) string {
	if math.IsNaN(b) {
		return "no data"
	}
	return fmt.Sprintf("%.1f", b)
}

// num renders a number without exponent or trailing zeros.
func num(f float64) string {
	s := fmt.Sprintf("%.6f", f)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		return "0"
	}
	return s
}

// fmtDuration renders a duration as users write it ("1h", "1h4m", "3d").
func fmtDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range []struct {
		name string
		d    time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}} {
		if n := d / u.d; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.d
		}
	}
	return b.String()
}

func destList(to []string) string {
	if len(to) == 0 {
		return "(no destination)"
	}
	return strings.Join(to, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// checkJSON is the JSON output of alerts check (docs/cli/alert-rules.md#alerts-check).
type checkJSON struct {
	Schema  string          `json:"schema"`
	At      string          `json:"at"`
	Exit    int             `json:"exit"`
	Pages   bool            `json:"pages"`
	Tickets bool            `json:"tickets"`
	Rules   []checkRuleJSON `json:"rules"`
}

type checkRuleJSON struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	Severity string   `json:"severity"`
	Firing   bool     `json:"firing"`
	NoData   bool     `json:"no_data"`
	Runbook  string   `json:"runbook,omitempty"`
	To       []string `json:"to"`
	// burn_rate
	Factor        *float64 `json:"factor,omitempty"`
	LongWindowMs  int64    `json:"long_window_ms,omitempty"`
	ShortWindowMs int64    `json:"short_window_ms,omitempty"`
	LongBurn      *float64 `json:"long_burn_rate,omitempty"`
	ShortBurn     *float64 `json:"short_burn_rate,omitempty"`
	// threshold
	Value *float64 `json:"value,omitempty"`
	Above *float64 `json:"above,omitempty"`
	Below *float64 `json:"below,omitempty"`
	ForMs int64    `json:"for_ms,omitempty"`
}

// optional is f, or nil for NaN (no data), which JSON cannot carry.
func optional(f float64) *float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}

func writeCheckJSON(w io.Writer, res alerting.CheckResult, at time.Time) error {
	out := checkJSON{Schema: alertsCheckSchema, At: at.UTC().Format(time.RFC3339), Exit: checkExit(res), Pages: res.Pages(), Tickets: res.Tickets(), Rules: []checkRuleJSON{}}
	for _, r := range res.Rules {
		out.Rules = append(out.Rules, ruleJSON(r))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func ruleJSON(r alerting.RuleResult) checkRuleJSON {
	j := checkRuleJSON{ID: r.ID, Name: r.Name, Kind: r.Kind, Severity: string(r.Severity), Firing: r.Firing, NoData: r.NoData, Runbook: r.Runbook, To: r.To}
	if r.Kind == "burn_rate" {
		j.Factor, j.LongWindowMs, j.ShortWindowMs = optional(r.Factor), r.Long.Milliseconds(), r.Short.Milliseconds()
		j.LongBurn, j.ShortBurn = optional(r.LongBurn), optional(r.ShortBurn)
	} else {
		j.Value, j.Above, j.Below, j.ForMs = optional(r.Value), r.Above, r.Below, r.For.Milliseconds()
	}
	return j
}
