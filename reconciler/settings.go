package reconciler

import (
	"errors"
	"fmt"
	"regexp"
)

// Settings are what a configuration says about the platform as a whole rather than about
// one object: in the CLI's language the `flareops { ... }` block, in Terraform the provider
// block's attributes. Kinds receive them from KindsWith; both front ends fill the same
// plain struct, so kinds cannot tell which front end they serve.
type Settings struct {
	// OpsKVNamespace is the title of the platform's ops KV namespace, where Worker-side
	// kinds publish their documents (reconciler/opsdoc); "" when not set.
	OpsKVNamespace string
}

// SettingsBlock is the name of the settings block in the CLI's language.
const SettingsBlock = "flareops"

// opsKVTitlePattern is a KV namespace title as flareops accepts it: Cloudflare allows any
// non-blank human-readable text of at most 512 characters (the title's maxLength in
// Cloudflare's API schema); flareops also refuses control characters and leading or
// trailing spaces, which would make two titles look alike in the dashboard.
var opsKVTitlePattern = regexp.MustCompile(`^[^\s\p{Cc}](?:[^\p{Cc}]*[^\s\p{Cc}])?$`)

const opsKVTitleRule = "1 to 512 characters, with no control characters and no spaces at either end"

var settingsSchema = BlockSchema{
	Attrs: []Attr{
		{Name: "ops_kv_namespace", Type: String, MaxLen: 512, Pattern: opsKVTitlePattern, PatternText: opsKVTitleRule,
			Description: "Title of the platform's ops KV namespace: " + opsKVTitleRule + ". Sandboxes (their policies), metric alert rules and SLOs (their rules) publish versioned JSON documents there, one key per document under `flareops/`, for the platform's Workers to read. Created if missing; an existing namespace with this title is used as it is. Required as soon as a declaration publishes a document."},
	},
	// Nested blocks are added here as NestedBlocks: the loader decodes them with the same
	// code as a kind's nested blocks. The backend block is the exception: it takes a label
	// (its type, as Terraform's does) and literal values only, since the state must be
	// found before anything else is evaluated; the loader decodes it itself
	// (config/settings.go) from BackendSchema, and it is listed here for the docs.
	Blocks: []NestedBlock{{Name: "backend", MaxItems: 1, Schema: backendSchema,
		Description: "`backend \"r2\" { bucket = \"...\" key = \"...\" }`: keep the state in an object of an R2 bucket instead of `.flareops/`, so that CI runners and laptops share it, with a lock taken by conditional write. The values must be literal text (no variables): the state is found before anything else is evaluated. Each workspace has its own object: `KEY` for the default workspace, `KEY/workspaces/NAME` for the others; beside each, `KEY.backup` holds the previous version and `KEY.lock` the lock. flareops reaches the bucket through R2's S3 API with `R2_ACCESS_KEY_ID` and `R2_SECRET_ACCESS_KEY`, at `FLAREOPS_R2_ENDPOINT` or the account's endpoint (the built-in local Cloudflare needs neither). Move an existing state there with `flareops state migrate -to r2`, and back with `-to local`. CLI only: Terraform keeps its own state."}},
}

// BackendTypes are the remote state backends: the label of a backend block.
var BackendTypes = []string{"r2"}

// stateKeyPattern is a state object key: no leading or trailing slash, no empty segment,
// no control characters (keys that tools show differently from what they are).
var stateKeyPattern = regexp.MustCompile(`^[^/\p{Cc}]+(/[^/\p{Cc}]+)*$`)

var backendSchema = BlockSchema{
	Attrs: []Attr{
		{Name: "bucket", Type: String, Required: true, Pattern: r2BucketPattern, PatternText: "an R2 bucket name: 3 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit",
			Description: "The R2 bucket holding the state. It must exist: flareops does not create it."},
		{Name: "key", Type: String, Required: true, MaxLen: 900, Pattern: stateKeyPattern, PatternText: "an object key without a leading or trailing slash, empty segment or control character",
			Description: "The object key of the default workspace's state, e.g. `monotask/prod.flareops.json`; other workspaces use `KEY/workspaces/NAME`."},
	},
}

// BackendSchema is the language of the settings block's backend block.
func BackendSchema() BlockSchema { return backendSchema }

// SettingsSchema is the language of the settings: the attributes of the `flareops` block,
// which the provider block takes too. Like a kind's schema it is data, shared by the HCL
// loader, the provider and the generated docs.
func SettingsSchema() BlockSchema { return settingsSchema }

// Check reports a setting whose value no front end should have accepted; the provider
// calls it for values from the environment, which no schema validator sees.
func (s Settings) Check() error {
	if s.OpsKVNamespace == "" {
		return nil
	}
	a, _ := settingsSchema.Attr("ops_kv_namespace")
	return a.CheckText(s.OpsKVNamespace)
}

// ErrNoOpsKVNamespace is wrapped by NeedOpsKV's error.
var ErrNoOpsKVNamespace = errors.New("no ops KV namespace is set")

// NeedOpsKV is for the Build of a kind that publishes documents: nil when an ops KV
// namespace is set, otherwise an error that says how to set one. why says what the
// declaration publishes, e.g. "a sandbox publishes its policy document in the ops KV
// namespace".
func (s Settings) NeedOpsKV(why string) error {
	if s.OpsKVNamespace != "" {
		return nil
	}
	return fmt.Errorf("%s, but %w: add a `%s { ops_kv_namespace = \"<title>\" }` block to the configuration (in Terraform, set the provider's ops_kv_namespace attribute or the FLAREOPS_OPS_KV_NAMESPACE environment variable)",
		why, ErrNoOpsKVNamespace, SettingsBlock)
}
