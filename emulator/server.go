// Package emulator is the local Cloudflare: a faithful emulator of the subset of the
// Cloudflare v4 API (and the R2 S3 API) that flareops uses. It imports nothing from the
// engine, so it cannot quietly agree with the code under test.
//
// One Server serves three surfaces on one listener:
//   - /client/v4/...   the Cloudflare REST API (envelopes, pagination, error codes, limits)
//   - /__flareops/...  the admin interface (faults, clock, request counters) and signed URLs
//   - everything else  the R2 S3 API, path style (/bucket/key); bucket names cannot
//     contain "_", so the two prefixes above never collide with a bucket.
package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/monotask/flareops/emulator/graphql"
)

// APIPrefix is the path every REST route hangs off, as on api.cloudflare.com.
const APIPrefix = "/client/v4"

// adminPrefix holds the admin interface and the emulator-signed URLs.
const adminPrefix = "/__flareops"

// Options configure a Server. The zero value is an in-memory emulator with Cloudflare's
// default rate limit and no faults.
type Options struct {
	// DataDir persists the store there (written atomically after every change).
	// Empty means in memory.
	DataDir string
	// Token, when set, is the only accepted API token; otherwise any non-empty token is.
	Token string
	// RateLimit requests per RateWindow per token. Zero means Cloudflare's 1200 / 5 min;
	// negative disables the limit.
	RateLimit  int
	RateWindow time.Duration
	// Faults to inject from the start.
	Faults Faults
	// Now is the base clock (default time.Now). Advance adds to it.
	Now func() time.Time
	// BaseURL is the externally visible URL of the server (scheme://host:port), used in
	// signed URLs. httptest users set it after starting, with SetBaseURL.
	BaseURL string
	// RequireConsumerScripts refuses a worker consumer whose Worker script is not
	// uploaded (400, code 10007), as Cloudflare plausibly does (see
	// consumerScriptExists). Off by default only because many tests declare consumers of
	// Workers they never upload; everything that stands in for Cloudflare (the CLI's
	// local Cloudflare, `local serve`) should turn it on.
	RequireConsumerScripts bool
	// CronLimit is the most cron triggers an account may have across its Workers:
	// Cloudflare allows 5 on the Free plan and 250 on Paid. Zero means 250.
	CronLimit int
}

// Server is the emulator. It is safe for concurrent use.
type Server struct {
	opts Options
	mux  *http.ServeMux

	// mu guards st and everything the family handlers touch.
	mu sync.Mutex
	st *state

	blobs   blobStore
	dataDir string // persistent data dir or a private temp dir (memory mode)
	tempDir bool

	clockMu sync.Mutex
	offset  time.Duration
	baseURL string

	limiter *rateLimiter
	faults  *faultInjector
	counter *counters
	gql     *graphql.Service // the GraphQL Analytics API (analytics_graphql.go)

	persistMu sync.Mutex
	tickers   []func(now time.Time)
	closers   []func() error // run by Close, with s.mu held
	signed    map[string]signedHandler
	readOnly  map[string]bool // route patterns whose POSTs never change the store
}

// New builds a Server. With opts.DataDir set it loads the persisted store from there.
func New(opts Options) (*Server, error) {
	s := &Server{opts: opts, mux: http.NewServeMux(), st: newState(), baseURL: strings.TrimRight(opts.BaseURL, "/")}
	if opts.Now == nil {
		s.opts.Now = time.Now
	}
	if opts.CronLimit <= 0 {
		s.opts.CronLimit = workersDefaultCronLimit
	}
	limit, window := opts.RateLimit, opts.RateWindow
	if limit == 0 {
		limit = 1200
	}
	if window <= 0 {
		window = 5 * time.Minute
	}
	s.limiter = newRateLimiter(limit, window)
	s.faults = newFaultInjector(opts.Faults)
	s.counter = newCounters()

	if opts.DataDir != "" {
		if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("cannot create data dir: %w", err)
		}
		s.dataDir = opts.DataDir
		s.blobs = &fileBlobs{dir: filepath.Join(opts.DataDir, "blobs")}
		if err := s.load(); err != nil {
			return nil, err
		}
	} else {
		dir, err := os.MkdirTemp("", "flareops-emulator-")
		if err != nil {
			return nil, fmt.Errorf("cannot create temp dir: %w", err)
		}
		s.dataDir, s.tempDir = dir, true
		s.blobs = newMemBlobs()
	}
	s.routes()
	return s, nil
}

