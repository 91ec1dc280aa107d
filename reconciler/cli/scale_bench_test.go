package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

// The scale benchmarks measure a steady-state `flareops plan` of a large account: its API
// requests (one list of queues, whatever the number), its allocations and its peak heap,
// and how much the pacer adds when FLAREOPS_RATE_LIMIT is very high. Figures are reported
// with b.ReportMetric, never asserted on time. The 10,000-object runs take a minute to set
// up: opt in with FLAREOPS_BIG=1.
//
//	go test -run '^$' -bench 'ScalePlan|PacerLimit' -benchtime 3x ./reconciler/cli/
//	FLAREOPS_BIG=1 go test -run '^$' -bench ScalePlan -benchtime 3x -memprofile mem.out ./reconciler/cli/

// scaleAccount is an emulator that announces a budget no run reaches, with the consumers'
// Worker deployed, and a directory declaring n queues: n/2 with a worker consumer whose
// dead-letter queue is one of the other n/2. It is applied once; plans then change nothing.
func scaleAccount(b *testing.B, n int) (*emulator.Server, map[string]string, string) {
	b.Helper()
	srv, err := emulator.New(emulator.Options{RateLimit: 1 << 24, RateWindow: time.Minute, RequireConsumerScripts: true})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	b.Cleanup(func() { hs.Close(); srv.Close() })
	srv.SetBaseURL(hs.URL)
	env := map[string]string{
		"CLOUDFLARE_API_TOKEN": "bench-token", "CLOUDFLARE_ACCOUNT_ID": LocalAccountID,
		"CLOUDFLARE_BASE_URL": hs.URL + emulator.APIPrefix,
	}
	c, err := cloudflare.New(cloudflare.Config{BaseURL: hs.URL + emulator.APIPrefix, Token: "deploy-token", AccountID: LocalAccountID})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.UploadScript(context.Background(), "bench-worker", "export default {};\n"); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	// Files of 1,000 queues each: a source file is at most 1 MiB.
	var cfg strings.Builder
	flush := func(i int) {
		if cfg.Len() == 0 {
			return
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("queues-%05d.flareops.hcl", i)), []byte(cfg.String()), 0o644); err != nil {
			b.Fatal(err)
		}
		cfg.Reset()
	}
	for i := 0; i < n/2; i++ {
		if i%500 == 0 {
			flush(i)
		}
		fmt.Fprintf(&cfg, `queue "q%05[1]d_dlq" {
  name              = "bench-%05[1]d-dlq"
  message_retention = "14d"
}

queue "q%05[1]d" {
  name = "bench-%05[1]d"
  consumer {
    worker            = "bench-worker"
    max_retries       = 3
    dead_letter_queue = queue.q%05[1]d_dlq
  }
}

`, i)
	}
	flush(n / 2)
	applyOnce(b, env, dir)
	return srv, env, dir
}

// applyOnce applies the configuration in dir as `flareops apply` does, but records the
// state in memory and writes the file once at the end: the CLI writes the whole state after
// every change (durability first), which makes setting up 10,000 objects quadratic.
func applyOnce(b *testing.B, env map[string]string, dir string) {
	b.Helper()
	var out, errOut bytes.Buffer
	io := IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return env[k] }, Environ: func() []string { return nil }}
	s, ok := openSession(configFlags{dir: dir}, io, "apply")
	if !ok {
		b.Fatalf("setup: %s", tail(errOut.String()))
	}
	defer s.close()
	file := s.engine.State
	s.engine.State = reconciler.NewMemoryState()
	ctx := context.Background()
	p, err := s.engine.Plan(ctx, s.cfg.desired)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.engine.Apply(ctx, p, reconciler.ApplyOptions{Parallelism: 16}); err != nil {
		b.Fatal(err)
	}
	file.Resources = s.engine.State.Resources
	if err := file.Save(); err != nil {
		b.Fatal(err)
	}
}

