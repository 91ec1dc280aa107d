package cli

import (
	"errors"
	"flag"
	"sort"

	"github.com/monotask/flareops/reconciler"
)

// applyOutput is how apply and destroy report: as text (the plan, a question, a line per
// change on stdout, progress on stderr; see progress.go), or with -format json as one
// document on stdout when they are done (applyResultJSON), for programs.
type applyOutput struct {
	format   *string
	progress *bool
	fs       *flag.FlagSet

	events []reconciler.Event // finished changes, for the JSON result
}

func applyOutputFlags(fs *flag.FlagSet) *applyOutput {
	return &applyOutput{
		fs:       fs,
		format:   fs.String("format", "text", "output `FORMAT`: text, or json (one result document on stdout when done; needs -auto-approve or a plan file, as it cannot ask)"),
		progress: progressFlag(fs),
	}
}

func (o *applyOutput) json() bool { return *o.format == "json" }

// check refuses a format it does not know, and -format json where apply would have to
// ask (approved: -auto-approve or a saved plan).
func (o *applyOutput) check(fs *flag.FlagSet, approved bool, io IO) bool {
	switch {
	case *o.format != "text" && *o.format != "json":
		errorf(io, "-format %q: use text or json", *o.format)
		return false
	case o.json() && !approved:
		errorf(io, "-format json cannot ask for approval: add -auto-approve, or apply a saved plan (plan -out FILE, then apply FILE)")
		return false
	}
	return true
}

// reporter is the ApplyOptions.Progress of the run: the lines of the text output and the
// progress lines, or the record of the JSON result.
func (o *applyOutput) reporter(s *session, p *reconciler.Plan) func(reconciler.Event) {
	if o.json() {
		return func(ev reconciler.Event) {
			if ev.Done && (ev.Action != reconciler.NoOp || ev.Err != nil) {
				o.events = append(o.events, ev)
			}
		}
	}
	var pr *progress
	if progressOn(o.fs, *o.progress, *o.format, s.io) {
		pr = newProgress(s.io.Stderr, p, s.tgt.client)
	}
	return func(ev reconciler.Event) {
		printEvent(s.io, ev)
		if pr != nil {
			pr.event(ev)
		}
	}
}

// applyResultJSON is the result of apply -format json (docs/cli/cli.md).
type applyResultJSON struct {
	FormatVersion string         `json:"format_version"`
	Complete      bool           `json:"complete"` // every change was applied
	Interrupted   bool           `json:"interrupted,omitempty"`
	Summary       map[string]int `json:"summary"`   // changes applied, by action
	Changes       []changeResult `json:"changes"`   // every change that is not a no-op, by address
	Requests      int64          `json:"requests"`  // HTTP requests of the whole run (plan included)
	Throttled     int64          `json:"throttled"` // 429 answers received
}

type changeResult struct {
	Address string `json:"address"`
	Action  string `json:"action"`
	// Status is "applied", "failed", "skipped" (a change it depends on failed),
	// "not_started" or "interrupted" (in flight when interrupted: the next plan shows
	// whether it happened).
	Status string `json:"status"`
	ID     string `json:"id,omitempty"`
	Error  string `json:"error,omitempty"`
}

// writeResult prints the JSON result; exit 0 when everything was applied.
func (o *applyOutput) writeResult(s *session, err error) int {
	io := s.io
	r := applyResultJSON{FormatVersion: "1.0", Summary: map[string]int{}, Changes: []changeResult{}}
	for _, ev := range o.events {
		c := changeResult{Address: ev.Address, Action: string(ev.Action), ID: ev.ID, Status: "applied"}
		switch {
		case ev.Interrupted && ev.Err == nil:
			c.Status = "not_started"
		case ev.Interrupted:
			c.Status, c.Error = "interrupted", ev.Err.Error()
		case ev.Skipped:
			c.Status = "skipped"
		case ev.Err != nil:
			c.Status, c.Error = "failed", ev.Err.Error()
		default:
			r.Summary[string(ev.Action)]++
		}
		r.Changes = append(r.Changes, c)
	}
	sort.Slice(r.Changes, func(i, j int) bool { return r.Changes[i].Address < r.Changes[j].Address })
	var ae *reconciler.ApplyError
	r.Interrupted = errors.As(err, &ae) && ae.Interrupted
	r.Complete = err == nil
	if c := s.tgt.client; c != nil {
		r.Requests, r.Throttled = c.Requests(), c.Throttled()
	}
	if err := writeJSON(io.Stdout, r); err != nil {
		return errorf(io, "cannot print the result: %v", err)
	}
	if err != nil && ae == nil {
		return errorf(io, "%v", err)
	}
	if err != nil {
		return ExitError
	}
	return ExitOK
}
