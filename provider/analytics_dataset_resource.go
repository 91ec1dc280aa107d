package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/monotask/flareops/reconciler"
)

// flareops_analytics_dataset: a Workers Analytics Engine dataset, the names of its
// positional columns, and the Workers that bind it. The kind is the engine's
// reconciler.DatasetKind; bindings are written through the engine's one Worker merge.

const datasetDescription = "A Workers Analytics Engine dataset: names for its positional columns, and the Workers that bind it under a binding name.\n\n" +
	"Analytics Engine has no dataset API: a dataset comes to life when a Worker bound to it writes a data point. " +
	"This resource adds its `analytics_engine` bindings to each Worker's settings and removes them on destroy, " +
	"keeping every other binding of the Worker (KV, D1, R2, services, secrets, ...) exactly as it was, " +
	"also when other flareops resources change the same Worker. The column names are flareops's own (they are not stored in Cloudflare); " +
	"alert rules and SLOs write SQL with them.\n\n" +
	"The same kind as the `analytics_dataset` block of the `flareops` CLI. Reads cost one read of each Worker's settings, shared by every flareops resource on that Worker."

// datasetTexts say in Terraform's terms what the engine's descriptions say in the CLI's.
var datasetTexts = map[string]string{
	idAttr: "The dataset's name (Analytics Engine gives datasets no other id). Import an existing dataset by its name.",
}

// NewDatasetResource is the flareops_analytics_dataset resource.
func NewDatasetResource() resource.Resource {
	return &kindResource{
		schemaKind:  reconciler.DatasetKind{},
		description: datasetDescription,
		filled:      map[string]bool{}, // Build fills nothing
		texts:       datasetTexts,
	}
}
