package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/monotask/flareops/reconciler"
)

// flareops_slo: an objective over a window measured by one SLI, compiled into multi-window
// multi-burn-rate rules published in the ops KV namespace. The kind is the engine's
// reconciler.SLOKind.

const sloDescription = "A service level objective: an objective in percent over a rolling window, measured by exactly one SLI block " +
	"(`worker_availability`, `dataset_ratio`, `dataset_latency`, `worker_latency` or `queue_delivery`), compiled into multi-window multi-burn-rate rules " +
	"(for 30d: page at 14.4× over 1h/5m and 6× over 6h/30m, ticket at 1× over 3d/6h; other windows scaled). " +
	"Each rule is published as a `flareops.rule/v1` document under `flareops/rules/slo/<name>/` in the provider's ops KV namespace (`ops_kv_namespace`), " +
	"where the platform's monitoring Worker reads it; `flareops alerts check` and `flareops slo status` evaluate the same rules.\n\n" +
	"**Dataset columns.** A dataset SLI filters on the dataset's named columns, which flareops keeps in the `flareops_analytics_dataset` resource only " +
	"(Analytics Engine does not store them), and a Terraform resource cannot read another resource's attributes. Pass them with the dataset's name:\n\n" +
	"```terraform\n" +
	"dataset_ratio {\n" +
	"  dataset = flareops_analytics_dataset.api.dataset\n" +
	"  good    = \"status < 500\"\n" +
	"  dynamic \"columns\" {\n" +
	"    for_each = flareops_analytics_dataset.api.columns\n" +
	"    content {\n" +
	"      index   = columns.value.index\n" +
	"      blobs   = columns.value.blobs\n" +
	"      doubles = columns.value.doubles\n" +
	"    }\n" +
	"  }\n" +
	"}\n" +
	"```\n\n" +
	"A filter on a column the block does not name is a plan error, as in the CLI (where the columns come from the referenced `analytics_dataset` block).\n\n" +
	"**State.** The published documents hold the compiled queries, not the SLI block, so the state keeps the SLO as written for as long as every " +
	"published document is the one its declaration compiles to (compared by hash): a second plan is empty. A document edited, deleted or " +
	"not written by flareops makes the SLI, destinations and runbook read back as unknown to flareops, and the plan shows an update that publishes them again " +
	"(with every document deleted, the SLO is gone and the plan creates it).\n\n" +
	"**Import** by the SLO's name (its id). The documents do not say which SLI block they came from, so after an import the next plan shows an update " +
	"that fills in the declaration and publishes the same rules again.\n\n" +
	"The same kind as the `slo` block of the `flareops` CLI. A read costs the ops namespace's one key list, shared by every SLO and metric alert rule of a run."

var sloTexts = map[string]string{
	"page_to":                 "Where the page rules (fast burn: 2 % and 5 % of the budget within 1h and 6h for a 30d window) send: the destinations' ids, `[flareops_alert_destination.oncall.id]`.",
	"ticket_to":               "Where the ticket rule (slow burn: 10 % of the budget within 3d for a 30d window) sends: the destinations' ids, `[flareops_alert_destination.slack.id]`.",
	"dataset_ratio.dataset":   "The dataset's name: `flareops_analytics_dataset.api.dataset`. Pass its column names in `columns` too.",
	"dataset_latency.dataset": "The dataset's name: `flareops_analytics_dataset.api.dataset`. Pass its column names in `columns` too.",
	"queue_delivery.queue":    "The queue's name: `flareops_queue.agent_jobs.name`.",
}

// NewSLOResource is the flareops_slo resource.
func NewSLOResource() resource.Resource {
	return &kindResource{
		schemaKind:  reconciler.SLOKind{},
		description: sloDescription,
		texts:       sloTexts,
		// The documents hold the compiled rules, not the SLI block as written.
		declared: func(spec any) bool { _, ok := spec.(reconciler.SLOSpec); return ok },
	}
}
