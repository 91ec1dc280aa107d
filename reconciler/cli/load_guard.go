package cli

import (
	"fmt"
	"os"
	"runtime/metrics"
	"sync/atomic"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// loadMemoryLimit is how much heap loading a configuration may hold before the CLI stops
// it. The configuration language bounds sources (1 MiB a file), nesting and each local's
// value (config.MaxValueSize), but one expression can still repeat a large value many
// times, or nest for expressions over large lists, and grow until the machine runs out
// of memory: the process would die with a runtime fatal error and no word of where. A
// configuration of 10,000 queues loads in about 20 MB; 512 MiB is far beyond any real one.
const loadMemoryLimit = 512 << 20

// guardLoad watches the heap while a configuration loads (until stop is called) and, past
// loadMemoryLimit, ends the process with exit code 1 and a message that names the
// declaration being evaluated. Exiting is the only way to stop an evaluation inside the
// HCL library; nothing is locked or written while a configuration loads.
func guardLoad(at *atomic.Pointer[hcl.Range], io IO) (stop func()) {
	done := make(chan struct{})
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			metrics.Read(s)
			if s[0].Value.Uint64() <= loadMemoryLimit {
				continue
			}
			where := "the configuration"
			if r := at.Load(); r != nil {
				where = fmt.Sprintf("%s:%d", r.Filename, r.Start.Line)
			}
			fmt.Fprintf(io.Stderr, "Error: configuration too large to evaluate\n\nEvaluating %s has used more than %d MiB: an expression there grows without bound, "+
				"such as a template that repeats a large local many times, or for expressions nested over large lists. Simplify it; flareops stopped before reading any state or account.\n",
				where, loadMemoryLimit>>20)
			os.Exit(ExitError)
		}
	}()
	return func() { close(done) }
}
