package reconciler

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/reconciler/cloudflare"
	"github.com/monotask/flareops/reconciler/workerset"
)

// fakeWorkers is an account's Workers as the settings API shows them: PATCH replaces the
// binding list, `inherit` keeps a binding, reads never show secret values.
type fakeWorkers struct {
	mu       sync.Mutex
	bindings map[string][]map[string]any
	reads    int
}

func (f *fakeWorkers) WorkerSettings(_ context.Context, script string) (cloudflare.WorkerSettings, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	bs, ok := f.bindings[script]
	if !ok {
		return cloudflare.WorkerSettings{}, &cloudflare.APIError{Status: 404, Codes: []int{10007}, Messages: []string{"This Worker does not exist on your account."}}
	}
	var st cloudflare.WorkerSettings
	for _, b := range bs {
		c := map[string]any{}
		for k, v := range b {
			if k != "text" || b["type"] != "secret_text" {
				c[k] = v
			}
		}
		raw, _ := json.Marshal(c)
		st.Bindings = append(st.Bindings, raw)
	}
	return st, nil
}

func (f *fakeWorkers) SetWorkerSettings(_ context.Context, script string, s cloudflare.WorkerSettings) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var next []map[string]any
	for _, raw := range s.Bindings {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		if m["type"] == "inherit" {
			for _, p := range f.bindings[script] {
				if p["name"] == m["name"] {
					m = p
				}
			}
		}
		next = append(next, m)
	}
	f.bindings[script] = next
	return nil
}

func (f *fakeWorkers) WorkerCrons(context.Context, string) ([]string, error)  { return nil, nil }
func (f *fakeWorkers) SetWorkerCrons(context.Context, string, []string) error { return nil }

func foreignBindings() []map[string]any {
	return []map[string]any{
		{"type": "kv_namespace", "name": "CACHE", "namespace_id": "0123"},
		{"type": "d1", "name": "DB", "id": "d1-uuid"},
		{"type": "r2_bucket", "name": "FILES", "bucket_name": "files"},
		{"type": "service", "name": "AUTH", "service": "auth-worker"},
		{"type": "secret_text", "name": "API_KEY", "text": "hunter2"},
		{"type": "plain_text", "name": "MODE", "text": "prod"},
	}
}

func datasetEngine(t *testing.T, f *fakeWorkers) *Engine {
	t.Helper()
	reg, err := NewRegistry(DatasetKind{Workers: workerset.New(f)})
	if err != nil {
		t.Fatal(err)
	}
	return &Engine{Registry: reg, State: NewMemoryState()}
}

func dataset(name, ds string, bindings ...[2]string) Desired {
	v := Values{"dataset": ds, "columns": []Values{{"index": "tenant", "blobs": []string{"service", "outcome"}, "doubles": []string{"latency_ms"}}}}
	var bs []Values
	for _, b := range bindings {
		bs = append(bs, Values{"worker": b[0], "name": b[1]})
	}
	if len(bs) > 0 {
		v["binding"] = bs
	}
	return Desired{Addr: Address{"analytics_dataset", name}, Values: v, Source: "analytics.flareops.hcl:1"}
}

