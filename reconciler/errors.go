package reconciler

import (
	"errors"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// MayHaveApplied reports whether a failed call may nonetheless have taken effect: its
// answer was lost, the server failed (5xx) or the call was cut short. A definite refusal
// (a 4xx, 429 included), a request never sent, or a kind's own refusal (Refused) changed
// nothing. Errors the client does not know (a kind's own) count as possibly applied: the
// engine then checks the account.
func MayHaveApplied(err error) bool {
	var r *refusedError
	if errors.As(err, &r) {
		return false
	}
	return cloudflare.MayHaveApplied(err)
}

// Refused marks err as a kind's own refusal of a change, made before it wrote anything
// ("the Worker already has that cron"): MayHaveApplied is false for it, so the engine
// knows that nothing happened, and neither retries nor keeps a pending marker.
func Refused(err error) error { return &refusedError{err} }

type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }
func (e *refusedError) Unwrap() error { return e.err }

// ErrNameTaken is wrapped by a kind's Create that finds, before creating anything, the
// name it must give its object already in use (a Logpush job, whose names the API does not
// keep unique): the engine treats it as the API's own "name already taken".
var ErrNameTaken = errors.New("name already taken")

// IsNameTaken reports whether err is the API's refusal of a name already in use, or a
// kind's ErrNameTaken.
func IsNameTaken(err error) bool { return cloudflare.IsNameTaken(err) || errors.Is(err, ErrNameTaken) }
