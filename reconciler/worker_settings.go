package reconciler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/monotask/flareops/reconciler/cloudflare"
	"math"
	"regexp"
	"time"

	"github.com/monotask/flareops/reconciler/workerset"
)

// WorkerSettingsKind is the `worker_settings` block: settings of an existing Worker script
// that flareops manages (its CPU limit, observability and Workers Logs, whether its trace
// events are pushed), and the Logpush job that pushes them to an R2 bucket.
//
// The Worker is not flareops's: flareops never uploads Worker code, and a missing script is
// a plan error. What a declaration owns is the settings it declares (written through the
// run's workerset.Set, which keeps every other setting, binding and cron of the Worker) and
// its Logpush job, named flareops-<script>. So a declaration on an existing Worker is a
// create that takes over those settings, not an import; only a Logpush job of that name
// that this state does not know is somebody's object, to be imported.
//
// With deployed_by = "wrangler", flareops writes nothing to the Worker (its next deploy
// would undo it): the Worker settings are checked at every plan (CheckManual) and the
// plan shows the wrangler.toml / wrangler.jsonc fragment they lack. The Logpush job is an
// account object that wrangler never touches, so flareops still manages it.
type WorkerSettingsKind struct {
	Workers   *workerset.Set
	Logpush   LogpushAPI
	AccountID string // the account in the R2 destination of the Logpush job
	// Buckets finds a Logpush job's destination bucket at plan time (nil: not checked).
	Buckets BucketFinder
}

// BucketFinder finds an R2 bucket by name; found is false when there is none.
type BucketFinder interface {
	R2Bucket(ctx context.Context, name string) (b cloudflare.R2Bucket, found bool, err error)
}

// WorkerSettingsSpec is the normalized, comparable form of a Worker's settings. An
// optional block is nil when not declared (in a live spec: not flareops's to show).
type WorkerSettingsSpec struct {
	Script        string             `diff:"script"`
	DeployedBy    string             `diff:"deployed_by"`
	CPUMs         int64              `diff:"cpu_ms,omitzero,zero=(platform default)"`
	Observability *ObservabilitySpec `diff:"observability"`
	Logpush       *LogpushSpec       `diff:"logpush"`
}

// ObservabilitySpec is the Worker's observability setting; Logs is Workers Logs.
type ObservabilitySpec struct {
	Enabled          bool      `diff:"enabled"`
	HeadSamplingRate float64   `diff:"head_sampling_rate"`
	Logs             *LogsSpec `diff:"logs"`
}

// LogsSpec is Workers Logs: logs kept by Cloudflare and shown in the dashboard.
type LogsSpec struct {
	Enabled          bool    `diff:"enabled"`
	InvocationLogs   bool    `diff:"invocation_logs"`
	HeadSamplingRate float64 `diff:"head_sampling_rate"`
}

// LogpushSpec is the push of the Worker's trace events (dataset workers_trace_events) to
// an R2 bucket. The credentials are sensitive: the state keeps only Credentials, the
// SHA-256 of both, hidden from the diff, so that a changed secret is an update (the
// secret fields differ) and an unchanged one is no change, though Cloudflare never
// returns the secret.
type LogpushSpec struct {
	Enabled           bool   `diff:"enabled"`
	Bucket            string `diff:"bucket"`
	Path              string `diff:"path,omitzero,zero=(bucket root)"`
	Filter            string `diff:"filter,omitzero,zero=(every event)"`
	MaxUploadInterval int64  `diff:"max_upload_interval,s,omitzero,zero=(Cloudflare's default)"`
	AccessKeyID       string `diff:"access_key_id,sensitive"`
	SecretAccessKey   string `diff:"secret_access_key,sensitive"`
	Credentials       string `diff:"-"`
}

const (
	deployedByFlareops = "flareops"
	deployedByWrangler = "wrangler"
	// defaultCPUMs is Cloudflare's CPU limit when a Worker sets none (cloudflare-api.md §5).
	defaultCPUMs = 30_000
)

