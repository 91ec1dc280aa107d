package reconciler

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/reconciler/cloudflare"
	"github.com/monotask/flareops/reconciler/workerset"
)

// settingsAccount is an account's Workers (their settings, as the settings API keeps
// them) and its Logpush jobs (whose secrets reads mask, as Cloudflare may).
type settingsAccount struct {
	mu       sync.Mutex
	settings map[string]cloudflare.WorkerSettings
	jobs     []cloudflare.LogpushJob
	nextID   int64
	writes   int
	// loseCreate makes the next job create happen but answer with a lost connection.
	loseCreate bool
}

func newSettingsAccount(scripts ...string) *settingsAccount {
	a := &settingsAccount{settings: map[string]cloudflare.WorkerSettings{}}
	for _, s := range scripts {
		a.settings[s] = cloudflare.WorkerSettings{}
	}
	return a
}

func (a *settingsAccount) WorkerSettings(_ context.Context, script string) (cloudflare.WorkerSettings, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	st, ok := a.settings[script]
	if !ok {
		return st, &cloudflare.APIError{Status: 404, Codes: []int{10007}, Messages: []string{"This Worker does not exist on your account."}}
	}
	if st.Observability != nil {
		o := *st.Observability
		st.Observability = &o
	}
	return st, nil
}

func (a *settingsAccount) SetWorkerSettings(_ context.Context, script string, s cloudflare.WorkerSettings) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.settings[script] = s
	a.writes++
	return nil
}

func (a *settingsAccount) WorkerCrons(context.Context, string) ([]string, error)  { return nil, nil }
func (a *settingsAccount) SetWorkerCrons(context.Context, string, []string) error { return nil }

func (a *settingsAccount) ListLogpushJobs(context.Context) ([]cloudflare.LogpushJob, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]cloudflare.LogpushJob, len(a.jobs))
	for i, j := range a.jobs {
		out[i] = j.Redacted()
	}
	return out, nil
}

func (a *settingsAccount) CreateLogpushJob(_ context.Context, j cloudflare.LogpushJob) (cloudflare.LogpushJob, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.nextID++
	j.ID = a.nextID
	a.jobs = append(a.jobs, j)
	a.writes++
	if a.loseCreate {
		a.loseCreate = false
		return cloudflare.LogpushJob{}, &cloudflare.AmbiguousError{Op: "create Logpush job", Err: errors.New("connection reset")}
	}
	return j, nil
}

func (a *settingsAccount) UpdateLogpushJob(_ context.Context, j cloudflare.LogpushJob) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range a.jobs {
		if a.jobs[i].ID == j.ID {
			a.jobs[i] = j
			a.writes++
			return nil
		}
	}
	return &cloudflare.APIError{Status: 404, Codes: []int{1003}}
}

func (a *settingsAccount) DeleteLogpushJob(_ context.Context, id int64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range a.jobs {
		if a.jobs[i].ID == id {
			a.jobs = append(a.jobs[:i], a.jobs[i+1:]...)
			a.writes++
			return nil
		}
	}
	return &cloudflare.APIError{Status: 404, Codes: []int{1003}}
}

const testAccount = "0123456789abcdef0123456789abcdef"

// settingsEngine is a fresh run (a new Worker set) over the account and a state.
func settingsEngine(t *testing.T, a *settingsAccount, st *State) *Engine {
	t.Helper()
	reg, err := NewRegistry(WorkerSettingsKind{Workers: workerset.New(a), Logpush: a, AccountID: testAccount})
	if err != nil {
		t.Fatal(err)
	}
	return &Engine{Registry: reg, State: st}
}

func settingsDecl(name string, v Values) Desired {
	return Desired{Addr: Address{"worker_settings", name}, Values: v, Source: "settings.flareops.hcl:1"}
}

func gatewaySettings(secret string) Values {
	return Values{
		"script": "gateway", "deployed_by": "flareops", "cpu_ms": int64(50),
		"observability": []Values{{"enabled": true, "head_sampling_rate": 0.1}},
		"logpush": []Values{{"bucket": "monotask-logs", "path": "workers/gateway", "enabled": true,
			"access_key_id": "AKID", "secret_access_key": secret}},
	}
}

