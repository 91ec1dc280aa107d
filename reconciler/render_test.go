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
		Consumers: Consumers{{
			Type: "worker", Worker: "agent-worker", BatchSize: 10, MaxWait: 5000,
			MaxRetries: retries, RetryDelay: retryDelay, MaxConcurrency: 10, DeadLetterQueue: dlq,
		}},
	}
}

func renderQueue(name string, retention int64) QueueSpec {
	return QueueSpec{Name: name, MessageRetention: retention, Consumers: Consumers{}}
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
		"failed messages wait 30s before a retry (was 0s)",
	}
	upd.DependsOn = []string{"queue.agent_jobs_dlq"}

	notify := func(retries int64) QueueSpec {
		q := renderQueue("monotask-staging-notifications", 345600)
		q.Consumers.Put(ConsumerSpec{Type: "worker", Worker: "notify-worker", BatchSize: 10, MaxWait: 5000, MaxRetries: retries})
		return q
	}
	notif := renderChange("queue.notifications", Update, "q-1c9e02", Diff(notify(3), notify(0)))
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

	for _, c := range []*Change{&replace, &noop, &upd, &notif, &adopt, &del} {
		c.LiveKey = c.Key // the planner sets it for every object that exists
	}
	return &Plan{
		FormatVersion: PlanFormatVersion, ConfigHash: "9b1f0c2d4e6a8b0c1d2e3f40", LiveHash: "51aa7e3c0b9d8f6e4c2a1b30",
		Target:  Target{Kind: "local", DataDir: ".flareops/local", Workspace: "default"},
		Changes: []Change{replace, noop, create, upd, notif, adopt, del, forget},
	}
}

// origins sets the origin (and the value last applied) of the fields at the given paths;
// the others keep origin config.
func origins(fields []FieldChange, byPath map[string][2]string) []FieldChange {
	for i, f := range fields {
		o, ok := byPath[f.Path]
		if !ok {
			continue
		}
		fields[i].Origin, fields[i].Applied, fields[i].AppliedSet = o[0], o[1], o[1] != ""
	}
	return fields
}

