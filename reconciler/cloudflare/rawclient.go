package cloudflare

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// RawClient calls the Cloudflare APIs the Go SDK lacks (Containers, and the Analytics
// Engine SQL API, whose answers are not enveloped) with plain net/http, with the retry
// policy of the SDK client (see retrier): a POST is retried only on 429, so a create
// whose answer is lost returns an error for which MayHaveApplied is true. Failed calls
// return *APIError.
type RawClient struct {
	BaseURL    string       // the API root ending in /client/v4
	Token      string       // API token, sent as Bearer
	HTTP       *http.Client // nil means http.DefaultClient
	MaxRetries int          // retries after the first attempt; 0 means none
}

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
	resp, err := c.once(ctx, method, path, query, contentType, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.status >= 400 {
		return nil, rawAPIError(resp.status, resp.body)
	}
	return resp, nil
}

// client returns the HTTP client with the retry policy: the Client's own already has it.
func (c *RawClient) client() *http.Client {
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	if _, ok := hc.Transport.(*retrier); ok || c.MaxRetries <= 0 {
		return hc
	}
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	out := *hc
	out.Transport = &retrier{next: next, max: c.MaxRetries}
	return &out
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
	res, err := c.client().Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("answer cut short: %w", err)
	}
	if len(b) > maxBody {
		return nil, fmt.Errorf("answer larger than %d bytes", maxBody)
	}
	return &rawResponse{status: res.StatusCode, header: res.Header, body: b}, nil
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
