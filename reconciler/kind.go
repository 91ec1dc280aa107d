package reconciler

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/monotask/flareops/reconciler/workerset"
)

// Kind is one kind of declared object (queue, alert_rule, backup, ...). A kind is the only
// code that knows how its declarations map to live API objects; the planner, apply, the
// CLI and the Terraform provider all go through it.
//
// Contracts:
//   - Observe never mutates. It lists every live object of the kind with list calls (a
//     handful of requests, however many objects exist), not one GET per object.
//   - Build and Observe return specs normalized the same way (defaults filled, units
//     converted, server-set fields dropped), so that equal means "no change".
//   - Create makes a new object and never takes over an existing one. When the object was
//     made but a later step failed, it returns the id with the error. A failure whose
//     outcome is unknown is returned as is (MayHaveApplied): the engine, which recorded a
//     pending marker first, decides whether an object under the key is its own.
//   - Delete is idempotent: deleting what is gone is success.
//   - Update changes the live object into the desired one in place.
type Kind interface {
	// Name is the HCL block type and the address prefix, e.g. "queue".
	Name() string
	// Schema is the language of the kind, shared by the HCL loader and the provider.
	Schema() BlockSchema
	// KeyAttr names the attribute that identifies the object in the account (its name).
	KeyAttr() string
	// Build turns decoded values into a desired object (Key and Spec set; no ID).
	Build(v Values) (Object, error)
	// Flatten is the inverse of Build for a live spec: the values a block would need to
	// declare exactly that object (refs carry only the name). The provider reads with it.
	Flatten(spec any) Values
	// Observe lists the live objects of this kind.
	Observe(ctx context.Context) ([]Object, error)
	// Create makes desired and returns its id.
	Create(ctx context.Context, desired Object) (string, error)
	// Update changes the live object id from live into desired.
	Update(ctx context.Context, id string, live, desired Object) error
	// Delete removes the live object.
	Delete(ctx context.Context, id string, live Object) error
	// Impact says, in one line, what a change of one field does operationally, for a
	// reviewer ("failed messages are dropped at once"). Empty when there is nothing to say.
	// live and desired are the specs of both sides (nil where absent).
	Impact(action Action, c FieldChange, live, desired any) string
}

// ScopedObserver is implemented by kinds whose live objects live inside objects of the
// account that flareops does not own (an analytics dataset is bindings in the settings of
// Workers). Observing every such container would cost a read per Worker of the account;
// the planner calls ObserveScoped instead of Observe, with what the configuration declares
// and the state holds of the kind, and the kind reads only the containers those name. The
// contract of Observe holds (it never mutates), and a container is read once per run
// whatever the number of kinds on it (see workerset.Set).
type ScopedObserver interface {
	ObserveScoped(ctx context.Context, scope Scope) ([]Object, error)
}

// RefNamer is implemented by kinds whose blocks other blocks refer to by something other
// than their key: a reference to such a block (alert_destination.ops) resolves to
// RefName of its values, which the Terraform form writes as the resource's id
// (flareops_alert_destination.ops.id). RefName sees decoded, defaulted values.
type RefNamer interface {
	RefName(v Values) string
}

// RemoteIdentifier is implemented by kinds whose ids are names while Cloudflare gives the
// object an id of its own: an alert destination's id is "webhook:ops", which rules refer
// to, and the webhook has a UUID. RemoteID is that id of a live object ("" when it has
// none). Front ends record it, so that an object deleted outside flareops and made again
// under the same name by someone else is seen as not flareops's: never updated, deleted
// or adopted.
type RemoteIdentifier interface {
	RemoteID(live Object) string
}

// remoteID is RemoteID of live for a RemoteIdentifier kind, else "".
func remoteID(k Kind, live Object) string {
	if ri, ok := k.(RemoteIdentifier); ok {
		return ri.RemoteID(live)
	}
	return ""
}

// SameRemote reports whether live is the object whose remote id was recorded: always, when
// either is unknown (a kind without remote ids, or a record from before they were kept).
func SameRemote(k Kind, recorded string, live Object) bool {
	r := remoteID(k, live)
	return recorded == "" || r == "" || r == recorded
}

// Scope is what a plan touches of one kind: the desired objects (built, without ids) and
// the state entries (with the spec last applied).
type Scope struct {
	Desired []Object
	Managed []StateEntry
	// Deployed maps a Worker to the tool that deploys it ("wrangler"), as the
	// configuration says (see Deployer): flareops writes nothing there.
	Deployed map[string]string
}

// ObserveFor observes what scope touches of k: ObserveScoped for a ScopedObserver,
// otherwise every object of the kind (Observe). Front ends that look up one object (import,
// a Terraform read, a create's check that the name is free) go through it, so that a
// scoped kind reads only that object's container.
func ObserveFor(ctx context.Context, k Kind, scope Scope) ([]Object, error) {
	if so, ok := k.(ScopedObserver); ok {
		return so.ObserveScoped(ctx, scope)
	}
	return k.Observe(ctx)
}

// Object is one object of a kind, desired or live. Spec is the kind's normalized spec: a
// plain comparable struct whose fields carry `diff:"name"` tags for rendering.
type Object struct {
	Key  string
	ID   string
	Spec any
	// Private is the kind's own data about an object that is not compared: of a live one,
	// ids of nested objects and server-set fields; of a desired one (set by Build), what
	// the kind needs to write it but must never show or record, such as its secrets.
	Private any
}

// Address names a declared block: KIND.NAME.
type Address struct {
	Kind, Name string
}

func (a Address) String() string { return a.Kind + "." + a.Name }

// ParseAddress parses "queue.agent_jobs".
func ParseAddress(s string) (Address, error) {
	kind, name, ok := strings.Cut(s, ".")
	if !ok || kind == "" || name == "" || strings.Contains(name, ".") {
		return Address{}, fmt.Errorf("%q is not an address: write KIND.NAME, e.g. queue.agent_jobs", s)
	}
	return Address{Kind: kind, Name: name}, nil
}

// Registry holds the kinds an engine knows, in a fixed order.
type Registry struct {
	kinds []Kind
	byKey map[string]Kind
	// Workers is the run's one Worker merge, shared by the Worker-side kinds (nil without a
	// client): the planner asks it who last deployed a Worker it is about to write.
	Workers *workerset.Set
}

// NewRegistry builds a registry; kind names must be unique.
func NewRegistry(kinds ...Kind) (*Registry, error) {
	r := &Registry{byKey: map[string]Kind{}}
	for _, k := range kinds {
		if _, dup := r.byKey[k.Name()]; dup {
			return nil, fmt.Errorf("kind %q registered twice", k.Name())
		}
		r.kinds = append(r.kinds, k)
		r.byKey[k.Name()] = k
	}
	return r, nil
}

// Kinds returns the kinds in registration order.
func (r *Registry) Kinds() []Kind { return r.kinds }

// Kind returns the kind named name.
func (r *Registry) Kind(name string) (Kind, bool) {
	k, ok := r.byKey[name]
	return k, ok
}

// Names returns the kind names, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.kinds))
	for _, k := range r.kinds {
		out = append(out, k.Name())
	}
	sort.Strings(out)
	return out
}

// ErrNotFound is returned (wrapped) by API clients when an object does not exist.
var ErrNotFound = errors.New("not found")
