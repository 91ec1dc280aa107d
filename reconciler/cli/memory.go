package cli

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// The flareops binary's memory policy (main calls SetMemoryPolicy; the provider and tests
// that call Main in-process keep Go's defaults).
//
// Go's collector lets the heap grow to twice what was live after the last collection
// (GOGC=100), so a plan of a large account peaks at about twice what it needs: 10,000
// queues hold about 45 MB live and the heap reached 80 MB. flareops instead keeps the heap
// under a soft limit of memoryFloor (the collector works harder only as the heap nears
// it), and when what is live outgrows three quarters of the limit, the limit grows to 1.5
// times what is live (GOGC=50 from there on), so a larger account never makes the
// collector run back to back. A 10,000-queue plan peaks about 15–20 MB lower for about 10 %
// more CPU; below a few thousand objects the heap never reaches the floor and nothing
// changes. GOMEMLIMIT or GOGC set in the environment turn the policy off.
const memoryFloor = 64 << 20

var memoryPolicy sync.Once

// SetMemoryPolicy applies the policy above, once per process.
func SetMemoryPolicy() {
	memoryPolicy.Do(func() {
		for _, v := range []string{"GOMEMLIMIT", "GOGC"} {
			if _, set := os.LookupEnv(v); set {
				return
			}
		}
		debug.SetMemoryLimit(memoryFloor)
		watchHeap(memoryFloor)
	})
}

// gcSentinel holds a pointer so that it is not packed with other objects by the tiny
// allocator (whose objects may never be finalized).
type gcSentinel struct{ _ *byte }

// watchHeap raises the soft limit after a collection that left more than three quarters
// of it live. It runs from a finalizer, which the runtime calls after the collection that
// found its object unreachable, and arms a new one each time.
func watchHeap(limit int64) {
	runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) {
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		metrics.Read(s)
		if live := int64(s[0].Value.Uint64()); live > limit/4*3 {
			limit = live / 2 * 3
			debug.SetMemoryLimit(limit)
		}
		watchHeap(limit)
	})
}