var (
	// scriptNamePattern is the Worker name rule (the emulator's, as Cloudflare refuses
	// others): the Logpush job name flareops-<script> is valid for every such name.
	scriptNamePattern = regexp.MustCompile(`^[a-z0-9_-]{1,63}$`)
	// r2BucketPattern is R2's bucket name rule (cloudflare-api.md §7).
	r2BucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	// logpushPathPattern is a key prefix that needs no escaping in a destination_conf:
	// segments of letters, digits and -_.!*'() separated by single slashes.
	logpushPathPattern = regexp.MustCompile(`^[A-Za-z0-9_.!*'()-]+(/[A-Za-z0-9_.!*'()-]+)*$`)
)

var workerSettingsSchema = BlockSchema{
	Attrs: []Attr{
		{Name: "script", Type: String, Required: true, ForceNew: true, MaxLen: 63, Pattern: scriptNamePattern, PatternText: "the name of a deployed Worker: 1 to 63 lowercase letters, digits, `-` and `_`",
			Description: "Name of the Worker script, which must already be deployed (flareops never uploads Worker code). Changing it hands the settings back to the platform's defaults on the old Worker and sets them on the new one."},
		{Name: "deployed_by", Type: String, Enum: []string{deployedByFlareops, deployedByWrangler}, Default: deployedByFlareops,
			Description: "Who deploys the Worker's settings: `flareops` writes them; with `wrangler`, flareops writes nothing to the Worker (a `wrangler deploy` would undo it), checks the settings at every plan and drift, and shows the `wrangler.toml` / `wrangler.jsonc` lines that are missing. The Logpush job is managed by flareops either way."},
		{Name: "cpu_ms", Type: Int, Min: 10, Max: 300000,
			Description: "CPU time limit per invocation, in milliseconds (10 to 300,000; unset: the platform's default of 30,000, left as it is). Requests using more CPU fail."},
	},
	Blocks: []NestedBlock{
		{Name: "observability", MaxItems: 1, Description: "The Worker's observability setting. Unset: left as it is.",
			Schema: BlockSchema{
				Attrs: []Attr{
					{Name: "enabled", Type: Bool, Default: true, Description: "Collect the Worker's logs and traces."},
					{Name: "head_sampling_rate", Type: Float, FloatMin: 0, FloatMax: 1, FloatBounded: true, Default: 1.0,
						Description: "Share of requests observed, from 0 to 1 (default 1)."},
				},
				Blocks: []NestedBlock{{Name: "logs", MaxItems: 1, Description: "Workers Logs: logs kept by Cloudflare and searchable in the dashboard. Unset: left as it is.",
					Schema: BlockSchema{Attrs: []Attr{
						{Name: "enabled", Type: Bool, Default: true, Description: "Keep the Worker's logs."},
						{Name: "invocation_logs", Type: Bool, Default: true, Description: "Also keep one log line per invocation (its request, outcome and timing)."},
						{Name: "head_sampling_rate", Type: Float, FloatMin: 0, FloatMax: 1, FloatBounded: true, Default: 1.0,
							Description: "Share of requests whose logs are kept, from 0 to 1 (default 1)."},
					}}}},
			}},
		{Name: "logpush", MaxItems: 1, Description: "Push the Worker's trace events (its logs, exceptions and outcome per invocation: the Logpush dataset `workers_trace_events`) to an R2 bucket, for retention. flareops turns `logpush` on in the Worker's settings and manages a Logpush job named `flareops-<script>` that pushes only this Worker's events, to `r2://<bucket>/<path>/{DATE}`.",
			Schema: BlockSchema{Attrs: []Attr{
				{Name: "bucket", Type: String, Required: true, MaxLen: 63, Pattern: r2BucketPattern, PatternText: "an R2 bucket name: 3 to 63 lowercase letters, digits and `-`, starting and ending with a letter or digit",
					Description: "The R2 bucket the events go to."},
				{Name: "path", Type: String, MaxLen: 512, Pattern: logpushPathPattern, PatternText: "a key prefix: segments of letters, digits and `-_.!*'()`, separated by single `/`, with no `/` at either end",
					Description: "Key prefix inside the bucket, e.g. `workers/api-gateway`; Cloudflare adds `/{DATE}/` and the file name. Unset: the bucket's root."},
				{Name: "enabled", Type: Bool, Default: true, Description: "Push events; `false` pauses the push (the job is kept, and the Worker's `logpush` setting turned off)."},
				{Name: "filter", Type: String, MaxLen: 4096,
					Description: "Only push the events this Logpush filter keeps: JSON of the form `{\"where\": {\"key\": \"Outcome\", \"operator\": \"neq\", \"value\": \"ok\"}}` (keys are fields of `workers_trace_events`). Unset: every event of the Worker."},
				{Name: "max_upload_interval", Type: Duration, Unit: time.Second, Min: 30, Max: 300,
					Description: "Longest wait before a batch is uploaded, e.g. `\"1m\"` (30s to 5m). Unset: Cloudflare's default."},
				{Name: "access_key_id", Type: String, Required: true, Sensitive: true, MaxLen: 128,
					Description: "R2 access key id with write access to the bucket. Sensitive: give it from a variable (`var.r2_access_key_id`, set in the environment: `FLAREOPS_VAR_r2_access_key_id`, or `TF_VAR_…` in Terraform)."},
				{Name: "secret_access_key", Type: String, Required: true, Sensitive: true, MaxLen: 256,
					Description: "The secret of that access key. Sensitive: never printed, and never stored in flareops's state or saved plans (only its SHA-256, to notice that it changed)."},
			}}},
	},
}

