// Package provider is the Terraform (and OpenTofu) front end of flareops: the flareops_*
// resources and data sources, built on terraform-plugin-framework.
//
// It is a thin adapter over the engine in reconciler/: every schema is built from a kind's
// BlockSchema (schema.go), values are converted to and from reconciler.Values (values.go),
// and every API call is the kind's (Observe, Create, Update, Delete). Nothing here talks
// to Cloudflare directly.
package provider

import (
	"context"
	"fmt"
	"log"
	"net/url"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/monotask/flareops/reconciler"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

// Address is the provider's source address. OpenTofu resolves `source = "monotask/flareops"`
// to it, and dev_overrides and filesystem mirrors are keyed by it.
const Address = "registry.opentofu.org/monotask/flareops"

// MagicCookieKey is the environment variable that Terraform and OpenTofu set when they start
// a plugin (go-plugin's handshake, as configured by terraform-plugin-go's tf6server).
const MagicCookieKey = "TF_PLUGIN_MAGIC_COOKIE"

// StartedByTerraform reports whether this process was started by Terraform as a plugin.
func StartedByTerraform() bool { return os.Getenv(MagicCookieKey) != "" }

// Serve serves the provider to the Terraform that started the process, and returns the
// process's exit code.
func Serve(version string) int {
	err := providerserver.Serve(context.Background(), New(version), providerserver.ServeOpts{Address: Address})
	if err != nil {
		log.Println(err)
		return 1
	}
	return 0
}

// New returns the provider factory that Terraform's plugin server calls.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &flareopsProvider{version: version} }
}

type flareopsProvider struct{ version string }

// providerData is what Configure hands to every resource and data source: the engine's
// kinds wired to one client (one rate budget), and the observation they share.
type providerData struct {
	kinds     *reconciler.Registry
	cache     *observeCache
	accountID string
	// scripts lists Workers for flareops_worker: Workers are no engine kind.
	scripts scriptLister
	// r2 is where R2 objects are read and written; kept for the kinds that need it
	// (backup), none of which is served yet.
	r2 r2Settings
}

type r2Settings struct {
	endpoint, accessKeyID, secretAccessKey string
}

type providerModel struct {
	APIToken          types.String `tfsdk:"api_token"`
	AccountID         types.String `tfsdk:"account_id"`
	BaseURL           types.String `tfsdk:"base_url"`
	R2Endpoint        types.String `tfsdk:"r2_endpoint"`
	R2AccessKeyID     types.String `tfsdk:"r2_access_key_id"`
	R2SecretAccessKey types.String `tfsdk:"r2_secret_access_key"`
	RateLimit         types.String `tfsdk:"rate_limit"`
	OpsKVNamespace    types.String `tfsdk:"ops_kv_namespace"`
}

func (p *flareopsProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "flareops"
	resp.Version = p.version
}

func (p *flareopsProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	opsKV, _ := reconciler.SettingsSchema().Attr("ops_kv_namespace")
	resp.Schema = schema.Schema{
		MarkdownDescription: "Manages the operational side of a Cloudflare Workers platform — queues with their consumers and dead-letter queues — over the same engine as the `flareops` CLI.",
		Attributes: map[string]schema.Attribute{
			"api_token": schema.StringAttribute{
				Optional: true, Sensitive: true,
				MarkdownDescription: "Cloudflare API token with edit permission for the resources you manage. Required, here or in the `CLOUDFLARE_API_TOKEN` environment variable.",
			},
			"account_id": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "The 32-character id of the Cloudflare account to manage. Required, here or in the `CLOUDFLARE_ACCOUNT_ID` environment variable.",
			},
			"base_url": schema.StringAttribute{
				Optional:            true,
				Validators:          []validator.String{baseURLValidator{}},
				MarkdownDescription: "API root, ending in `/client/v4`. Default: the `CLOUDFLARE_BASE_URL` environment variable, else `https://api.cloudflare.com/client/v4`. Point it at `flareops local serve` (`http://127.0.0.1:8787/client/v4`) to try the provider without an account.",
			},
			"r2_endpoint": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "S3 endpoint of R2, e.g. `https://<account_id>.r2.cloudflarestorage.com`. Default: the `FLAREOPS_R2_ENDPOINT` environment variable. Set all three R2 settings or none. Stored for the kinds that read and write R2 objects (backups); no resource uses it yet.",
			},
			"r2_access_key_id": schema.StringAttribute{
				Optional: true, Sensitive: true,
				MarkdownDescription: "R2 access key id. Default: the `R2_ACCESS_KEY_ID` environment variable. Set all three R2 settings or none. Stored for the kinds that read and write R2 objects (backups); no resource uses it yet.",
			},
			"r2_secret_access_key": schema.StringAttribute{
				Optional: true, Sensitive: true,
				MarkdownDescription: "R2 secret access key. Default: the `R2_SECRET_ACCESS_KEY` environment variable. Set all three R2 settings or none. Stored for the kinds that read and write R2 objects (backups); no resource uses it yet.",
			},
			"rate_limit": schema.StringAttribute{
				Optional:            true,
				Validators:          []validator.String{rateLimitValidator{}},
				MarkdownDescription: "An upper bound on the API request budget, as `requests/window`, e.g. `\"600/5m\"`. Every API call of a run is paced to stay within the budget the API announces (its `Ratelimit` and `Ratelimit-Policy` headers, Cloudflare's 1,200 requests per 5 minutes) and, when set, within this one, instead of failing with HTTP 429; set it when other clients share the account. Default: the `FLAREOPS_RATE_LIMIT` environment variable, else the API's own budget.",
			},
			// The same setting as the CLI's `flareops { ops_kv_namespace = ... }`, from the
			// engine's settings schema.
			opsKV.Name: schema.StringAttribute{
				Optional:            true,
				Validators:          []validator.String{textValidator{opsKV}},
				MarkdownDescription: opsKV.Description + " Default: the `FLAREOPS_OPS_KV_NAMESPACE` environment variable.",
			},
		},
	}
}

