package cloudflare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/emulator"
)

var settingsClock = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// settingsConformance is the account of a settings test with the Worker "agent"
// deployed (a.name("agent"), removed at the end); on the emulator on a fixed clock.
func settingsConformance(t *testing.T, opts emulator.Options) (*conformanceAccount, string) {
	t.Helper()
	opts.RateLimit, opts.Now = -1, func() time.Time { return settingsClock }
	a := newConformanceAccountConfig(t, opts, Config{MaxRetries: -1})
	return a, a.script(t, "agent", agentWorkerJS)
}

// rawBindings turns JSON object texts into bindings.
func rawBindings(objs ...string) []json.RawMessage {
	out := make([]json.RawMessage, 0, len(objs))
	for _, o := range objs {
		out = append(out, json.RawMessage(o))
	}
	return out
}

// decodeBindings decodes bindings for field-by-field comparison.
func decodeBindings(t *testing.T, bs []json.RawMessage) []map[string]any {
	t.Helper()
	out := make([]map[string]any, 0, len(bs))
	for _, b := range bs {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("binding %s: %v", b, err)
		}
		out = append(out, m)
	}
	return out
}

// countRequests runs f and returns how many requests c sent meanwhile.
func countRequests(t *testing.T, c *Client, f func() error) int64 {
	t.Helper()
	before := c.Requests()
	if err := f(); err != nil {
		t.Fatal(err)
	}
	return c.Requests() - before
}

const secretToken = "tok-9f8e7d6c"

// sixBindings are bindings of six other kinds a Worker may already have.
var sixBindings = []string{
	`{"type":"kv_namespace","name":"OPS","namespace_id":"0123456789abcdef0123456789abcdef"}`,
	`{"type":"d1","name":"DB","id":"5f0c6c1e-8d2a-4b7e-9a51-3f1d2e4c5b6a"}`,
	`{"type":"r2_bucket","name":"ARCHIVE","bucket_name":"agent-archive","jurisdiction":"eu"}`,
	`{"type":"service","name":"BILLING","service":"billing","environment":"production"}`,
	`{"type":"secret_text","name":"TOKEN","text":"` + secretToken + `"}`,
	`{"type":"plain_text","name":"MODE","text":"sandbox"}`,
}

// sixBindingsIn is sixBindings for the account a: on the emulator as they are (it does
// not look for what a binding names); live, naming a KV namespace, a D1 database, an R2
// bucket (default jurisdiction: the client creates no other) and a Worker the test
// makes, which Cloudflare requires to exist.
func sixBindingsIn(t *testing.T, a *conformanceAccount) []string {
	t.Helper()
	if !a.live() {
		return sixBindings
	}
	kvID, db, bucket := a.kvNamespace(t, "ops").ID, a.d1(t, "db").UUID, a.bucket(t, "agent-archive")
	billing := a.script(t, "billing", reportWorkerJS)
	return []string{
		`{"type":"kv_namespace","name":"OPS","namespace_id":"` + kvID + `"}`,
		`{"type":"d1","name":"DB","id":"` + db + `"}`,
		`{"type":"r2_bucket","name":"ARCHIVE","bucket_name":"` + bucket + `"}`,
		`{"type":"service","name":"BILLING","service":"` + billing + `"}`,
		sixBindings[4], sixBindings[5],
	}
}

