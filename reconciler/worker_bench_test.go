package reconciler_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler"
)

// workerPlatform is a synthetic platform of n Workers, each with perWorker analytics
// datasets bound in it and its settings (cpu_ms, observability), applied to an emulator. Each plan builds a fresh registry, as a
// CLI run does (Worker reads are cached per run).
func workerPlatform(b *testing.B, n, perWorker int) (*emulator.Server, func() *reconciler.Engine, []reconciler.Desired) {
	b.Helper()
	srv, c := benchAccountClient(b)
	ctx := context.Background()
	var ds []reconciler.Desired
	for w := 0; w < n; w++ {
		script := fmt.Sprintf("worker-%03d", w)
		if err := c.UploadScript(ctx, script, "export default {};\n"); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, reconciler.Desired{Addr: reconciler.Address{Kind: "worker_settings", Name: fmt.Sprintf("w%03d", w)}, Values: reconciler.Values{
			"script": script, "deployed_by": "flareops", "cpu_ms": int64(50),
			"observability": []reconciler.Values{{"enabled": true, "head_sampling_rate": 0.5}},
		}})
		ds = append(ds, reconciler.Desired{Addr: reconciler.Address{Kind: "sandbox", Name: fmt.Sprintf("w%03d", w)}, Values: reconciler.Values{
			"name": script, "worker": script, "cleanup_every": "5m", "execution_timeout": int64(1800), "idle_timeout": int64(600),
		}})
		for d := 0; d < perWorker; d++ {
			name := fmt.Sprintf("w%03d_d%d", w, d)
			ds = append(ds, reconciler.Desired{Addr: reconciler.Address{Kind: "analytics_dataset", Name: name}, Values: reconciler.Values{
				"dataset": name,
				"binding": []reconciler.Values{{"worker": script, "name": fmt.Sprintf("METRICS_%d", d)}},
			}})
		}
	}
	state := reconciler.NewMemoryState()
	engine := func() *reconciler.Engine {
		return &reconciler.Engine{Registry: reconciler.KindsWith(c, reconciler.Settings{OpsKVNamespace: "bench-ops"}), State: state}
	}
	e := engine()
	p, err := e.Plan(ctx, ds)
	if err != nil {
		b.Fatal(err)
	}
	if err := e.Apply(ctx, p, reconciler.ApplyOptions{Parallelism: 16}); err != nil {
		b.Fatal(err)
	}
	return srv, engine, ds
}

// BenchmarkWorkerSidePlan plans a platform of Workers with Worker-side declarations when
// nothing changed. requests/op is the API calls of one plan: it grows with the number of
// Workers (one settings read each, however many declarations are on it), never with the
// number of declarations; the worker_settings kind adds one list of Logpush jobs.
func BenchmarkWorkerSidePlan(b *testing.B) {
	for _, c := range []struct{ workers, perWorker int }{{5, 1}, {5, 4}, {50, 1}, {50, 4}} {
		b.Run(fmt.Sprintf("workers=%d/declarations=%d", c.workers, c.workers*(c.perWorker+2)), func(b *testing.B) {
			srv, engine, ds := workerPlatform(b, c.workers, c.perWorker)
			benchPlans(b, srv, engine, ds)
		})
	}
}
