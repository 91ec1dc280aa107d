package cloudflare

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// PacerSet hands out one Pacer per account, API root, token and explicit bound, so that
// every client of one process that works on the same account as the same token draws on
// one request budget, as the server counts it (Cloudflare counts per token). The Terraform
// provider keeps one set for its process: every resource of a run, and every provider
// configuration of the same account in the process, is paced together, as the CLI's run is.
type PacerSet struct {
	mu     sync.Mutex
	pacers map[string]*Pacer
}

// NewPacerSet returns an empty set.
func NewPacerSet() *PacerSet { return &PacerSet{pacers: map[string]*Pacer{}} }

// For returns the pacer of the account (made on first use over next, or
// http.DefaultTransport when next is nil). The token is kept only as a hash.
func (s *PacerSet) For(baseURL, accountID, token string, limit int, window time.Duration, next http.RoundTripper) *Pacer {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	key := fmt.Sprintf("%s\x00%s\x00%x\x00%d/%s", baseURL, accountID, sha256.Sum256([]byte(token)), limit, window)
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.pacers[key]; ok {
		return p
	}
	if next == nil {
		next = http.DefaultTransport
	}
	p := NewPacer(limit, window, next)
	s.pacers[key] = p
	return p
}

// Forget drops the pacers of the API root baseURL: a process that outlives that server
// (the provider's tests, each with an emulator of its own on a port the system may hand to
// a later one) must not pace a new server by what the old one said.
func (s *PacerSet) Forget(baseURL string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key := range s.pacers {
		if strings.HasPrefix(key, baseURL+"\x00") {
			delete(s.pacers, key)
		}
	}
}