// Close releases resources (open SQLite databases, the temp dir of a memory store).
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var firstErr error
	for _, c := range s.closers {
		if err := c(); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	s.closers = nil
	if s.tempDir {
		if err := os.RemoveAll(s.dataDir); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// SetBaseURL sets the externally visible URL used in signed URLs (e.g. an httptest URL).
func (s *Server) SetBaseURL(u string) {
	s.clockMu.Lock()
	s.baseURL = strings.TrimRight(u, "/")
	s.clockMu.Unlock()
}

func (s *Server) externalURL(r *http.Request) string {
	s.clockMu.Lock()
	u := s.baseURL
	s.clockMu.Unlock()
	if u != "" {
		return u
	}
	return "http://" + r.Host
}

// Now is the emulator clock: the base clock plus every Advance.
func (s *Server) Now() time.Time {
	s.clockMu.Lock()
	off := s.offset
	s.clockMu.Unlock()
	return s.opts.Now().Add(off).UTC()
}

// Advance moves the emulator clock forward and runs time-driven work (lifecycle expiry,
// visibility timeouts) for the new time.
func (s *Server) Advance(d time.Duration) {
	s.clockMu.Lock()
	s.offset += d
	s.clockMu.Unlock()
	s.tick()
}

// onTick registers time-driven work; it runs with s.mu held.
func (s *Server) onTick(f func(now time.Time)) { s.tickers = append(s.tickers, f) }

func (s *Server) tick() {
	now := s.Now()
	s.mu.Lock()
	for _, f := range s.tickers {
		f(now)
	}
	s.mu.Unlock()
	if err := s.persist(); err != nil {
		fmt.Fprintf(os.Stderr, "emulator: %v\n", err)
	}
}

// handle registers a REST route under APIPrefix, e.g. handle("GET /accounts/{account_id}/queues", h).
func (s *Server) handle(pattern string, h http.HandlerFunc) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		panic("emulator: route pattern needs a method: " + pattern)
	}
	s.mux.HandleFunc(method+" "+APIPrefix+path, h)
}

// handleReadOnly registers a POST route that never changes the store (a query), so that
// it does not rewrite the persisted store.
func (s *Server) handleReadOnly(pattern string, h http.HandlerFunc) {
	s.handle(pattern, h)
	if s.readOnly == nil {
		s.readOnly = map[string]bool{}
	}
	method, path, _ := strings.Cut(pattern, " ")
	s.readOnly[method+" "+APIPrefix+path] = true
}

var accountIDRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

// ServeHTTP dispatches to the admin interface, the REST API or the S3 API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, adminPrefix+"/"):
		s.serveAdmin(w, r)
	case r.URL.Path == APIPrefix || strings.HasPrefix(r.URL.Path, APIPrefix+"/"):
		s.serveAPI(w, r)
	default:
		s.serveS3WithFaults(w, r)
	}
}

