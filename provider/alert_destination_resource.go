package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/monotask/flareops/reconciler"
)

// flareops_alert_destination: where alerts go, an email address, a webhook destination or
// an existing PagerDuty service. The kind is the engine's reconciler.AlertDestinationKind.

const alertDestinationDescription = "Where alerts go: an email address, a webhook (Slack or any HTTPS endpoint) that flareops creates, " +
	"or an existing PagerDuty service linked to the account. Set exactly one of `email`, `webhook` and `pagerduty`.\n\n" +
	"Cloudflare has no object for an email destination (an address is part of each notification policy), so the resource only records it; " +
	"flareops never creates, links or deletes a PagerDuty service, and a plan that names one the account lacks fails.\n\n" +
	"Alert rules refer to a destination by its `id`: `to = [flareops_alert_destination.ops.id]`.\n\n" +
	"The webhook secret is sensitive: Terraform never prints it, but keeps it in its state like every sensitive attribute (protect the state, " +
	"or use OpenTofu's state encryption). Cloudflare never returns it, so a secret changed outside Terraform is not seen; a secret changed in the configuration is an update.\n\n" +
	"The same kind as the `alert_destination` block of the `flareops` CLI. A read costs one list of the account's webhook destinations (and one of its PagerDuty services for a PagerDuty destination)."

var alertDestinationTexts = map[string]string{
	idAttr:           "The destination's id, which alert rules name in `to`: `email:<address>`, `webhook:<name>` or `pagerduty:<service name>`. Import a webhook destination by it or by its name.",
	"name":           "Name of the destination: 1 to 64 letters, digits, `_`, `.` and `-`, starting with a letter or digit. A webhook destination has this name in Cloudflare. Changing it replaces the destination.",
	"webhook.secret": "Sent by Cloudflare in the `cf-webhook-auth` header of each delivery. Sensitive: never printed. Terraform keeps it in its state, as every sensitive attribute; Cloudflare never returns it, so a change made outside Terraform is not seen.",
}

// NewAlertDestinationResource is the flareops_alert_destination resource.
func NewAlertDestinationResource() resource.Resource {
	return &kindResource{
		schemaKind:  reconciler.AlertDestinationKind{},
		description: alertDestinationDescription,
		texts:       alertDestinationTexts,
	}
}
