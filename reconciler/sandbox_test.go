package reconciler_test

import (
	"context"
	"encoding/json"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

var updateSandbox = flag.Bool("update-sandbox", false, "rewrite testdata/sandbox golden files")

const (
	sbWorker = "monotask-sandbox"
	sbApp    = "monotask-sandbox"
	opsTitle = "monotask-ops"
)

// foreignCrons and foreignBindings are what the sandbox's Worker has before flareops.
var foreignCrons = []string{"0 * * * *", "30 2 * * *"}

func foreignSandboxBindings() []json.RawMessage {
	return []json.RawMessage{
		json.RawMessage(`{"name":"MODE","text":"prod","type":"plain_text"}`),
		json.RawMessage(`{"name":"API_KEY","text":"hunter2","type":"secret_text"}`),
	}
}

// sandboxAccount is an emulator with the sandbox's Worker (2 foreign crons and 2 foreign
// bindings), another Worker, and the sandbox's containers application.
type sandboxAccount struct {
	srv   *emulator.Server
	c     *cloudflare.Client
	appID string
}

func newSandboxAccount(t *testing.T, opts emulator.Options) *sandboxAccount {
	t.Helper()
	// Its client does not retry, and the tests rewrite a policy document at once: KV's one
	// write per second to one key is lifted (the CLI's client waits out the 429).
	opts.KeyWriteInterval = time.Nanosecond
	srv, err := emulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	c, err := cloudflare.New(cloudflare.Config{BaseURL: hs.URL + emulator.APIPrefix, Token: "t", AccountID: benchAccount, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, w := range []string{sbWorker, "other-worker"} {
		if err := c.UploadScript(ctx, w, "export default { async scheduled() {} };\n"); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.SetWorkerSettings(ctx, sbWorker, cloudflare.WorkerSettings{Bindings: foreignSandboxBindings()}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetWorkerCrons(ctx, sbWorker, foreignCrons); err != nil {
		t.Fatal(err)
	}
	app, err := c.Raw().CreateApplication(ctx, benchAccount, cloudflare.ContainerApplicationSpec{
		Name: sbApp, SchedulingPolicy: "default", Instances: 0, MaxInstances: 5,
		Configuration: cloudflare.ContainerConfiguration{Image: "registry.cloudflare.com/monotask/sandbox:1", InstanceType: "basic"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &sandboxAccount{srv: srv, c: c, appID: app.ID}
}

// engine is a new run (its own Worker set and document store) on state.
func (a *sandboxAccount) engine(st *reconciler.State) *reconciler.Engine {
	return &reconciler.Engine{Registry: reconciler.KindsWith(a.c, reconciler.Settings{OpsKVNamespace: opsTitle}), State: st}
}

func (a *sandboxAccount) crons(t *testing.T, worker string) []string {
	t.Helper()
	crons, err := a.c.WorkerCrons(context.Background(), worker)
	if err != nil {
		t.Fatal(err)
	}
	return crons
}

func (a *sandboxAccount) settings(t *testing.T) cloudflare.WorkerSettings {
	t.Helper()
	st, err := a.c.WorkerSettings(context.Background(), sbWorker)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (a *sandboxAccount) app(t *testing.T) cloudflare.ContainerApplication {
	t.Helper()
	app, err := a.c.Raw().GetApplication(context.Background(), benchAccount, a.appID)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// policy returns the stored policy document, nil when there is none.
func (a *sandboxAccount) policy(t *testing.T, name string) []byte {
	t.Helper()
	ctx := context.Background()
	nss, err := a.c.ListKVNamespaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range nss {
		if ns.Title == opsTitle {
			b, err := a.c.GetKV(ctx, ns.ID, "flareops/sandbox/"+name)
			if cloudflare.IsNotFound(err) {
				return nil
			}
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	return nil
}

// agentSandbox is the seed's sandbox: 5-minute cleanup, 30-minute executions.
func agentSandbox(mod ...func(reconciler.Values)) reconciler.Desired {
	v := reconciler.Values{
		"worker": sbWorker, "cpu_ms": int64(300000), "cleanup_every": "5m",
		"execution_timeout": int64(1800), "idle_timeout": int64(600),
		"container": []reconciler.Values{{"application": sbApp, "instance_type": "standard-1", "max_instances": int64(20)}},
	}
	for _, m := range mod {
		m(v)
	}
	return reconciler.Desired{Addr: reconciler.Address{Kind: "sandbox", Name: "agent"}, Values: v, Source: "sandbox.flareops.hcl:1"}
}

// policyHash is the policy_document a declaration plans: its document's short hash.
func (a *sandboxAccount) policyHash(t *testing.T, d reconciler.Desired) string {
	t.Helper()
	k, _ := a.engine(reconciler.NewMemoryState()).Registry.Kind("sandbox")
	obj, err := k.Build(d.Values)
	if err != nil {
		t.Fatal(err)
	}
	return obj.Spec.(reconciler.SandboxSpec).Policy
}

func impacts(p *reconciler.Plan) []string {
	var out []string
	for _, c := range p.Changes {
		out = append(out, c.Impact...)
	}
	return out
}

func planActions(p *reconciler.Plan) []string {
	var out []string
	for _, c := range p.Changes {
		out = append(out, string(c.Action)+" "+c.Address)
	}
	return out
}

func plan(t *testing.T, e *reconciler.Engine, ds ...reconciler.Desired) *reconciler.Plan {
	t.Helper()
	p, err := e.Plan(context.Background(), ds)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return p
}

func apply(t *testing.T, e *reconciler.Engine, p *reconciler.Plan) {
	t.Helper()
	if err := e.Apply(context.Background(), p, reconciler.ApplyOptions{Parallelism: 4}); err != nil {
		t.Fatalf("apply: %v", err)
	}
}

// TestSandboxLifecycleKeepsWhatItDoesNotOwn: create (the plan says which cron is added and
// how many are kept), an empty second plan, and destroy; the Worker's foreign crons and
// bindings are the same, field by field, after apply and after destroy, and the
// application is left as the sandbox set it.
func TestSandboxLifecycleKeepsWhatItDoesNotOwn(t *testing.T) {
	a := newSandboxAccount(t, emulator.Options{})
	st := reconciler.NewMemoryState()
	p := plan(t, a.engine(st), agentSandbox())
	if diff := cmp.Diff([]string{"create sandbox.agent"}, planActions(p)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	for _, want := range []string{
		"cron `*/5 * * * *` added to monotask-sandbox; 2 other crons kept",
		"Worker monotask-sandbox may use up to 300000 ms of CPU per invocation",
		"at most 20 instances of monotask-sandbox run at once, i.e. 20 concurrent sandboxes",
		"instances of monotask-sandbox are standard-1 (0.5 vCPU, 4096 MiB)",
		`policy document flareops/sandbox/monotask-sandbox published in KV namespace "monotask-ops", where the sandbox code reads its limits`,
	} {
		if !slices.Contains(impacts(p), want) {
			t.Errorf("plan does not say %q; it says:\n%s", want, strings.Join(impacts(p), "\n"))
		}
	}
	apply(t, a.engine(st), p)

	if diff := cmp.Diff(append(slices.Clone(foreignCrons), "*/5 * * * *"), a.crons(t, sbWorker)); diff != "" {
		t.Errorf("crons after apply (-want +got):\n%s", diff)
	}
	s := a.settings(t)
	if s.CPUMs != 300000 {
		t.Errorf("cpu_ms = %d, want 300000", s.CPUMs)
	}
	checkForeignBindings(t, s)
	if app := a.app(t); app.MaxInstances != 20 || app.Configuration.InstanceType != "standard-1" {
		t.Errorf("application max_instances %d, instance_type %q; want 20, standard-1", app.MaxInstances, app.Configuration.InstanceType)
	}
	checkGolden(t, "policy.json", a.policy(t, sbWorker))

	if p := plan(t, a.engine(st), agentSandbox()); p.HasChanges() {
		t.Fatalf("second plan not empty: %v %v", planActions(p), p.Changes[0].Fields)
	}

	e := a.engine(st)
	p, err := e.PlanDestroy(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "sandbox removed: cron `*/5 * * * *` removed from monotask-sandbox (2 other crons kept); the CPU limit of monotask-sandbox returns to Cloudflare's default; " +
		"policy document flareops/sandbox/monotask-sandbox deleted: the sandbox code finds no limits there; containers application monotask-sandbox is left as it is"
	if diff := cmp.Diff([]string{want}, impacts(p)); diff != "" {
		t.Errorf("destroy impact (-want +got):\n%s", diff)
	}
	apply(t, e, p)
	if diff := cmp.Diff(foreignCrons, a.crons(t, sbWorker)); diff != "" {
		t.Errorf("crons after destroy (-want +got):\n%s", diff)
	}
	s = a.settings(t)
	if s.CPUMs != 0 {
		t.Errorf("cpu_ms = %d after destroy, want the default (0)", s.CPUMs)
	}
	checkForeignBindings(t, s)
	if a.policy(t, sbWorker) != nil {
		t.Error("the policy document is still there after destroy")
	}
	if app := a.app(t); app.MaxInstances != 20 || app.Configuration.InstanceType != "standard-1" {
		t.Errorf("destroy changed the application: max_instances %d, instance_type %q", app.MaxInstances, app.Configuration.InstanceType)
	}
}

func checkForeignBindings(t *testing.T, s cloudflare.WorkerSettings) {
	t.Helper()
	var got []map[string]any
	for _, raw := range s.Bindings {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	want := []map[string]any{{"name": "MODE", "text": "prod", "type": "plain_text"}, {"name": "API_KEY", "type": "secret_text"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the Worker's bindings changed, field by field (-want +got):\n%s", diff)
	}
}

// checkGolden compares got with testdata/sandbox/name; -update-sandbox rewrites it.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "sandbox", name)
	if *updateSandbox {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update-sandbox to write it)", err)
	}
	if diff := cmp.Diff(strings.TrimSuffix(string(want), "\n"), string(got)); diff != "" {
		t.Errorf("%s differs (-golden +got):\n%s", path, diff)
	}
}

// TestSandboxCronLimit: a cron past the account's limit is refused by Cloudflare; the
// apply says so, naming the Worker and its crons, and nothing else of the sandbox was
// changed (the cron is written first). Once a cron is freed, the next apply succeeds.
func TestSandboxCronLimit(t *testing.T) {
	a := newSandboxAccount(t, emulator.Options{CronLimit: 3})
	ctx := context.Background()
	if err := a.c.SetWorkerCrons(ctx, "other-worker", []string{"15 3 * * *"}); err != nil {
		t.Fatal(err)
	}
	st := reconciler.NewMemoryState()
	e := a.engine(st)
	err := e.Apply(ctx, plan(t, e, agentSandbox()), reconciler.ApplyOptions{})
	if err == nil {
		t.Fatal("apply succeeded past the account's cron limit")
	}
	for _, want := range []string{"cannot add cron `*/5 * * * *` to Worker monotask-sandbox, whose crons are `0 * * * *`, `30 2 * * *`", "limit of cron triggers", "Nothing of this sandbox was changed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if s := a.settings(t); s.CPUMs != 0 {
		t.Errorf("cpu_ms = %d: set although the cron was refused", s.CPUMs)
	}
	if app := a.app(t); app.MaxInstances != 5 || app.Configuration.InstanceType != "basic" {
		t.Errorf("application changed although the cron was refused: %d, %q", app.MaxInstances, app.Configuration.InstanceType)
	}
	if a.policy(t, sbWorker) != nil {
		t.Error("policy published although the cron was refused")
	}
	if st.Len() != 0 {
		t.Errorf("state records %v, though nothing was made", st.Addresses())
	}
	if diff := cmp.Diff(foreignCrons, a.crons(t, sbWorker)); diff != "" {
		t.Errorf("crons (-want +got):\n%s", diff)
	}

	if err := a.c.SetWorkerCrons(ctx, "other-worker", nil); err != nil {
		t.Fatal(err)
	}
	apply(t, a.engine(st), plan(t, a.engine(st), agentSandbox()))
	if p := plan(t, a.engine(st), agentSandbox()); p.HasChanges() {
		t.Fatalf("plan after the repaired apply: %v", planActions(p))
	}
}

// TestSandboxFailureAfterAWriteIsRecordedAndRepaired: the application is deleted between
// plan and apply. The cron and CPU limit are set, the resize fails: the error says what
// was done, the sandbox is recorded, and once the application exists again the next plan
// updates exactly what is left (the application and the policy).
func TestSandboxFailureAfterAWriteIsRecordedAndRepaired(t *testing.T) {
	a := newSandboxAccount(t, emulator.Options{})
	ctx := context.Background()
	st := reconciler.NewMemoryState()
	e := a.engine(st)
	p := plan(t, e, agentSandbox())
	if err := a.c.Raw().DeleteApplication(ctx, benchAccount, a.appID); err != nil {
		t.Fatal(err)
	}
	err := e.Apply(ctx, p, reconciler.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "already done: cron `*/5 * * * *` added to Worker monotask-sandbox; CPU limit of Worker monotask-sandbox set") {
		t.Fatalf("apply error does not say what was done: %v", err)
	}
	if _, ok := st.Get("sandbox.agent"); !ok {
		t.Fatal("the half-made sandbox is not recorded: destroy could not take its cron off")
	}

	// The application is still missing: a plan error naming it.
	_, err = a.engine(st).Plan(ctx, []reconciler.Desired{agentSandbox()})
	if err == nil || !strings.Contains(err.Error(), `containers application "monotask-sandbox" does not exist in the account`) {
		t.Fatalf("plan without the application: %v", err)
	}

	app, err := a.c.Raw().CreateApplication(ctx, benchAccount, cloudflare.ContainerApplicationSpec{
		Name: sbApp, SchedulingPolicy: "default", MaxInstances: 5,
		Configuration: cloudflare.ContainerConfiguration{Image: "registry.cloudflare.com/monotask/sandbox:1", InstanceType: "basic"},
	})
	if err != nil {
		t.Fatal(err)
	}
	a.appID = app.ID
	p = plan(t, a.engine(st), agentSandbox())
	var fields []string
	for _, f := range p.Changes[0].Fields {
		fields = append(fields, f.Path)
	}
	want := []string{`container["monotask-sandbox"].instance_type`, `container["monotask-sandbox"].max_instances`, "execution_timeout", "idle_timeout", "policy_document"}
	if diff := cmp.Diff(want, fields); diff != "" || p.Changes[0].Action != reconciler.Update {
		t.Fatalf("repair plan %v (-want +got):\n%s", planActions(p), diff)
	}
	apply(t, a.engine(st), p)
	if p := plan(t, a.engine(st), agentSandbox()); p.HasChanges() {
		t.Fatalf("plan after the repair: %v", planActions(p))
	}
}

// TestSandboxDriftIsRepaired: the cron removed, max_instances changed and the policy
// edited outside flareops; the plan says so and sets them back.
func TestSandboxDriftIsRepaired(t *testing.T) {
	a := newSandboxAccount(t, emulator.Options{})
	ctx := context.Background()
	st := reconciler.NewMemoryState()
	apply(t, a.engine(st), plan(t, a.engine(st), agentSandbox()))

	if err := a.c.SetWorkerCrons(ctx, sbWorker, foreignCrons); err != nil {
		t.Fatal(err)
	}
	if err := a.c.ResizeContainerApplication(ctx, a.appID, cloudflare.ContainerSize{MaxInstances: 7}); err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(a.policy(t, sbWorker)), `"execution_timeout_ms":1800000`, `"execution_timeout_ms":60000`, 1)
	nss, _ := a.c.ListKVNamespaces(ctx)
	if err := a.c.PutKV(ctx, nss[0].ID, "flareops/sandbox/"+sbWorker, []byte(edited), json.RawMessage(`{"sha256":"edited","schema":"flareops.sandbox-policy/v1"}`)); err != nil {
		t.Fatal(err)
	}

	p := plan(t, a.engine(st), agentSandbox())
	got := map[string]string{}
	for _, f := range p.Changes[0].Fields {
		got[f.Path] = f.Old + " -> " + f.New + " (" + f.Origin + ")"
	}
	want := map[string]string{
		"cleanup_every": `(none) -> "5m" (outside)`,
		`container["monotask-sandbox"].max_instances`: "7 -> 20 (outside)",
		"execution_timeout":                           "1m -> 30m (outside)",
		"policy_document":                             `"sha256:edited" -> "` + a.policyHash(t, agentSandbox()) + `" (outside)`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("drift (-want +got):\n%s", diff)
	}
	if !slices.Contains(impacts(p), "cron `*/5 * * * *` added to monotask-sandbox; 2 other crons kept") {
		t.Errorf("impact: %v", impacts(p))
	}
	apply(t, a.engine(st), p)
	if p := plan(t, a.engine(st), agentSandbox()); p.HasChanges() {
		t.Fatalf("plan after repair: %v", planActions(p))
	}
	if diff := cmp.Diff(append(slices.Clone(foreignCrons), "*/5 * * * *"), a.crons(t, sbWorker)); diff != "" {
		t.Errorf("crons (-want +got):\n%s", diff)
	}
}

// TestSandboxUpdates: a new cleanup interval replaces the cron (the others kept), and a
// custom instance size replaces the instance type.
func TestSandboxUpdates(t *testing.T) {
	a := newSandboxAccount(t, emulator.Options{})
	st := reconciler.NewMemoryState()
	apply(t, a.engine(st), plan(t, a.engine(st), agentSandbox()))
	next := agentSandbox(func(v reconciler.Values) {
		v["cleanup_every"] = "10m"
		v["container"] = []reconciler.Values{{"application": sbApp, "vcpu": 2.0, "memory_mib": int64(8192), "max_instances": int64(20)}}
	})
	p := plan(t, a.engine(st), next)
	for _, want := range []string{
		"cron `*/5 * * * *` replaced by `*/10 * * * *` on monotask-sandbox; 2 other crons kept",
		"instances of monotask-sandbox become 2 vCPU, 8192 MiB (were standard-1 (0.5 vCPU, 4096 MiB)); running instances keep their size until they are replaced",
	} {
		if !slices.Contains(impacts(p), want) {
			t.Errorf("plan does not say %q; it says:\n%s", want, strings.Join(impacts(p), "\n"))
		}
	}
	apply(t, a.engine(st), p)
	if diff := cmp.Diff(append(slices.Clone(foreignCrons), "*/10 * * * *"), a.crons(t, sbWorker)); diff != "" {
		t.Errorf("crons (-want +got):\n%s", diff)
	}
	if c := a.app(t).Configuration; c.InstanceType != "" || c.VCPU != 2 || c.MemoryMiB != 8192 {
		t.Errorf("application configuration %+v", c)
	}
	if p := plan(t, a.engine(st), next); p.HasChanges() {
		t.Fatalf("plan after update: %v", planActions(p))
	}
	// Removing the container block leaves the application as it is, and says so.
	noContainer := agentSandbox(func(v reconciler.Values) { v["cleanup_every"] = "10m"; delete(v, "container") })
	p = plan(t, a.engine(st), noContainer)
	if !slices.Contains(impacts(p), "containers application monotask-sandbox is no longer managed by flareops: it keeps its current instance size and max instances") {
		t.Errorf("impact: %v", impacts(p))
	}
	apply(t, a.engine(st), p)
	if c := a.app(t); c.Configuration.VCPU != 2 || c.MaxInstances != 20 {
		t.Errorf("application changed: %+v", c)
	}
	if p := plan(t, a.engine(st), noContainer); p.HasChanges() {
		t.Fatalf("plan after removing the container block: %v", planActions(p))
	}
}

// TestSandboxClaims: two sandboxes on one Worker with the same cron are refused, naming both.
func TestSandboxClaims(t *testing.T) {
	a := newSandboxAccount(t, emulator.Options{})
	one := agentSandbox(func(v reconciler.Values) { v["name"] = "one"; delete(v, "cpu_ms") })
	two := agentSandbox(func(v reconciler.Values) { v["name"] = "two"; delete(v, "cpu_ms") })
	two.Addr.Name, two.Source = "two", "sandbox.flareops.hcl:20"
	_, err := a.engine(reconciler.NewMemoryState()).Plan(context.Background(), []reconciler.Desired{one, two})
	want := "sandbox.agent (sandbox.flareops.hcl:1) and sandbox.two (sandbox.flareops.hcl:20) both set cron */5 * * * * on Worker monotask-sandbox"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("plan error %v; want %q", err, want)
	}
}

// TestSandboxRefusesAForeignCron: a new sandbox whose cleanup cron the Worker already has
// is refused at apply, before anything is written (removing the sandbox would remove
// someone else's cron); the plan says so.
func TestSandboxRefusesAForeignCron(t *testing.T) {
	a := newSandboxAccount(t, emulator.Options{})
	hourly := agentSandbox(func(v reconciler.Values) { v["cleanup_every"] = "1h" }) // "0 * * * *", a foreign cron
	st := reconciler.NewMemoryState()
	e := a.engine(st)
	p := plan(t, e, hourly)
	want := "monotask-sandbox already has cron `0 * * * *`, which flareops does not manage: apply refuses to take it over; choose another cleanup_every"
	if !slices.Contains(impacts(p), want) {
		t.Errorf("plan does not warn; it says:\n%s", strings.Join(impacts(p), "\n"))
	}
	err := e.Apply(context.Background(), p, reconciler.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "Worker monotask-sandbox already has cron `0 * * * *`, which flareops does not manage") {
		t.Fatalf("apply: %v", err)
	}
	if s := a.settings(t); s.CPUMs != 0 || st.Len() != 0 || a.policy(t, sbWorker) != nil {
		t.Errorf("something was written: cpu_ms %d, state %v", s.CPUMs, st.Addresses())
	}
}

// TestSandboxNamesAreUniqueAcrossWorkers: a sandbox named after its Worker and another
// named the same explicitly would share one policy document: the plan refuses it.
func TestSandboxNamesAreUniqueAcrossWorkers(t *testing.T) {
	a := newSandboxAccount(t, emulator.Options{})
	other := agentSandbox(func(v reconciler.Values) {
		v["name"], v["worker"] = sbWorker, "other-worker"
		delete(v, "container")
	})
	other.Addr.Name, other.Source = "other", "sandbox.flareops.hcl:30"
	_, err := a.engine(reconciler.NewMemoryState()).Plan(context.Background(), []reconciler.Desired{agentSandbox(), other})
	if err == nil || !strings.Contains(err.Error(), `sandbox.other (sandbox.flareops.hcl:30): sandbox.agent (sandbox.flareops.hcl:1) is named "monotask-sandbox" too`) {
		t.Fatalf("plan: %v", err)
	}
}

// TestSandboxPlanCost: a steady-state plan costs the document store's two lists (KV
// namespaces, keys), one read of each Worker's settings and crons, and one list of the
// applications, whatever the number of sandboxes; no document is read.
func TestSandboxPlanCost(t *testing.T) {
	a := newSandboxAccount(t, emulator.Options{})
	st := reconciler.NewMemoryState()
	builds := agentSandbox(func(v reconciler.Values) {
		v["name"], v["cleanup_every"] = "builds", "2h"
		delete(v, "cpu_ms")
	})
	builds.Addr.Name = "builds"
	apply(t, a.engine(st), plan(t, a.engine(st), agentSandbox(), builds))
	for _, ds := range [][]reconciler.Desired{{agentSandbox()}, {agentSandbox(), builds}} {
		a.srv.ResetCounts()
		p := plan(t, a.engine(st), ds...)
		if len(ds) == 2 && p.HasChanges() {
			t.Fatalf("not a steady state: %v", planActions(p))
		}
		if got := a.srv.Counts(); got.Total != 5 {
			t.Errorf("%d sandbox(es): %d requests, want 5: %v", len(ds), got.Total, got.ByRoute)
		}
	}
}