// runTB runs the CLI with env as its whole environment.
func runTB(env map[string]string, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	io := IO{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
		Getenv:  func(k string) string { return env[k] },
		Environ: func() []string { return nil },
	}
	return Main(args, io), out.String(), errOut.String()
}

func tail(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}

// heapPeak samples the heap while a run goes on: the most it held in objects (live and
// not yet collected: what the process's memory follows) and the most it held live after a
// collection, each less what was there before the run (the emulator's store of the
// account and the harness, which a real CLI process does not hold; the emulator's
// answers being encoded while the CLI reads them are counted, so the figures are
// upper bounds).
type heapPeak struct {
	stop               chan struct{}
	done               sync.WaitGroup
	baseObjs, baseLive uint64
	peakObjs, peakLive uint64
}

var heapSamples = []string{"/memory/classes/heap/objects:bytes", "/gc/heap/live:bytes"}

func startHeapPeak() *heapPeak {
	runtime.GC()
	s := make([]metrics.Sample, len(heapSamples))
	for i, n := range heapSamples {
		s[i].Name = n
	}
	metrics.Read(s)
	h := &heapPeak{stop: make(chan struct{}), baseObjs: s[0].Value.Uint64(), baseLive: s[1].Value.Uint64()}
	h.peakObjs, h.peakLive = h.baseObjs, h.baseLive
	h.done.Add(1)
	go func() {
		defer h.done.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			h.peakObjs, h.peakLive = max(h.peakObjs, s[0].Value.Uint64()), max(h.peakLive, s[1].Value.Uint64())
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

// end stops sampling and returns the peaks above the baseline, in bytes.
func (h *heapPeak) end() (objs, live uint64) {
	close(h.stop)
	h.done.Wait()
	// A collection at the end makes the last live figure count.
	runtime.GC()
	s := []metrics.Sample{{Name: heapSamples[1]}}
	metrics.Read(s)
	h.peakLive = max(h.peakLive, s[0].Value.Uint64())
	return h.peakObjs - h.baseObjs, h.peakLive - h.baseLive
}

// benchPlan runs `flareops plan -detailed-exitcode` b.N times (exit 0: nothing to change)
// and reports requests per plan, allocated bytes per plan (B/op) and the peak heap (see
// heapPeak).
func benchPlan(b *testing.B, srv *emulator.Server, env map[string]string, dir string) {
	b.Helper()
	srv.ResetCounts()
	b.ReportAllocs()
	var peakObjs, peakLive uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		h := startHeapPeak()
		b.StartTimer()
		code, out, errOut := runTB(env, "plan", "-detailed-exitcode", "-dir", dir)
		b.StopTimer()
		objs, live := h.end()
		peakObjs, peakLive = max(peakObjs, objs), max(peakLive, live)
		if code != 0 {
			b.Fatalf("steady-state plan: exit %d\n%s\n%s", code, tail(out), tail(errOut))
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(srv.Counts().Total)/float64(b.N), "requests/op")
	b.ReportMetric(float64(peakObjs)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(peakLive)/(1<<20), "peak-live-MB")
}

func scaleSizes() []int {
	if os.Getenv("FLAREOPS_BIG") == "1" {
		return []int{2000, 10000}
	}
	return []int{2000}
}

// BenchmarkScalePlan: a steady-state CLI plan of 2,000 (and, with FLAREOPS_BIG=1, 10,000)
// queues.
func BenchmarkScalePlan(b *testing.B) {
	for _, n := range scaleSizes() {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			srv, env, dir := scaleAccount(b, n)
			benchPlan(b, srv, env, dir)
		})
	}
}

// BenchmarkPacerLimit: the same 2,000-queue plan without an explicit rate limit and with
// FLAREOPS_RATE_LIMIT=100000000/5m. The pacer's cost must not depend on the limit: compare
// the two ns/op (the ratio is about 1).
func BenchmarkPacerLimit(b *testing.B) {
	srv, env, dir := scaleAccount(b, 2000)
	for _, limit := range []string{"", "100000000/5m"} {
		name := "limit=none"
		if limit != "" {
			name = "limit=" + strings.ReplaceAll(limit, "/", "per")
		}
		b.Run(name, func(b *testing.B) {
			e := map[string]string{}
			for k, v := range env {
				e[k] = v
			}
			if limit != "" {
				e["FLAREOPS_RATE_LIMIT"] = limit
			}
			benchPlan(b, srv, e, dir)
		})
	}
}

