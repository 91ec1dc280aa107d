package workerset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// fakeAPI is a Worker store that behaves as the API does: PATCH replaces the whole
// binding list, `inherit` keeps the previous binding, reads never show secret values. It
// is slow on purpose (a read-modify-write race would show).
type fakeAPI struct {
	mu       sync.Mutex
	bindings map[string][]map[string]any
	settings map[string]cloudflare.WorkerSettings
	crons    map[string][]string
	writes   int
}

func newFake() *fakeAPI {
	return &fakeAPI{bindings: map[string][]map[string]any{}, settings: map[string]cloudflare.WorkerSettings{}, crons: map[string][]string{}}
}

func (f *fakeAPI) deploy(script string, bindings ...map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bindings[script] = bindings
	f.settings[script] = cloudflare.WorkerSettings{}
}

func (f *fakeAPI) WorkerSettings(_ context.Context, script string) (cloudflare.WorkerSettings, error) {
	f.mu.Lock()
	st, ok := f.settings[script]
	var out []json.RawMessage
	for _, b := range f.bindings[script] {
		c := map[string]any{}
		for k, v := range b {
			if k != "text" || b["type"] != "secret_text" {
				c[k] = v
			}
		}
		raw, _ := json.Marshal(c)
		out = append(out, raw)
	}
	f.mu.Unlock()
	time.Sleep(time.Millisecond)
	if !ok {
		return st, &cloudflare.APIError{Status: 404, Codes: []int{10007}, Messages: []string{"script not found"}}
	}
	st.Bindings = out
	return st, nil
}

func (f *fakeAPI) SetWorkerSettings(_ context.Context, script string, s cloudflare.WorkerSettings) error {
	time.Sleep(time.Millisecond)
	f.mu.Lock()
	defer f.mu.Unlock()
	prev := f.bindings[script]
	var next []map[string]any
	for _, raw := range s.Bindings {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		if m["type"] == "secret_text" {
			if _, ok := m["text"]; !ok {
				return errors.New("secret_text without text")
			}
		}
		if m["type"] == "inherit" {
			found := false
			for _, p := range prev {
				if p["name"] == m["name"] {
					m, found = p, true
				}
			}
			if !found {
				return fmt.Errorf("inherit of unknown binding %v", m["name"])
			}
		}
		next = append(next, m)
	}
	f.bindings[script] = next
	s.Bindings = nil
	f.settings[script] = s
	f.writes++
	return nil
}

func (f *fakeAPI) WorkerCrons(_ context.Context, script string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.crons[script]...), nil
}

func (f *fakeAPI) SetWorkerCrons(_ context.Context, script string, crons []string) error {
	time.Sleep(time.Millisecond)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.crons[script] = append([]string(nil), crons...)
	f.writes++
	return nil
}

func foreign() []map[string]any {
	return []map[string]any{
		{"type": "kv_namespace", "name": "CACHE", "namespace_id": "0123"},
		{"type": "d1", "name": "DB", "id": "d1-uuid"},
		{"type": "r2_bucket", "name": "FILES", "bucket_name": "files"},
		{"type": "service", "name": "AUTH", "service": "auth-worker", "environment": "production"},
		{"type": "secret_text", "name": "API_KEY", "text": "hunter2"},
		{"type": "plain_text", "name": "MODE", "text": "prod"},
	}
}

func dataset(name, ds string) Binding {
	return Binding{Name: name, Type: "analytics_engine", Fields: map[string]any{"dataset": ds}}
}