// TestConformanceWorkerSettingsRoundTripKeepsForeignBindings: settings are written and
// read in one request each; bindings of every kind come back as written (a secret
// without its text); writing back what was read with the secret as inherit and one
// binding more keeps them all, and the secret's value.
func TestConformanceWorkerSettingsRoundTripKeepsForeignBindings(t *testing.T) {
	a, agent := settingsConformance(t, emulator.Options{})
	c, srv := a.c, a.srv
	ctx := context.Background()
	initial := WorkerSettings{
		Bindings: rawBindings(sixBindingsIn(t, a)...),
		CPUMs:    50_000,
		Logpush:  true,
		Observability: &Observability{Enabled: true, HeadSamplingRate: 0.5,
			Logs: &ObservabilityLogs{Enabled: true, InvocationLogs: true, HeadSamplingRate: 1}},
	}
	if n := countRequests(t, c, func() error { return c.SetWorkerSettings(ctx, agent, initial) }); n != 1 {
		t.Errorf("SetWorkerSettings sent %d requests, want 1", n)
	}

	var read WorkerSettings
	if n := countRequests(t, c, func() (err error) { read, err = c.WorkerSettings(ctx, agent); return err }); n != 1 {
		t.Errorf("WorkerSettings sent %d requests, want 1", n)
	}
	want := decodeBindings(t, initial.Bindings)
	delete(want[4], "text") // the API never returns a secret
	if diff := cmp.Diff(want, decodeBindings(t, read.Bindings)); diff != "" {
		t.Errorf("bindings read (-want +got):\n%s", diff)
	}
	if read.CPUMs != 50_000 || !read.Logpush || !cmp.Equal(initial.Observability, read.Observability) {
		t.Errorf("read = cpu %d logpush %v observability %+v; want what was written", read.CPUMs, read.Logpush, read.Observability)
	}
	for _, b := range read.Bindings {
		if strings.Contains(string(b), secretToken) {
			t.Errorf("a binding read carries the secret: %s", b)
		}
	}

	// The merge: keep every binding, the secret by inherit, and add one.
	next := read
	next.Bindings = append([]json.RawMessage(nil), read.Bindings...)
	next.Bindings[4] = json.RawMessage(`{"type":"inherit","name":"TOKEN"}`)
	next.Bindings = append(next.Bindings, json.RawMessage(`{"type":"analytics_engine","name":"METRICS","dataset":"agent_metrics"}`))
	if err := c.SetWorkerSettings(ctx, agent, next); err != nil {
		t.Fatalf("write the merge: %v", err)
	}
	after, err := c.WorkerSettings(ctx, agent)
	if err != nil {
		t.Fatalf("read after the merge: %v", err)
	}
	want = append(want, map[string]any{"type": "analytics_engine", "name": "METRICS", "dataset": "agent_metrics"})
	if diff := cmp.Diff(want, decodeBindings(t, after.Bindings)); diff != "" {
		t.Errorf("bindings after the merge (-want +got):\n%s", diff)
	}
	if !a.live() { // emulator only: Cloudflare never shows a secret's value
		if got, ok := srv.SecretText(c.AccountID(), agent, "TOKEN"); !ok || got != secretToken {
			t.Errorf("TOKEN's value after the merge = %q, %v; want it kept", got, ok)
		}
	}
	if after.CPUMs != 50_000 || !after.Logpush || !cmp.Equal(initial.Observability, after.Observability) {
		t.Errorf("after the merge: cpu %d logpush %v observability %+v; want them unchanged", after.CPUMs, after.Logpush, after.Observability)
	}
}