// renderOutsidePlan is a plan against an account that was changed outside flareops,
// beside configuration changes: every origin, an object deleted outside, a secret changed
// outside, a rename, an http_pull consumer, a consumer replaced by another, the user's
// spelling of a duration, warnings, and a target known only from the plan.
func renderOutsidePlan() *Plan {
	// Someone paused the queue and set max_retries to 0 by hand; meanwhile the
	// configuration raised max_retries to 5 and added a retry delay.
	liveJobs := renderAgentJobs(0, 0, "monotask-staging-agent-jobs-dlq")
	liveJobs.Paused = true
	jobs := renderChange("queue.agent_jobs", Update, "8f3a61c2d9e04b7f8f3a61c2d9e04b7f", origins(
		Diff(liveJobs, renderAgentJobs(5, 30, "monotask-staging-agent-jobs-dlq")),
		map[string][2]string{
			"paused":                               {OriginOutside, "false"},
			`consumer["agent-worker"].max_retries`: {OriginBoth, "3"},
		}))
	jobs.Key, jobs.LiveKey, jobs.Origin = "monotask-staging-agent-jobs", "monotask-staging-agent-jobs", OriginBoth
	jobs.Impact = []string{
		"delivery resumes: the backlog is delivered to consumers",
		"failed messages are retried up to 5 times (was 0) before being sent to dead-letter queue monotask-staging-agent-jobs-dlq",
		"failed messages wait 30s before a retry (was 0s)",
	}

	// The webhook secret was rotated in the dashboard.
	oncall := renderChange("alert_destination.oncall", Update, "dest-5b1e", Diff(
		renderWebhookSpec{Type: "slack", URL: "https://hooks.slack.com/services/T0/B0", Secret: renderOldSecret},
		renderWebhookSpec{Type: "slack", URL: "https://hooks.slack.com/services/T0/B0", Secret: renderNewSecret},
	))
	oncall.Fields[0].Origin, oncall.Fields[0].Applied, oncall.Fields[0].AppliedSet = OriginOutside, Masked, true
	oncall.LiveKey, oncall.Origin = "oncall", OriginOutside

	cleanup := renderChange("queue.sandbox_cleanup", Create, "", Diff(nil, renderQueue("monotask-staging-sandbox-cleanup", 86400)))
	cleanup.Key, cleanup.Origin = "monotask-staging-sandbox-cleanup", OriginOutside
	cleanup.Reason = "deleted outside flareops; it will be created again"

	billing := renderChange("queue.billing", Update, "2c07d3e9a1b84f55", Diff(
		renderQueue("monotask-staging-billing", 345600), renderQueue("monotask-staging-invoices", 345600)))
	billing.Key, billing.LiveKey, billing.Origin = "monotask-staging-invoices", "monotask-staging-billing", OriginConfig
	billing.Impact = []string{`queue renamed "monotask-staging-billing" → "monotask-staging-invoices": producers and consumers bound by the old name must be redeployed`}

	// A pull consumer: its key is "http_pull", which is no attribute of the block. The user
	// wrote visibility_timeout = "60s", which the planner keeps.
	pull := func(batch, visibility int64) QueueSpec {
		q := renderQueue("monotask-staging-webhooks", 345600)
		q.Consumers.Put(ConsumerSpec{Type: "http_pull", BatchSize: batch, MaxRetries: 3, VisibilityTimeout: visibility})
		return q
	}
	hooks := renderChange("queue.webhooks", Update, "5d1e0f4b7a6c4c21", Diff(pull(5, 30000), pull(10, 60000)))
	for i, f := range hooks.Fields {
		if f.Field == "visibility_timeout" {
			hooks.Fields[i].New = "60s"
		}
	}
	hooks.Key, hooks.LiveKey = "monotask-staging-webhooks", "monotask-staging-webhooks"
	hooks.Impact = []string{
		"consumer receives batches of up to 10 messages (was 5)",
		"a pulled message is redelivered if not acknowledged within 60s (was 30s)",
	}

	// The consumer moves to another Worker: the old block goes, a new one comes.
	worker := func(name string) QueueSpec {
		q := renderQueue("monotask-staging-agent-events", 345600)
		q.Consumers.Put(ConsumerSpec{Type: "worker", Worker: name, BatchSize: 10, MaxWait: 5000, MaxRetries: 3})
		return q
	}
	events := renderChange("queue.agent_events", Update, "77b2c9d0e1f24a38", Diff(worker("events-worker-v1"), worker("events-worker")))
	events.Key, events.LiveKey = "monotask-staging-agent-events", "monotask-staging-agent-events"
	events.Impact = []string{
		`consumer "events-worker" starts receiving messages`,
		`consumer "events-worker-v1" is removed: messages accumulate until 4d retention expires, unless another consumer takes over`,
	}

	del := renderChange("queue.legacy_jobs", Delete, "0a99170c3e5f4d6b", Diff(renderQueue("monotask-staging-legacy-jobs", 345600), nil))
	del.Key, del.LiveKey = "monotask-staging-legacy-jobs", "monotask-staging-legacy-jobs"
	del.Impact = []string{`queue "monotask-staging-legacy-jobs" is deleted with every message still in it`}

	return &Plan{
		FormatVersion: PlanFormatVersion, ConfigHash: "4e1d9a0b7c3f2e5d6a8b9c0d", LiveHash: "c3b2a1f0e9d8c7b6a5f4e3d2",
		Target: Target{Kind: "account", AccountID: "0123456789abcdef0123456789abcdef", BaseURL: "https://api.cloudflare.com/client/v4", Workspace: "staging"},
		Warnings: []string{
			"3 managed objects were changed outside flareops since the last apply; this plan undoes those changes",
			"queue.legacy_jobs holds messages that were never delivered",
		},
		Changes: []Change{oncall, cleanup, jobs, billing, hooks, events, del},
	}
}

func renderEmptyPlan() *Plan {
	noop := renderChange("queue.agent_jobs", NoOp, "q-7d41a0", nil)
	noop.Key, noop.LiveKey = "monotask-staging-agent-jobs", "monotask-staging-agent-jobs"
	return &Plan{
		FormatVersion: PlanFormatVersion, ConfigHash: "9b1f0c2d4e6a8b0c1d2e3f40", LiveHash: "9b1f0c2d4e6a8b0c1d2e3f40",
		Target:  Target{Kind: "local", DataDir: ".flareops/local", Workspace: "default"},
		Changes: []Change{noop},
	}
}

// renderManualStep is what a Worker deployed by wrangler lacks.
func renderManualStep() ManualStep {
	return ManualStep{
		Address: "worker_settings.api_gateway", Source: "settings.flareops.hcl:3", Tool: "wrangler", Object: "Worker monotask-api-gateway",
		Differs: []string{"cpu_ms is 30,000 ms (the platform default), not 50", "logpush is off, not on"},
		Fragments: []Fragment{
			{File: "wrangler.toml", Text: "logpush = true\n\n[limits]\ncpu_ms = 50\n"},
			{File: "wrangler.jsonc", Text: "{\n  \"logpush\": true,\n  \"limits\": {\n    \"cpu_ms\": 50\n  }\n}\n"},
		},
	}
}

