// Package cloudflare is flareops's only door to Cloudflare: every API call of the engine
// goes through this package, over cloudflare-go v6 (and the aws-sdk-go-v2 S3 client for R2
// objects, or plain HTTP for the APIs the SDK lacks). An SDK upgrade touches only here.
// It speaks in plain Go structs so that the engine and its tests never see SDK types.
package cloudflare

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/queues"
	"github.com/cloudflare/cloudflare-go/v6/workers"
)

// Config says where and as whom to talk to Cloudflare.
type Config struct {
	// BaseURL is the API root ending in /client/v4 (default https://api.cloudflare.com/client/v4).
	BaseURL   string
	Token     string
	AccountID string
	// RateLimit requests per RateWindow is the account's budget, shared by every call of
	// this client (default 1200 per 5 minutes, Cloudflare's limit).
	RateLimit  int
	RateWindow time.Duration
	// MaxRetries for 429, 5xx and dropped connections (0: default 5; negative: none);
	// waits honour Retry-After-Ms and Retry-After.
	MaxRetries int
	// Transport to send requests with (default http.DefaultTransport).
	Transport http.RoundTripper
}

// DefaultBaseURL is Cloudflare's API root.
const DefaultBaseURL = "https://api.cloudflare.com/client/v4"

// Client talks to one account.
type Client struct {
	accountID string
	pacer     *Pacer
	http      *http.Client
	baseURL   string
	token     string
	retries   int

	queues    *queues.QueueService
	consumers *queues.ConsumerService
	scripts   *workers.ScriptService
}

// New builds a client. It never reads the environment: the caller decides.
func New(cfg Config) (*Client, error) {
	if cfg.Token == "" {
		return nil, errors.New("no API token: set CLOUDFLARE_API_TOKEN")
	}
	if len(cfg.AccountID) != 32 {
		return nil, fmt.Errorf("account id %q is not a 32-character Cloudflare account id: set CLOUDFLARE_ACCOUNT_ID", cfg.AccountID)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = 1200
	}
	if cfg.RateWindow <= 0 {
		cfg.RateWindow = 5 * time.Minute
	}
	switch {
	case cfg.MaxRetries == 0:
		cfg.MaxRetries = 5
	case cfg.MaxRetries < 0:
		cfg.MaxRetries = 0
	}
	if cfg.Transport == nil {
		cfg.Transport = http.DefaultTransport
	}
	pacer := NewPacer(cfg.RateLimit, cfg.RateWindow, cfg.Transport)
	hc := &http.Client{Transport: pacer}
	base := strings.TrimRight(cfg.BaseURL, "/")
	opts := []option.RequestOption{
		option.WithBaseURL(base + "/"),
		option.WithAPIToken(cfg.Token),
		option.WithHTTPClient(hc),
		option.WithMaxRetries(cfg.MaxRetries),
	}
	return &Client{
		accountID: cfg.AccountID,
		pacer:     pacer,
		http:      hc,
		baseURL:   base,
		token:     cfg.Token,
		retries:   cfg.MaxRetries,
		queues:    queues.NewQueueService(opts...),
		consumers: queues.NewConsumerService(opts...),
		scripts:   workers.NewScriptService(opts...),
	}, nil
}

// AccountID is the account the client works on.
func (c *Client) AccountID() string { return c.accountID }

// Requests is the number of HTTP requests sent so far (including retries).
func (c *Client) Requests() int64 { return c.pacer.Sent() }

// APIError is a failed API call: the HTTP status and Cloudflare's error codes.
type APIError struct {
	Status   int
	Codes    []int
	Messages []string
}

func (e *APIError) Error() string {
	parts := make([]string, 0, len(e.Messages))
	for i, m := range e.Messages {
		if i < len(e.Codes) && e.Codes[i] != 0 {
			m = fmt.Sprintf("%d %s", e.Codes[i], m)
		}
		parts = append(parts, m)
	}
	return fmt.Sprintf("HTTP %d: %s", e.Status, strings.Join(parts, "; "))
}

// HasCode reports whether the error carries code.
func (e *APIError) HasCode(code int) bool {
	for _, c := range e.Codes {
		if c == code {
			return true
		}
	}
	return false
}

// apiError converts an SDK error into an *APIError (keeping the original for others).
func apiError(err error) error {
	var se *queues.Error
	if !errors.As(err, &se) {
		return err
	}
	out := &APIError{Status: se.StatusCode}
	for _, e := range se.Errors {
		out.Codes = append(out.Codes, int(e.Code))
		out.Messages = append(out.Messages, e.Message)
	}
	return out
}

// IsNotFound reports whether err is an API 404.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// Raw returns a client for the APIs the SDK lacks (Containers, Analytics Engine SQL) that
// shares this client's request budget and retry policy.
func (c *Client) Raw() *RawClient {
	return &RawClient{BaseURL: c.baseURL, Token: c.token, HTTP: c.http, MaxRetries: c.retries}
}
