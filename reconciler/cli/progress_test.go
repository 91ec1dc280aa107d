package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"maps"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

// The progress line of each finished change: count, elapsed time, what happened and how
// long it took, and the request budget.
func TestProgressLines(t *testing.T) {
	var out bytes.Buffer
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	budget := cloudflare.Budget{Left: 1187, Quota: 1200, Window: 5 * time.Minute}
	p := &reconciler.Plan{Changes: []reconciler.Change{
		{Address: "queue.a", Action: reconciler.Create}, {Address: "queue.b", Action: reconciler.Update},
		{Address: "queue.c", Action: reconciler.NoOp}, {Address: "queue.d", Action: reconciler.Delete},
		{Address: "queue.e", Action: reconciler.Create},
	}}
	pr := newProgress(&out, p, nil)
	pr.now = func() time.Time { return now }
	pr.start = now
	pr.budget = func() cloudflare.Budget { return budget }
	step := func(d time.Duration, ev reconciler.Event) {
		now = now.Add(d)
		pr.event(ev)
	}
	step(0, reconciler.Event{Address: "queue.a", Action: reconciler.Create})
	step(0, reconciler.Event{Address: "queue.b", Action: reconciler.Update})
	step(800*time.Millisecond, reconciler.Event{Address: "queue.a", Action: reconciler.Create, Done: true, ID: "q1"})
	budget.Left, budget.Waits, budget.Waited, budget.Throttled = 0, 3, 95*time.Second, 1
	step(95*time.Second, reconciler.Event{Address: "queue.b", Action: reconciler.Update, Done: true, Err: errors.New("boom")})
	step(0, reconciler.Event{Address: "queue.c", Action: reconciler.NoOp, Done: true})
	step(0, reconciler.Event{Address: "queue.e", Action: reconciler.Create, Done: true, Skipped: true})
	step(time.Hour, reconciler.Event{Address: "queue.d", Action: reconciler.Delete})
	step(12*time.Second, reconciler.Event{Address: "queue.d", Action: reconciler.Delete, Done: true})
	want := `[1/4  25% 0:01] queue.a: created in 0.8s · 1,187 of 1,200 requests left per 5m · 0 waits
[2/4  50% 1:36] queue.b: failed in 1m36s · 0 of 1,200 requests left per 5m · 3 waits (1m35s) · 1 429
[3/4  75% 1:36] queue.e: not attempted (a change it depends on failed) · 0 of 1,200 requests left per 5m · 3 waits (1m35s) · 1 429
[4/4 100% 1:01:48] queue.d: destroyed in 12s · 0 of 1,200 requests left per 5m · 3 waits (1m35s) · 1 429
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
}

func TestProgressOn(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		env    string
		format string
		want   bool
	}{
		{"not a terminal", nil, "", "text", false},
		{"asked by flag", []string{"-progress"}, "", "text", true},
		{"asked by env", nil, "1", "text", true},
		{"env on", nil, "on", "text", true},
		{"flag off beats env", []string{"-progress=false"}, "true", "text", false},
		{"env off", nil, "0", "text", false},
		{"never with json", []string{"-progress"}, "1", "json", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("apply", flag.ContinueOnError)
			asked := progressFlag(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			io := IO{Stderr: io.Discard, Getenv: func(k string) string {
				if k == "FLAREOPS_PROGRESS" {
					return tt.env
				}
				return ""
			}}
			if got := progressOn(fs, *asked, tt.format, io); got != tt.want {
				t.Errorf("progressOn = %v, want %v", got, tt.want)
			}
		})
	}
}

var progressLine = regexp.MustCompile(`^\[\s*(\d+)/(\d+)\s+\d+% \d+:\d\d\] (\S+): (created|destroyed) in [\d.ms]+ · ([\d,]+) of ([\d,]+) requests left per (\S+) · (\d+) waits?`)

// A real apply on an account with a small budget: one progress line per change on stderr,
// the budget as the client's pacer sees it, and waits counted; with -format json, no
// progress and one result document.
func TestApplyProgress(t *testing.T) {
	a := newAccount(t, emulator.Options{RateLimit: 15, RateWindow: time.Second})
	env := maps.Clone(a.env)
	env["FLAREOPS_PROGRESS"] = "1"

	dir := copyExample(t)
	code, stdout, stderr := run(t, env, "apply", "-auto-approve", "-format", "json", "-dir", dir)
	if code != 0 {
		t.Fatalf("apply -format json: exit %d\n%s", code, stderr)
	}
	if strings.Contains(stderr, "requests left") {
		t.Errorf("progress with -format json:\n%s", stderr)
	}
	var res applyResultJSON
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil || dec.More() {
		t.Fatalf("stdout is not one result document (%v):\n%s", err, stdout)
	}
	if !res.Complete || res.Summary["create"] == 0 || len(res.Changes) != res.Summary["create"] || res.Requests == 0 {
		t.Errorf("result %+v: want complete, every change a create", res)
	}
	for _, c := range res.Changes {
		if c.Status != "applied" || c.Action != "create" {
			t.Errorf("change %+v", c)
		}
	}

	// The same platform for prod, in text with progress.
	code, stdout, stderr = run(t, env, "apply", "-auto-approve", "-var", "env=prod", "-dir", copyExample(t))
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, stderr)
	}
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "[") {
			lines = append(lines, l)
		}
	}
	created := strings.Count(stdout, "Creation complete")
	if created != res.Summary["create"] || len(lines) != created {
		t.Fatalf("%d progress lines for %d changes:\n%s", len(lines), created, stderr)
	}
	t.Logf("progress:\n%s", strings.Join(lines, "\n"))
	last := progressLine.FindStringSubmatch(lines[len(lines)-1])
	if last == nil {
		t.Fatalf("not a progress line: %q", lines[len(lines)-1])
	}
	if last[1] != last[2] || last[6] != "15" || last[7] != "1.0s" || last[8] == "0" {
		t.Errorf("last line %q: want n/n, a quota of 15 per 1.0s, and waits (the apply needs more than 15 requests)", lines[len(lines)-1])
	}
	for _, l := range lines {
		if !progressLine.MatchString(l) {
			t.Errorf("not a progress line: %q", l)
		}
	}

	code, _, stderr = run(t, env, "apply", "-format", "json", "-dir", dir)
	if code != 1 || !strings.Contains(stderr, "-format json cannot ask for approval") {
		t.Errorf("apply -format json without -auto-approve: exit %d, %s", code, stderr)
	}
}
