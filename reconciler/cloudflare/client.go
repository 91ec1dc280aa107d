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

	"github.com/cloudflare/cloudflare-go/v6/alerting"
	"github.com/cloudflare/cloudflare-go/v6/d1"
	"github.com/cloudflare/cloudflare-go/v6/kv"
	"github.com/cloudflare/cloudflare-go/v6/logpush"
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
	// RateLimit requests per RateWindow is an explicit upper bound on the request rate
	// of this client (FLAREOPS_RATE_LIMIT), e.g. to leave room for other clients of the
	// token. Zero means none: the client paces itself to what Cloudflare's answers say
	// (see Pacer), and assumes 1,200 per 5 minutes until told.
	RateLimit  int
	RateWindow time.Duration
	// MaxRetries after the first attempt (0: default 5; negative: none). Every request is
	// retried on 429; idempotent ones also on 5xx and dropped connections, never a POST
	// that creates (see AmbiguousError). Waits honour Retry-After-Ms and Retry-After.
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
	logpush   *logpush.JobService
	kv        *kv.NamespaceService
	d1        *d1.DatabaseService

	alertPolicies *alerting.PolicyService
	alertDests    *alerting.DestinationService
	alertTypes    *alerting.AvailableAlertService
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
	hc := &http.Client{Transport: &retrier{next: pacer, max: cfg.MaxRetries}}
	base := strings.TrimRight(cfg.BaseURL, "/")
	opts := []option.RequestOption{
		option.WithBaseURL(base + "/"),
		option.WithAPIToken(cfg.Token),
		option.WithHTTPClient(hc),
		option.WithMaxRetries(0), // the retrier under it decides, by method
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
		logpush:   logpush.NewJobService(opts...),
		kv:        kv.NewNamespaceService(opts...),
		d1:        d1.NewDatabaseService(opts...),

		alertPolicies: alerting.NewPolicyService(opts...),
		alertDests:    alerting.NewDestinationService(opts...),
		alertTypes:    alerting.NewAvailableAlertService(opts...),
	}, nil
}

// AccountID is the account the client works on.
func (c *Client) AccountID() string { return c.accountID }

// Requests is the number of HTTP requests sent so far (including retries).
func (c *Client) Requests() int64 { return c.pacer.Sent() }

// Throttled is the number of 429 answers received so far.
func (c *Client) Throttled() int64 { return c.pacer.Throttled() }

// Raw returns a client for the APIs the SDK lacks (Containers, Analytics Engine SQL) that
// shares this client's request budget and retry policy.
func (c *Client) Raw() *RawClient {
	return &RawClient{BaseURL: c.baseURL, Token: c.token, HTTP: c.http, MaxRetries: c.retries}
}
