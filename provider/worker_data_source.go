package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	dschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// flareops_worker (data source): an existing Worker script looked up by name. Workers are
// deployed by wrangler, not managed by flareops, so they are no engine kind and have no
// shared observation: each read lists the account's scripts, which is one request.

// scriptLister is what the data source needs of the client.
type scriptLister interface {
	ListScripts(ctx context.Context) ([]cloudflare.Script, error)
}

// NewWorkerDataSource is the flareops_worker data source.
func NewWorkerDataSource() datasource.DataSource { return &workerDataSource{} }

type workerDataSource struct {
	scripts scriptLister
	account string
}

var _ datasource.DataSourceWithConfigure = (*workerDataSource)(nil)

type workerModel struct {
	Name               types.String `tfsdk:"name"`
	ID                 types.String `tfsdk:"id"`
	CreatedOn          types.String `tfsdk:"created_on"`
	ModifiedOn         types.String `tfsdk:"modified_on"`
	Etag               types.String `tfsdk:"etag"`
	Handlers           []string     `tfsdk:"handlers"`
	HasModules         types.Bool   `tfsdk:"has_modules"`
	CompatibilityDate  types.String `tfsdk:"compatibility_date"`
	CompatibilityFlags []string     `tfsdk:"compatibility_flags"`
	UsageModel         types.String `tfsdk:"usage_model"`
	Logpush            types.Bool   `tfsdk:"logpush"`
	Tags               []string     `tfsdk:"tags"`
}

func (d *workerDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_worker"
}

func (d *workerDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	computed := func(desc string) dschema.StringAttribute {
		return dschema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	list := func(desc string) dschema.ListAttribute {
		return dschema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: desc}
	}
	resp.Schema = dschema.Schema{
		MarkdownDescription: "Looks up an existing Worker (deployed with wrangler or the dashboard; flareops does not deploy Workers) by name. " +
			"Use it to refer to a Worker that must exist, e.g. as a queue consumer's `worker`, so that a missing or misnamed Worker fails the plan instead of the apply.",
		Attributes: map[string]dschema.Attribute{
			"name": dschema.StringAttribute{
				Required:            true,
				MarkdownDescription: "The Worker's script name, as deployed (wrangler's `name`, with `-<env>` appended for a wrangler environment). Case-sensitive.",
			},
			idAttr:        computed("The Worker's script name: a Worker's name is its id in the API."),
			"created_on":  computed("When the Worker was first uploaded (RFC 3339, UTC)."),
			"modified_on": computed("When the Worker's code or settings last changed (RFC 3339, UTC)."),
			"etag":        computed("A hash of the Worker's code; it changes with every upload of new code."),
			"handlers": list("The handlers the Worker's default export defines, e.g. `fetch`, `queue`, `scheduled`. " +
				"A Worker consumes a queue only if it has a `queue` handler."),
			"has_modules": dschema.BoolAttribute{
				Computed:            true,
				MarkdownDescription: "Whether the Worker is written in the ES modules format (`false`: the service-worker format).",
			},
			"compatibility_date":  computed("The Workers runtime compatibility date of the deployed version; null when it has none."),
			"compatibility_flags": list("The runtime compatibility flags of the deployed version, e.g. `nodejs_compat`."),
			"usage_model":         computed("How the Worker is billed: `standard`, `bundled` or `unbound`."),
			"logpush": dschema.BoolAttribute{
				Computed:            true,
				MarkdownDescription: "Whether Workers Logpush is on for the Worker.",
			},
			"tags": list("The tags of the Worker."),
		},
	}
}

func (d *workerDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	if req.ProviderData == nil {
		return
	}
	pd, ok := req.ProviderData.(*providerData)
	if !ok || pd.scripts == nil {
		unconfigured(&resp.Diagnostics, "configure the flareops_worker data source")
		return
	}
	d.scripts, d.account = pd.scripts, pd.accountID
}

func (d *workerDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if d.scripts == nil {
		unconfigured(&resp.Diagnostics, "read the flareops_worker data source")
		return
	}
	var name types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("name"), &name)...)
	if resp.Diagnostics.HasError() {
		return
	}
	want := name.ValueString()
	scripts, err := d.scripts.ListScripts(ctx)
	if err != nil {
		addError(&resp.Diagnostics, fmt.Sprintf("Cannot look up Worker %q", want),
			fmt.Sprintf("Listing the Workers of account %s failed.", d.account), workersTodo(err), err)
		return
	}
	for _, s := range scripts {
		if s.Name == want {
			resp.Diagnostics.Append(resp.State.Set(ctx, workerState(s))...)
			return
		}
	}
	addError(&resp.Diagnostics, fmt.Sprintf("No Worker named %q", want),
		fmt.Sprintf("Account %s has no Worker named %q.", d.account, want),
		"Check the name (names are case-sensitive; a Worker deployed to a wrangler environment is named <name>-<env>), "+
			"that account_id (or CLOUDFLARE_ACCOUNT_ID) is the account the Worker is deployed to, "+
			"and that the Worker has been deployed (wrangler deploy) before this configuration is applied.", nil)
}

func workerState(s cloudflare.Script) workerModel {
	return workerModel{
		Name:               types.StringValue(s.Name),
		ID:                 types.StringValue(s.Name),
		CreatedOn:          timeValue(s.CreatedOn),
		ModifiedOn:         timeValue(s.ModifiedOn),
		Etag:               stringOrNull(s.Etag),
		Handlers:           s.Handlers,
		HasModules:         types.BoolValue(s.HasModules),
		CompatibilityDate:  stringOrNull(s.CompatibilityDate),
		CompatibilityFlags: s.CompatibilityFlags,
		UsageModel:         stringOrNull(s.UsageModel),
		Logpush:            types.BoolValue(s.Logpush),
		Tags:               s.Tags,
	}
}

// timeValue spells a timestamp in RFC 3339, UTC; null when the API did not give one.
func timeValue(t time.Time) types.String {
	if t.IsZero() {
		return types.StringNull()
	}
	return types.StringValue(t.UTC().Format(time.RFC3339Nano))
}

func stringOrNull(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

// workersTodo is apiTodo with the permission a Workers lookup needs.
func workersTodo(err error) string {
	var ae *cloudflare.APIError
	if errors.As(err, &ae) && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden) {
		return "Check that the API token (api_token or CLOUDFLARE_API_TOKEN) is valid and has read permission for Workers Scripts on the account (account_id or CLOUDFLARE_ACCOUNT_ID)."
	}
	return apiTodo(err)
}