func (WorkerSettingsKind) Name() string        { return "worker_settings" }
func (WorkerSettingsKind) KeyAttr() string     { return "script" }
func (WorkerSettingsKind) Schema() BlockSchema { return workerSettingsSchema }

// Build fills the defaults of the nested blocks, normalizes the Logpush filter and hashes
// the credentials.
func (WorkerSettingsKind) Build(v Values) (Object, error) {
	s := WorkerSettingsSpec{Script: v.str("script"), DeployedBy: v.str("deployed_by")}
	if s.DeployedBy == "" {
		s.DeployedBy = deployedByFlareops
	}
	s.CPUMs, _ = v.int("cpu_ms")
	for _, ov := range v.blocks("observability") {
		o := &ObservabilitySpec{Enabled: boolOr(ov, "enabled", true), HeadSamplingRate: rateOr(ov, "head_sampling_rate")}
		for _, lv := range ov.blocks("logs") {
			o.Logs = &LogsSpec{Enabled: boolOr(lv, "enabled", true), InvocationLogs: boolOr(lv, "invocation_logs", true), HeadSamplingRate: rateOr(lv, "head_sampling_rate")}
		}
		s.Observability = o
	}
	for _, lv := range v.blocks("logpush") {
		l := &LogpushSpec{Enabled: boolOr(lv, "enabled", true), Bucket: lv.str("bucket"), Path: lv.str("path"),
			AccessKeyID: lv.str("access_key_id"), SecretAccessKey: lv.str("secret_access_key")}
		l.MaxUploadInterval, _ = lv.int("max_upload_interval")
		if f := lv.str("filter"); f != "" {
			norm, err := normalizeFilter(f)
			if err != nil {
				return Object{}, fmt.Errorf("logpush: filter %w", err)
			}
			l.Filter = norm
		}
		l.Credentials = credentialsHash(l.AccessKeyID, l.SecretAccessKey)
		s.Logpush = l
	}
	if _, cpu := v["cpu_ms"]; !cpu && s.Observability == nil && s.Logpush == nil {
		return Object{}, fmt.Errorf("worker_settings %q declares no setting: set cpu_ms, or add an observability or logpush block", s.Script)
	}
	return Object{Key: s.Script, Spec: s}, nil
}

// boolOr and rateOr read an attribute with a default, for values that did not pass the
// loader's defaults (the provider's tests build values by hand).
func boolOr(v Values, name string, def bool) bool {
	if b, ok := v[name].(bool); ok {
		return b
	}
	return def
}

func rateOr(v Values, name string) float64 {
	if f, ok := v.float(name); ok {
		return f
	}
	return 1
}

// normalizeFilter checks a Logpush filter (JSON {"where": {...}}) and returns it in one
// canonical spelling (keys sorted, no spaces), so that spacing is never a change.
func normalizeFilter(f string) (string, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(f), &m); err != nil {
		return "", fmt.Errorf("is not JSON: %v; write it as {\"where\": {\"key\": \"Outcome\", \"operator\": \"neq\", \"value\": \"ok\"}}", err)
	}
	where, ok := m["where"].(map[string]any)
	if !ok || len(m) != 1 {
		return "", fmt.Errorf("must be a JSON object with one key, \"where\", holding a condition, e.g. {\"where\": {\"key\": \"Outcome\", \"operator\": \"neq\", \"value\": \"ok\"}}")
	}
	b, _ := json.Marshal(map[string]any{"where": where})
	return string(b), nil
}