func (p *flareopsProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	get := func(attr, env string, v types.String) setting {
		if v.IsUnknown() {
			resp.Diagnostics.AddAttributeError(path.Root(attr), "Unknown "+attr,
				fmt.Sprintf("The provider needs %s to plan, but its value is not known until apply. Give it a value known at plan time (a variable or a literal), or leave it out and set the %s environment variable.", attr, env))
			return setting{attr: attr, env: env}
		}
		return resolve(attr, env, v, os.Getenv)
	}
	token := get("api_token", "CLOUDFLARE_API_TOKEN", m.APIToken)
	account := get("account_id", "CLOUDFLARE_ACCOUNT_ID", m.AccountID)
	base := get("base_url", "CLOUDFLARE_BASE_URL", m.BaseURL)
	r2Endpoint := get("r2_endpoint", "FLAREOPS_R2_ENDPOINT", m.R2Endpoint)
	r2Key := get("r2_access_key_id", "R2_ACCESS_KEY_ID", m.R2AccessKeyID)
	r2Secret := get("r2_secret_access_key", "R2_SECRET_ACCESS_KEY", m.R2SecretAccessKey)
	rate := get("rate_limit", "FLAREOPS_RATE_LIMIT", m.RateLimit)
	opsKV := get("ops_kv_namespace", "FLAREOPS_OPS_KV_NAMESPACE", m.OpsKVNamespace)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(checkTarget(token, account, base)...)
	resp.Diagnostics.Append(checkR2(r2Endpoint, r2Key, r2Secret)...)
	limit, window, err := cloudflare.ParseRateLimit(rate.value)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("rate_limit"), "Invalid rate_limit",
			fmt.Sprintf("%v. Write requests/window, e.g. \"1200/5m\", in rate_limit or FLAREOPS_RATE_LIMIT.", err))
	}
	settings := reconciler.Settings{OpsKVNamespace: opsKV.value}
	if err := settings.Check(); err != nil {
		addAttributeError(&resp.Diagnostics, path.Root(opsKV.attr), "Invalid ops_kv_namespace",
			fmt.Sprintf("The ops KV namespace title from %s is not valid: %v.", opsKV.from, err),
			"Set ops_kv_namespace in the provider block, or FLAREOPS_OPS_KV_NAMESPACE, to the title of the platform's ops KV namespace.", nil)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	client, err := cloudflare.New(cloudflare.Config{BaseURL: base.value, Token: token.value, AccountID: account.value,
		Pacer: pacers.For(base.value, account.value, token.value, limit, window, nil)})
	if err != nil {
		addError(&resp.Diagnostics, "Cannot configure the flareops provider",
			"The Cloudflare client could not be built from the provider settings.",
			"Check account_id (or CLOUDFLARE_ACCOUNT_ID): it must be the 32-character id of the account.", err)
		return
	}
	data := &providerData{
		kinds:     reconciler.KindsWith(client, settings),
		cache:     newObserveCache(observeTTL),
		accountID: account.value,
		scripts:   client,
		r2:        r2Settings{endpoint: r2Endpoint.value, accessKeyID: r2Key.value, secretAccessKey: r2Secret.value},
	}
	resp.ResourceData = data
	resp.DataSourceData = data
}

// pacers is the process's request budgets: one per account and token, shared by every
// resource and data source of a run and by every configuration of the provider in the
// process (as the CLI's run shares one).
var pacers = cloudflare.NewPacerSet()

// Resources is the one registry of flareops_* resources: one per engine kind.
func (p *flareopsProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{NewQueueResource, NewDatasetResource, NewWorkerSettingsResource, NewSandboxResource, NewAlertDestinationResource, NewAlertRuleResource, NewBackupResource, NewSLOResource}
}

// DataSources lists the data sources: one per engine kind that can be looked up, and
// flareops_worker for the Workers that flareops refers to but does not deploy.
func (p *flareopsProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{NewQueueDataSource, NewWorkerDataSource}
}

// parseRateLimit reads "requests/window" ("1200/5m"), as FLAREOPS_RATE_LIMIT is read by the
// CLI; empty means no bound of our own: follow the budget the API announces.
type rateLimitValidator struct{}

func (rateLimitValidator) Description(context.Context) string {
	return `requests/window, e.g. "1200/5m"`
}

func (v rateLimitValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (rateLimitValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, _, err := cloudflare.ParseRateLimit(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid rate_limit", err.Error()+`. Write requests/window, e.g. "1200/5m".`)
	}
}

type baseURLValidator struct{}

func (baseURLValidator) Description(context.Context) string {
	return "an http or https URL ending in /client/v4"
}

func (v baseURLValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (baseURLValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	u, err := url.Parse(req.ConfigValue.ValueString())
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid base_url",
			fmt.Sprintf("%q is not an http or https URL. Write the API root, e.g. \"https://api.cloudflare.com/client/v4\" or \"http://127.0.0.1:8787/client/v4\".", req.ConfigValue.ValueString()))
	}
}
