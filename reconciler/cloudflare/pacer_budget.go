package cloudflare

import "time"

// Budget is where a client stands in its request budget, for progress reports.
type Budget struct {
	// Left is how many more requests the client may send now before it has to wait: the
	// least any quota it follows leaves (see Pacer), counting requests in flight.
	Left int
	// Quota and Window are the quota that leaves the fewest, e.g. 1,200 per 5m.
	Quota  int
	Window time.Duration
	// Waits counts the requests that had to wait for the budget (or for a 429's
	// Retry-After) before leaving, and Waited is the time during which at least one
	// request was waiting (wall-clock time: ten requests waiting the same second count
	// one second); both since the client was made.
	Waits  int64
	Waited time.Duration
	// Sent and Throttled are Requests and Throttled of the client.
	Sent, Throttled int64
}

// Budget says where the pacer stands now. It never waits and changes nothing.
func (p *Pacer) Budget() Budget {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	b := Budget{Left: -1, Waits: p.waits.Load(), Waited: p.waited, Sent: p.sent.Load(), Throttled: p.throttled.Load()}
	if p.waiting > 0 {
		b.Waited += now.Sub(p.waitFrom)
	}
	for _, pol := range p.policies() {
		inWindow := 0
		for _, t := range p.done {
			if now.Sub(t) < pol.w {
				inWindow++
			}
		}
		left := max(0, pol.q-p.inflight-inWindow)
		if b.Left < 0 || left < b.Left {
			b.Left, b.Quota, b.Window = left, pol.q, pol.w
		}
	}
	if p.budgetOK && now.Before(p.budgetEnd) && p.budget < b.Left {
		// The server said fewer are left (other clients of the token use them too).
		b.Left = max(0, p.budget)
	}
	if now.Before(p.blocked) {
		b.Left = 0
	}
	return b
}

// Budget says where the client stands in its request budget (see Pacer.Budget).
func (c *Client) Budget() Budget { return c.pacer.Budget() }

// startWaiting and stopWaiting keep the time during which some request waits. The caller
// holds p.mu.
func (p *Pacer) startWaiting() {
	if p.waiting == 0 {
		p.waitFrom = p.now()
	}
	p.waiting++
}

func (p *Pacer) stopWaiting() {
	p.waiting--
	if p.waiting == 0 {
		p.waited += p.now().Sub(p.waitFrom)
	}
}
