package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/monotask/flareops/reconciler"
)

// flareops_worker_settings: settings of an existing Worker (CPU limit, observability,
// Workers Logs) and the Logpush job that pushes its trace events to R2. The kind is the
// engine's reconciler.WorkerSettingsKind; Worker writes go through the engine's one Worker
// merge.

const workerSettingsDescription = "Settings of an existing Worker that flareops manages: its CPU limit, its observability and Workers Logs, " +
	"and the push of its trace events to an R2 bucket (a Logpush job named `flareops-<script>`, with only this Worker's events).\n\n" +
	"flareops never uploads Worker code: the Worker must be deployed, and a plan that names a missing Worker fails. " +
	"Only the settings declared here are written, through the same merge as every other flareops resource on the Worker: " +
	"its bindings, crons and other settings are kept exactly as they are. Destroying the resource deletes the Logpush job and hands the settings back " +
	"(cpu_ms to the platform's default, observability and logpush off) where they are still as applied.\n\n" +
	"With `deployed_by = \"wrangler\"` the provider writes nothing to the Worker (a `wrangler deploy` would undo it): " +
	"every plan reads the Worker and warns, with the `wrangler.toml` and `wrangler.jsonc` lines to add, when it lacks a declared setting. " +
	"The Logpush job is managed either way.\n\n" +
	"The R2 credentials are sensitive: Terraform never prints them, but keeps them in its state like every sensitive attribute (protect the state, " +
	"or use OpenTofu's state encryption). Cloudflare never returns the secret, so a secret changed outside Terraform is not seen; " +
	"a secret changed in the configuration is an update.\n\n" +
	"The same kind as the `worker_settings` block of the `flareops` CLI. Reads cost one read of the Worker's settings, shared by every flareops resource on that Worker, and one list of the account's Logpush jobs."

// workerSettingsTexts say in Terraform's terms what the engine's descriptions say in the CLI's.
var workerSettingsTexts = map[string]string{
	"logpush.access_key_id": "R2 access key id with write access to the bucket. Sensitive: give it from a variable (`var.r2_access_key_id`, set with `TF_VAR_r2_access_key_id`).",
	"logpush.secret_access_key": "The secret of that access key. Sensitive: never printed. Terraform keeps it in its state, as every sensitive attribute; " +
		"Cloudflare never returns it, so a change made outside Terraform is not seen.",
}

// NewWorkerSettingsResource is the flareops_worker_settings resource.
func NewWorkerSettingsResource() resource.Resource {
	return &kindResource{
		schemaKind:  reconciler.WorkerSettingsKind{},
		description: workerSettingsDescription,
		texts:       workerSettingsTexts,
	}
}