// TestConformanceWorkerSettingsFields: the CPU limit and observability fields round trip;
// a write without observability leaves it and one without a CPU limit clears it.
func TestConformanceWorkerSettingsFields(t *testing.T) {
	a, agent := settingsConformance(t, emulator.Options{})
	c := a.c
	ctx := context.Background()
	persist := false
	traces := json.RawMessage(`{"enabled":true,"head_sampling_rate":0.1}`)
	if err := c.SetWorkerSettings(ctx, agent, WorkerSettings{CPUMs: 300_000, Observability: &Observability{
		Enabled: true, HeadSamplingRate: 0.25, Traces: traces,
		Logs: &ObservabilityLogs{Enabled: true, HeadSamplingRate: 0.75, Persist: &persist, Destinations: []string{"sink"}},
	}}); err != nil {
		t.Fatalf("write: %v", err)
	}
	// Observability nil leaves it; CPUMs 0 clears the limit.
	if err := c.SetWorkerSettings(ctx, agent, WorkerSettings{Logpush: true}); err != nil {
		t.Fatalf("second write: %v", err)
	}
	got, err := c.WorkerSettings(ctx, agent)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	want := WorkerSettings{Bindings: []json.RawMessage{}, Logpush: true, Observability: &Observability{
		Enabled: true, HeadSamplingRate: 0.25, Traces: traces,
		Logs: &ObservabilityLogs{Enabled: true, HeadSamplingRate: 0.75, Persist: &persist, Destinations: []string{"sink"}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
}

// TestConformanceWorkerSettingsErrors: settings of a missing Worker are not found; invalid
// settings are refused with 10021 and change nothing.
func TestConformanceWorkerSettingsErrors(t *testing.T) {
	a, agent := settingsConformance(t, emulator.Options{})
	c := a.c
	ctx := context.Background()

	nope := a.name("nope")
	_, err := c.WorkerSettings(ctx, nope)
	if !IsNotFound(err) || !IsScriptNotFound(err) || !strings.Contains(err.Error(), fmt.Sprintf("cannot read settings of Worker %q", nope)) {
		t.Errorf("WorkerSettings of a missing script: %v; want a 404 10007 naming the operation", err)
	}
	err = c.SetWorkerSettings(ctx, nope, WorkerSettings{})
	if !IsNotFound(err) {
		t.Errorf("SetWorkerSettings of a missing script: %v; want IsNotFound", err)
	}

	tests := []struct {
		name     string
		settings WorkerSettings
	}{
		{"inherit of a missing binding", WorkerSettings{Bindings: rawBindings(`{"type":"inherit","name":"GONE"}`)}},
		{"secret_text without text", WorkerSettings{Bindings: rawBindings(`{"type":"secret_text","name":"TOKEN"}`)}},
		{"cpu_ms above 300000", WorkerSettings{CPUMs: 300_001}},
		{"head_sampling_rate above 1", WorkerSettings{Observability: &Observability{Enabled: true, HeadSamplingRate: 2}}},
		{"logs head_sampling_rate below 0", WorkerSettings{Observability: &Observability{Enabled: true, HeadSamplingRate: 1,
			Logs: &ObservabilityLogs{Enabled: true, HeadSamplingRate: -1}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.SetWorkerSettings(ctx, agent, tt.settings)
			var ae *APIError
			if !errors.As(err, &ae) || ae.Status != 400 || !ae.HasCode(10021) {
				t.Errorf("got %v, want HTTP 400 code 10021", err)
			}
		})
	}
	if err := c.SetWorkerSettings(ctx, agent, WorkerSettings{Bindings: rawBindings(`{"type":`)}); err == nil || IsNotFound(err) {
		t.Errorf("a binding that is not JSON: %v, want a local error", err)
	}
	got, err := c.WorkerSettings(ctx, agent)
	if err != nil || len(got.Bindings) != 0 || got.CPUMs != 0 || got.Observability != nil {
		t.Errorf("refused writes changed the settings: %+v, %v", got, err)
	}
}

// TestConformanceWorkerCrons: cron triggers are written and read in one request each,
// an invalid one is refused with 10021, and an empty list clears them. On the emulator
// only, with the account's limit forced to 5: a sixth cron in the account is refused.
func TestConformanceWorkerCrons(t *testing.T) {
	a, agent := settingsConformance(t, emulator.Options{CronLimit: 5})
	c := a.c
	ctx := context.Background()
	report := a.script(t, "report", reportWorkerJS)
	crons := []string{"*/30 * * * *", "0 18 * * FRI", "0 9 * * MON-FRI"}
	if n := countRequests(t, c, func() error { return c.SetWorkerCrons(ctx, agent, crons) }); n != 1 {
		t.Errorf("SetWorkerCrons sent %d requests, want 1", n)
	}
	var got []string
	if n := countRequests(t, c, func() (err error) { got, err = c.WorkerCrons(ctx, agent); return err }); n != 1 {
		t.Errorf("WorkerCrons sent %d requests, want 1", n)
	}
	if diff := cmp.Diff(crons, got); diff != "" {
		t.Errorf("crons (-want +got):\n%s", diff)
	}

	if !a.live() { // emulator only: the account's cron limit is forced to 5
		err := c.SetWorkerCrons(ctx, report, []string{"0 1 * * *", "0 2 * * *", "0 3 * * *"})
		if !IsTooManyCrons(err) || !strings.Contains(err.Error(), fmt.Sprintf("cannot write cron triggers of Worker %q", report)) {
			t.Errorf("sixth cron in the account: %v, want IsTooManyCrons naming the operation", err)
		}
	}
	if err := c.SetWorkerCrons(ctx, report, []string{"0 1 * * *", "0 2 * * *"}); err != nil {
		t.Errorf("fifth cron in the account: %v", err)
	}
	err := c.SetWorkerCrons(ctx, agent, []string{"61 * * * *"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 400 || !ae.HasCode(10021) {
		t.Errorf("an invalid cron: %v, want HTTP 400 code 10021", err)
	}
	if err := c.SetWorkerCrons(ctx, agent, nil); err != nil {
		t.Fatalf("clearing: %v", err)
	}
	got, err = c.WorkerCrons(ctx, agent)
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("after clearing: %#v, %v; want an empty list", got, err)
	}
	if _, err := c.WorkerCrons(ctx, a.name("nope")); !IsScriptNotFound(err) {
		t.Errorf("crons of a missing script: %v, want IsScriptNotFound", err)
	}
}
