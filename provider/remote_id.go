package provider

import (
	"context"
	"encoding/json"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/monotask/flareops/reconciler"
)

// A resource of a kind whose ids are names (reconciler.RemoteIdentifier: an alert
// destination's id is "webhook:ops", which rules refer to) keeps Cloudflare's own id of its
// object in the resource's private state, under remoteKey: Terraform stores it with the
// state but it is no attribute, so the `id` that configurations use is unchanged. An object
// found under the id with another Cloudflare id is someone else's, made under the same name
// after this resource's was deleted outside Terraform: Read treats this resource's object as
// gone, the plan reports the conflict (ownership.go), Update refuses and Delete leaves it.
const remoteKey = "remote_id"

// privateData is the part of the framework's private state data used here.
type privateData interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

// recordedRemote is the Cloudflare id kept in p, "" when there is none (a kind without
// remote ids, or a state written before they were kept: Read then records it).
func recordedRemote(ctx context.Context, p privateData) string {
	if p == nil {
		return ""
	}
	b, diags := p.GetKey(ctx, remoteKey)
	if diags.HasError() || len(b) == 0 {
		return ""
	}
	var id string
	if json.Unmarshal(b, &id) != nil {
		return ""
	}
	return id
}

// setRemote keeps live's Cloudflare id in p, for a RemoteIdentifier kind.
func setRemote(ctx context.Context, p privateData, k reconciler.Kind, live reconciler.Object, diags *diag.Diagnostics) {
	ri, ok := k.(reconciler.RemoteIdentifier)
	if !ok || p == nil {
		return
	}
	id := ri.RemoteID(live)
	if id == "" {
		return
	}
	b, err := json.Marshal(id)
	if err != nil {
		diags.AddError("Cannot record a Cloudflare id", err.Error())
		return
	}
	diags.Append(p.SetKey(ctx, remoteKey, b)...)
}
