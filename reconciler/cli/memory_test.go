package cli

import (
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// The memory policy runs in a process of its own (it sets process-wide limits): this test
// starts the test binary again in memoryPolicyChild.
func TestMemoryPolicy(t *testing.T) {
	for _, tc := range []struct {
		name, env string
		check     func(limit int64) bool
		want      string
	}{
		{"grows past the floor with the live heap", "", func(l int64) bool { return l >= 140<<20 && l < 200<<20 }, "about 1.5 x 100 MiB"},
		{"off when GOGC is set", "GOGC=100", func(l int64) bool { return l == math.MaxInt64 }, "no limit"},
		{"off when GOMEMLIMIT is set", "GOMEMLIMIT=1GiB", func(l int64) bool { return l == 1<<30 }, "the user's 1 GiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestMemoryPolicyChild$")
			cmd.Env = []string{"FLAREOPS_MEMORY_POLICY_CHILD=1"}
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "GOGC=") && !strings.HasPrefix(kv, "GOMEMLIMIT=") {
					cmd.Env = append(cmd.Env, kv)
				}
			}
			if tc.env != "" {
				cmd.Env = append(cmd.Env, tc.env)
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			var first, last int64
			for _, line := range strings.Split(string(out), "\n") {
				if rest, ok := strings.CutPrefix(line, "limits "); ok {
					f := strings.Fields(rest)
					first, _ = strconv.ParseInt(f[0], 10, 64)
					last, _ = strconv.ParseInt(f[1], 10, 64)
				}
			}
			if tc.env == "" && first != memoryFloor {
				t.Errorf("limit before the heap grew: %d, want the floor %d", first, memoryFloor)
			}
			if !tc.check(last) {
				t.Errorf("limit with 100 MiB live: %d MiB, want %s\n%s", last>>20, tc.want, out)
			}
		})
	}
}

func TestMemoryPolicyChild(t *testing.T) {
	if os.Getenv("FLAREOPS_MEMORY_POLICY_CHILD") != "1" {
		t.Skip("run by TestMemoryPolicy in a process of its own")
	}
	SetMemoryPolicy()
	first := debug.SetMemoryLimit(-1)
	live := make([][]byte, 100)
	for i := range live {
		live[i] = make([]byte, 1<<20)
	}
	for i := 0; i < 5; i++ {
		runtime.GC()
		runtime.Gosched()
	}
	// The finalizer goroutine adjusts the limit after each collection; give it a moment.
	for i := 0; i < 100 && debug.SetMemoryLimit(-1) == first; i++ {
		runtime.GC()
	}
	runtime.KeepAlive(live)
	println("limits", first, debug.SetMemoryLimit(-1))
}