// serveS3WithFaults counts S3 requests (route "S3 <METHOD>") and injects the configured
// faults into them as R2 would show them: InternalError 500, TooManyRequests 429, or a
// connection dropped after the work is done. The REST rate limit does not apply: R2's S3
// API has its own, per-key limits.
func (s *Server) serveS3WithFaults(w http.ResponseWriter, r *http.Request) {
	route := "S3 " + r.Method
	s.counter.add(route)
	f := s.faults.decide(route)
	if f.latency > 0 {
		time.Sleep(f.latency)
	}
	switch {
	case f.status429:
		s.counter.status(route, http.StatusTooManyRequests)
		w.Header().Set("Retry-After", "1")
		s3WriteError(w, r, &s3Error{status: http.StatusTooManyRequests, code: "TooManyRequests", msg: "Reduce your request rate (injected fault)."})
		return
	case f.status5xx:
		s.counter.status(route, http.StatusInternalServerError)
		s3WriteError(w, r, &s3Error{status: http.StatusInternalServerError, code: "InternalError", msg: "We encountered an internal error (injected fault)."})
		return
	}
	if !f.drop {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		s.serveS3(sw, r)
		s.counter.status(route, sw.status)
		return
	}
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	s.serveS3(rec, r)
	s.counter.status(route, rec.status)
	dropConnection(w)
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	_, pattern := s.mux.Handler(r)
	route := pattern
	if route == "" {
		route = r.Method + " (no route)"
	}
	s.counter.add(route)

	// Every answer tells the client the policy; every answer to a known token also its
	// remaining budget (Ratelimit), and a 429 when it may try again (Retry-After).
	if s.limiter.enabled() {
		w.Header().Set("Ratelimit-Policy", s.limiter.policy())
	}
	token, authErr := s.authenticate(r)
	if authErr != nil && r.URL.Path == APIPrefix+"/graphql" {
		s.counter.status(route, http.StatusUnauthorized)
		graphql.Unauthorized(w, s.Now()) // GraphQL answers in its own shape (analytics.md §1.1)
		return
	}
	if authErr != nil {
		s.counter.status(route, authErr.status)
		writeError(w, authErr.status, authErr.code, authErr.msg)
		return
	}
	if s.limiter.enabled() {
		ok, retry, left, reset := s.limiter.allow(token, s.Now())
		if !ok {
			s.counter.status(route, http.StatusTooManyRequests)
			w.Header().Set("Retry-After", fmt.Sprint(ceilSeconds(retry)))
			w.Header().Set("Ratelimit", remaining(0, retry))
			writeError(w, http.StatusTooManyRequests, 971, "Please wait and consider throttling your request speed")
			return
		}
		w.Header().Set("Ratelimit", remaining(left, reset))
	}

	f := s.faults.decide(route)
	if f.latency > 0 {
		time.Sleep(f.latency)
	}
	switch {
	case f.status429:
		s.counter.status(route, http.StatusTooManyRequests)
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Retry-After-Ms", "50")
		writeError(w, http.StatusTooManyRequests, 971, "Please wait and consider throttling your request speed (injected)")
		return
	case f.status5xx:
		s.counter.status(route, http.StatusServiceUnavailable)
		writeError(w, http.StatusServiceUnavailable, 15000, "Internal error (injected fault)")
		return
	}

	if pattern == "" {
		s.counter.status(route, http.StatusNotFound)
		writeRouteError(w, r)
		return
	}
	if acct := accountFromPath(r.URL.Path); acct != "" && !accountIDRe.MatchString(acct) {
		s.counter.status(route, http.StatusNotFound)
		writeRouteError(w, r)
		return
	}

	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	s.mux.ServeHTTP(rec, r)
	s.counter.status(route, rec.status)
	if mutating(r.Method) && rec.status < 400 && !s.readOnly[pattern] {
		if err := s.persist(); err != nil {
			writeError(w, http.StatusInternalServerError, 10001, "emulator cannot persist its store: "+err.Error())
			return
		}
	}
	if f.drop {
		// The change above has happened; the client never hears about it. This is the
		// worst case a real network produces, and what idempotent apply must survive.
		dropConnection(w)
		return
	}
	rec.flush(w)
}

func mutating(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

func accountFromPath(p string) string {
	rest, ok := strings.CutPrefix(p, APIPrefix+"/accounts/")
	if !ok {
		return ""
	}
	acct, _, _ := strings.Cut(rest, "/")
	return acct
}

type apiError struct {
	status int
	code   int
	msg    string
}

func (s *Server) authenticate(r *http.Request) (string, *apiError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", &apiError{http.StatusBadRequest, 10000, "Authentication error: missing Authorization header"}
	}
	token, ok := strings.CutPrefix(h, "Bearer ")
	token = strings.TrimSpace(token)
	if !ok || token == "" {
		return "", &apiError{http.StatusBadRequest, 10000, "Authentication error: Authorization must be 'Bearer <token>'"}
	}
	if s.opts.Token != "" && token != s.opts.Token {
		return "", &apiError{http.StatusForbidden, 10000, "Authentication error"}
	}
	return token, nil
}

// recorder buffers a handler's response so that faults can drop it after the fact and
// persistence failures can replace it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}

func (r *recorder) flush(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body.Bytes()) // the client may have gone; nothing to do about it here
}

func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close() // closing is the point; its error tells nothing
}

// rngFor returns a deterministic source; faults derive theirs from the configured seed.
func rngFor(seed int64) *rand.Rand { return rand.New(rand.NewSource(seed)) }

// decodeJSON reads a JSON request body into v, answering a Cloudflare-style 400 on failure.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, 10026, "Invalid JSON in request body: "+err.Error())
		return false
	}
	return true
}
