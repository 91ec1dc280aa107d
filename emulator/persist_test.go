package emulator_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/monotask/flareops/emulator"
)

// TestHelperChildServer is not a test: it is the child process of TestKillDuringWrites,
// serving a persistent emulator until it is killed. Run directly, it returns at once.
func TestHelperChildServer(t *testing.T) {
	dir := os.Getenv("FLAREOPS_EMULATOR_CHILD_DATA")
	if dir == "" {
		return
	}
	srv, err := emulator.New(emulator.Options{DataDir: dir, RateLimit: -1})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("listening http://" + ln.Addr().String())
	_ = http.Serve(ln, srv) // runs until the parent kills the process
}

// A SIGKILL in the middle of a burst of writes never leaves an unreadable store, and every
// write the emulator acknowledged before the kill is there after a restart.
func TestKillDuringWrites(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperChildServer$", "-test.count=1")
	cmd.Env = append(os.Environ(), "FLAREOPS_EMULATOR_CHILD_DATA="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening ") {
		t.Fatalf("child did not start: %q %v", line, err)
	}
	url := strings.TrimSpace(strings.TrimPrefix(line, "listening "))

	q := coreQueues(url, "tok")
	var acked sync.Map
	var n atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				name := fmt.Sprintf("burst-%d-%d", w, i)
				if _, err := q.New(ctx, queueNew(coreAccount, name)); err != nil {
					return // the kill: the connection is gone
				}
				acked.Store(name, true)
				n.Add(1)
			}
		}(w)
	}
	// Let a burst build up, then kill the child while writes are in flight.
	deadline := time.Now().Add(20 * time.Second)
	for n.Load() < 150 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	cancel()
	wg.Wait()
	if n.Load() < 150 {
		t.Fatalf("only %d writes acknowledged before the kill; the test needs a burst", n.Load())
	}

	srv, err := emulator.New(emulator.Options{DataDir: dir})
	if err != nil {
		t.Fatalf("store unreadable after SIGKILL: %v", err)
	}
	defer srv.Close()
	hs := newHTTPServer(t, srv)
	page, err := coreQueues(hs, "tok").List(context.Background(), queueList(coreAccount))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, qq := range page.Result {
		have[qq.QueueName] = true
	}
	missing := 0
	acked.Range(func(k, _ any) bool {
		if !have[k.(string)] {
			missing++
		}
		return true
	})
	if missing > 0 {
		t.Fatalf("%d acknowledged writes lost (of %d)", missing, n.Load())
	}
	t.Logf("%d writes acknowledged before SIGKILL, all present after restart (%d queues stored)", n.Load(), len(page.Result))
}

func newHTTPServer(t *testing.T, srv *emulator.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln) //nolint:errcheck // closed below
	t.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String()
}

// BenchmarkRequest measures the emulator's cost per REST request (queue list and create),
// in memory and persisted to disk.
func BenchmarkRequest(b *testing.B) {
	for _, persist := range []bool{false, true} {
		name := "memory"
		if persist {
			name = "persisted"
		}
		options := func(b *testing.B) emulator.Options {
			opts := emulator.Options{RateLimit: -1}
			if persist {
				opts.DataDir = b.TempDir()
			}
			return opts
		}
		b.Run(name+"/list", func(b *testing.B) {
			_, url := coreServer(b, options(b))
			q := coreQueues(url, "t")
			ctx := context.Background()
			for i := 0; i < 100; i++ {
				if _, err := q.New(ctx, queueNew(coreAccount, fmt.Sprintf("q%d", i))); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := q.List(ctx, queueList(coreAccount)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/create", func(b *testing.B) {
			_, url := coreServer(b, options(b))
			q := coreQueues(url, "t")
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := q.New(ctx, queueNew(coreAccount, fmt.Sprintf("q%d", i))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
