package cloudflare

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/monotask/flareops/emulator"
)

const rawTestAccount = "0123456789abcdef0123456789abcdef"

// rawEmulator starts the local Cloudflare and a RawClient pointed at it.
func rawEmulator(t *testing.T, retries int) (*RawClient, *emulator.Server) {
	t.Helper()
	emulatorOnly(t, "it uses the emulator's containers state and faults")
	srv, err := emulator.New(emulator.Options{RateLimit: -1})
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("emulator Close: %v", err)
		}
	})
	return &RawClient{BaseURL: hs.URL + "/client/v4", Token: "test-token", HTTP: hs.Client(), MaxRetries: retries}, srv
}

// rawWantAPIError checks err is an *APIError with that status and first code.
func rawWantAPIError(t *testing.T, err error, status, code int) {
	t.Helper()
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want *APIError %d/%d, got %v", status, code, err)
	}
	if ae.Status != status || len(ae.Codes) == 0 || ae.Codes[0] != code {
		t.Fatalf("want HTTP %d code %d, got %v", status, code, err)
	}
}

func containersSpec(name string) ContainerApplicationSpec {
	return ContainerApplicationSpec{
		Name: name, SchedulingPolicy: "default", Instances: 2, MaxInstances: 10,
		Configuration: ContainerConfiguration{
			Image: "registry.cloudflare.com/monotask/sandbox:1.4", InstanceType: "standard-1",
			Disk:                 &ContainerDisk{SizeMB: 8000},
			EnvironmentVariables: []ContainerVariable{{Name: "MODE", Value: "sandbox"}},
		},
	}
}

// containersConformance is the account of a containers test and its raw client (no
// retries on the emulator). Live, applications need an image in the account's registry:
// FLAREOPS_LIVE_CONTAINER_IMAGE names it, and without it the test skips.
func containersConformance(t *testing.T) (*conformanceAccount, *RawClient, string) {
	t.Helper()
	a := newConformanceAccountConfig(t, emulator.Options{RateLimit: -1}, Config{MaxRetries: -1})
	if a.live() && os.Getenv("FLAREOPS_LIVE_CONTAINER_IMAGE") == "" {
		t.Skip("skipped against the live account: set FLAREOPS_LIVE_CONTAINER_IMAGE to an image of the account's registry (registry.cloudflare.com/<account>/<name>:<tag>) to run the containers conformance tests")
	}
	return a, a.c.Raw(), a.c.AccountID()
}

// image is img on the emulator, and the live account's image (FLAREOPS_LIVE_CONTAINER_IMAGE).
func (a *conformanceAccount) image(img string) string {
	if a.live() {
		return os.Getenv("FLAREOPS_LIVE_CONTAINER_IMAGE")
	}
	return img
}

// containersSpecIn is containersSpec named a.name(base), with the account's image.
func containersSpecIn(a *conformanceAccount, base string) ContainerApplicationSpec {
	s := containersSpec(a.name(base))
	s.Configuration.Image = a.image(s.Configuration.Image)
	return s
}

// createApplication creates an application, removed at the end if it was created.
func (a *conformanceAccount) createApplication(ctx context.Context, t *testing.T, spec ContainerApplicationSpec) (ContainerApplication, error) {
	app, err := a.c.Raw().CreateApplication(ctx, a.c.AccountID(), spec)
	if err == nil {
		a.removeApplication(t, app.ID)
	}
	return app, err
}

