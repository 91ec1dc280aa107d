package reconciler

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

const renderTarget = "local Cloudflare (.flareops/local)"

// renderWebhookSpec stands in for a kind with a secret, so that the sensitive path of Diff is
// what the allRenderings receive.
type renderWebhookSpec struct {
	Type   string `diff:"type"`
	URL    string `diff:"url"`
	Secret string `diff:"secret,sensitive"`
}

const (
	renderOldSecret = "whsec_OLD_do-not-print-7f3a"
	renderNewSecret = "whsec_NEW_do-not-print-91c0"
)

func renderAgentJobs(retries, retryDelay int64, dlq string) QueueSpec {
	return QueueSpec{
		Name: "monotask-staging-agent-jobs", MessageRetention: 345600,
		Consumers: map[string]ConsumerSpec{"agent-worker": {
			Type: "worker", Worker: "agent-worker", BatchSize: 10, MaxWait: 5000,
			MaxRetries: retries, RetryDelay: retryDelay, MaxConcurrency: 10, DeadLetterQueue: dlq,
		}},
	}
}

func renderQueue(name string, retention int64) QueueSpec {
	return QueueSpec{Name: name, MessageRetention: retention, Consumers: map[string]ConsumerSpec{}}
}

func renderChange(addr string, action Action, id string, fields []FieldChange) Change {
	a, err := ParseAddress(addr)
	if err != nil {
		panic(err)
	}
	return Change{Address: addr, Kind: a.Kind, Name: a.Name, Action: action, ID: id, Key: a.Name, Fields: fields}
}

// renderSamplePlan has one change of every action, a sensitive field, impacts and reasons,
// in the order the planner produces (deletes and forgets last).
func renderSamplePlan() *Plan {
	replace := renderChange("alert_destination.oncall", Replace, "dest-5b1e", Diff(
		renderWebhookSpec{Type: "slack", URL: "https://hooks.slack.com/services/T0/B0", Secret: renderOldSecret},
		renderWebhookSpec{Type: "webhook", URL: "https://oncall.monotask.dev/hooks/cf", Secret: renderNewSecret},
	))
	replace.Key = "oncall"
	replace.Impact = []string{"alerts fired between the delete and the create are not delivered to this destination"}
	replace.Reason = "a changed attribute cannot be updated in place"

	noop := renderChange("analytics_dataset.agent_metrics", NoOp, "agent_metrics", nil)

	create := renderChange("queue.agent_jobs_dlq", Create, "", Diff(nil, renderQueue("monotask-staging-agent-jobs-dlq", 1209600)))
	create.Key = "monotask-staging-agent-jobs-dlq"

	upd := renderChange("queue.agent_jobs", Update, "q-7d41a0", Diff(renderAgentJobs(5, 0, ""), renderAgentJobs(3, 30, "monotask-staging-agent-jobs-dlq")))
	upd.Key = "monotask-staging-agent-jobs"
	upd.Impact = []string{
		"failed messages go to monotask-staging-agent-jobs-dlq after 3 retries instead of being dropped",
		"failed messages are sent to dead-letter queue monotask-staging-agent-jobs-dlq after 3 retries instead of 5",
		"failed messages wait 30s before a retry (was 0s)",
	}
	upd.DependsOn = []string{"queue.agent_jobs_dlq"}

	notif := renderChange("queue.notifications", Update, "q-1c9e02", []FieldChange{
		{Path: `consumer["notify-worker"].max_retries`, Old: "3", New: "0", OldSet: true, NewSet: true, Field: "max_retries"},
	})
	notif.Key = "monotask-staging-notifications"
	notif.Impact = []string{"max_retries 3 → 0: failed messages are dropped at once, with no retry"}

	adopt := renderChange("queue.sandbox_cleanup", Adopt, "q-44b0f3", Diff(renderQueue("monotask-staging-sandbox-cleanup", 345600), renderQueue("monotask-staging-sandbox-cleanup", 86400)))
	adopt.Key = "monotask-staging-sandbox-cleanup"
	adopt.Impact = []string{"undelivered messages are kept 1d instead of 4d: older ones are lost sooner"}
	adopt.Reason = "created by an earlier apply whose answer was lost; taking it over"

	del := renderChange("queue.legacy_jobs", Delete, "q-0a9917", Diff(renderQueue("monotask-staging-legacy-jobs", 345600), nil))
	del.Key = "monotask-staging-legacy-jobs"
	del.Impact = []string{`queue "monotask-staging-legacy-jobs" is deleted with every message still in it`}

	forget := renderChange("queue.old_dlq", Forget, "q-3e3e10", nil)
	forget.Key = "monotask-staging-old-dlq"
	forget.Reason = "removed from the configuration and already gone from the account"

	return &Plan{
		FormatVersion: PlanFormatVersion, ConfigHash: "9b1f0c2d4e6a8b0c1d2e3f40", LiveHash: "51aa7e3c0b9d8f6e4c2a1b30",
		Changes: []Change{replace, noop, create, upd, notif, adopt, del, forget},
	}
}

