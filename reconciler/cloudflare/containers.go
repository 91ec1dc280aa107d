package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Containers applications (cloudflare-api.md §6), which the Go SDK does not cover.

// ContainerApplication is an application as the API returns it.
type ContainerApplication struct {
	ID               string                   `json:"id"`
	AccountID        string                   `json:"account_id"`
	Name             string                   `json:"name"`
	SchedulingPolicy string                   `json:"scheduling_policy"`
	Instances        int                      `json:"instances"`
	MaxInstances     int                      `json:"max_instances,omitempty"`
	DurableObjects   *ContainerDurableObjects `json:"durable_objects,omitempty"`
	Configuration    ContainerConfiguration   `json:"configuration"`
	CreatedAt        time.Time                `json:"created_at"`
	Version          int                      `json:"version"`
	Health           *ContainerHealth         `json:"health,omitempty"`
}

// ContainerDurableObjects ties a durable_object application to its namespace.
type ContainerDurableObjects struct {
	NamespaceID string `json:"namespace_id"`
}

// ContainerConfiguration is the deployment configuration: an image and either a
// predefined instance_type (lite, basic, standard-1…4) or a custom vcpu/memory_mib.
type ContainerConfiguration struct {
	Image                string              `json:"image,omitempty"` // required on create
	InstanceType         string              `json:"instance_type,omitempty"`
	VCPU                 float64             `json:"vcpu,omitempty"`
	MemoryMiB            int                 `json:"memory_mib,omitempty"`
	Disk                 *ContainerDisk      `json:"disk,omitempty"`
	EnvironmentVariables []ContainerVariable `json:"environment_variables,omitempty"`
}

// ContainerDisk is the disk size in MB.
type ContainerDisk struct {
	SizeMB int `json:"size_mb"`
}

// ContainerVariable is one environment variable.
type ContainerVariable struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ContainerHealth counts the application's instances by state.
type ContainerHealth struct {
	Instances struct {
		Healthy    int `json:"healthy"`
		Failed     int `json:"failed"`
		Starting   int `json:"starting"`
		Scheduling int `json:"scheduling"`
	} `json:"instances"`
}

// ContainerApplicationSpec is what CreateApplication sends.
type ContainerApplicationSpec struct {
	Name             string                   `json:"name"`
	SchedulingPolicy string                   `json:"scheduling_policy"` // default or durable_object
	Instances        int                      `json:"instances"`
	MaxInstances     int                      `json:"max_instances,omitempty"`
	DurableObjects   *ContainerDurableObjects `json:"durable_objects,omitempty"`
	Configuration    ContainerConfiguration   `json:"configuration"`
}

// ContainerApplicationPatch is a partial update: nil fields are left as they are.
// Configuration fields are merged into the current configuration one by one.
type ContainerApplicationPatch struct {
	Name          *string                 `json:"name,omitempty"`
	Instances     *int                    `json:"instances,omitempty"`
	MaxInstances  *int                    `json:"max_instances,omitempty"`
	Configuration *ContainerConfiguration `json:"configuration,omitempty"`
}

// containerListPageSize is the per_page of ListApplications (the API allows 1–500).
var containerListPageSize = 100

func containersPath(accountID string, rest ...string) string {
	p := "accounts/" + url.PathEscape(accountID) + "/containers/applications"
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

// ListApplications returns every application, following page_token to the last page.
func (c *RawClient) ListApplications(ctx context.Context, accountID string) ([]ContainerApplication, error) {
	var all []ContainerApplication
	seen := map[string]bool{}
	token := ""
	for {
		q := url.Values{"per_page": {strconv.Itoa(containerListPageSize)}}
		if token != "" {
			q.Set("page_token", token)
		}
		var page []ContainerApplication
		info, err := c.Do(ctx, http.MethodGet, containersPath(accountID), q, nil, &page)
		if err != nil {
			return nil, fmt.Errorf("cannot list container applications: %w", err)
		}
		all = append(all, page...)
		var ri struct {
			NextPageToken string `json:"next_page_token"`
		}
		if len(info) > 0 {
			if err := json.Unmarshal(info, &ri); err != nil {
				return nil, fmt.Errorf("cannot list container applications: bad result_info: %w", err)
			}
		}
		if ri.NextPageToken == "" {
			return all, nil
		}
		if seen[ri.NextPageToken] {
			return nil, fmt.Errorf("cannot list container applications: the API repeated page_token %q", ri.NextPageToken)
		}
		seen[ri.NextPageToken], token = true, ri.NextPageToken
	}
}

// GetApplication returns one application.
func (c *RawClient) GetApplication(ctx context.Context, accountID, id string) (ContainerApplication, error) {
	var app ContainerApplication
	if _, err := c.Do(ctx, http.MethodGet, containersPath(accountID, id), nil, nil, &app); err != nil {
		return ContainerApplication{}, fmt.Errorf("cannot get container application %s: %w", id, err)
	}
	return app, nil
}

// CreateApplication creates an application. It is not retried after a server error or
// a lost answer: such a failure is an *AmbiguousError (see MayHaveApplied).
func (c *RawClient) CreateApplication(ctx context.Context, accountID string, spec ContainerApplicationSpec) (ContainerApplication, error) {
	var app ContainerApplication
	if _, err := c.Do(ctx, http.MethodPost, containersPath(accountID), nil, spec, &app); err != nil {
		return ContainerApplication{}, failedCreate(fmt.Sprintf("create container application %q", spec.Name), err)
	}
	return app, nil
}

// UpdateApplication PATCHes an application. The scheduling policy cannot change.
func (c *RawClient) UpdateApplication(ctx context.Context, accountID, id string, patch ContainerApplicationPatch) (ContainerApplication, error) {
	var app ContainerApplication
	if _, err := c.Do(ctx, http.MethodPatch, containersPath(accountID, id), nil, patch, &app); err != nil {
		return ContainerApplication{}, fmt.Errorf("cannot update container application %s: %w", id, err)
	}
	return app, nil
}

// DeleteApplication deletes an application. Deleting one that is gone succeeds: delete
// is idempotent.
func (c *RawClient) DeleteApplication(ctx context.Context, accountID, id string) error {
	_, err := c.Do(ctx, http.MethodDelete, containersPath(accountID, id), nil, nil, nil)
	if err != nil && !IsNotFound(err) {
		return fmt.Errorf("cannot delete container application %s: %w", id, err)
	}
	return nil
}
