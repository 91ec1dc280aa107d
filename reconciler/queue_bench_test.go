package reconciler_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

const benchAccount = "0123456789abcdef0123456789abcdef"

// benchAccountClient serves an emulator with a budget no benchmark reaches, announced in
// its Ratelimit headers (without them the client assumes Cloudflare's 1,200 per 5
// minutes), and returns a client of it.
func benchAccountClient(b testing.TB) (*emulator.Server, *cloudflare.Client) {
	b.Helper()
	srv, err := emulator.New(emulator.Options{RateLimit: 1 << 20, RateWindow: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	b.Cleanup(func() { hs.Close(); srv.Close() })
	c, err := cloudflare.New(cloudflare.Config{BaseURL: hs.URL + emulator.APIPrefix, Token: "t", AccountID: benchAccount, RateLimit: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	return srv, c
}

// benchPlans plans ds b.N times with the engine plan returns (nothing may change) and
// reports the API requests of one plan as requests/op.
func benchPlans(b *testing.B, srv *emulator.Server, engine func() *reconciler.Engine, ds []reconciler.Desired) {
	b.Helper()
	srv.ResetCounts()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := engine().Plan(context.Background(), ds)
		if err != nil {
			b.Fatal(err)
		}
		if p.HasChanges() {
			b.Fatal("steady state plan has changes")
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(srv.Counts().Total)/float64(b.N), "requests/op")
}

// benchSetup applies n queues, each with a worker consumer whose DLQ is another declared
// queue (2n queues in all), against an emulator, and returns the engine and desired set.
func benchSetup(b *testing.B, n int) (*emulator.Server, *reconciler.Engine, []reconciler.Desired) {
	b.Helper()
	srv, c := benchAccountClient(b)
	if err := c.UploadScript(context.Background(), "bench-worker", "export default {};\n"); err != nil {
		b.Fatal(err) // the consumers' Worker must exist, as on Cloudflare
	}
	reg, err := reconciler.NewRegistry(reconciler.QueueKind{API: c})
	if err != nil {
		b.Fatal(err)
	}
	e := &reconciler.Engine{Registry: reg, State: reconciler.NewMemoryState()}
	var ds []reconciler.Desired
	for i := 0; i < n; i++ {
		dlq := fmt.Sprintf("q%04d_dlq", i)
		ds = append(ds,
			reconciler.Desired{Addr: reconciler.Address{Kind: "queue", Name: dlq}, Values: reconciler.Values{
				"name": fmt.Sprintf("bench-%04d-dlq", i), "delivery_delay": int64(0), "message_retention": int64(1209600), "paused": false,
			}},
			reconciler.Desired{Addr: reconciler.Address{Kind: "queue", Name: fmt.Sprintf("q%04d", i)}, Deps: []reconciler.Address{{Kind: "queue", Name: dlq}}, Values: reconciler.Values{
				"name": fmt.Sprintf("bench-%04d", i), "delivery_delay": int64(0), "message_retention": int64(345600), "paused": false,
				"consumer": []reconciler.Values{{
					"type": "worker", "worker": "bench-worker", "batch_size": int64(10), "max_retries": int64(3), "retry_delay": int64(30),
					"dead_letter_queue": reconciler.RefValue{Address: "queue." + dlq, Name: fmt.Sprintf("bench-%04d-dlq", i)},
				}},
			}},
		)
	}
	ctx := context.Background()
	p, err := e.Plan(ctx, ds)
	if err != nil {
		b.Fatal(err)
	}
	if err := e.Apply(ctx, p, reconciler.ApplyOptions{Parallelism: 16}); err != nil {
		b.Fatal(err)
	}
	return srv, e, ds
}

// BenchmarkSteadyStatePlan plans 1,000 queues with consumers and their 1,000 DLQs when
// nothing changed. requests/op is the number of API calls one plan makes: it must not
// grow with the number of objects.
func BenchmarkSteadyStatePlan(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("queues=%d", 2*n), func(b *testing.B) {
			srv, e, ds := benchSetup(b, n)
			benchPlans(b, srv, func() *reconciler.Engine { return e }, ds)
		})
	}
}