func TestConformanceContainersApplicationLifecycle(t *testing.T) {
	a, c, acct := containersConformance(t)
	ctx := context.Background()
	created, err := a.createApplication(ctx, t, containersSpecIn(a, "agent-sandbox"))
	if err != nil {
		t.Fatalf("CreateApplication: %v", err)
	}
	if created.ID == "" || created.AccountID != acct || created.Version != 1 || created.CreatedAt.IsZero() || created.Health == nil {
		t.Fatalf("create answer lacks server fields: %+v", created)
	}
	want := containersSpecIn(a, "agent-sandbox")
	if diff := cmp.Diff(want.Configuration, created.Configuration); diff != "" {
		t.Errorf("configuration round trip (-want +got):\n%s", diff)
	}

	got, err := c.GetApplication(ctx, acct, created.ID)
	if err != nil {
		t.Fatalf("GetApplication: %v", err)
	}
	if diff := cmp.Diff(created, got); diff != "" {
		t.Errorf("get differs from create (-create +get):\n%s", diff)
	}

	instances, maxInstances := 4, 20
	cfg := ContainerConfiguration{VCPU: 1, MemoryMiB: 4096} // merged: becomes custom once instance_type is unset
	_, err = c.UpdateApplication(ctx, acct, created.ID, ContainerApplicationPatch{Configuration: &cfg})
	rawWantAPIError(t, err, http.StatusBadRequest, 1400)
	if !strings.Contains(err.Error(), "instance_type cannot be combined") {
		t.Errorf("PATCH adding vcpu to an instance_type: %v, want the conflict named", err)
	}
	updated, err := c.UpdateApplication(ctx, acct, created.ID, ContainerApplicationPatch{Instances: &instances, MaxInstances: &maxInstances})
	if err != nil {
		t.Fatalf("UpdateApplication: %v", err)
	}
	if updated.Instances != 4 || updated.MaxInstances != 20 || updated.Version != 2 {
		t.Errorf("after PATCH: instances %d max %d version %d, want 4, 20, 2", updated.Instances, updated.MaxInstances, updated.Version)
	}

	if err := c.DeleteApplication(ctx, acct, created.ID); err != nil {
		t.Fatalf("DeleteApplication: %v", err)
	}
	if err := c.DeleteApplication(ctx, acct, created.ID); err != nil {
		t.Errorf("deleting again = %v, want nil (delete is idempotent)", err)
	}
	_, err = c.GetApplication(ctx, acct, created.ID)
	rawWantAPIError(t, err, http.StatusNotFound, 1404)
}

func TestConformanceContainersListFollowsPageToken(t *testing.T) {
	a, c, acct := containersConformance(t)
	ctx := context.Background()
	old := containerListPageSize
	containerListPageSize = 2
	t.Cleanup(func() { containerListPageSize = old })
	var want []string
	for _, base := range []string{"sb-a", "sb-b", "sb-c", "sb-d", "sb-e"} {
		name := a.name(base)
		if _, err := a.createApplication(ctx, t, containersSpecIn(a, base)); err != nil {
			t.Fatalf("CreateApplication %s: %v", name, err)
		}
		want = append(want, name)
	}
	apps, err := c.ListApplications(ctx, acct)
	if err != nil {
		t.Fatalf("ListApplications: %v", err)
	}
	var got []string
	for _, app := range mine(a, apps, func(app ContainerApplication) bool { return a.ours(app.Name) }) {
		got = append(got, app.Name)
	}
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("listed names across pages (-want +got):\n%s", diff)
	}
}

