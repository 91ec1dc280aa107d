package backup

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/monotask/flareops/emulator"
)

// The benchmarks run the local Cloudflare in a child process (this test binary, started
// with FLAREOPS_BACKUP_BENCH_SERVER=1), so that the peak heap they report is flareops's
// own: the emulator holds a whole export in memory, flareops must not.
const benchServerEnv = "FLAREOPS_BACKUP_BENCH_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(benchServerEnv) == "1" {
		serveEmulator()
		return
	}
	os.Exit(m.Run())
}

// serveEmulator serves a local Cloudflare until stdin closes, printing its URL first.
func serveEmulator() {
	srv, err := emulator.New(emulator.Options{RateLimit: -1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	url := "http://" + ln.Addr().String()
	srv.SetBaseURL(url)
	go http.Serve(ln, srv) //nolint:errcheck // ends with the process
	fmt.Println(url)
	io.Copy(io.Discard, os.Stdin) //nolint:errcheck // until the parent is done
}

// newRemoteFixture is a fixture whose local Cloudflare runs in a child process.
func newRemoteFixture(b *testing.B) *fixture {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), benchServerEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }() //nolint:errcheck // it is told to stop
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill() //nolint:errcheck // last resort
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("the emulator process did not start: %v", err)
	}
	f := &fixture{t: b, url: strings.TrimSpace(line)}
	f.connect()
	return f
}

// peakHeap samples the heap while fn runs and returns the peaks above what was there
// before: of the heap's objects (garbage not yet collected included) and of the live heap
// as each GC found it (what the code holds).
func peakHeap(fn func()) (objects, live uint64) {
	runtime.GC()
	names := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(names)
	base, baseLive := names[0].Value.Uint64(), names[1].Value.Uint64()
	var peak, peakLive uint64
	var mu sync.Mutex
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			mu.Lock()
			peak = max(peak, s[0].Value.Uint64())
			peakLive = max(peakLive, s[1].Value.Uint64())
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	fn()
	close(stop)
	wg.Wait()
	sub := func(a, b uint64) uint64 {
		if a < b {
			return 0
		}
		return a - b
	}
	return sub(peak, base), sub(peakLive, baseLive)
}

// benchSizes: 50,000 rows (the figure) and four times that, so that a peak heap
// that grows with the database shows; FLAREOPS_BIG adds 1,000,000.
func benchSizes() []int {
	sizes := []int{50_000, 200_000}
	if os.Getenv("FLAREOPS_BIG") != "" {
		sizes = append(sizes, 1_000_000)
	}
	return sizes
}

func BenchmarkD1Backup(b *testing.B) {
	for _, rows := range benchSizes() {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			f := newRemoteFixture(b)
			_, recipient := newIdentity(b)
			f.seedD1("tasks", map[string]int{"tasks": rows * 9 / 10, "users": rows / 10})
			job := f.job(SourceD1, "tasks", recipient)
			var plain int64
			var peak, live uint64
			b.ResetTimer()
			for b.Loop() {
				p, l := peakHeap(func() {
					bk, err := f.env.Run(b.Context(), job)
					if err != nil {
						b.Fatal(err)
					}
					plain = bk.Manifest.Plaintext.Bytes
				})
				peak, live = max(peak, p), max(live, l)
			}
			secs := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(float64(rows)/secs, "rows/s")
			b.ReportMetric(float64(plain)/secs/1e6, "MB/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(live)/(1<<20), "peak-live-MiB")
			b.ReportMetric(float64(plain)/(1<<20), "dump-MiB")
		})
	}
}

func BenchmarkD1Restore(b *testing.B) {
	for _, rows := range benchSizes() {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			f := newRemoteFixture(b)
			secret, recipient := newIdentity(b)
			f.env.Identity = secret
			f.seedD1("tasks", map[string]int{"tasks": rows * 9 / 10, "users": rows / 10})
			bk, err := f.env.Run(b.Context(), f.job(SourceD1, "tasks", recipient))
			if err != nil {
				b.Fatal(err)
			}
			var peak, live uint64
			i := 0
			b.ResetTimer()
			for b.Loop() {
				i++
				p, l := peakHeap(func() {
					if _, err := f.env.Restore(b.Context(), bk, RestoreOptions{To: fmt.Sprintf("copy-%d", i)}); err != nil {
						b.Fatal(err)
					}
				})
				peak, live = max(peak, p), max(live, l)
			}
			secs := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(float64(rows)/secs, "rows/s")
			b.ReportMetric(float64(bk.Manifest.Plaintext.Bytes)/secs/1e6, "MB/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(live)/(1<<20), "peak-live-MiB")
		})
	}
}
