package cloudflare

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"time"
)

// retrier is the one retry policy of this package, as an http.RoundTripper under the SDK
// (whose own retries are off) and under RawClient:
//
//   - 429 is retried for every request: it is a definite "not processed". The wait is
//     the server's (the Pacer under us blocks everything until then too).
//   - 408, 409, 5xx, dropped connections and unreadable answers are retried only for
//     idempotent requests: GET, HEAD, PUT, DELETE, PATCH, and POSTs marked read-only
//     (withIdempotent). A POST that creates may have taken effect; it comes back to the
//     caller, who decides (see AmbiguousError).
//   - A connection that could not be opened sent nothing and is retried for every request.
//
// Waits honour Retry-After-Ms, then Retry-After, as long as ctx allows; otherwise backoff
// is short (backoffBase doubling, capped at backoffMax, minus up to 25% jitter): a lost
// answer should cost a fraction of a second, not the SDK's 2 s·2ⁿ.
//
// Answers are read whole here, so that a connection cut mid-body is retried like any
// other transport error; except a successful answer to a request marked withStreamed,
// which is handed on unread for its caller to decode as it arrives (and to retry itself
// when the connection is cut: see listQueues).
type retrier struct {
	next http.RoundTripper
	max  int // retries after the first attempt
}

var (
	backoffBase = 250 * time.Millisecond
	backoffMax  = 5 * time.Second
)

// maxBody is the largest answer read; larger ones are refused.
const maxBody = 64 << 20

var errAnswerTooLarge = fmt.Errorf("answer larger than %d bytes", maxBody)

type idempotentKey struct{}

// withIdempotent marks the requests made with ctx as safe to repeat, e.g. a POST that
// only queries.
func withIdempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, idempotentKey{}, true)
}

type ownQuotaKey struct{}

// withOwnQuota marks the requests made with ctx as counted against a quota of their own
// besides the REST one: the GraphQL Analytics API's query budget (analytics.md §1). A 429
// to such a request says that quota is spent, not the REST one: the pacer does not stop
// the client's other requests for it, and without a Retry-After it is not retried (the
// budget refills over minutes; the caller says so).
func withOwnQuota(ctx context.Context) context.Context {
	return context.WithValue(ctx, ownQuotaKey{}, true)
}

type streamedKey struct{}

// withStreamed marks the requests made with ctx as ones whose successful answer the
// caller reads as a stream: the retrier does not hold it in memory whole (the queue list
// of a large account is megabytes), and a cut connection surfaces as the caller's read
// error instead of being retried here. Error answers are still read whole.
func withStreamed(ctx context.Context) context.Context {
	return context.WithValue(ctx, streamedKey{}, true)
}

func streamed(req *http.Request) bool {
	marked, _ := req.Context().Value(streamedKey{}).(bool)
	return marked
}

func ownQuota(req *http.Request) bool {
	marked, _ := req.Context().Value(ownQuotaKey{}).(bool)
	return marked
}

func idempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodPatch:
		return true
	}
	marked, _ := req.Context().Value(idempotentKey{}).(bool)
	return marked
}

func (r *retrier) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	for attempt := 0; ; attempt++ {
		try := req
		if attempt > 0 {
			try = req.Clone(ctx)
			if req.Body != nil && req.Body != http.NoBody {
				body, err := req.GetBody()
				if err != nil {
					return nil, fmt.Errorf("cannot rewind the request body to retry: %w", err)
				}
				try.Body = body
			}
		}
		resp, err := r.next.RoundTrip(try)
		if err == nil && streamed(req) && resp.StatusCode/100 == 2 {
			resp.Body = &cappedBody{ReadCloser: resp.Body, left: maxBody}
			return resp, nil
		}
		if err == nil {
			resp, err = readWhole(resp)
		}
		wait, again := r.retry(req, attempt, resp, err)
		if !again {
			return resp, err
		}
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			if resp != nil {
				return resp, nil // the last answer stands
			}
			return nil, err
		}
	}
}

// retry decides whether to send req again after attempt, and after how long.
func (r *retrier) retry(req *http.Request, attempt int, resp *http.Response, err error) (time.Duration, bool) {
	if attempt >= r.max || req.Context().Err() != nil {
		return 0, false
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return 0, false // the body cannot be sent twice
	}
	var ns *notSentError
	if err != nil {
		if !idempotent(req) && !errors.As(err, &ns) && !dialFailed(err) {
			return 0, false
		}
		return backoff(attempt), true
	}
	switch v := resp.Header.Get("X-Should-Retry"); {
	case v == "false":
		return 0, false
	case resp.StatusCode == http.StatusTooManyRequests && ownQuota(req):
		if d, ok := retryAfter(resp.Header); ok {
			return d, true
		}
		return 0, false
	case resp.StatusCode == http.StatusTooManyRequests:
	case !idempotent(req):
		return 0, false
	case v == "true", resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusConflict, resp.StatusCode >= 500:
	default:
		return 0, false
	}
	if d, ok := retryAfter(resp.Header); ok {
		return d, true
	}
	return backoff(attempt), true
}

// cappedBody refuses to read past maxBody, as readWhole does.
type cappedBody struct {
	io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, err := b.ReadCloser.Read(one[:]); n == 0 && err == io.EOF {
			return 0, io.EOF
		}
		return 0, errAnswerTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// dialFailed reports whether no connection could be opened: nothing was sent.
func dialFailed(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func backoff(attempt int) time.Duration {
	d := backoffBase << min(attempt, 16)
	if d <= 0 || d > backoffMax {
		d = backoffMax
	}
	return d - time.Duration(rand.Float64()*0.25*float64(d))
}

// readWhole reads the answer's body into memory; a failure to read it is a transport
// error (the connection was cut).
func readWhole(resp *http.Response) (*http.Response, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("answer cut short: %w", err)
	}
	if len(b) > maxBody {
		return nil, errAnswerTooLarge
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}