func TestConformanceContainersErrors(t *testing.T) {
	a, c, acct := containersConformance(t)
	ctx := context.Background()
	base, err := a.createApplication(ctx, t, containersSpecIn(a, "taken"))
	if err != nil {
		t.Fatalf("CreateApplication: %v", err)
	}
	zero := 0
	tests := []struct {
		name   string
		call   func() error
		status int
		code   int
	}{
		{"unknown id", func() error {
			_, err := c.GetApplication(ctx, acct, "00000000-0000-4000-8000-000000000000")
			return err
		}, 404, 1404},
		{"invalid instance type", func() error {
			s := containersSpecIn(a, "bad-type")
			s.Configuration.InstanceType = "huge"
			_, err := a.createApplication(ctx, t, s)
			return err
		}, 400, 1400},
		{"max_instances 0 on update", func() error {
			_, err := c.UpdateApplication(ctx, acct, base.ID, ContainerApplicationPatch{MaxInstances: &zero})
			return err
		}, 400, 1400},
		{"custom size under 3 GiB per vCPU", func() error {
			s := containersSpecIn(a, "too-little-memory")
			s.Configuration = ContainerConfiguration{Image: a.image("img"), VCPU: 2, MemoryMiB: 4096}
			_, err := a.createApplication(ctx, t, s)
			return err
		}, 400, 1400},
		{"missing image", func() error {
			s := containersSpecIn(a, "no-image")
			s.Configuration.Image = ""
			_, err := a.createApplication(ctx, t, s)
			return err
		}, 400, 1400},
		{"duplicate name", func() error { _, err := a.createApplication(ctx, t, containersSpecIn(a, "taken")); return err }, 409, 1409},
		{"durable_object without namespace", func() error {
			s := containersSpecIn(a, "do-app")
			s.SchedulingPolicy = "durable_object"
			_, err := a.createApplication(ctx, t, s)
			return err
		}, 400, 1400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { rawWantAPIError(t, tc.call(), tc.status, tc.code) })
	}

	// scheduling_policy is immutable; the PATCH type cannot even express it, so send it raw.
	_, err = c.Do(ctx, http.MethodPatch, containersPath(acct, base.ID), nil, map[string]string{"scheduling_policy": "durable_object"}, nil)
	rawWantAPIError(t, err, http.StatusBadRequest, 1400)
}

func TestConformanceContainersInstancesAndUsage(t *testing.T) {
	a, c, acct := containersConformance(t)
	ctx := context.Background()
	app, err := a.createApplication(ctx, t, containersSpecIn(a, "sb"))
	if err != nil {
		t.Fatalf("CreateApplication: %v", err)
	}
	// No client method yet: the reconciler does not read instances or usage.
	var instances []map[string]any
	if _, err := c.Do(ctx, http.MethodGet, containersPath(acct, app.ID, "instances-v2"), nil, nil, &instances); err != nil || len(instances) != 0 {
		t.Errorf("instances-v2 = %v, %v; want an empty list (the emulator runs no containers)", instances, err)
	}
	_, err = c.Do(ctx, http.MethodGet, containersPath(acct, "00000000-0000-4000-8000-000000000000", "instances-v2"), nil, nil, nil)
	rawWantAPIError(t, err, http.StatusNotFound, 1404)
	var usage struct {
		Maximum struct {
			VCPUs     float64 `json:"vcpus"`
			MemoryMiB float64 `json:"memory_mib"`
			DiskMB    float64 `json:"disk_mb"`
		} `json:"maximum"`
		Usage map[string]float64 `json:"usage"`
	}
	if a.live() { // emulator only: the usage maximum is the emulator's account limits
		return
	}
	if _, err := c.Do(ctx, http.MethodGet, "accounts/"+acct+"/containers/usage", nil, nil, &usage); err != nil {
		t.Fatalf("usage: %v", err)
	}
	if usage.Maximum.VCPUs != 1500 || usage.Maximum.MemoryMiB != 6*1024*1024 || usage.Maximum.DiskMB != 30_000_000 || usage.Usage["instances"] != 0 {
		t.Errorf("usage = %+v, want the account limits and no usage", usage)
	}
}