func TestDatasetBindsAndUnbindsKeepingForeignBindings(t *testing.T) {
	f := &fakeWorkers{bindings: map[string][]map[string]any{"api": foreignBindings(), "tasks": nil}}
	e := datasetEngine(t, f)
	d := dataset("metrics", "task_metrics", [2]string{"api", "TASK_METRICS"}, [2]string{"tasks", "TASK_METRICS"})
	p := mustPlan(t, e, d)
	if diff := cmp.Diff([]string{"create analytics_dataset.metrics"}, actions(p)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	mustApply(t, e, p)
	if n := len(f.bindings["api"]); n != 7 {
		t.Fatalf("api has %d bindings, want 7", n)
	}
	e = &Engine{Registry: e.Registry, State: e.State} // a new run reads afresh
	e.Registry, _ = NewRegistry(DatasetKind{Workers: workerset.New(f)})
	if p := mustPlan(t, e, d); p.HasChanges() {
		t.Fatalf("second plan not empty: %v", actions(p))
	}
	// Removing one binding removes only it; removing the block removes the rest.
	e.Registry, _ = NewRegistry(DatasetKind{Workers: workerset.New(f)})
	mustApply(t, e, mustPlan(t, e, dataset("metrics", "task_metrics", [2]string{"tasks", "TASK_METRICS"})))
	if diff := cmp.Diff(foreignBindings(), f.bindings["api"]); diff != "" {
		t.Fatalf("foreign bindings of api changed, field by field (-want +got):\n%s", diff)
	}
	e.Registry, _ = NewRegistry(DatasetKind{Workers: workerset.New(f)})
	p = mustPlan(t, e)
	if diff := cmp.Diff([]string{"delete analytics_dataset.metrics"}, actions(p)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	mustApply(t, e, p)
	if len(f.bindings["tasks"]) != 0 {
		t.Fatalf("tasks keeps %v", f.bindings["tasks"])
	}
}

func TestDatasetPlanReadsEachWorkerOnce(t *testing.T) {
	f := &fakeWorkers{bindings: map[string][]map[string]any{"api": nil, "tasks": nil}}
	e := datasetEngine(t, f)
	var ds []Desired
	for _, n := range []string{"a", "b", "c", "d"} {
		ds = append(ds, dataset(n, n+"_metrics", [2]string{"api", strings.ToUpper(n)}, [2]string{"tasks", strings.ToUpper(n)}))
	}
	mustPlan(t, e, ds...)
	if f.reads != 2 {
		t.Fatalf("%d Worker reads for 4 datasets on 2 Workers, want 2", f.reads)
	}
}

func TestDatasetRefusals(t *testing.T) {
	t.Run("column named twice", func(t *testing.T) {
		d := dataset("m", "m")
		d.Values["columns"] = []Values{{"index": "service", "blobs": []string{"service"}}}
		if _, err := (DatasetKind{}).Build(d.Values); err == nil || !strings.Contains(err.Error(), `"service" names both index1 and blob1`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("one binding name from two datasets", func(t *testing.T) {
		f := &fakeWorkers{bindings: map[string][]map[string]any{"api": nil}}
		e := datasetEngine(t, f)
		_, err := e.Plan(context.Background(), []Desired{dataset("a", "a", [2]string{"api", "METRICS"}), dataset("b", "b", [2]string{"api", "METRICS"})})
		var pe *PlanError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "both set binding METRICS on Worker api") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("missing Worker", func(t *testing.T) {
		f := &fakeWorkers{bindings: map[string][]map[string]any{}}
		e := datasetEngine(t, f)
		_, err := e.Plan(context.Background(), []Desired{dataset("a", "a", [2]string{"ghost", "METRICS"})})
		if err == nil || !strings.Contains(err.Error(), "Worker ghost does not exist") {
			t.Fatalf("err = %v", err)
		}
		e.StandIn = true
		p, err := e.Plan(context.Background(), []Desired{dataset("a", "a", [2]string{"ghost", "METRICS"})})
		if err != nil || len(p.StandIns) != 1 || p.StandIns[0].Name != "ghost" {
			t.Fatalf("on the local Cloudflare: %v, stand-ins %v", err, p)
		}
	})
	t.Run("name held by a foreign binding", func(t *testing.T) {
		f := &fakeWorkers{bindings: map[string][]map[string]any{"api": foreignBindings()}}
		e := datasetEngine(t, f)
		_, err := e.Plan(context.Background(), []Desired{dataset("a", "a", [2]string{"api", "CACHE"})})
		if err == nil || !strings.Contains(err.Error(), "already has a binding named CACHE (type kv_namespace)") {
			t.Fatalf("err = %v", err)
		}
	})
}