// renderManualPlan has nothing for flareops to do, and one thing for wrangler.
func renderManualPlan() *Plan {
	p := renderEmptyPlan()
	p.Manual = []ManualStep{renderManualStep()}
	return p
}

// renderMixedPlan has changes for flareops and one thing for wrangler.
func renderMixedPlan() *Plan {
	p := renderSamplePlan()
	p.Manual = []ManualStep{renderManualStep()}
	return p
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
	fromPlan := allRenderings(RenderOptions{}) // the header describes Plan.Target
	tests := []struct {
		golden string
		render renderFunc
		plan   *Plan
	}{
		{"outside.txt", fromPlan["text"], renderOutsidePlan()},
		{"outside.json", fromPlan["json"], renderOutsidePlan()},
		{"outside.md", fromPlan["markdown"], renderOutsidePlan()},
		{"outside_drift.txt", fromPlan["drift text"], renderOutsidePlan()},
		{"outside_drift.json", fromPlan["drift json"], renderOutsidePlan()},
		{"outside_drift.md", fromPlan["drift markdown"], renderOutsidePlan()},
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
		{"manual.txt", all["text"], renderManualPlan()},
		{"manual.json", all["json"], renderManualPlan()},
		{"manual.md", all["markdown"], renderManualPlan()},
		{"manual_drift.txt", all["drift text"], renderManualPlan()},
		{"manual_drift.json", all["drift json"], renderManualPlan()},
		{"manual_drift.md", all["drift markdown"], renderManualPlan()},
		{"mixed.txt", all["text"], renderMixedPlan()},
		{"mixed.md", all["markdown"], renderMixedPlan()},
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
		Origin: OriginBoth, Applied: renderOldSecret + "-applied", AppliedSet: true, AppliedRaw: renderOldSecret,
	}, {
		Path: "token", Old: renderOldSecret, New: renderNewSecret, OldSet: true, NewSet: true, Sensitive: true,
		Field: "token", OldRaw: renderOldSecret, NewRaw: renderNewSecret,
	}})
	careless.Origin = OriginBoth
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
			// People see the mask; programs see "sensitive": true and null values.
			want := Masked
			if strings.Contains(name, "json") {
				want = `"sensitive": true`
			}
			if !strings.Contains(b.String(), want) {
				t.Errorf("%s (color %v) does not show %s where a secret changed", name, color, want)
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
				Path      string `json:"path"`
				Old       any    `json:"old"`
				New       any    `json:"new"`
				OldSet    bool   `json:"old_set"`
				NewSet    bool   `json:"new_set"`
				Sensitive bool   `json:"sensitive"`
			} `json:"fields"`
		} `json:"changes"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("RenderJSON output is not JSON: %v\n%s", err, b.String())
	}
	wantSummary := map[string]int{"create": 1, "update": 2, "replace": 1, "delete": 1, "adopt": 1, "forget": 1, "no_op": 1, "changed_outside": 0}
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
			if (f.Old != nil) != (f.OldSet && !f.Sensitive) || (f.New != nil) != (f.NewSet && !f.Sensitive) {
				t.Errorf("%s %s: old/new must be null exactly when unset or sensitive: %+v", c.Address, f.Path, f)
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

func TestRenderOriginGroups(t *testing.T) {
	field := func(origin string) FieldChange {
		return FieldChange{Path: "paused", Old: "true", New: "false", OldSet: true, NewSet: true, Origin: origin}
	}
	change := func(addr string, a Action, origin string, fields ...FieldChange) Change {
		c := renderChange(addr, a, "id-"+addr, fields)
		c.Origin = origin
		return c
	}
	p := &Plan{Changes: []Change{
		change("queue.config", Update, OriginConfig, field(OriginConfig)),
		change("queue.unset", Update, "", field("")),
		change("queue.outside", Update, OriginOutside, field(OriginOutside)),
		change("queue.both", Update, OriginBoth, field(OriginBoth)),
		change("queue.recreated", Create, OriginOutside, field("")),
		change("queue.inferred", Update, "", field(OriginOutside)), // the change's origin comes from its fields
		change("queue.same", NoOp, ""),
		change("queue.forgotten", Forget, OriginOutside),
		change("queue.adopted", Adopt, ""),
		change("queue.removed", Delete, OriginConfig, field(OriginConfig)),
	}}
	addrs := func(cs []Change) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Address)
		}
		return out
	}
	tests := []struct {
		name string
		got  []Change
		want []string
	}{
		{"outside", OutsideChanges(p), []string{"queue.outside", "queue.both", "queue.recreated", "queue.inferred"}},
		{"pending config", PendingConfigChanges(p), []string{"queue.config", "queue.unset", "queue.removed"}},
		{"drifted is the union, in plan order", Drifted(p), []string{
			"queue.config", "queue.unset", "queue.outside", "queue.both", "queue.recreated", "queue.inferred", "queue.removed",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, addrs(tt.got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiffNestedBlocks(t *testing.T) {
	type tagged struct {
		Labels map[string]string `diff:"labels"`
	}
	consumer := func(c ConsumerSpec) QueueSpec {
		q := renderQueue("q", 60)
		q.Consumers.Put(c)
		return q
	}
	tests := []struct {
		name      string
		old, new  any
		path      string
		wantAttr  string
		wantBlock []BlockStep
	}{
		{
			"worker consumer: the worker attribute identifies it",
			consumer(ConsumerSpec{Type: "worker", Worker: "agent-worker", MaxRetries: 5}),
			consumer(ConsumerSpec{Type: "worker", Worker: "agent-worker", MaxRetries: 3}),
			`consumer["agent-worker"].max_retries`, "max_retries",
			[]BlockStep{{Type: "consumer", Key: "agent-worker", IdentAttr: "worker", Ident: `"agent-worker"`}},
		},
		{
			"pull consumer: keyed http_pull, identified by its type",
			consumer(ConsumerSpec{Type: "http_pull", BatchSize: 5}),
			consumer(ConsumerSpec{Type: "http_pull", BatchSize: 10}),
			`consumer["http_pull"].batch_size`, "batch_size",
			[]BlockStep{{Type: "consumer", Key: "http_pull", IdentAttr: "type", Ident: `"http_pull"`}},
		},
		{
			"a Worker named worker: the specific attribute wins",
			consumer(ConsumerSpec{Type: "worker", Worker: "worker", MaxRetries: 5}),
			consumer(ConsumerSpec{Type: "worker", Worker: "worker", MaxRetries: 3}),
			`consumer["worker"].max_retries`, "max_retries",
			[]BlockStep{{Type: "consumer", Key: "worker", IdentAttr: "worker", Ident: `"worker"`}},
		},
		{
			"top-level attribute", renderQueue("q", 60), renderQueue("q", 120),
			"message_retention", "message_retention", nil,
		},
		{
			"a map of values is an attribute, not blocks",
			tagged{map[string]string{"env": "a"}}, tagged{map[string]string{"env": "b"}},
			`labels["env"]`, `labels["env"]`, nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diff(tt.old, tt.new)
			if len(got) != 1 {
				t.Fatalf("Diff gave %d changes, want 1: %+v", len(got), got)
			}
			f := got[0]
			if f.Path != tt.path || f.Attr() != tt.wantAttr {
				t.Errorf("path %q attr %q, want %q %q", f.Path, f.Attr(), tt.path, tt.wantAttr)
			}
			if diff := cmp.Diff(tt.wantBlock, f.Blocks); diff != "" {
				t.Errorf("blocks (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRenderNestedBlocksHideTheirKey(t *testing.T) {
	for name, render := range allRenderings(RenderOptions{}) {
		if strings.Contains(name, "json") {
			continue // programs get the path, key included, and the blocks apart
		}
		var b bytes.Buffer
		if err := render(&b, renderOutsidePlan()); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{`consumer["`, `consumer "http_pull"`, `"http_pull"]`} {
			if strings.Contains(b.String(), bad) {
				t.Errorf("%s shows a block's key as a label (%s):\n%s", name, bad, b.String())
			}
		}
	}
}

