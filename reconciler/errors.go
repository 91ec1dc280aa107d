package reconciler

import "github.com/monotask/flareops/reconciler/cloudflare"

// MayHaveApplied reports whether a failed call may nonetheless have taken effect: its
// answer was lost, the server failed (5xx) or the call was cut short. A definite refusal
// (a 4xx, 429 included) or a request never sent changed nothing. Errors the client does
// not know (a kind's own) count as possibly applied: the engine then checks the account.
func MayHaveApplied(err error) bool { return cloudflare.MayHaveApplied(err) }

// IsNameTaken reports whether err is the API's refusal of a name already in use.
func IsNameTaken(err error) bool { return cloudflare.IsNameTaken(err) }
