package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/monotask/flareops/reconciler"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

// Progress of apply and destroy: one line on stderr per finished change, with the time
// since the apply began, how long the change took, and where the run stands in the
// account's request budget (what the client's pacer knows: requests left in the window,
// requests that waited for the budget so far). On long applies paced to Cloudflare's
// 1,200 requests per 5 minutes, it says why nothing seems to happen.
//
//	[ 12/300   4%  0:41] queue.jobs_0012: created in 1.2s · 1,176 of 1,200 requests left per 5m · 0 waits
//
// When: -progress (or -progress=false) decides; else FLAREOPS_PROGRESS (1, true or on;
// 0, false or off); else on when stderr is a terminal. Never with -format json, whose
// stdout is read by programs and whose stderr is kept for errors.

// progressFlag registers -progress.
func progressFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("progress", false, "print a line per finished change on stderr, with elapsed time and the request budget (default: on a terminal; FLAREOPS_PROGRESS=1|0)")
}

// progressOn decides whether to print progress (see above).
func progressOn(fs *flag.FlagSet, asked bool, format string, io IO) bool {
	if format == "json" {
		return false
	}
	if flagSet(fs, "progress") {
		return asked
	}
	switch strings.ToLower(strings.TrimSpace(io.Getenv("FLAREOPS_PROGRESS"))) {
	case "1", "true", "on", "yes":
		return true
	case "0", "false", "off", "no":
		return false
	}
	f, ok := io.Stderr.(*os.File)
	return ok && isTerminal(f)
}

// progress writes the progress lines. It is called serialized (ApplyOptions.Progress).
type progress struct {
	w      io.Writer
	total  int // changes that are not no-ops
	done   int
	start  time.Time
	began  map[string]time.Time
	now    func() time.Time
	budget func() cloudflare.Budget // nil: no client (nothing to say about the budget)
}

func newProgress(w io.Writer, p *reconciler.Plan, client *cloudflare.Client) *progress {
	pr := &progress{w: w, now: time.Now, began: map[string]time.Time{}}
	for _, c := range p.Changes {
		if c.Action != reconciler.NoOp {
			pr.total++
		}
	}
	if client != nil {
		pr.budget = client.Budget
	}
	pr.start = pr.now()
	return pr
}

var progressVerbs = map[reconciler.Action]string{
	reconciler.Create:  "created",
	reconciler.Update:  "updated",
	reconciler.Adopt:   "adopted",
	reconciler.Replace: "replaced",
	reconciler.Delete:  "destroyed",
	reconciler.Forget:  "forgotten",
}

// event records ev and, when it finishes a change, writes its line.
func (pr *progress) event(ev reconciler.Event) {
	now := pr.now()
	if !ev.Done {
		pr.began[ev.Address] = now
		return
	}
	if ev.Action == reconciler.NoOp && ev.Err == nil {
		return
	}
	pr.done++
	var what string
	took := ""
	if t, ok := pr.began[ev.Address]; ok {
		took = " in " + shortDuration(now.Sub(t))
	}
	switch {
	case ev.Interrupted && ev.Err == nil:
		what = "not started (interrupted)"
	case ev.Interrupted:
		what = "cut short" + took
	case ev.Skipped:
		what = "not attempted (a change it depends on failed)"
	case ev.Err != nil:
		what = "failed" + took
	default:
		what = progressVerbs[ev.Action] + took
		if what == took {
			what = string(ev.Action) + took
		}
	}
	width := len(fmt.Sprint(pr.total))
	pct := 100
	if pr.total > 0 {
		pct = pr.done * 100 / pr.total
	}
	fmt.Fprintf(pr.w, "[%*d/%d %3d%% %s] %s: %s%s\n", width, pr.done, pr.total, pct, clock(now.Sub(pr.start)), ev.Address, what, pr.budgetText())
}

func (pr *progress) budgetText() string {
	if pr.budget == nil {
		return ""
	}
	b := pr.budget()
	s := fmt.Sprintf(" · %s of %s requests left per %s · %s", thousandsInt(b.Left), thousandsInt(b.Quota), shortDuration(b.Window), countOf(int(b.Waits), "wait", "waits"))
	if b.Waits > 0 {
		s += " (" + shortDuration(b.Waited) + ")"
	}
	if b.Throttled > 0 {
		s += fmt.Sprintf(" · %s", countOf(int(b.Throttled), "429", "429s"))
	}
	return s
}

// clock is m:ss, or h:mm:ss from an hour on.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// shortDuration is 0.8s, 12s, 5m, 1m30s: tenths under 10 seconds, whole seconds above.
func shortDuration(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d%time.Minute == 0:
		return strings.TrimSuffix(d.String(), "0s") // 5m, not 5m0s
	}
	return d.Round(time.Second).String()
}

func thousandsInt(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}

// countOf is "1 wait" or "1,234 waits".
func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return thousandsInt(n) + " " + many
}