// BenchmarkScalePlanProcess: the same steady-state plans, run as the built binary in a
// process of its own, reporting what a user's machine sees: the process's peak resident
// memory (hwm-MB, the kernel's VmHWM of the process, read from /proc while it runs: the
// rusage of a child started by os/exec also counts its parent's memory, since Linux
// carries the high-water mark of the address space the child was forked with across
// exec). The target is 10,000 objects under 100 MB (FLAREOPS_BIG=1).
func BenchmarkScalePlanProcess(b *testing.B) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		b.Skip("needs /proc to read a process's peak memory")
	}
	bin := buildFlareops(b)
	for _, n := range scaleSizes() {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			srv, env, dir := scaleAccount(b, n)
			environ := []string{"HOME=" + b.TempDir(), "PATH=" + os.Getenv("PATH")}
			for k, v := range env {
				environ = append(environ, k+"="+v)
			}
			srv.ResetCounts()
			var peak int64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				cmd := exec.Command(bin, "plan", "-detailed-exitcode", "-dir", dir)
				cmd.Env = environ
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				done := make(chan struct{})
				var hwm int64
				go func() {
					// VmHWM only grows: the last reading before the process ends is its peak,
					// give or take what it added in its last millisecond.
					for {
						if kb, ok := vmHWM(cmd.Process.Pid); ok {
							hwm = max(hwm, kb)
						}
						select {
						case <-done:
							return
						case <-time.After(time.Millisecond):
						}
					}
				}()
				err := cmd.Wait()
				close(done)
				if err != nil {
					b.Fatalf("steady-state plan: %v\n%s", err, tail(out.String()))
				}
				peak = max(peak, hwm)
			}
			b.StopTimer()
			b.ReportMetric(float64(srv.Counts().Total)/float64(b.N), "requests/op")
			b.ReportMetric(float64(peak)/1024, "hwm-MB")
		})
	}
}

// vmHWM reads the peak resident memory, in KiB, of the running flareops process pid; not
// before it has exec'd (until then it shares its parent's memory, and its status says so).
func vmHWM(pid int) (int64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil || !strings.HasPrefix(string(b), "Name:\tflareops\n") {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err == nil {
				return kb, true
			}
		}
	}
	return 0, false
}

// BenchmarkMonotaskSteadyStatePlan: a steady-state `flareops plan` of examples/monotask
// (queues, datasets, Worker settings with Logpush, a sandbox, alerting, SLOs, backups),
// reporting its API requests: one read per Worker it touches (whatever the number of
// declarations on it) and one list per kind. The requests by route are in the log (-v).
func BenchmarkMonotaskSteadyStatePlan(b *testing.B) {
	a := newAccount(b, emulator.Options{RateLimit: 1 << 24, RateWindow: time.Minute})
	dir := copyExample(b)
	if code, out, errOut := runTB(a.env, "apply", "-auto-approve", "-dir", dir); code != 0 {
		b.Fatalf("apply: exit %d\n%s\n%s", code, tail(out), tail(errOut))
	}
	a.srv.ResetCounts()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if code, out, errOut := runTB(a.env, "plan", "-detailed-exitcode", "-dir", dir); code != 0 {
			b.Fatalf("steady-state plan: exit %d\n%s\n%s", code, tail(out), tail(errOut))
		}
	}
	b.StopTimer()
	c := a.srv.Counts()
	b.ReportMetric(float64(c.Total)/float64(b.N), "requests/op")
	for _, r := range c.Routes() {
		b.Logf("%4.1f  %s", float64(c.ByRoute[r])/float64(b.N), r)
	}
}
