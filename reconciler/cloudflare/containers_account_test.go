package cloudflare

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestConformanceResizeContainerApplication: ResizeContainerApplication changes max_instances and the instance size, switching
// between a predefined type and a custom size without leaving both, and touches nothing
// else of the application.
func TestConformanceResizeContainerApplication(t *testing.T) {
	a, _, _ := containersConformance(t)
	c := a.c
	ctx := context.Background()
	app, err := a.createApplication(ctx, t, containersSpecIn(a, "sandbox"))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		size ContainerSize
		max  int
		cfg  ContainerConfiguration
	}{
		{ContainerSize{MaxInstances: 20}, 20, ContainerConfiguration{InstanceType: "standard-1"}},
		{ContainerSize{VCPU: 2, MemoryMiB: 8192}, 20, ContainerConfiguration{VCPU: 2, MemoryMiB: 8192}},
		{ContainerSize{InstanceType: "standard-2", MaxInstances: 4}, 4, ContainerConfiguration{InstanceType: "standard-2"}},
		{ContainerSize{}, 4, ContainerConfiguration{InstanceType: "standard-2"}},
	}
	for i, s := range steps {
		if err := c.ResizeContainerApplication(ctx, app.ID, s.size); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		apps, err := c.ContainerApplications(ctx)
		apps = mine(a, apps, func(x ContainerApplication) bool { return x.ID == app.ID })
		if err != nil || len(apps) != 1 {
			t.Fatalf("step %d: %v, %d applications", i, err, len(apps))
		}
		got := apps[0]
		want := s.cfg
		want.Image, want.Disk, want.EnvironmentVariables = app.Configuration.Image, app.Configuration.Disk, app.Configuration.EnvironmentVariables
		if diff := cmp.Diff(want, got.Configuration, cmpopts.EquateEmpty()); diff != "" || got.MaxInstances != s.max || got.Name != a.name("sandbox") {
			t.Errorf("step %d: max_instances %d (want %d); configuration (-want +got):\n%s", i, got.MaxInstances, s.max, diff)
		}
	}
	if err := c.ResizeContainerApplication(ctx, "0123456789abcdef0123456789abcdef", ContainerSize{MaxInstances: 1}); !IsNotFound(err) {
		t.Errorf("resizing a missing application: %v, want not found", err)
	}
}