func TestWorkerSettingsBuild(t *testing.T) {
	tests := []struct {
		name    string
		v       Values
		want    WorkerSettingsSpec
		wantErr string
	}{
		{
			name: "defaults of nested blocks",
			v:    Values{"script": "w", "observability": []Values{{"logs": []Values{{}}}}},
			want: WorkerSettingsSpec{Script: "w", DeployedBy: "flareops", Observability: &ObservabilitySpec{Enabled: true, HeadSamplingRate: 1,
				Logs: &LogsSpec{Enabled: true, InvocationLogs: true, HeadSamplingRate: 1}}},
		},
		{
			name: "filter normalized, credentials hashed",
			v: Values{"script": "w", "logpush": []Values{{"bucket": "logs", "access_key_id": "k", "secret_access_key": "s",
				"filter": `{ "where": {"value": "ok", "operator": "neq", "key": "Outcome"} }`}}},
			want: WorkerSettingsSpec{Script: "w", DeployedBy: "flareops", Logpush: &LogpushSpec{Enabled: true, Bucket: "logs",
				Filter: `{"where":{"key":"Outcome","operator":"neq","value":"ok"}}`, AccessKeyID: "k", SecretAccessKey: "s",
				Credentials: credentialsHash("k", "s")}},
		},
		{name: "nothing declared", v: Values{"script": "w"}, wantErr: "declares no setting"},
		{name: "filter not JSON", v: Values{"script": "w", "logpush": []Values{{"bucket": "logs", "filter": "Outcome != ok"}}}, wantErr: "logpush: filter is not JSON"},
		{name: "filter without where", v: Values{"script": "w", "logpush": []Values{{"bucket": "logs", "filter": `{"key":"Outcome"}`}}}, wantErr: `one key, "where"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj, err := WorkerSettingsKind{}.Build(tt.v)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Build error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, obj.Spec); diff != "" {
				t.Errorf("spec (-want +got):\n%s", diff)
			}
			back, err := WorkerSettingsKind{}.Build(WorkerSettingsKind{}.Flatten(obj.Spec))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(obj.Spec, back.Spec); diff != "" {
				t.Errorf("Build(Flatten(spec)) (-spec +rebuilt):\n%s", diff)
			}
		})
	}
}

// The settings flareops declares are written, a second plan is empty, settings nobody
// declared stay as they are, and removing the block hands back only what is still as
// applied; the Logpush job pushes only the Worker's events and is deleted with the block.
func TestWorkerSettingsLifecycle(t *testing.T) {
	a := newSettingsAccount("gateway")
	a.settings["gateway"] = cloudflare.WorkerSettings{Logpush: false, CPUMs: 0}
	st := NewMemoryState()
	d := settingsDecl("gateway", gatewaySettings("s3cret"))
	p := mustPlan(t, settingsEngine(t, a, st), d)
	if diff := cmp.Diff([]string{"create worker_settings.gateway"}, actions(p)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	mustApply(t, settingsEngine(t, a, st), p)
	got := a.settings["gateway"]
	if got.CPUMs != 50 || !got.Logpush || got.Observability == nil || got.Observability.HeadSamplingRate != 0.1 {
		t.Fatalf("Worker settings after apply: %+v", got)
	}
	if len(a.jobs) != 1 || a.jobs[0].Name != "flareops-gateway" || a.jobs[0].Dataset != "workers_trace_events" ||
		a.jobs[0].Filter != `{"where":{"key":"ScriptName","operator":"eq","value":"gateway"}}` ||
		a.jobs[0].DestinationConf != "r2://monotask-logs/workers/gateway/{DATE}?account-id="+testAccount+"&access-key-id=AKID&secret-access-key=s3cret" {
		t.Fatalf("jobs after apply: %+v", a.jobs)
	}
	if p := mustPlan(t, settingsEngine(t, a, st), d); p.HasChanges() {
		t.Fatalf("second plan not empty: %v", actions(p))
	}

	// Someone raises cpu_ms: drift, set back; someone turns logpush off: the job is not enough.
	a.settings["gateway"] = func() cloudflare.WorkerSettings { s := a.settings["gateway"]; s.CPUMs, s.Logpush = 70, false; return s }()
	p = mustPlan(t, settingsEngine(t, a, st), d)
	if c := p.Changes[0]; c.Action != Update || c.Origin != OriginOutside || len(c.Fields) != 2 {
		t.Fatalf("drift plan: %s %s %+v", c.Action, c.Origin, c.Fields)
	}
	mustApply(t, settingsEngine(t, a, st), p)
	if s := a.settings["gateway"]; s.CPUMs != 50 || !s.Logpush {
		t.Fatalf("after repair: %+v", s)
	}

	// cpu_ms no longer declared: back to the platform's default.
	v := gatewaySettings("s3cret")
	delete(v, "cpu_ms")
	d = settingsDecl("gateway", v)
	p = mustPlan(t, settingsEngine(t, a, st), d)
	if c := p.Changes[0]; c.Action != Update || len(c.Fields) != 1 || c.Fields[0].Path != "cpu_ms" {
		t.Fatalf("plan without cpu_ms: %s %+v", c.Action, c.Fields)
	}
	mustApply(t, settingsEngine(t, a, st), p)
	if s := a.settings["gateway"]; s.CPUMs != 0 {
		t.Fatalf("cpu_ms after it was removed: %d", s.CPUMs)
	}
	if p := mustPlan(t, settingsEngine(t, a, st), d); p.HasChanges() {
		t.Fatalf("plan after removing cpu_ms not empty: %v", actions(p))
	}

	// Someone sets cpu_ms now: not flareops's, not shown, not touched.
	a.settings["gateway"] = func() cloudflare.WorkerSettings { s := a.settings["gateway"]; s.CPUMs = 20; return s }()
	if p := mustPlan(t, settingsEngine(t, a, st), d); p.HasChanges() {
		t.Fatalf("a cpu_ms nobody declared shows as a change: %v", p.Changes[0].Fields)
	}

	// The block removed: the job goes, observability and logpush are off, cpu_ms stays 20.
	p = mustPlan(t, settingsEngine(t, a, st))
	if diff := cmp.Diff([]string{"delete worker_settings.gateway"}, actions(p)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	mustApply(t, settingsEngine(t, a, st), p)
	s := a.settings["gateway"]
	if len(a.jobs) != 0 || s.Logpush || s.Observability == nil || s.Observability.Enabled || s.CPUMs != 20 {
		t.Fatalf("after the block was removed: jobs %v, settings %+v", a.jobs, s)
	}
}

// A changed secret is an update that never shows it; the same secret again is no change.
func TestWorkerSettingsSecretChange(t *testing.T) {
	a := newSettingsAccount("gateway")
	st := NewMemoryState()
	mustApply(t, settingsEngine(t, a, st), mustPlan(t, settingsEngine(t, a, st), settingsDecl("gateway", gatewaySettings("old-secret"))))
	if raw := string(mustEntry(t, st, "worker_settings.gateway").Applied); strings.Contains(raw, "old-secret") || strings.Contains(raw, "AKID") {
		t.Fatalf("the state holds a credential: %s", raw)
	}
	p := mustPlan(t, settingsEngine(t, a, st), settingsDecl("gateway", gatewaySettings("new-secret")))
	c := p.Changes[0]
	want := []FieldChange{{Path: "logpush.secret_access_key", Old: "(sensitive)", New: "(sensitive)", OldSet: true, NewSet: true, Sensitive: true, Origin: OriginConfig}}
	if diff := cmp.Diff(want, c.Fields, cmp.FilterPath(func(p cmp.Path) bool {
		n := p.Last().String()
		return n == ".OldRaw" || n == ".NewRaw" || n == ".Field"
	}, cmp.Ignore())); c.Action != Update || diff != "" {
		t.Fatalf("plan of a new secret: %s (-want +got):\n%s", c.Action, diff)
	}
	mustApply(t, settingsEngine(t, a, st), p)
	if !strings.Contains(a.jobs[0].DestinationConf, "secret-access-key=new-secret") {
		t.Fatalf("the job was not given the new secret")
	}
	if p := mustPlan(t, settingsEngine(t, a, st), settingsDecl("gateway", gatewaySettings("new-secret"))); p.HasChanges() {
		t.Fatalf("plan after the new secret was applied: %v", p.Changes[0].Fields)
	}
}

func mustEntry(t *testing.T, st *State, addr string) StateEntry {
	t.Helper()
	en, ok := st.Get(addr)
	if !ok {
		t.Fatalf("no state entry %s", addr)
	}
	return en
}

// A job create whose answer is lost makes one job, adopted by the engine's retry; a job of
// the name that this state does not know is refused, with the import to run.
func TestWorkerSettingsJobOwnership(t *testing.T) {
	a := newSettingsAccount("gateway")
	a.loseCreate = true
	st := NewMemoryState()
	mustApply(t, settingsEngine(t, a, st), mustPlan(t, settingsEngine(t, a, st), settingsDecl("gateway", gatewaySettings("s"))))
	if len(a.jobs) != 1 {
		t.Fatalf("a lost create answer made %d jobs, want 1", len(a.jobs))
	}
	if p := mustPlan(t, settingsEngine(t, a, st), settingsDecl("gateway", gatewaySettings("s"))); p.HasChanges() {
		t.Fatalf("plan after the adopted create: %v", actions(p))
	}

	other := NewMemoryState() // another state, or a lost one: the job is not its own
	_, err := settingsEngine(t, a, other).Plan(context.Background(), []Desired{settingsDecl("gateway", gatewaySettings("s"))})
	var pe *PlanError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "flareops does not manage it") || !strings.Contains(err.Error(), "flareops import worker_settings.gateway gateway") {
		t.Fatalf("plan over a job this state does not know: %v", err)
	}
}

// With wrangler deploying the Worker, apply writes nothing to it; the plan says what it
// lacks, with the wrangler fragment, until a deploy carries it.
func TestWorkerSettingsDeployedByWrangler(t *testing.T) {
	a := newSettingsAccount("gateway")
	st := NewMemoryState()
	v := gatewaySettings("s")
	v["deployed_by"] = "wrangler"
	d := settingsDecl("gateway", v)
	p := mustPlan(t, settingsEngine(t, a, st), d)
	if len(p.Manual) != 1 {
		t.Fatalf("manual steps: %+v", p.Manual)
	}
	m := p.Manual[0]
	wantDiffers := []string{
		"cpu_ms is 30,000 ms (the platform default), not 50",
		"observability is not set instead of on for 10% of requests",
		"logpush is off, so Logpush job flareops-gateway receives none of its trace events",
	}
	if diff := cmp.Diff(wantDiffers, m.Differs); diff != "" {
		t.Fatalf("differs (-want +got):\n%s", diff)
	}
	if m.Fragments[0].File != "wrangler.toml" || m.Fragments[0].Text != "logpush = true\n\n[limits]\ncpu_ms = 50\n\n[observability]\nenabled = true\nhead_sampling_rate = 0.1\n" {
		t.Fatalf("toml fragment: %+v", m.Fragments[0])
	}
	mustApply(t, settingsEngine(t, a, st), p)
	if s := a.settings["gateway"]; s.CPUMs != 0 || s.Logpush || s.Observability != nil {
		t.Fatalf("apply wrote to a Worker wrangler deploys: %+v", s)
	}
	if len(a.jobs) != 1 {
		t.Fatalf("the Logpush job is flareops's either way: %d jobs", len(a.jobs))
	}
	p = mustPlan(t, settingsEngine(t, a, st), d)
	if p.HasChanges() || len(p.Manual) != 1 {
		t.Fatalf("second plan: changes %v, manual %d", actions(p), len(p.Manual))
	}
	// wrangler deploys the settings.
	a.settings["gateway"] = cloudflare.WorkerSettings{CPUMs: 50, Logpush: true, Observability: &cloudflare.Observability{Enabled: true, HeadSamplingRate: 0.1}}
	if p := mustPlan(t, settingsEngine(t, a, st), d); p.HasChanges() || len(p.Manual) != 0 {
		t.Fatalf("plan after the deploy: changes %v, manual %+v", actions(p), p.Manual)
	}
	// Handing the Worker to wrangler leaves its settings as they are.
	a.settings["gateway"] = cloudflare.WorkerSettings{}
	st2 := NewMemoryState()
	flare := settingsDecl("gateway", gatewaySettings("s"))
	a.jobs = nil
	mustApply(t, settingsEngine(t, a, st2), mustPlan(t, settingsEngine(t, a, st2), flare))
	p = mustPlan(t, settingsEngine(t, a, st2), d)
	if c := p.Changes[0]; c.Action != Update || len(c.Fields) != 1 || c.Fields[0].Path != "deployed_by" {
		t.Fatalf("switch to wrangler: %s %+v", c.Action, c.Fields)
	}
	mustApply(t, settingsEngine(t, a, st2), p)
	if s := a.settings["gateway"]; s.CPUMs != 50 || !s.Logpush {
		t.Fatalf("the switch to wrangler changed the Worker: %+v", s)
	}
}

func TestWorkerSettingsClaims(t *testing.T) {
	a := newSettingsAccount("gateway")
	e := settingsEngine(t, a, NewMemoryState())
	one := settingsDecl("one", Values{"script": "gateway", "cpu_ms": int64(50)})
	two := settingsDecl("two", Values{"script": "gateway", "cpu_ms": int64(100)})
	two.Source = "other.flareops.hcl:9"
	_, err := e.Plan(context.Background(), []Desired{one, two})
	if err == nil || !strings.Contains(err.Error(), "worker_settings.one (settings.flareops.hcl:1) and worker_settings.two (other.flareops.hcl:9) both set cpu_ms on Worker gateway") {
		t.Fatalf("two declarations of cpu_ms: %v", err)
	}
}

func TestWorkerSettingsMissingWorker(t *testing.T) {
	a := newSettingsAccount()
	_, err := settingsEngine(t, a, NewMemoryState()).Plan(context.Background(), []Desired{settingsDecl("gateway", gatewaySettings("s"))})
	if err == nil || !strings.Contains(err.Error(), "worker_settings.gateway (settings.flareops.hcl:1): Worker gateway does not exist in the account") {
		t.Fatalf("plan of a missing Worker: %v", err)
	}
}

func TestWorkerSettingsImpact(t *testing.T) {
	k := WorkerSettingsKind{}
	have := WorkerSettingsSpec{Script: "api", DeployedBy: "flareops", CPUMs: 0, Observability: &ObservabilitySpec{Enabled: true, HeadSamplingRate: 1},
		Logpush: &LogpushSpec{Enabled: true, Bucket: "logs"}}
	want := have
	want.CPUMs = 50
	want.Observability = &ObservabilitySpec{Enabled: true, HeadSamplingRate: 0.1}
	want.Logpush = &LogpushSpec{Enabled: true, Bucket: "logs2", Path: "workers/api"}
	tests := []struct {
		action Action
		field  FieldChange
		live   any
		want   any
		impact string
	}{
		{Update, FieldChange{Path: "cpu_ms", OldSet: true, NewSet: true}, have, want, "cpu_ms limit 30,000 ms (the platform default) -> 50 ms on api: requests using more CPU fail"},
		{Update, FieldChange{Path: "cpu_ms", OldSet: true, NewSet: true}, WorkerSettingsSpec{Script: "api", CPUMs: 10}, want, "cpu_ms limit 10 ms -> 50 ms on api: requests may use more CPU time, which is billed"},
		{Delete, FieldChange{Path: "cpu_ms", OldSet: true}, have, nil, "cpu_ms limit of api goes back to the platform default (30,000 ms)"},
		{Update, FieldChange{Path: "observability.head_sampling_rate", OldSet: true, NewSet: true}, have, want, "observability of api samples 10% of requests (was 100%)"},
		{Update, FieldChange{Path: "logpush.bucket", OldSet: true, NewSet: true}, have, want, "trace events of api go to R2 bucket logs2 under workers/api/ instead of R2 bucket logs"},
		{Update, FieldChange{Path: "logpush.secret_access_key", OldSet: true, NewSet: true, Sensitive: true}, have, want, "the Logpush job of api writes to R2 with new credentials"},
		{Create, FieldChange{Path: "logpush.bucket", NewSet: true}, nil, want, "trace events of api are pushed to R2 bucket logs2 under workers/api/ (Logpush job flareops-api)"},
		{Delete, FieldChange{Path: "logpush.bucket", OldSet: true}, have, nil, "trace events of api are no longer pushed to R2: Logpush job flareops-api is deleted (what R2 bucket logs holds stays)"},
		{Delete, FieldChange{Path: "observability.logs.enabled", OldSet: true}, have, nil, ""},
	}
	for _, tt := range tests {
		if got := k.Impact(tt.action, tt.field, tt.live, tt.want); got != tt.impact {
			t.Errorf("Impact(%s, %s) = %q, want %q", tt.action, tt.field.Path, got, tt.impact)
		}
	}
}