func TestChangeKeepsEverythingItDoesNotOwn(t *testing.T) {
	f := newFake()
	f.deploy("api", foreign()...)
	f.crons["api"] = []string{"0 * * * *", "30 2 * * *"}
	s := New(f)
	ctx := context.Background()
	want := Want{Bindings: []Binding{dataset("METRICS", "api_metrics")}, Crons: []string{"*/5 * * * *"}, CPUMs: 50}
	if err := s.Change(ctx, "api", Want{}, want); err != nil {
		t.Fatal(err)
	}
	if got := len(f.bindings["api"]); got != 7 {
		t.Fatalf("%d bindings, want 7", got)
	}
	if diff := cmp.Diff([]string{"0 * * * *", "30 2 * * *", "*/5 * * * *"}, f.crons["api"]); diff != "" {
		t.Fatalf("crons (-want +got):\n%s", diff)
	}
	if err := s.Change(ctx, "api", want, Want{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(foreign(), f.bindings["api"]); diff != "" {
		t.Fatalf("foreign bindings changed, field by field (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"0 * * * *", "30 2 * * *"}, f.crons["api"]); diff != "" {
		t.Fatalf("crons after removal (-want +got):\n%s", diff)
	}
	if f.settings["api"].CPUMs != 0 {
		t.Fatalf("cpu_ms not removed: %d", f.settings["api"].CPUMs)
	}
	// A second identical change writes nothing.
	before := f.writes
	if err := s.Change(ctx, "api", Want{}, Want{}); err != nil || f.writes != before {
		t.Fatalf("no-op change wrote (%v)", err)
	}
}

func TestConcurrentChangesToOneWorkerLoseNothing(t *testing.T) {
	f := newFake()
	f.deploy("api", foreign()...)
	s := New(f)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := Want{Bindings: []Binding{dataset(fmt.Sprintf("DS_%d", i), fmt.Sprintf("ds_%d", i))}, Crons: []string{fmt.Sprintf("%d * * * *", i)}}
			errs <- s.Change(context.Background(), "api", Want{}, w)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := len(f.bindings["api"]); got != 26 {
		t.Fatalf("%d bindings after 20 concurrent changes, want 26: a change was lost", got)
	}
	if got := len(f.crons["api"]); got != 20 {
		t.Fatalf("%d crons, want 20", got)
	}
}

func TestChangeRefusesToReplaceAForeignBinding(t *testing.T) {
	f := newFake()
	f.deploy("api", foreign()...)
	s := New(f)
	err := s.Change(context.Background(), "api", Want{}, Want{Bindings: []Binding{dataset("CACHE", "x")}})
	var fe *ForeignError
	if !errors.As(err, &fe) || fe.Binding != "CACHE" {
		t.Fatalf("err = %v; want a ForeignError for CACHE", err)
	}
	if diff := cmp.Diff(foreign(), f.bindings["api"]); diff != "" {
		t.Fatalf("bindings changed (-want +got):\n%s", diff)
	}
}

func TestRemovalLeavesABindingSomeoneElseChanged(t *testing.T) {
	f := newFake()
	f.deploy("api")
	s := New(f)
	ctx := context.Background()
	ours := Want{Bindings: []Binding{dataset("METRICS", "a")}}
	if err := s.Change(ctx, "api", Want{}, ours); err != nil {
		t.Fatal(err)
	}
	f.bindings["api"][0]["dataset"] = "theirs" // repointed outside flareops
	if err := s.Change(ctx, "api", ours, Want{}); err != nil {
		t.Fatal(err)
	}
	if len(f.bindings["api"]) != 1 {
		t.Fatal("a binding someone else changed was removed")
	}
}

func TestReadsEachWorkerOncePerRun(t *testing.T) {
	f := newFake()
	f.deploy("api")
	counting := &countingAPI{API: f}
	s := New(counting)
	for i := 0; i < 5; i++ {
		if _, err := s.Read(context.Background(), "api"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Read(context.Background(), "gone"); err != nil {
			t.Fatal(err)
		}
	}
	if counting.reads != 2 {
		t.Fatalf("%d reads, want 2 (one per Worker)", counting.reads)
	}
	w, _ := s.Read(context.Background(), "gone")
	if w.Exists {
		t.Fatal("a missing Worker reads as existing")
	}
}

type countingAPI struct {
	API
	mu    sync.Mutex
	reads int
}

func (c *countingAPI) WorkerSettings(ctx context.Context, script string) (cloudflare.WorkerSettings, error) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.API.WorkerSettings(ctx, script)
}

func TestMergeCrons(t *testing.T) {
	tests := []struct {
		name           string
		cur, old, next []string
		want           []string
	}{
		{"add", []string{"a"}, nil, []string{"b"}, []string{"a", "b"}},
		{"remove ours only", []string{"a", "b"}, []string{"b"}, nil, []string{"a"}},
		{"replace", []string{"a", "b"}, []string{"b"}, []string{"c"}, []string{"a", "c"}},
		{"already there", []string{"a", "b"}, nil, []string{"b"}, []string{"a", "b"}},
		{"ours gone already", []string{"a"}, []string{"b"}, nil, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, MergeCrons(tt.cur, tt.old, tt.next)); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}
