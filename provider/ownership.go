package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/monotask/flareops/reconciler"
)

// Ownership (DESIGN.md): a flareops_* resource manages exactly the object whose id its
// state holds. It never takes over an object by name, with one exception that is the
// kind's: while Create runs, an object that appears under the name being created is the
// create's own, whose answer was lost (Kind.Create continues with it).
//
// Terraform plans each resource on its own, so the checks are made per resource in
// ModifyPlan, against the run's shared observation (observeCache: no request per
// resource). What the plan would do with the object that holds the planned name:
//
//	create, name free                          → create
//	create, name taken                         → error: exists, import it
//	managed id live, name free or its own      → no objection
//	managed id live, name held by another      → error: rename onto a taken name
//	managed id gone, name free                 → replace (create again)
//	managed id gone, name held by another      → error: replaced outside Terraform
//
// Read keeps the state of an object that is gone when another object now holds its name,
// so that the plan sees the last case rather than a create. At apply time Terraform plans
// each change again with a fresh observation, and CreateNew checks once more just before
// creating; whichever sees a new object first reports it, and the change stops there, so
// a conflict is reported once.

// ownership is what the observation says about the object a resource plans to have.
type ownership struct {
	kind string

	// name is the planned name; holder is the live object that holds it, if taken.
	name   string
	holder reconciler.Object
	taken  bool

	// id and statedName are the managed object's id and name in the state ("" for a
	// create); live is that object if it still exists.
	id, statedName string
	live           reconciler.Object
	liveSeen       bool
	// replacedSameID: the object under the managed id is someone else's, made outside
	// Terraform under the same name (a kind whose ids are names, its Cloudflare id differs:
	// reconciler.RemoteIdentifier).
	replacedSameID bool
}

// ownershipOf looks the planned name and the managed id up in one observation. remote is
// the Cloudflare id recorded of the managed object, for a kind whose ids are names ("" when
// none is recorded).
func ownershipOf(k reconciler.Kind, o *observation, id, remote, statedName, name string) ownership {
	w := ownership{kind: k.Name(), name: name, id: id, statedName: statedName}
	w.holder, w.taken = o.key(name)
	if id != "" {
		w.live, w.liveSeen = o.id(id)
		if w.liveSeen && !reconciler.SameRemote(k, remote, w.live) {
			w.live, w.liveSeen, w.replacedSameID = reconciler.Object{}, false, true
		}
	}
	return w
}

// conflict reports whether applying the plan would touch an object the resource does not
// manage.
func (w ownership) conflict() bool {
	return w.taken && (w.holder.ID != w.id || w.replacedSameID)
}

// gone reports whether the managed object no longer exists and its name is free: the
// plan creates it again.
func (w ownership) gone() bool {
	return w.id != "" && !w.liveSeen && !w.taken
}

// replaced reports whether the managed object is gone and another now holds its name.
func (w ownership) replaced() bool {
	return w.id != "" && !w.liveSeen && w.statedName == w.name
}

// summary, happened and todo make the one diagnostic of a conflict, attached to the name.
func (w ownership) summary() string {
	if w.replaced() {
		return fmt.Sprintf("The %s %q was replaced outside Terraform", w.kind, w.name)
	}
	return fmt.Sprintf("A %s named %q already exists", w.kind, w.name)
}

func (w ownership) happened() string {
	typ := "flareops_" + w.kind
	var what string
	switch {
	case w.id == "":
		what = fmt.Sprintf("The account already has a %s named %q (id %s), and this %s does not manage it.", w.kind, w.name, w.holder.ID, typ)
	case w.replaced():
		theirs := "id " + w.holder.ID
		if w.replacedSameID {
			theirs = "with the same id, " + w.holder.ID + ", but another in Cloudflare"
		}
		what = fmt.Sprintf("The %[1]s this resource manages (id %[2]s) no longer exists, and its name %[3]q now belongs to another %[1]s (%[4]s), which this resource does not manage: "+
			"the %[1]s was deleted and created again outside Terraform.", w.kind, w.id, w.name, theirs)
	case !w.liveSeen:
		what = fmt.Sprintf("The %[1]s this resource manages (id %[2]s) no longer exists, and the account already has a %[1]s named %[3]q (id %[4]s), which this resource does not manage.",
			w.kind, w.id, w.name, w.holder.ID)
	default:
		what = fmt.Sprintf("This resource would rename its %[1]s %[2]q (id %[3]s) to %[4]q, but the account already has a %[1]s named %[4]q (id %[5]s), which this resource does not manage. Two %[1]ss cannot share a name.",
			w.kind, w.live.Key, w.id, w.name, w.holder.ID)
	}
	return what + fmt.Sprintf(" flareops never takes over an existing %s silently.", w.kind)
}

func (w ownership) todo() string {
	typ := "flareops_" + w.kind
	addr := typ + ".NAME"
	importBlock := fmt.Sprintf("  import {\n    to = %s\n    id = %q\n  }", addr, w.holder.ID)
	where := fmt.Sprintf("%s stands for the address of this resource, which Terraform prints above after \"with\"", addr)
	switch {
	case w.id == "":
		return fmt.Sprintf("To manage that %[1]s with this resource, import it by its id or its name (%[2]s):\n\n  terraform import %[3]s %[4]s\n\n"+
			"or, with Terraform 1.5 or later or OpenTofu, add this block to the configuration and plan again:\n\n%[5]s\n\n"+
			"If another resource of this configuration manages the %[1]s and only its address changed, add a moved block instead. Otherwise give this %[1]s another name.",
			w.kind, where, addr, w.holder.ID, importBlock)
	case w.liveSeen:
		return fmt.Sprintf("Keep the name %[1]q or choose one that is free, or delete or rename the other %[2]s first. "+
			"To manage the %[2]s %[3]q with Terraform, import it into a resource of its own:\n\n  terraform import %[4]s.OTHER %[5]s",
			w.live.Key, w.kind, w.name, typ, w.holder.ID)
	default:
		return fmt.Sprintf("To manage the %[1]s %[2]q with this resource instead, drop the %[1]s that is gone from the state, then import %[2]q (%[3]s):\n\n  terraform state rm %[4]s\n  terraform import %[4]s %[5]s\n\n"+
			"After the state rm, an import block works too:\n\n%[6]s\n\n"+
			"To leave that %[1]s alone, give this %[1]s another name, or remove this resource from the configuration: destroying it only forgets the %[1]s that is gone.",
			w.kind, w.name, where, addr, w.holder.ID, importBlock)
	}
}

// keyOf returns the string attribute attr of an object value, and whether it is known.
func keyOf(v tftypes.Value, attr string) (string, bool) {
	m, err := objectMap(v)
	if err != nil || m == nil {
		return "", false
	}
	a, ok := m[attr]
	if !ok || !a.IsKnown() || a.IsNull() {
		return "", false
	}
	var s string
	if a.As(&s) != nil {
		return "", false
	}
	return s, true
}
