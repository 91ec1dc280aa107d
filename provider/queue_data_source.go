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

// NewQueueDataSource is the flareops_queue data source.
func NewQueueDataSource() datasource.DataSource {
	return &kindDataSource{
		schemaKind: reconciler.QueueKind{},
		description: "Looks up an existing queue by name: its id, settings and consumer. " +
			"Use it to refer to a queue that another configuration manages, e.g. as a `dead_letter_queue`.",
	}
}

// kindDataSource looks one object of a kind up by its key attribute.
type kindDataSource struct {
	schemaKind  reconciler.Kind
	description string

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
	resp.Schema = dataSourceSchema(d.schemaKind, d.description)
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
	typ := dataSourceSchema(d.schemaKind, d.description).Type().TerraformType(ctx).(tftypes.Object)
	extra := map[string]tftypes.Value{idAttr: tftypes.NewValue(tftypes.String, live.ID)}
	obj, err := objectFrom(d.kind.Schema(), typ, d.kind.Flatten(live.Spec), extra)
	if err != nil {
		addError(&resp.Diagnostics, fmt.Sprintf("Cannot read %s %q", d.name(), want), "The live object could not be converted to Terraform values.",
			"This is a bug in the flareops provider: please report it.", err)
		return
	}
	resp.State.Raw = obj
}
