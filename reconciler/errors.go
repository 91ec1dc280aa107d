package reconciler

import (
	"context"
	"errors"
	"net/http"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// MayHaveApplied reports whether a failed call may nonetheless have taken effect: its
// answer was lost, the server failed (5xx) or the call was cut short. Only a definite
// refusal (a 4xx other than 408) is known to have changed nothing; a 429 is definite
// too (the request was not processed).
func MayHaveApplied(err error) bool {
	if err == nil {
		return false
	}
	var ae *cloudflare.APIError
	if errors.As(err, &ae) {
		return ae.Status >= 500 || ae.Status == http.StatusRequestTimeout
	}
	var d interface{ Definite() bool }
	if errors.As(err, &d) {
		return !d.Definite()
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	return true // unknown: assume the worst, the engine then checks the account
}

// IsNameTaken reports whether err is the API's refusal of a name already in use.
func IsNameTaken(err error) bool {
	var ae *cloudflare.APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.HasCode(codeQueueNameTaken)
}

// codeQueueNameTaken is Cloudflare's "queue name already taken" (not in Cloudflare's
// published table; seen in answers and used by the local Cloudflare).
const codeQueueNameTaken = 11009
