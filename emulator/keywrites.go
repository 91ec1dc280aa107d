package emulator

import (
	"sync"
	"time"
)

// keyWriteInterval is the write rate R2 and Workers KV allow to one key: "1 write per
// second per key" (cloudflare-api.md §7, R2 10058 TooManyRequests; §9, KV limits).
//
// Unknown upstream: how either service measures it (a token bucket with some burst, or a
// fixed gap). The emulator takes the strictest plausible reading: a write less than one
// second after the last accepted write of the same key is refused with 429 and
// Retry-After, and only accepted writes start a new second. A conditional write whose
// precondition fails writes nothing and answers 412 first (so a race for a lock has one
// winner and losers that learn they lost). Deletes are not limited.
const keyWriteInterval = time.Second

// keyWrites remembers when each key was last written, and counts the writes it refused
// (Counts.KeyWritesLimited, per service: "r2", "kv").
type keyWrites struct {
	interval time.Duration
	mu       sync.Mutex
	last     map[string]time.Time
	refused  map[string]int
}

func newKeyWrites(interval time.Duration) *keyWrites {
	if interval <= 0 {
		interval = keyWriteInterval
	}
	return &keyWrites{interval: interval, last: map[string]time.Time{}, refused: map[string]int{}}
}

// allow records a write of id (service "r2" or "kv", then the key's full name) at now. It
// returns 0 when the write may proceed, else how long until it may.
func (k *keyWrites) allow(service, id string, now time.Time) time.Duration {
	k.mu.Lock()
	defer k.mu.Unlock()
	full := service + "\x00" + id
	if last, ok := k.last[full]; ok {
		if wait := last.Add(k.interval).Sub(now); wait > 0 {
			k.refused[service]++
			return wait
		}
	}
	k.last[full] = now
	// Forget keys whose second is over, so the map stays as small as the write rate.
	if len(k.last) > 4096 {
		for id, t := range k.last {
			if now.Sub(t) >= k.interval {
				delete(k.last, id)
			}
		}
	}
	return 0
}

func (k *keyWrites) counts() map[string]int {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make(map[string]int, len(k.refused))
	for s, n := range k.refused {
		out[s] = n
	}
	return out
}

func (k *keyWrites) reset() {
	k.mu.Lock()
	k.refused = map[string]int{}
	k.mu.Unlock()
}