func renderEmptyPlan() *Plan {
	return &Plan{
		FormatVersion: PlanFormatVersion, ConfigHash: "9b1f0c2d4e6a8b0c1d2e3f40", LiveHash: "9b1f0c2d4e6a8b0c1d2e3f40",
		Changes: []Change{renderChange("queue.agent_jobs", NoOp, "q-7d41a0", nil)},
	}
}

type renderFunc func(io.Writer, *Plan) error

func renderWithOptions(f func(io.Writer, *Plan, RenderOptions) error, o RenderOptions) renderFunc {
	return func(w io.Writer, p *Plan) error { return f(w, p, o) }
}

// allRenderings are every rendering, as the CLI calls them.
func allRenderings(o RenderOptions) map[string]renderFunc {
	return map[string]renderFunc{
		"text":           renderWithOptions(RenderText, o),
		"json":           RenderJSON,
		"markdown":       renderWithOptions(RenderMarkdown, o),
		"drift text":     renderWithOptions(RenderDriftText, o),
		"drift json":     RenderDriftJSON,
		"drift markdown": renderWithOptions(RenderDriftMarkdown, o),
	}
}

func TestRenderGolden(t *testing.T) {
	o := RenderOptions{Target: renderTarget}
	all := allRenderings(o)
	tests := []struct {
		golden string
		render renderFunc
		plan   *Plan
	}{
		{"plan.txt", all["text"], renderSamplePlan()},
		{"plan.json", all["json"], renderSamplePlan()},
		{"plan.md", all["markdown"], renderSamplePlan()},
		{"drift.txt", all["drift text"], renderSamplePlan()},
		{"drift.json", all["drift json"], renderSamplePlan()},
		{"drift.md", all["drift markdown"], renderSamplePlan()},
		{"empty.txt", all["text"], renderEmptyPlan()},
		{"empty.json", all["json"], renderEmptyPlan()},
		{"empty.md", all["markdown"], renderEmptyPlan()},
		{"empty_drift.txt", all["drift text"], renderEmptyPlan()},
		{"empty_drift.json", all["drift json"], renderEmptyPlan()},
		{"empty_drift.md", all["drift markdown"], renderEmptyPlan()},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.render(&b, tt.plan); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "render", tt.golden)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./reconciler/ -run Render -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), b.String()); diff != "" {
				t.Errorf("%s mismatch (-golden +got); if intended, rerun with -update:\n%s", path, diff)
			}
		})
	}
}

