package backup

import (
	"fmt"
	"io"
	"time"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// Env is what every operation works with: the account's API, its R2 objects, a clock,
// and where to show progress.
type Env struct {
	API *cloudflare.Client
	R2  *cloudflare.R2
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Version of flareops, recorded in manifests.
	Version string
	// Progress receives a progress line on long runs (bytes, items, rate); nil is quiet.
	Progress io.Writer
	// Identity is FLAREOPS_BACKUP_IDENTITY: an age identity or the path of a file holding
	// one. It is never printed.
	Identity string
	// PartSize is the most stored bytes per part object (default 1 GiB).
	PartSize int64
	// Chunk is the multipart chunk size (default cloudflare.DefaultUploadChunk).
	Chunk int

	prog *progress
}

const defaultPartSize = 1 << 30

func (e *Env) partSize() int64 {
	if e.PartSize > 0 {
		return e.PartSize
	}
	return defaultPartSize
}

func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

// progress prints "what: 12.3 MB read, 4.0 MB stored, 50,000 rows, 3.2 MB/s" at most
// twice a second; a nil *progress does nothing.
type progress struct {
	w       io.Writer
	what    string
	noun    string
	start   time.Time
	last    time.Time
	plainN  int64
	storedN int64
	items   int64
	printed bool
}

func (e *Env) startProgress(what, noun string) {
	if e.Progress == nil {
		e.prog = nil
		return
	}
	now := time.Now()
	e.prog = &progress{w: e.Progress, what: what, noun: noun, start: now, last: now}
}

func (p *progress) plain(n int) {
	if p != nil {
		p.plainN += int64(n)
		p.tick()
	}
}

func (p *progress) stored(n int) {
	if p != nil {
		p.storedN += int64(n)
		p.tick()
	}
}

func (p *progress) item() {
	if p != nil {
		p.items++
		p.tick()
	}
}

func (p *progress) tick() {
	if now := time.Now(); now.Sub(p.last) >= 500*time.Millisecond {
		p.last = now
		p.print(now)
	}
}

func (p *progress) print(now time.Time) {
	secs := now.Sub(p.start).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(max(p.plainN, p.storedN)) / secs
	}
	fmt.Fprintf(p.w, "\r%s: %s plaintext, %s stored, %d %s, %s/s ", p.what, sizeText(p.plainN), sizeText(p.storedN), p.items, p.noun, sizeText(int64(rate)))
	p.printed = true
}

// done ends the progress line.
func (e *Env) endProgress() {
	if p := e.prog; p != nil && p.printed {
		p.print(time.Now())
		fmt.Fprintln(p.w)
	}
	e.prog = nil
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
