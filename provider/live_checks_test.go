package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler"
)

// A new flareops_worker_settings on a Worker deployed by wrangler plans with a warning
// that carries the wrangler.toml and wrangler.jsonc lines the Worker lacks; on a missing
// Worker, with an error naming it.
func TestPlanLiveChecks(t *testing.T) {
	ctx := context.Background()
	tg := newEmulatorTarget(t, emulator.Options{})
	tg.deployWorker(t, "gateway", "export default {}", nil)
	reg := reconciler.KindsWith(tg.client(t), reconciler.Settings{})
	r := NewWorkerSettingsResource().(*kindResource)
	r.kind, _ = reg.Kind("worker_settings")
	plan := func(script string) *resource.ModifyPlanResponse {
		vals := reconciler.Values{"script": script, "deployed_by": "wrangler", "cpu_ms": int64(50)}
		raw, err := objectFrom(r.schemaKind.Schema(), r.objectType(ctx), vals,
			map[string]tftypes.Value{idAttr: tftypes.NewValue(tftypes.String, tftypes.UnknownValue)})
		if err != nil {
			t.Fatal(err)
		}
		resp := &resource.ModifyPlanResponse{Plan: tfsdk.Plan{Raw: raw}}
		r.planLiveChecks(ctx, resp)
		return resp
	}
	resp := plan("gateway")
	if resp.Diagnostics.HasError() || resp.Diagnostics.WarningsCount() != 1 {
		t.Fatalf("diagnostics: %v", resp.Diagnostics)
	}
	w := resp.Diagnostics.Warnings()[0]
	for _, want := range []string{"Worker gateway lacks settings that only wrangler can deploy", "cpu_ms is 30,000 ms (the platform default), not 50", "Add to wrangler.toml:\n\n[limits]\ncpu_ms = 50\n", "or to wrangler.jsonc:\n\n{\n  \"limits\": {\n    \"cpu_ms\": 50\n  }\n}"} {
		if !strings.Contains(w.Summary()+"\n"+w.Detail(), want) {
			t.Errorf("warning lacks %q:\n%s\n%s", want, w.Summary(), w.Detail())
		}
	}
	resp = plan("nowhere")
	if resp.Diagnostics.ErrorsCount() != 1 || !strings.Contains(resp.Diagnostics.Errors()[0].Detail(), "Worker nowhere does not exist in the account") {
		t.Fatalf("diagnostics of a missing Worker: %v", resp.Diagnostics)
	}
}

// A flareops_analytics_dataset about to bind a Worker that Cloudflare records as last
// deployed with wrangler plans with a warning that its next deploy removes the binding;
// a Worker deployed otherwise, and a plan that changes nothing, do not warn.
func TestPlanWarnsBeforeWritingToAWranglerDeployedWorker(t *testing.T) {
	ctx := context.Background()
	tg := newEmulatorTarget(t, emulator.Options{})
	tg.deployWorkerAs(t, "wr", "export default {}", nil, "wrangler/4.20.0")
	tg.deployWorker(t, "api", "export default {}", nil)
	reg := reconciler.KindsWith(tg.client(t), reconciler.Settings{})
	r := NewDatasetResource().(*kindResource)
	r.kind, _ = reg.Kind("analytics_dataset")
	r.workers, r.account = reg.Workers, tg.account
	vals := reconciler.Values{"dataset": "d", "binding": []reconciler.Values{{"worker": "wr", "name": "M"}, {"worker": "api", "name": "M"}}}
	raw, err := objectFrom(r.schemaKind.Schema(), r.objectType(ctx), vals, map[string]tftypes.Value{idAttr: tftypes.NewValue(tftypes.String, "d")})
	if err != nil {
		t.Fatal(err)
	}
	resp := &resource.ModifyPlanResponse{Plan: tfsdk.Plan{Raw: raw}}
	r.planWranglerWarning(ctx, tftypes.NewValue(r.objectType(ctx), nil), resp)
	if resp.Diagnostics.HasError() || resp.Diagnostics.WarningsCount() != 1 {
		t.Fatalf("diagnostics: %v", resp.Diagnostics)
	}
	w := resp.Diagnostics.Warnings()[0]
	for _, want := range []string{"Worker wr is deployed with wrangler", `binding M (flareops_analytics_dataset "d")`, "the next deploy removes them", "instead of in Terraform"} {
		if !strings.Contains(w.Summary()+"\n"+w.Detail(), want) {
			t.Errorf("warning lacks %q:\n%s\n%s", want, w.Summary(), w.Detail())
		}
	}
	resp = &resource.ModifyPlanResponse{Plan: tfsdk.Plan{Raw: raw}}
	r.planWranglerWarning(ctx, raw, resp)
	if len(resp.Diagnostics) != 0 {
		t.Errorf("a plan that changes nothing: %v", resp.Diagnostics)
	}
}