func TestRawClientRetries(t *testing.T) {
	t.Run("429 honouring Retry-After-Ms", func(t *testing.T) {
		c, srv := rawEmulator(t, 3)
		srv.SetFaults(emulator.Faults{Burst429: 2})
		if _, err := c.ListApplications(context.Background(), rawTestAccount); err != nil {
			t.Fatalf("ListApplications after two 429s = %v, want success", err)
		}
	})
	t.Run("429 without retries left", func(t *testing.T) {
		c, srv := rawEmulator(t, 1)
		srv.SetFaults(emulator.Faults{Burst429: 2})
		_, err := c.ListApplications(context.Background(), rawTestAccount)
		rawWantAPIError(t, err, http.StatusTooManyRequests, 971)
	})
	t.Run("5xx until retries run out", func(t *testing.T) {
		fastBackoff(t)
		c, srv := rawEmulator(t, 2)
		srv.SetFaults(emulator.Faults{FailRate: 1})
		_, err := c.GetApplication(context.Background(), rawTestAccount, "x")
		rawWantAPIError(t, err, http.StatusServiceUnavailable, 15000)
		if n := srv.Counts().Total; n != 3 {
			t.Errorf("requests sent = %d, want 3 (1 + 2 retries)", n)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		fastBackoff(t)
		c := &RawClient{BaseURL: "http://127.0.0.1:1/client/v4", Token: "t", MaxRetries: 1}
		_, err := c.GetApplication(context.Background(), rawTestAccount, "x")
		var ae *APIError
		if err == nil || errors.As(err, &ae) {
			t.Errorf("unreachable server: error %v, want a transport error", err)
		}
	})
}

// max_instances, instance_type and a custom vcpu/memory_mib survive create, PATCH and GET.
func TestConformanceContainersSizeRoundTrip(t *testing.T) {
	a, c, acct := containersConformance(t)
	ctx := context.Background()
	type size struct {
		MaxInstances int
		InstanceType string
		VCPU         float64
		MemoryMiB    int
	}
	sizeOf := func(a ContainerApplication) size {
		return size{a.MaxInstances, a.Configuration.InstanceType, a.Configuration.VCPU, a.Configuration.MemoryMiB}
	}
	tests := []struct {
		name    string
		create  ContainerConfiguration
		max     int
		patch   ContainerConfiguration
		newMax  int
		created size
		patched size
	}{
		{
			name:   "predefined type",
			create: ContainerConfiguration{Image: "img:1", InstanceType: "lite"}, max: 3,
			patch: ContainerConfiguration{InstanceType: "standard-2"}, newMax: 7,
			created: size{3, "lite", 0, 0}, patched: size{7, "standard-2", 0, 0},
		},
		{
			name:   "custom size",
			create: ContainerConfiguration{Image: "img:1", VCPU: 0.5, MemoryMiB: 2048}, max: 5,
			patch: ContainerConfiguration{VCPU: 1.5, MemoryMiB: 6144}, newMax: 9,
			created: size{5, "", 0.5, 2048}, patched: size{9, "", 1.5, 6144},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := ContainerApplicationSpec{Name: a.name("sandbox-" + strings.ReplaceAll(tt.name, " ", "-")), SchedulingPolicy: "default",
				Instances: 1, MaxInstances: tt.max, Configuration: tt.create}
			spec.Configuration.Image = a.image(spec.Configuration.Image)
			app, err := a.createApplication(ctx, t, spec)
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			got, err := c.GetApplication(ctx, acct, app.ID)
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			if diff := cmp.Diff(tt.created, sizeOf(got)); diff != "" {
				t.Errorf("after create (-want +got):\n%s", diff)
			}
			patched, err := c.UpdateApplication(ctx, acct, app.ID, ContainerApplicationPatch{MaxInstances: &tt.newMax, Configuration: &tt.patch})
			if err != nil {
				t.Fatalf("patch: %v", err)
			}
			got, err = c.GetApplication(ctx, acct, app.ID)
			if err != nil {
				t.Fatalf("get after patch: %v", err)
			}
			if diff := cmp.Diff(tt.patched, sizeOf(got)); diff != "" {
				t.Errorf("after patch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(sizeOf(patched), sizeOf(got)); diff != "" {
				t.Errorf("PATCH answer and GET differ (-patch +get):\n%s", diff)
			}
			if got.Configuration.Image != a.image("img:1") {
				t.Errorf("the patch lost the image: %q", got.Configuration.Image)
			}
		})
	}
}
