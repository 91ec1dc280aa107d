package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/monotask/flareops/reconciler"
)

// flareops_sandbox: the limits of the platform's sandboxes, on their Worker (CPU limit, a
// cleanup cron), their existing containers application (instance size, max instances) and
// in a policy document in the ops KV namespace. The kind is the engine's
// reconciler.SandboxKind; Worker writes go through the engine's one Worker merge.

const sandboxDescription = "The limits of the platform's sandboxes (Cloudflare Containers behind the Sandbox SDK), each where it is enforced. " +
	"On the Worker that runs them: its CPU limit (`cpu_ms`), and a cron trigger for the cleanup (`cleanup_every`) beside the Worker's own crons, which are kept, " +
	"also when other flareops resources change the same Worker. " +
	"On their existing containers application (the `container` block): its instance size and max instances, and nothing else; " +
	"flareops never creates or deletes an application, and leaves it as it is when the block is removed. " +
	"And in a versioned JSON policy document, `flareops/sandbox/<name>` in the ops KV namespace (the provider's `ops_kv_namespace`), " +
	"which the sandbox lifecycle code reads at runtime for its timeouts and limits: schema `flareops.sandbox-policy/v1`, described in the CLI reference (`docs/cli/sandbox-policy.md`).\n\n" +
	"The same kind as the `sandbox` block of the `flareops` CLI. A read costs one read of the Worker's settings and one of its crons (shared by every flareops resource on that Worker), " +
	"one list of the ops namespace's documents (shared by every resource that publishes one), and one list of the account's applications."

// sandboxFilled: a sandbox's name defaults to its Worker's (Build fills it).
var sandboxFilled = map[string]bool{"name": true}

// sandboxTexts say in Terraform's terms what the engine's descriptions say in the CLI's.
var sandboxTexts = map[string]string{
	idAttr: "The sandbox's name, which identifies it: a sandbox has no object of its own in Cloudflare, and its policy document is `flareops/sandbox/<id>`. Import a sandbox by its name.",
}

// NewSandboxResource is the flareops_sandbox resource.
func NewSandboxResource() resource.Resource {
	return &kindResource{
		schemaKind:  reconciler.SandboxKind{},
		description: sandboxDescription,
		filled:      sandboxFilled,
		texts:       sandboxTexts,
	}
}
