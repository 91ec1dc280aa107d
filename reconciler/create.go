package reconciler

import (
	"context"
	"fmt"
)

// KeyGuard is implemented by kinds whose Create is refused by the API itself when the key
// is in use (a queue name: Cloudflare answers with the name-taken error, IsNameTaken).
// For them a create needs no fresh list to be sure it takes nothing over: a name someone
// took after the caller's observation is refused by the server, atomically.
type KeyGuard interface {
	GuardsKey() bool
}

func guardsKey(k Kind) bool {
	g, ok := k.(KeyGuard)
	return ok && g.GuardsKey()
}

// Seen looks a key up in an observation the caller holds already (the run's shared one):
// the live object under it, if the observation saw one.
type Seen func(key string) (Object, bool)

// CreateNew creates desired unless an object with its key already exists, which it
// refuses (*ExistsError): an existing object is brought under management only by an
// explicit import. The Terraform provider creates through it; the planner makes the same
// check itself.
//
// seen is the caller's observation of the kind, taken once for the run. For a kind that
// guards its key (KeyGuard) it is all CreateNew consults before creating, so that N
// creates cost no list at all: an object the observation shows is refused without a
// request, and one made by someone else after the observation was taken is refused by the
// API (name taken), which CreateNew reports as the same *ExistsError. For other kinds, and
// when seen is nil, the kind is observed first, as the only guard there is.
//
// A create whose answer is lost (MayHaveApplied) may have made the object: an object under
// the key afterwards is taken to be this attempt's, as the engine's apply does (see
// Engine.create). That is the one window in which an object of someone else's could be
// taken for ours: made under the same name between the check and our own lost request;
// a definite answer never adopts anything.
func CreateNew(ctx context.Context, k Kind, desired Object, seen Seen) (string, error) {
	if seen == nil || !guardsKey(k) {
		objs, err := ObserveFor(ctx, k, Scope{Desired: []Object{desired}})
		if err != nil {
			return "", err
		}
		seen = func(key string) (Object, bool) {
			for _, o := range objs {
				if o.Key == key {
					return o, true
				}
			}
			return Object{}, false
		}
	}
	if o, ok := seen(desired.Key); ok {
		return "", &ExistsError{Kind: k.Name(), Key: desired.Key, ID: o.ID}
	}
	id, err := k.Create(ctx, desired)
	switch {
	case err == nil || id != "":
		return id, err
	case IsNameTaken(err):
		// Taken since the observation, by someone else: never ours, since this was our
		// first attempt. Look the holder up only to name it.
		holder, found, ferr := findKey(ctx, k, desired)
		if ferr != nil || !found {
			return "", &ExistsError{Kind: k.Name(), Key: desired.Key, Err: err}
		}
		return "", &ExistsError{Kind: k.Name(), Key: desired.Key, ID: holder.ID, Err: err}
	case !MayHaveApplied(err):
		return "", err
	}
	// The answer was lost: this very attempt may have made the object, and the name was
	// free when observed, so an object under it now is taken to be ours.
	live, found, ferr := findKey(ctx, k, desired)
	if ferr != nil || !found {
		return "", err
	}
	if uerr := k.Update(ctx, live.ID, live, desired); uerr != nil {
		return live.ID, uerr
	}
	return live.ID, nil
}

// ExistsError is CreateNew's refusal: the object exists and is not managed here. ID is
// empty when the API refused the name but the holder could not be looked up; Err is the
// API's refusal, when it was the API that refused.
type ExistsError struct {
	Kind, Key, ID string
	Err           error
}

func (e *ExistsError) Error() string {
	id := ""
	if e.ID != "" {
		id = fmt.Sprintf(" (id %s)", e.ID)
	}
	return fmt.Sprintf("%s %q already exists in the account%s and is not managed here: import it instead of creating it", e.Kind, e.Key, id)
}

func (e *ExistsError) Unwrap() error { return e.Err }