// credentialsHash is the hex SHA-256 of an access key id and its secret: what the state
// keeps of them.
func credentialsHash(keyID, secret string) string {
	if keyID == "" && secret == "" {
		return ""
	}
	h := sha256.Sum256([]byte(keyID + "\x00" + secret))
	return hex.EncodeToString(h[:])
}

// Flatten turns a spec back into block values (a live spec carries its credentials only
// when they are known to be the declared ones).
func (WorkerSettingsKind) Flatten(spec any) Values {
	s := spec.(WorkerSettingsSpec)
	v := Values{"script": s.Script, "deployed_by": s.DeployedBy}
	if s.CPUMs != 0 {
		v["cpu_ms"] = s.CPUMs
	}
	if o := s.Observability; o != nil {
		ov := Values{"enabled": o.Enabled, "head_sampling_rate": o.HeadSamplingRate}
		if l := o.Logs; l != nil {
			ov["logs"] = []Values{{"enabled": l.Enabled, "invocation_logs": l.InvocationLogs, "head_sampling_rate": l.HeadSamplingRate}}
		}
		v["observability"] = []Values{ov}
	}
	if l := s.Logpush; l != nil {
		lv := Values{"bucket": l.Bucket, "enabled": l.Enabled}
		for name, val := range map[string]string{"path": l.Path, "filter": l.Filter, "access_key_id": l.AccessKeyID, "secret_access_key": l.SecretAccessKey} {
			if val != "" {
				lv[name] = val
			}
		}
		if l.MaxUploadInterval != 0 {
			lv["max_upload_interval"] = l.MaxUploadInterval
		}
		v["logpush"] = []Values{lv}
	}
	return v
}

var _ WorkerClaimer = WorkerSettingsKind{}

// Claims are the Worker's settings that the declaration sets, and the Worker itself as
// the subject of one worker_settings block (two would share its Logpush job name).
func (k WorkerSettingsKind) Claims(v Values) []Claim {
	obj, err := k.Build(v)
	if err != nil {
		return nil
	}
	s := obj.Spec.(WorkerSettingsSpec)
	out := []Claim{{Worker: s.Script, What: "worker_settings"}}
	if s.CPUMs != 0 {
		out = append(out, Claim{Worker: s.Script, What: "cpu_ms"})
	}
	if s.Observability != nil {
		out = append(out, Claim{Worker: s.Script, What: "observability"})
	}
	if s.Logpush != nil {
		out = append(out, Claim{Worker: s.Script, What: "logpush"})
	}
	return out
}

// wants is what the declaration asks of its Worker, whoever deploys it.
func (s WorkerSettingsSpec) wants() workerset.Want {
	w := workerset.Want{CPUMs: s.CPUMs}
	if o := s.Observability; o != nil {
		w.Observability = o.api()
	}
	if s.Logpush != nil && s.Logpush.Enabled {
		w.Logpush = true
	}
	return w
}

// writes is what flareops itself writes to the Worker: nothing when wrangler deploys it.
func (s WorkerSettingsSpec) writes() workerset.Want {
	if s.DeployedBy == deployedByWrangler {
		return workerset.Want{}
	}
	return s.wants()
}

// formatMs writes milliseconds with thousands separators: 30,000.
func formatMs(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// percent writes a sampling rate as a share of requests: 10%, 100%, 0.5%.
func percent(rate float64) string {
	p := math.Round(rate*1e6) / 1e4
	return fmt.Sprintf("%g%%", p)
}

var _ Deployer = WorkerSettingsKind{}

// DeployedBy says which tool deploys the Worker, when it is not flareops.
func (WorkerSettingsKind) DeployedBy(v Values) (string, string) {
	if v.str("deployed_by") == deployedByWrangler {
		return v.str("script"), deployedByWrangler
	}
	return v.str("script"), ""
}
