package cli

import (
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"testing"
	"time"
)

func BenchmarkZZPeakProfile(b *testing.B) {
	_, env, dir := scaleAccount(b, 10000)
	stop := make(chan struct{})
	done := make(chan struct{})
	var best uint64
	go func() {
		defer close(done)
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > best {
				best = v
				f, _ := os.Create("/tmp/scale-peak.pprof")
				pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	b.ResetTimer()
	code, _, errOut := runTB(env, "plan", "-detailed-exitcode", "-dir", dir)
	close(stop)
	<-done
	if code != 0 {
		b.Fatal(errOut)
	}
	b.ReportMetric(float64(best)/(1<<20), "live-MB")
}
