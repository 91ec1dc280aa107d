package cloudflare

import (
	"context"
	"fmt"
	"net/http"
)

// The containers applications of the client's account, for the engine's kinds (the
// RawClient methods take the account on every call).

// ContainerApplications lists every containers application of the account.
func (c *Client) ContainerApplications(ctx context.Context) ([]ContainerApplication, error) {
	return c.Raw().ListApplications(ctx, c.accountID)
}

// ContainerSize is what flareops sets of an application: its max_instances, and its
// instance size as a predefined InstanceType or as a custom VCPU and MemoryMiB. A zero
// MaxInstances, or a size with neither form, leaves that part as it is.
type ContainerSize struct {
	MaxInstances int
	InstanceType string
	VCPU         float64
	MemoryMiB    int
}

// ResizeContainerApplication PATCHes the application's max_instances and instance size,
// and nothing else. The API merges configuration fields one by one into the current
// configuration, so the form not chosen is sent as null (instance_type when setting
// vcpu/memory_mib, and the reverse): the application never ends up with both.
func (c *Client) ResizeContainerApplication(ctx context.Context, id string, size ContainerSize) error {
	body := map[string]any{}
	if size.MaxInstances > 0 {
		body["max_instances"] = size.MaxInstances
	}
	switch {
	case size.InstanceType != "":
		body["configuration"] = map[string]any{"instance_type": size.InstanceType, "vcpu": nil, "memory_mib": nil}
	case size.VCPU > 0 || size.MemoryMiB > 0:
		body["configuration"] = map[string]any{"instance_type": nil, "vcpu": size.VCPU, "memory_mib": size.MemoryMiB}
	}
	if len(body) == 0 {
		return nil
	}
	if _, err := c.Raw().Do(ctx, http.MethodPatch, containersPath(c.accountID, id), nil, body, nil); err != nil {
		return fmt.Errorf("cannot update container application %s: %w", id, err)
	}
	return nil
}
