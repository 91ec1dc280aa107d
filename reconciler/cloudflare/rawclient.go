package cloudflare

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// RawClient calls the Cloudflare APIs the Go SDK lacks (Containers, and the Analytics
// Engine SQL API, whose answers are not enveloped) with plain net/http. Like the SDK, it
// retries 429, 5xx and connection failures, honouring Retry-After-Ms then Retry-After,
// with exponential backoff otherwise. Failed calls return *APIError.
//
// A retried POST may have taken effect the first time (a dropped connection after the
// work was done): callers keep creates idempotent, e.g. by treating a name conflict as
// "already created".
type RawClient struct {
	BaseURL    string       // the API root ending in /client/v4
	Token      string       // API token, sent as Bearer
	HTTP       *http.Client // nil means http.DefaultClient
	MaxRetries int          // retries after the first attempt; 0 means none
}

const (
	rawMaxBody       = 64 << 20 // answers larger than this are refused
	rawMaxHeaderWait = time.Minute
	rawMaxBackoff    = 30 * time.Second
)

// rawBackoffBase is the first backoff wait (doubled per retry, capped at rawMaxBackoff).
var rawBackoffBase = 500 * time.Millisecond

type rawResponse struct {
	status int
	header http.Header
	body   []byte
}

// Do sends in (nil for no body) as JSON and decodes the v4 envelope: its result into out
// (nil to discard), and returns its result_info as raw JSON (nil if absent).
func (c *RawClient) Do(ctx context.Context, method, path string, query url.Values, in, out any) (json.RawMessage, error) {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return nil, fmt.Errorf("cannot encode %s %s request: %w", method, path, err)
		}
	}
	resp, err := c.send(ctx, method, path, query, "application/json", body)
	if err != nil {
		return nil, err
	}
	var env struct {
		Success    bool            `json:"success"`
		Errors     []rawMessage    `json:"errors"`
		Result     json.RawMessage `json:"result"`
		ResultInfo json.RawMessage `json:"result_info"`
	}
	if err := json.Unmarshal(resp.body, &env); err != nil {
		return nil, fmt.Errorf("%s %s: the answer is not a Cloudflare envelope: %w", method, path, err)
	}
	if !env.Success {
		return nil, rawAPIError(resp.status, resp.body)
	}
	if out != nil && len(env.Result) > 0 && string(env.Result) != "null" {
		if err := json.Unmarshal(env.Result, out); err != nil {
			return nil, fmt.Errorf("%s %s: cannot decode the result: %w", method, path, err)
		}
	}
	return env.ResultInfo, nil
}

// DoRaw sends body as is with contentType and returns the answer's body as is (for APIs
// outside the envelope, such as the Analytics Engine SQL API).
func (c *RawClient) DoRaw(ctx context.Context, method, path, contentType string, body []byte) ([]byte, error) {
	resp, err := c.send(ctx, method, path, nil, contentType, body)
	if err != nil {
		return nil, err
	}
	return resp.body, nil
}

// send performs the request with retries; an answer with status >= 400 is an *APIError.
func (c *RawClient) send(ctx context.Context, method, path string, query url.Values, contentType string, body []byte) (*rawResponse, error) {
	for attempt := 0; ; attempt++ {
		resp, err := c.once(ctx, method, path, query, contentType, body)
		switch {
		case err == nil && !rawRetryable(resp.status):
			if resp.status >= 400 {
				return nil, rawAPIError(resp.status, resp.body)
			}
			return resp, nil
		case ctx.Err() != nil:
			return nil, fmt.Errorf("%s %s: %w", method, path, ctx.Err())
		case attempt >= c.MaxRetries && err != nil:
			return nil, fmt.Errorf("cannot reach Cloudflare (%s %s, %d attempts): %w", method, path, attempt+1, err)
		case attempt >= c.MaxRetries:
			return nil, rawAPIError(resp.status, resp.body)
		}
		var header http.Header
		if resp != nil {
			header = resp.header
		}
		timer := time.NewTimer(rawDelay(header, attempt))
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("%s %s: %w", method, path, ctx.Err())
		}
	}
}

func (c *RawClient) once(ctx context.Context, method, path string, query url.Values, contentType string, body []byte) (*rawResponse, error) {
	u := strings.TrimRight(c.BaseURL, "/") + "/" + strings.TrimLeft(path, "/")
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("cannot build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, rawMaxBody+1))
	if err != nil {
		return nil, err // a cut connection: retryable like any transport error
	}
	if len(b) > rawMaxBody {
		return nil, fmt.Errorf("answer larger than %d bytes", rawMaxBody)
	}
	return &rawResponse{status: res.StatusCode, header: res.Header, body: b}, nil
}

func rawRetryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// rawDelay is the wait before retry attempt+1: Retry-After-Ms, then Retry-After
// (seconds or an HTTP date) when under a minute, as the SDK does; otherwise backoff
// from rawBackoffBase, doubling, capped at 30 s, minus up to 25% jitter.
func rawDelay(h http.Header, attempt int) time.Duration {
	if h != nil {
		if ms, err := strconv.ParseFloat(h.Get("Retry-After-Ms"), 64); err == nil && ms > 0 && time.Duration(ms*float64(time.Millisecond)) <= rawMaxHeaderWait {
			return time.Duration(ms * float64(time.Millisecond))
		}
		if v := h.Get("Retry-After"); v != "" {
			if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 && time.Duration(s*float64(time.Second)) <= rawMaxHeaderWait {
				return time.Duration(s * float64(time.Second))
			}
			if t, err := http.ParseTime(v); err == nil {
				if d := time.Until(t); d > 0 && d <= rawMaxHeaderWait {
					return d
				}
			}
		}
	}
	d := rawBackoffBase << min(attempt, 16)
	if d <= 0 || d > rawMaxBackoff {
		d = rawMaxBackoff
	}
	return d - time.Duration(rand.Float64()*0.25*float64(d))
}

type rawMessage struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// rawAPIError reads Cloudflare's errors[] from an envelope; a body that is not one (the
// Analytics Engine SQL API answers text) becomes a single message with code 0, which
// means "no Cloudflare code".
func rawAPIError(status int, body []byte) error {
	var env struct {
		Errors []rawMessage `json:"errors"`
	}
	out := &APIError{Status: status}
	if json.Unmarshal(body, &env) == nil && len(env.Errors) > 0 {
		for _, e := range env.Errors {
			out.Codes = append(out.Codes, e.Code)
			out.Messages = append(out.Messages, e.Message)
		}
		return out
	}
	msg := strings.TrimSpace(string(body))
	if msg == "" {
		msg = http.StatusText(status)
	}
	out.Codes, out.Messages = []int{0}, []string{msg}
	return out
}
