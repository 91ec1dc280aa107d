package cli

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/monotask/flareops/reconciler"
	"github.com/monotask/flareops/reconciler/config"
	"github.com/monotask/flareops/reconciler/wrangler"
)

// `validate -wrangler` as a user runs it, on testdata/wrangler: a configuration and the
// wrangler files of the team's Workers.
func TestValidateWrangler(t *testing.T) {
	const dir = "testdata/wrangler"
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr []string // each must appear; checked against the golden file when golden is set
		golden string
	}{
		{
			name: "clashes, with both locations",
			args: []string{"-dir", dir + "/clash", "-wrangler", dir + "/clash/task", "-wrangler", dir + "/clash/agent/wrangler.jsonc"},
			code: 1, stdout: "The configuration is valid: 4 block(s).\n", golden: "validate_wrangler.golden",
		},
		{
			name: "several paths after one flag",
			args: []string{"-dir", dir + "/clash", "-wrangler", dir + "/clash/task", dir + "/clash/agent"},
			code: 1, stdout: "The configuration is valid: 4 block(s).\n", golden: "validate_wrangler.golden",
		},
		{
			name: "an environment's Worker",
			args: []string{"-dir", dir + "/clash", "-wrangler", dir + "/clash/task/wrangler.toml"},
			code: 1, stdout: "The configuration is valid: 4 block(s).\n",
			stderr: []string{
				"queue consumer of monotask-prod-jobs on Worker task-worker-production is declared here and in testdata/wrangler/clash/task/wrangler.toml:15",
				"on testdata/wrangler/clash/main.flareops.hcl:10:1, in queue \"prod_jobs\"",
				"(env.production.queues.consumers)",
				"2 declaration(s) in both flareops and wrangler.",
			},
		},
		{
			name: "no clash",
			args: []string{"-dir", dir + "/ok", "-wrangler", dir + "/ok/task"},
			code: 0, stdout: "The configuration is valid: 2 block(s).\nNothing is declared both here and in the wrangler files: 1 file(s), 2 Worker(s).\n",
		},
		{
			name: "without -wrangler, validate as before",
			args: []string{"-dir", dir + "/clash"},
			code: 0, stdout: "The configuration is valid: 4 block(s).\n",
		},
		{
			name:   "bad wrangler file",
			args:   []string{"-dir", dir + "/ok", "-wrangler", dir + "/bad"},
			code:   1,
			stderr: []string{"Error: testdata/wrangler/bad/wrangler.toml:3: queues.consumers[0]: queue is required: the name of the queue the Worker consumes\n"},
		},
		{
			name: "every unreadable file is named",
			args: []string{"-dir", dir + "/ok", "-wrangler", dir + "/bad", "-wrangler", dir + "/nope", dir},
			code: 1,
			stderr: []string{
				"testdata/wrangler/bad/wrangler.toml:3: queues.consumers[0]: queue is required",
				"Error: testdata/wrangler/nope: no such wrangler file or directory\n",
				"Error: testdata/wrangler: no wrangler file in this directory (wrangler.json, wrangler.jsonc, wrangler.toml)\n",
			},
		},
		{
			name:   "arguments without -wrangler",
			args:   []string{"-dir", dir + "/ok", dir + "/ok/task"},
			code:   1,
			stderr: []string{"Error: validate takes no arguments (got testdata/wrangler/ok/task): to check wrangler files, write -wrangler PATH...\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, map[string]string{}, append([]string{"validate"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstderr:\n%s", code, tt.code, stderr)
			}
			if stdout != tt.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout, tt.stdout)
			}
			if tt.golden != "" {
				golden(t, tt.golden, stderr)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr has no %q:\n%s", want, stderr)
				}
			}
			if tt.golden == "" && len(tt.stderr) == 0 && stderr != "" {
				t.Errorf("stderr not empty:\n%s", stderr)
			}
		})
	}
}

// claimer is a kind that claims what claims says, standing in for the Worker-side kinds
// (analytics_dataset, sandbox, worker_settings) in matching.
type claimer struct {
	reconciler.QueueKind
	name   string
	claims []reconciler.Claim
}

func (k claimer) Name() string                                { return k.name }
func (k claimer) Claims(reconciler.Values) []reconciler.Claim { return k.claims }

// Bindings, crons and settings match by Worker and What, whatever the binding's type in
// wrangler, with crons compared field by field; a Worker deployed by wrangler keeps its
// declarations in wrangler.
func TestWranglerClashes(t *testing.T) {
	reg, err := reconciler.NewRegistry(
		claimer{name: "analytics_dataset", claims: []reconciler.Claim{
			{Worker: "task-worker-production", What: reconciler.BindingClaim("TASK_METRICS")},
			{Worker: "task-worker", What: reconciler.BindingClaim("CACHE")}, // a KV binding in wrangler
			{Worker: "task-worker", What: reconciler.BindingClaim("OTHER")},
		}},
		claimer{name: "sandbox", claims: []reconciler.Claim{
			{Worker: "task-worker-staging", What: "cron */5  * * * *"}, // inherited by env.staging
			{Worker: "task-worker", What: "cpu_ms"},
		}},
		claimer{name: "worker_settings", claims: []reconciler.Claim{{Worker: "api-gateway", What: "cpu_ms"}}},
	)
	if err != nil {
		t.Fatal(err)
	}
	block := func(kind, name string, line int, v reconciler.Values) (config.Block, reconciler.Desired) {
		rng := hcl.Range{Filename: "main.flareops.hcl", Start: hcl.Pos{Line: line, Column: 1}, End: hcl.Pos{Line: line, Column: 10}}
		return config.Block{Kind: kind, Name: name, DeclRange: rng},
			reconciler.Desired{Addr: reconciler.Address{Kind: kind, Name: name}, Values: v, Source: "main.flareops.hcl:" + strconv.Itoa(line)}
	}
	var cfg loaded
	cfg.cfg = &config.Config{}
	for _, b := range []struct {
		kind, name string
		line       int
		v          reconciler.Values
	}{
		{"analytics_dataset", "task_metrics", 1, nil},
		{"sandbox", "agent", 2, nil},
		{"worker_settings", "api", 3, reconciler.Values{"script": "api-gateway", "deployed_by": "wrangler"}},
	} {
		blk, d := block(b.kind, b.name, b.line, b.v)
		cfg.cfg.Blocks, cfg.desired = append(cfg.cfg.Blocks, blk), append(cfg.desired, d)
	}
	parse := func(path, src string) *wrangler.Config {
		c, err := wrangler.Parse(path, []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	configs := []*wrangler.Config{
		parse("task/wrangler.toml", `name = "task-worker"
[triggers]
crons = ["*/5 * * * *"]
[[kv_namespaces]]
binding = "CACHE"
id = "x"
[env.staging]
[env.production]
[[env.production.analytics_engine_datasets]]
binding = "TASK_METRICS"
`),
		parse("api/wrangler.json", `{
  "name": "api-gateway",
  "limits": {"cpu_ms": 50}
}`),
	}
	clashes := wranglerClashes(reg, cfg.desired, configs)
	var got bytes.Buffer
	if err := config.WriteDiagnostics(&got, nil, clashDiagnostics(clashes, &cfg), false); err != nil {
		t.Fatal(err)
	}
	golden(t, "wrangler_clashes.golden", got.String())
}
