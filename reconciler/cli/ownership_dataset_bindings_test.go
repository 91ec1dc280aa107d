package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

// A binding someone else made on a Worker survives every change of a managed dataset (a
// hostile review found that adding the same binding to the dataset took it over).

// A managed dataset that gains a binding someone else already made (same Worker, name and
// dataset) must not silently take it over: destroying the dataset would remove it. The
// plan shows the binding added and says apply refuses; apply refuses, writing nothing.
func TestHostileDatasetBindingSomeoneElseMade(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	c := a.client(t)
	ctx := context.Background()
	theirs := cloudflare.WorkerSettings{Bindings: []json.RawMessage{json.RawMessage(`{"type":"analytics_engine","name":"METRICS","dataset":"api_metrics"}`)}}
	if err := c.SetWorkerSettings(ctx, "their-worker", theirs); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	one := "analytics_dataset \"api\" {\n  dataset = \"api_metrics\"\n  binding {\n    worker = \"our-worker\"\n    name   = \"METRICS\"\n  }\n"
	writeFile(t, dir, "main.flareops.hcl", one+"}\n")
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	writeFile(t, dir, "main.flareops.hcl", one+"  binding {\n    worker = \"their-worker\"\n    name   = \"METRICS\"\n  }\n}\n")
	code, out, errOut := run(t, a.env, "plan", "-detailed-exitcode", "-dir", dir)
	if code != 2 || !strings.Contains(out, "Worker their-worker already has binding METRICS (dataset api_metrics), which flareops does not manage: apply refuses to take it over") {
		t.Errorf("plan adding their binding: exit %d, want 2 with the binding added and apply's refusal announced\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = run(t, a.env, "apply", "-auto-approve", "-dir", dir)
	if code != 1 || !strings.Contains(errOut, "Worker their-worker already has binding METRICS (dataset api_metrics), which flareops does not manage") || !strings.Contains(errOut, "failed halfway") {
		t.Errorf("apply taking over their binding: exit %d, want 1 refusing it\n%s\n%s", code, out, errOut)
	}
	run(t, a.env, "destroy", "-auto-approve", "-dir", dir)
	st, err := c.WorkerSettings(ctx, "their-worker")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Bindings) != 1 {
		t.Fatalf("someone else's binding METRICS on their-worker was removed: bindings now %s", st.Bindings)
	}
	if ours, err := c.WorkerSettings(ctx, "our-worker"); err != nil || len(ours.Bindings) != 0 {
		t.Fatalf("destroy left the dataset's own binding on our-worker: %s (%v)", ours.Bindings, err)
	}
}

// A new dataset declaring a binding someone else made: the plan fails (the binding is
// theirs; import it to manage it), and destroy leaves it.
func TestHostileDatasetBindingRefusedAtCreate(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	c := a.client(t)
	ctx := context.Background()
	theirs := cloudflare.WorkerSettings{Bindings: []json.RawMessage{json.RawMessage(`{"type":"analytics_engine","name":"METRICS","dataset":"api_metrics"}`)}}
	if err := c.SetWorkerSettings(ctx, "their-worker", theirs); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, dir, "main.flareops.hcl", "analytics_dataset \"api\" {\n  dataset = \"api_metrics\"\n  binding {\n    worker = \"their-worker\"\n    name   = \"METRICS\"\n  }\n}\n")
	if code, out, errOut := run(t, a.env, "apply", "-auto-approve", "-dir", dir); code != 1 || !strings.Contains(errOut, "flareops does not manage it") {
		t.Errorf("apply of a dataset whose binding someone else made: exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	run(t, a.env, "destroy", "-auto-approve", "-dir", dir)
	if st, err := c.WorkerSettings(ctx, "their-worker"); err != nil || len(st.Bindings) != 1 {
		t.Fatalf("someone else's binding METRICS on their-worker was removed: %s (%v)", st.Bindings, err)
	}
}
