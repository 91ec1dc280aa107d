package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/monotask/flareops/reconciler"
)

// flareops_alert_rule: a native Cloudflare alert (a notification policy). The kind is the
// engine's reconciler.AlertRuleKind.

const alertRuleDescription = "An alert rule. Its `native` form is a Cloudflare notification policy named after the rule: an alert type " +
	"(checked at plan time against the account's available alerts), its filters, and the destinations it notifies.\n\n" +
	"No perpetual diff: filters are compared without regard to order, case or repeated values, and destinations as a set, " +
	"so the rule never shows as changed when Cloudflare answers them otherwise; the state keeps the filters as written.\n\n" +
	"The same kind as the `alert_rule` block of the `flareops` CLI. A read costs one list of the account's notification policies, " +
	"shared by every `flareops_alert_rule` of a run, and one list each of its webhook destinations and PagerDuty services."

var alertRuleTexts = map[string]string{
	idAttr: "The notification policy's id in the account. Import an existing policy by it, or by its name.",
	"name": "Name of the rule: 1 to 128 letters, digits, spaces, `_`, `.`, `:` and `-`, starting with a letter or digit. A native rule's notification policy has this name.",
	"to":   "Where the rule's alerts go: the destinations' ids, `[flareops_alert_destination.ops.id, flareops_alert_destination.slack.id]` (or ids written out: `email:<address>`, `webhook:<name>`, `pagerduty:<service name>`). Each once; order does not matter.",
}

// NewAlertRuleResource is the flareops_alert_rule resource.
func NewAlertRuleResource() resource.Resource {
	return &kindResource{
		schemaKind:  reconciler.AlertRuleKind{},
		description: alertRuleDescription,
		texts:       alertRuleTexts,
	}
}