func TestRenderSensitiveNeverShown(t *testing.T) {
	p := renderSamplePlan()
	// A kind that forgets to mask: the renderers must mask on Sensitive alone.
	careless := renderChange("alert_destination.pager", Update, "dest-0001", []FieldChange{{
		Path: "secret", Old: renderOldSecret, New: renderNewSecret, OldSet: true, NewSet: true, Sensitive: true,
		Field: "secret", OldRaw: renderOldSecret, NewRaw: renderNewSecret,
	}})
	p.Changes = append(p.Changes, careless)
	for _, color := range []bool{false, true} {
		for name, render := range allRenderings(RenderOptions{Color: color, Target: renderTarget}) {
			var b bytes.Buffer
			if err := render(&b, p); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, secret := range []string{renderOldSecret, renderNewSecret, "do-not-print"} {
				if strings.Contains(b.String(), secret) {
					t.Errorf("%s (color %v) shows a sensitive value %q:\n%s", name, color, secret, b.String())
				}
			}
			if !strings.Contains(b.String(), masked) {
				t.Errorf("%s (color %v) does not show %s where a secret changed", name, color, masked)
			}
		}
	}
}

func TestRenderJSONParsesBack(t *testing.T) {
	p := renderSamplePlan()
	var b bytes.Buffer
	if err := RenderJSON(&b, p); err != nil {
		t.Fatal(err)
	}
	var got struct {
		FormatVersion string         `json:"format_version"`
		Summary       map[string]int `json:"summary"`
		ConfigHash    string         `json:"config_hash"`
		Changes       []struct {
			Address string `json:"address"`
			Action  string `json:"action"`
			Fields  []struct {
				Path   string  `json:"path"`
				Old    *string `json:"old"`
				New    *string `json:"new"`
				OldSet bool    `json:"old_set"`
				NewSet bool    `json:"new_set"`
			} `json:"fields"`
		} `json:"changes"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("RenderJSON output is not JSON: %v\n%s", err, b.String())
	}
	wantSummary := map[string]int{"create": 1, "update": 2, "replace": 1, "delete": 1, "adopt": 1, "forget": 1, "no_op": 1}
	if diff := cmp.Diff(wantSummary, got.Summary); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if got.FormatVersion != PlanFormatVersion || got.ConfigHash != p.ConfigHash {
		t.Errorf("format_version %q, config_hash %q; want %q, %q", got.FormatVersion, got.ConfigHash, PlanFormatVersion, p.ConfigHash)
	}
	if len(got.Changes) != len(p.Changes) {
		t.Fatalf("%d changes, want %d (no-ops included)", len(got.Changes), len(p.Changes))
	}
	for i, c := range got.Changes {
		if c.Address != p.Changes[i].Address || c.Action != string(p.Changes[i].Action) {
			t.Errorf("change %d is %s %s, want %s %s (plan order)", i, c.Action, c.Address, p.Changes[i].Action, p.Changes[i].Address)
		}
		for _, f := range c.Fields {
			if (f.Old != nil) != f.OldSet || (f.New != nil) != f.NewSet {
				t.Errorf("%s %s: old/new must be null exactly when unset: %+v", c.Address, f.Path, f)
			}
		}
	}

	var drift struct {
		Drift   bool `json:"drift"`
		Objects []struct {
			Address string `json:"address"`
		} `json:"objects"`
	}
	b.Reset()
	if err := RenderDriftJSON(&b, p); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b.Bytes(), &drift); err != nil {
		t.Fatalf("RenderDriftJSON output is not JSON: %v\n%s", err, b.String())
	}
	if !drift.Drift || len(drift.Objects) != 6 {
		t.Errorf("drift %v with %d objects; want true with 6 (all but the no-op and the forget)", drift.Drift, len(drift.Objects))
	}
}

func TestRenderStable(t *testing.T) {
	for name, render := range allRenderings(RenderOptions{Color: true, Target: renderTarget}) {
		var first, second bytes.Buffer
		if err := render(&first, renderSamplePlan()); err != nil {
			t.Fatal(err)
		}
		if err := render(&second, renderSamplePlan()); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Errorf("%s: two allRenderings of the same plan differ", name)
		}
	}
}

func TestRenderTextColor(t *testing.T) {
	var plain, colored bytes.Buffer
	if err := RenderText(&plain, renderSamplePlan(), RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := RenderText(&colored, renderSamplePlan(), RenderOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Errorf("Color false, but the text holds ANSI escapes:\n%q", plain.String())
	}
	for _, want := range []string{ansiGreen + "+" + ansiReset, ansiYellow + "~" + ansiReset, ansiRed + "-" + ansiReset} {
		if !strings.Contains(colored.String(), want) {
			t.Errorf("Color true, but the text lacks %q", want)
		}
	}
	var md bytes.Buffer
	if err := RenderMarkdown(&md, renderSamplePlan(), RenderOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(md.String(), "\x1b[") {
		t.Error("Markdown holds ANSI escapes")
	}
}

func TestRenderTextSummaryLine(t *testing.T) {
	tests := []struct {
		name    string
		actions []Action
		want    string
	}{
		{"adopt counts as update", []Action{Update, Adopt, NoOp}, "Plan: 0 to create, 2 to update, 0 to replace, 0 to delete."},
		{"forget only when non-zero", []Action{Create, Forget, Forget}, "Plan: 1 to create, 0 to update, 0 to replace, 0 to delete, 2 to forget."},
		{"every count", []Action{Create, Update, Update, Replace, Delete}, "Plan: 1 to create, 2 to update, 1 to replace, 1 to delete."},
		{"no-ops only", []Action{NoOp, NoOp}, "No changes. The account matches the configuration."},
		{"nothing declared", nil, "No changes. The account matches the configuration."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Plan{}
			for i, a := range tt.actions {
				p.Changes = append(p.Changes, renderChange("queue.q"+string(rune('a'+i)), a, "", nil))
			}
			var b bytes.Buffer
			if err := RenderText(&b, p, RenderOptions{}); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(b.String()), "\n")
			if got := lines[len(lines)-1]; got != tt.want {
				t.Errorf("last line %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRenderDrifted(t *testing.T) {
	field := []FieldChange{{Path: "paused", Old: "false", New: "true", OldSet: true, NewSet: true}}
	tests := []struct {
		name   string
		change Change
		drift  bool
	}{
		{"no-op", renderChange("queue.a", NoOp, "q1", nil), false},
		{"missing from the account", renderChange("queue.a", Create, "", field), true},
		{"fields differ", renderChange("queue.a", Update, "q1", field), true},
		{"must be replaced", renderChange("queue.a", Replace, "q1", field), true},
		{"removed from the configuration", renderChange("queue.a", Delete, "q1", field), true},
		{"adopt with a difference", renderChange("queue.a", Adopt, "q1", field), true},
		{"adopt that matches", renderChange("queue.a", Adopt, "q1", nil), false},
		{"forget: gone from both sides", renderChange("queue.a", Forget, "q1", nil), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := len(Drifted(&Plan{Changes: []Change{tt.change}})) == 1
			if got != tt.drift {
				t.Errorf("Drifted includes %s: %v, want %v", tt.change.Action, got, tt.drift)
			}
		})
	}
}

func TestRenderMarkdownValuesCannotBreakOut(t *testing.T) {
	p := &Plan{Changes: []Change{renderChange("queue.odd", Update, "q1", []FieldChange{
		{Path: "name", Old: "\"a|b\"", New: "\"```\\n</details>\"", OldSet: true, NewSet: true},
	})}}
	var b bytes.Buffer
	if err := RenderMarkdown(&b, p, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	if !strings.Contains(md, "````diff\n") {
		t.Errorf("a value holding ``` must get a longer fence:\n%s", md)
	}
	if strings.Count(md, "</details>") != 2 { // the closing tag and the value, inside the fence
		t.Errorf("unexpected </details> count:\n%s", md)
	}
}

func TestRenderNilPlan(t *testing.T) {
	for name, render := range allRenderings(RenderOptions{}) {
		if err := render(io.Discard, nil); err == nil {
			t.Errorf("%s of a nil plan: no error", name)
		}
	}
}
