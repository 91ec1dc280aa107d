package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/monotask/flareops/reconciler"
)

// flareops_alert_rule: a native Cloudflare alert (a notification policy), or a metric rule
// published for the monitoring Worker. The kind is the engine's reconciler.AlertRuleKind.

const alertRuleDescription = "An alert rule, native or metric. Its `native` form is a Cloudflare notification policy named after the rule: an alert type " +
	"(checked at plan time against the account's available alerts), its filters, and the destinations it notifies.\n\n" +
	"No perpetual diff: filters are compared without regard to order, case or repeated values, and destinations as a set, " +
	"so the rule never shows as changed when Cloudflare answers them otherwise; the state keeps the filters as written.\n\n" +
	"The metric form (`dataset_query`, `queue_backlog`, `queue_lag`, `queue_dlq_ratio` or `d1_query_time`, with `above` or `below`, `for`, `severity`, `dedup`, `runbook`) " +
	"publishes a `flareops.rule/v1` document as `flareops/rules/metric/<name>` in the provider's ops KV namespace (`ops_kv_namespace`) for the platform's monitoring Worker; its id is `metric/<name>`. " +
	"A `dataset_query` filters on the dataset's named columns, which a Terraform resource cannot read from another: pass them with the dataset's name, " +
	"`dataset = flareops_analytics_dataset.api.dataset` and `columns { doubles = flareops_analytics_dataset.api.columns[0].doubles ... }` (or a `dynamic \"columns\"` block). " +
	"The document holds the compiled query, not the block, so the state keeps the rule as written while the published document is the one it compiles to (compared by hash): " +
	"a second plan is empty; a document edited or overwritten outside flareops shows as an update that publishes it again, and a deleted one as a create. " +
	"Import a metric rule by `metric/<name>`; the document does not say which block it came from, so the next plan fills in the declaration and publishes the same document again.\n\n" +
	"The same kind as the `alert_rule` block of the `flareops` CLI. A read costs one list of the account's notification policies, " +
	"shared by every `flareops_alert_rule` of a run, and one list each of its webhook destinations and PagerDuty services."

var alertRuleTexts = map[string]string{
	idAttr: "A native rule's notification policy id in the account (import an existing policy by it, or by its name); a metric rule's `metric/<name>` (import it by that).",
	"name": "Name of the rule: 1 to 128 letters, digits, spaces, `_`, `.`, `:` and `-`, starting with a letter or digit. A native rule's notification policy has this name.",
	"to":   "Where the rule's alerts go: the destinations' ids, `[flareops_alert_destination.ops.id, flareops_alert_destination.slack.id]` (or ids written out: `email:<address>`, `webhook:<name>`, `pagerduty:<service name>`). Each once; order does not matter.",
}

// NewAlertRuleResource is the flareops_alert_rule resource.
func NewAlertRuleResource() resource.Resource {
	return &kindResource{
		schemaKind:  reconciler.AlertRuleKind{},
		description: alertRuleDescription,
		texts:       alertRuleTexts,
		// A metric rule's document holds its compiled query, not its blocks as written.
		declared: func(spec any) bool { s, ok := spec.(reconciler.AlertRuleSpec); return ok && s.Metric != "" },
	}
}
