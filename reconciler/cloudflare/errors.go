package cloudflare

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cloudflare/cloudflare-go/v6/queues"
)

// Error codes the engine reasons about.
const (
	// CodeQueueNameTaken is the answer to creating (or renaming to) a queue name that is
	// in use. Unknown upstream: Cloudflare documents no code for it (cloudflare-api.md,
	// open question 4); 11009 is the code reported for it, and the emulator uses it.
	CodeQueueNameTaken = 11009
	// CodeScriptNotFound is Workers' "workers.api.error.script_not_found".
	CodeScriptNotFound = 10007
	// CodeTooManyCrons is Workers' "workers.api.error.too_many_crons": the account's
	// cron triggers would exceed its plan's limit (5 Free, 250 Paid).
	CodeTooManyCrons = 10072
	// CodeKVTitleTaken is KV's "a namespace with this account ID and title already
	// exists" (from a third-party list of KV codes, cloudflare-api.md §9).
	CodeKVTitleTaken = 10014
)

// APIError is a failed API call: the HTTP status and Cloudflare's error codes. Its text is
// the API's answer once ("HTTP 400: 11009 queue name already taken"); the caller adds
// what it was doing.
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
	if len(parts) == 0 {
		return fmt.Sprintf("HTTP %d", e.Status)
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

// AmbiguousError is a call that does not create idempotently (a POST that creates) and
// got no definite answer: the connection dropped, timed out, or Cloudflare answered with
// a server error. The request may or may not have taken effect. Such calls are never
// retried by this package, because a blind retry of a create that did happen fails with
// "already exists" and hides whose object that is; the caller decides, e.g. by looking
// the object up.
type AmbiguousError struct {
	Op  string // what was attempted, e.g. `create queue "jobs"`
	Err error  // what happened: a transport error or an *APIError with status >= 500
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("cannot tell whether %s took effect (no definite answer): %v", e.Op, e.Err)
}

func (e *AmbiguousError) Unwrap() error { return e.Err }

// MayHaveApplied reports whether a failed call may have changed something on Cloudflare:
// true for an *AmbiguousError and for every error not known to be a refusal. Only an
// answer with a 4xx status (including 429, "not processed") is a definite refusal, and so
// is a request that was never sent (cancelled while waiting for the rate limit, or no
// connection could be opened).
func MayHaveApplied(err error) bool {
	if err == nil {
		return false
	}
	var amb *AmbiguousError
	if errors.As(err, &amb) {
		return true
	}
	var ns *notSentError
	if errors.As(err, &ns) {
		return false
	}
	var ae *APIError
	return !errors.As(err, &ae) || ae.Status < 400 || ae.Status >= 500
}

// notSentError is a request that never left this client: it cannot have had an effect.
type notSentError struct{ err error }

func (e *notSentError) Error() string { return e.err.Error() }
func (e *notSentError) Unwrap() error { return e.err }

// IsNameTaken reports whether err is Cloudflare's answer that a queue name is in use.
func IsNameTaken(err error) bool { return hasCode(err, CodeQueueNameTaken) }

// IsScriptNotFound reports whether err says a Worker script does not exist (e.g. the
// script of a queue consumer).
func IsScriptNotFound(err error) bool { return hasCode(err, CodeScriptNotFound) }

// IsTooManyCrons reports whether err is Cloudflare's refusal of cron triggers over the
// account's limit.
func IsTooManyCrons(err error) bool { return hasCode(err, CodeTooManyCrons) }

// IsKVTitleTaken reports whether err says a KV namespace title is in use.
func IsKVTitleTaken(err error) bool { return hasCode(err, CodeKVTitleTaken) }

// IsNotFound reports whether err is an API 404.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

func hasCode(err error, code int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.HasCode(code)
}

// apiError converts an SDK error into an *APIError (keeping any other error as it is).
// Every SDK service's Error is the same internal type, so queues.Error matches them all.
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

// failed is the error of an idempotent call: "cannot <op>: <cause>".
func failed(op string, err error) error {
	return fmt.Errorf("cannot %s: %w", op, apiError(err))
}

// failedCreate is the error of a call that creates: a definite refusal is "cannot <op>:
// <cause>"; anything else is an *AmbiguousError.
func failedCreate(op string, err error) error {
	err = apiError(err)
	if MayHaveApplied(err) {
		return &AmbiguousError{Op: op, Err: err}
	}
	return fmt.Errorf("cannot %s: %w", op, err)
}