func TestRenderTextHeaders(t *testing.T) {
	var b bytes.Buffer
	if err := RenderText(&b, renderOutsidePlan(), RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`  # queue.agent_jobs ("monotask-staging-agent-jobs", id 8f3a61c2d9e04b7f8f3a61c2d9e04b7f) will be updated in place`,
		`  # queue.billing ("monotask-staging-billing" -> "monotask-staging-invoices", id 2c07d3e9a1b84f55) will be updated in place`,
		`  # queue.legacy_jobs ("monotask-staging-legacy-jobs", id 0a99170c3e5f4d6b) will be destroyed`,
		`  # queue.sandbox_cleanup will be created`,
		"    paused: false -> true (changed outside flareops); this plan sets it back to false\n",
		"          ~ visibility_timeout = 30s -> 60s\n", // as the user wrote it, not 1m
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
	if i, j := strings.Index(b.String(), "Warning:"), strings.Index(b.String(), "Changes made outside"); i < 0 || j < i {
		t.Errorf("warnings must come before the changes:\n%s", b.String())
	}
}

func TestRenderImpactsOnce(t *testing.T) {
	c := renderChange("queue.a", Update, "q1", []FieldChange{{Path: "paused", Old: "false", New: "true", OldSet: true, NewSet: true}})
	c.Impact = []string{"delivery is paused", "delivery is paused", "messages accumulate"}
	p := &Plan{Changes: []Change{c}}
	for _, name := range []string{"text", "markdown"} {
		var b bytes.Buffer
		if err := allRenderings(RenderOptions{})[name](&b, p); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(b.String(), "delivery is paused"); n != 1 {
			t.Errorf("%s prints an impact %d times, want once:\n%s", name, n, b.String())
		}
	}
}

func TestRenderJSONTypedValues(t *testing.T) {
	var b bytes.Buffer
	if err := RenderJSON(&b, renderOutsidePlan()); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Target   map[string]string `json:"target"`
		Warnings []string          `json:"warnings"`
		Changes  []struct {
			Address string  `json:"address"`
			Origin  *string `json:"origin"`
			LiveKey string  `json:"live_key"`
			Fields  []struct {
				Path    string `json:"path"`
				Origin  string `json:"origin"`
				Old     any    `json:"old"`
				New     any    `json:"new"`
				Applied any    `json:"applied"`
			} `json:"fields"`
		} `json:"changes"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Target["kind"] != "account" || got.Target["workspace"] != "staging" || len(got.Warnings) != 2 {
		t.Errorf("target %v, %d warnings; want the account, workspace staging, 2 warnings", got.Target, len(got.Warnings))
	}
	type value struct {
		origin            string
		old, new, applied any
	}
	fields := map[string]value{}
	for _, c := range got.Changes {
		for _, f := range c.Fields {
			fields[c.Address+" "+f.Path] = value{f.Origin, f.Old, f.New, f.Applied}
		}
	}
	want := map[string]value{
		"queue.agent_jobs paused":                                 {OriginOutside, true, false, false},
		`queue.agent_jobs consumer["agent-worker"].max_retries`:   {OriginBoth, 0.0, 5.0, 3.0},
		`queue.agent_jobs consumer["agent-worker"].retry_delay`:   {OriginConfig, "0s", "30s", nil},
		`queue.webhooks consumer["http_pull"].visibility_timeout`: {OriginConfig, "30s", "60s", nil},
		"queue.billing name":                                      {OriginConfig, "monotask-staging-billing", "monotask-staging-invoices", nil},
		"alert_destination.oncall secret":                         {OriginOutside, nil, nil, nil},
	}
	for k, w := range want {
		if diff := cmp.Diff(w, fields[k], cmp.AllowUnexported(value{})); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}
}

func TestRenderJSONValue(t *testing.T) {
	tests := []struct {
		in   string
		want string // the value as JSON
	}{
		{"3", "3"}, {"-1", "-1"}, {"1.5", "1.5"}, {"true", "true"}, {"false", "false"},
		{`"slack"`, `"slack"`}, {`"a \"b\""`, `"a \"b\""`},
		{"30s", `"30s"`}, {"4d", `"4d"`}, {"automatic", `"automatic"`}, {"(none)", `"(none)"`},
		{`["a", "b"]`, `["a","b"]`}, {"1e", `"1e"`}, {"-", `"-"`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(jsonValue(FieldChange{}, tt.in, true))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("jsonValue(%s) = %s, want %s", tt.in, b, tt.want)
		}
	}
	if v := jsonValue(FieldChange{Sensitive: true}, "3", true); v != nil {
		t.Errorf("a sensitive value is %v, want nil", v)
	}
	if v := jsonValue(FieldChange{}, "3", false); v != nil {
		t.Errorf("an unset value is %v, want nil", v)
	}
}

func TestRenderNoColorUnlessAsked(t *testing.T) {
	for _, plan := range []*Plan{renderSamplePlan(), renderOutsidePlan()} {
		for name, render := range allRenderings(RenderOptions{}) {
			var b bytes.Buffer
			if err := render(&b, plan); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(b.String(), "\x1b[") {
				t.Errorf("%s without Color holds ANSI escapes:\n%q", name, b.String())
			}
		}
	}
}
