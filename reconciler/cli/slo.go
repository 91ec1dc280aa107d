package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/monotask/flareops/reconciler/alerting"
)

// sloStatusSchema names the JSON output of slo status.
const sloStatusSchema = "flareops.slo-status/v1"

func runSLO(args []string, io IO) int {
	if len(args) == 0 {
		return errorf(io, "flareops slo needs a subcommand: %s", helpFor("slo").usage)
	}
	switch args[0] {
	case "status":
		return runSLOStatus(args[1:], io)
	}
	return errorf(io, "flareops slo has no subcommand %q: use status", args[0])
}

// runSLOStatus reports every SLO. It exits 0 whenever it could report, whatever the SLOs
// say (a breached SLO is news, not an error), and 1 when it could not.
func runSLOStatus(args []string, io IO) int {
	fs := newFlags("slo status", io)
	var cf configFlags
	cf.register(fs)
	format := fs.String("format", "text", "output format: text, json or html (one self-contained page with a chart per SLO)")
	out := fs.String("out", "", "write the report to `FILE` instead of stdout")
	if !parse(fs, args) {
		return ExitError
	}
	if fs.NArg() > 0 {
		return errorf(io, "unexpected argument %q: %s", fs.Arg(0), helpFor("slo status").usage)
	}
	if *format != "text" && *format != "json" && *format != "html" {
		return errorf(io, "-format %q: use text, json or html", *format)
	}
	s, ok := openAlerting(cf, io)
	if !ok {
		return ExitError
	}
	defer s.close()
	ctx, cancel := interruptible()
	defer cancel()
	return statusAndReport(ctx, s.eval, s.slos, *format, *out, io)
}

// statusAndReport evaluates the SLOs, writes the report (to out, or stdout) and returns
// the exit code.
func statusAndReport(ctx context.Context, ev *alerting.Evaluator, slos []alerting.SLO, format, out string, io IO) int {
	var statuses []alerting.SLOStatus
	for _, slo := range slos {
		st, err := ev.SLOStatus(ctx, slo, format == "html")
		if err != nil {
			return errorf(io, "cannot evaluate slo %s: %v", slo.Name, err)
		}
		statuses = append(statuses, st)
	}
	var buf bytes.Buffer
	var err error
	switch format {
	case "html":
		err = alerting.RenderHTML(&buf, statuses)
	case "json":
		err = writeStatusJSON(&buf, statuses, ev.Now)
	default:
		writeStatusText(&buf, statuses)
	}
	if err != nil {
		return errorf(io, "cannot render the report: %v", err)
	}
	if out != "" {
		if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
			return errorf(io, "cannot write the report: %v", err)
		}
		fmt.Fprintf(io.Stderr, "Wrote the status of %d %s to %s.\n", len(statuses), plural(len(statuses), "SLO", "SLOs"), out)
		return ExitOK
	}
	if _, err := io.Stdout.Write(buf.Bytes()); err != nil {
		return errorf(io, "cannot print the report: %v", err)
	}
	return ExitOK
}

func pct(f float64) string {
	if math.IsNaN(f) {
		return "no data"
	}
	return num(math.Round(f*100*1000)/1000) + " %"
}

func writeStatusText(w io.Writer, statuses []alerting.SLOStatus) {
	if len(statuses) == 0 {
		fmt.Fprintln(w, "No SLOs in the configuration.")
		return
	}
	for i, st := range statuses {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "slo.%s: %s over %s\n", st.SLO.Name, num(st.SLO.Objective)+" %", fmtDuration(st.SLO.Window))
		fmt.Fprintf(w, "  SLI:         %s (%s good of %s)\n", pct(st.SLI), num(st.Counts.Good), num(st.Counts.Total))
		fmt.Fprintf(w, "  budget left: %s of %s\n", pct(st.BudgetLeft), pct(st.Budget))
		var burns []string
		for _, b := range st.Burns {
			burns = append(burns, fmtDuration(b.Window)+" "+burn(b.BurnRate))
		}
		fmt.Fprintf(w, "  burn rates:  %s\n", strings.Join(burns, ", "))
		for _, r := range st.Rules {
			state := "quiet"
			switch {
			case r.Firing:
				state = "FIRING"
			case r.NoData:
				state = "no data"
			}
			id := strings.TrimPrefix(r.ID, "slo/"+r.Name+"/")
			if r.NoData && !r.Firing {
				fmt.Fprintf(w, "  %-9s %-7s no events over %s or %s; fires above burn rate %s\n", id, state, fmtDuration(r.Long), fmtDuration(r.Short), num(r.Factor))
				continue
			}
			fmt.Fprintf(w, "  %-9s %-7s burn %s over %s and %s over %s, fires above %s\n", id, state,
				burn(r.LongBurn), fmtDuration(r.Long), burn(r.ShortBurn), fmtDuration(r.Short), num(r.Factor))
		}
		if st.SLO.Runbook != "" {
			fmt.Fprintf(w, "  runbook: %s\n", st.SLO.Runbook)
		}
	}
}

type statusJSON struct {
	Schema string          `json:"schema"`
	At     string          `json:"at"`
	SLOs   []sloStatusJSON `json:"slos"`
}

type sloStatusJSON struct {
	Name        string          `json:"name"`
	Objective   float64         `json:"objective"`
	WindowMs    int64           `json:"window_ms"`
	ErrorBudget float64         `json:"error_budget"`
	Good        float64         `json:"good"`
	Total       float64         `json:"total"`
	SLI         *float64        `json:"sli"`
	BudgetLeft  float64         `json:"budget_left"`
	Burns       []burnJSON      `json:"burn_rates"`
	Rules       []checkRuleJSON `json:"rules"`
	Runbook     string          `json:"runbook,omitempty"`
}

type burnJSON struct {
	WindowMs   int64    `json:"window_ms"`
	Good       float64  `json:"good"`
	Total      float64  `json:"total"`
	ErrorRatio *float64 `json:"error_ratio"`
	BurnRate   *float64 `json:"burn_rate"`
}

func writeStatusJSON(w io.Writer, statuses []alerting.SLOStatus, at time.Time) error {
	out := statusJSON{Schema: sloStatusSchema, At: at.UTC().Format(time.RFC3339), SLOs: []sloStatusJSON{}}
	for _, st := range statuses {
		j := sloStatusJSON{Name: st.SLO.Name, Objective: st.SLO.Objective, WindowMs: st.SLO.Window.Milliseconds(), ErrorBudget: st.Budget,
			Good: st.Counts.Good, Total: st.Counts.Total, SLI: optional(st.SLI), BudgetLeft: st.BudgetLeft, Runbook: st.SLO.Runbook}
		for _, b := range st.Burns {
			j.Burns = append(j.Burns, burnJSON{WindowMs: b.Window.Milliseconds(), Good: b.Counts.Good, Total: b.Counts.Total, ErrorRatio: optional(b.ErrorRatio), BurnRate: optional(b.BurnRate)})
		}
		for _, r := range st.Rules {
			j.Rules = append(j.Rules, ruleJSON(r))
		}
		out.SLOs = append(out.SLOs, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
