package cloudflare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// The GraphQL Analytics API (analytics.md §1): POST /client/v4/graphql with
// {"query","variables"}. The answer is not the v4 envelope but {"data","errors"}, and
// HTTP 200 can carry errors. cloudflare-go v6 has no typed GraphQL, so the call goes
// through RawClient: the same pacing (Client.Raw shares the Pacer), the same retries
// (a query changes nothing, so it is retried like a GET).
//
// Everything a caller supplies travels in variables, never in the query text, so no
// value can change the query's meaning.

// GraphQLError is an answer whose errors array is not empty.
type GraphQLError struct {
	Status   int      // the HTTP status (200 is possible)
	Messages []string // errors[].message
	Paths    []string // errors[].path joined with "." ("" when absent)
	Codes    []string // errors[].extensions.code ("" when absent)
}

func (e *GraphQLError) Error() string {
	parts := make([]string, len(e.Messages))
	for i, m := range e.Messages {
		if i < len(e.Paths) && e.Paths[i] != "" {
			m = e.Paths[i] + ": " + m
		}
		parts[i] = m
	}
	return fmt.Sprintf("GraphQL HTTP %d: %s", e.Status, strings.Join(parts, "; "))
}

// RateLimited reports whether the query budget is spent (HTTP 429 or the "budget" code):
// Cloudflare says to try again after 5 minutes.
func (e *GraphQLError) RateLimited() bool {
	for _, c := range e.Codes {
		if c == "budget" {
			return true
		}
	}
	return e.Status == http.StatusTooManyRequests
}

// IsGraphQLRateLimited reports whether err is a spent GraphQL query budget.
func IsGraphQLRateLimited(err error) bool {
	var ge *GraphQLError
	return errors.As(err, &ge) && ge.RateLimited()
}

type graphqlWireError struct {
	Message    string `json:"message"`
	Path       []any  `json:"path"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

// GraphQL runs query with variables and decodes the answer's data into data (nil to
// discard). Errors are *GraphQLError; an answer that is not GraphQL (a v4 envelope from
// the API's front door, e.g. a bad token) is *APIError.
func (c *RawClient) GraphQL(ctx context.Context, query string, variables map[string]any, data any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": variables})
	if err != nil {
		return fmt.Errorf("cannot encode the GraphQL request: %w", err)
	}
	// A query changes nothing: safe to retry although it is a POST.
	resp, err := c.once(withIdempotent(ctx), http.MethodPost, "graphql", nil, "application/json", body)
	if err != nil {
		return fmt.Errorf("POST graphql: %w", err)
	}
	var answer struct {
		Data    json.RawMessage    `json:"data"`
		Errors  []graphqlWireError `json:"errors"`
		Success *bool              `json:"success"` // only in a v4 envelope
	}
	if err := json.Unmarshal(resp.body, &answer); err != nil || answer.Success != nil || (answer.Data == nil && answer.Errors == nil) {
		if resp.status >= 400 {
			return rawAPIError(resp.status, resp.body)
		}
		return fmt.Errorf("POST graphql: the answer is not a GraphQL response: %.200s", resp.body)
	}
	if len(answer.Errors) > 0 {
		ge := &GraphQLError{Status: resp.status}
		for _, e := range answer.Errors {
			ge.Messages = append(ge.Messages, e.Message)
			ge.Paths = append(ge.Paths, joinPath(e.Path))
			ge.Codes = append(ge.Codes, e.Extensions.Code)
		}
		return ge
	}
	if resp.status >= 400 {
		return rawAPIError(resp.status, resp.body)
	}
	if data != nil && len(answer.Data) > 0 && string(answer.Data) != "null" {
		if err := json.Unmarshal(answer.Data, data); err != nil {
			return fmt.Errorf("POST graphql: cannot decode the data: %w", err)
		}
	}
	return nil
}

func joinPath(path []any) string {
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = fmt.Sprint(p)
	}
	return strings.Join(parts, ".")
}

// WorkerInvocations reads a Worker's invocations in this client's account (see
// RawClient.WorkerInvocations).
func (c *Client) WorkerInvocations(ctx context.Context, q WorkerInvocationsQuery) (*WorkerInvocations, error) {
	return c.Raw().WorkerInvocations(ctx, c.accountID, q)
}

// QueueDelivery reads a queue's message operations in this client's account (see
// RawClient.QueueDelivery).
func (c *Client) QueueDelivery(ctx context.Context, q QueueMetricsQuery) (*QueueDelivery, error) {
	return c.Raw().QueueDelivery(ctx, c.accountID, q)
}

// QueueBacklog reads a queue's backlog in this client's account (see
// RawClient.QueueBacklog).
func (c *Client) QueueBacklog(ctx context.Context, q QueueMetricsQuery) ([]QueueBacklogPoint, error) {
	return c.Raw().QueueBacklog(ctx, c.accountID, q)
}

// D1QueryTime reads a D1 database's query time in this client's account (see
// RawClient.D1QueryTime).
func (c *Client) D1QueryTime(ctx context.Context, q D1QueryTimeQuery) ([]D1QueryTimeBucket, error) {
	return c.Raw().D1QueryTime(ctx, c.accountID, q)
}
