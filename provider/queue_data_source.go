package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/monotask/flareops/reconciler"
)

// flareops_queue (data source): an existing queue looked up by name, with its settings and
// consumer, read from the same shared observation as the resources.

// queueReadTexts describe what the data source reads; the engine's descriptions say what a
// declaration does (renames, pauses) and how to write it (ranges, defaults).
var queueReadTexts = map[string]string{
	"name":                        "Name of the queue to read (case-sensitive). The read fails if the account has no queue of that name.",
	"delivery_delay":              "Delay before every message is delivered, e.g. `\"30s\"`; `\"0s\"` when messages are delivered at once.",
	"message_retention":           "How long the queue keeps undelivered messages, e.g. `\"4d\"`.",
	"paused":                      "Whether delivery to consumers is paused: `true` while messages accumulate undelivered.",
	"consumer":                    "The queue's consumer: one element, or none when the queue has no consumer.",
	"consumer.type":               "`worker` (messages are pushed to a Worker) or `http_pull` (they are pulled over HTTP).",
	"consumer.worker":             "Name of the Worker script that consumes the queue; null for an `http_pull` consumer.",
	"consumer.batch_size":         "Messages per batch.",
	"consumer.max_wait":           "How long a batch may wait to fill before it is delivered, e.g. `\"5s\"`; null for an `http_pull` consumer.",
	"consumer.max_retries":        "Deliveries retried before a message goes to the dead-letter queue, or is dropped if there is none.",
	"consumer.retry_delay":        "Delay before a failed message is retried, e.g. `\"30s\"`.",
	"consumer.max_concurrency":    "Most concurrent consumer invocations; null when the platform scales them automatically, and for an `http_pull` consumer.",
	"consumer.visibility_timeout": "How long a pulled message is leased before it can be pulled again, e.g. `\"30s\"`; null for a `worker` consumer.",
	"consumer.dead_letter_queue":  "Name of the queue that receives messages after `max_retries` failed deliveries; null when they are dropped.",
}

// NewQueueDataSource is the flareops_queue data source.
func NewQueueDataSource() datasource.DataSource {
	return &kindDataSource{
		schemaKind: reconciler.QueueKind{},
		description: "Reads an existing queue by name: its id, settings and consumer. " +
			"Use it to refer to a queue that another configuration manages, e.g. as a `dead_letter_queue`. " +
			"It is answered from the same list of the account's queues that the `flareops_queue` resources read, one request shared by the whole run.",
		texts: queueReadTexts,
	}
}

// kindDataSource looks one object of a kind up by its key attribute.
type kindDataSource struct {
	schemaKind  reconciler.Kind
	description string
	// texts describes every attribute as read, by path ("consumer.worker").
	texts map[string]string

	kind    reconciler.Kind
	cache   *observeCache
	account string
}

var _ datasource.DataSourceWithConfigure = (*kindDataSource)(nil)

func (d *kindDataSource) name() string { return d.schemaKind.Name() }

func (d *kindDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_" + d.name()
}

func (d *kindDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = dataSourceSchema(d.schemaKind, d.description, d.texts)
}

func (d *kindDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	if req.ProviderData == nil {
		return
	}
	pd, ok := req.ProviderData.(*providerData)
	if !ok {
		unconfigured(&resp.Diagnostics, "configure the flareops_"+d.name()+" data source")
		return
	}
	k, ok := pd.kinds.Kind(d.name())
	if !ok {
		unconfigured(&resp.Diagnostics, "configure the flareops_"+d.name()+" data source")
		return
	}
	d.kind, d.cache, d.account = k, pd.cache, pd.accountID
}

func (d *kindDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if d.kind == nil {
		unconfigured(&resp.Diagnostics, "read the flareops_"+d.name()+" data source")
		return
	}
	key := d.kind.KeyAttr()
	m, err := objectMap(req.Config.Raw)
	var want string
	if err == nil && m != nil {
		_ = m[key].As(&want)
	}
	live, found, err := d.cache.byKey(ctx, d.kind, want)
	if err != nil {
		addError(&resp.Diagnostics, fmt.Sprintf("Cannot look up %s %q", d.name(), want),
			fmt.Sprintf("Listing the %ss of account %s failed.", d.name(), d.account), apiTodo(err), err)
		return
	}
	if !found {
		addError(&resp.Diagnostics, fmt.Sprintf("No %s named %q", d.name(), want),
			fmt.Sprintf("Account %s has no %s named %q.", d.account, d.name(), want),
			fmt.Sprintf("Check the %s (names are case-sensitive), or create the %s with a flareops_%s resource.", key, d.name(), d.name()), nil)
		return
	}
	typ := dataSourceSchema(d.schemaKind, d.description, d.texts).Type().TerraformType(ctx).(tftypes.Object)
	extra := map[string]tftypes.Value{idAttr: tftypes.NewValue(tftypes.String, live.ID)}
	obj, err := objectFrom(d.kind.Schema(), typ, d.kind.Flatten(live.Spec), extra)
	if err != nil {
		addError(&resp.Diagnostics, fmt.Sprintf("Cannot read %s %q", d.name(), want), "The live object could not be converted to Terraform values.",
			"This is a bug in the flareops provider: please report it.", err)
		return
	}
	resp.State.Raw = obj
}
