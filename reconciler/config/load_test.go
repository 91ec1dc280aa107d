package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"

	"github.com/monotask/flareops/reconciler"
)

// queueKind is a test-local queue schema, shaped like the real one.
func queueKind() KindSchema {
	return KindSchema{
		Name:    "queue",
		KeyAttr: "name",
		Schema: reconciler.BlockSchema{
			Attrs: []reconciler.Attr{
				{Name: "name", Type: reconciler.String, Required: true},
				{Name: "delivery_delay", Type: reconciler.Duration, Unit: time.Second, Min: 0, Max: 43200, Default: int64(0)},
				{Name: "message_retention", Type: reconciler.Duration, Unit: time.Second, Min: 60, Max: 1209600, Default: int64(345600)},
				{Name: "paused", Type: reconciler.Bool},
			},
			Blocks: []reconciler.NestedBlock{{
				Name: "consumer",
				Schema: reconciler.BlockSchema{Attrs: []reconciler.Attr{
					{Name: "type", Type: reconciler.String, Enum: []string{"worker", "http_pull"}, Default: "worker"},
					{Name: "worker", Type: reconciler.String},
					{Name: "batch_size", Type: reconciler.Int, Min: 1, Max: 100},
					{Name: "max_retries", Type: reconciler.Int, Min: 0, Max: 100},
					{Name: "retry_delay", Type: reconciler.Duration, Unit: time.Second, Min: 0, Max: 86400},
					{Name: "max_wait", Type: reconciler.Duration, Unit: time.Millisecond, Min: 0, Max: 60000},
					{Name: "max_concurrency", Type: reconciler.Int, Min: 1, Max: 250},
					{Name: "dead_letter_queue", Type: reconciler.Ref, RefKind: "queue", RefRole: "dead-letter queue"},
				}},
			}},
		},
	}
}

func queueOpts() Options { return Options{Kinds: []KindSchema{queueKind()}} }

// ignoreRange leaves source positions, and spellings (TestSpelling), out of Block comparisons.
var ignoreRange = cmpopts.IgnoreFields(Block{}, "DeclRange", "Spelling")

func TestLoadDesignExample(t *testing.T) {
	cfg, diags := Load(filepath.Join("testdata", "design_example"), queueOpts())
	if diags.HasErrors() {
		t.Fatalf("Load: %s", renderDiags(t, cfg, diags))
	}
	want := []Block{
		{
			Kind: "queue", Name: "agent_jobs_dlq",
			Values: reconciler.Values{
				"name":              "monotask-staging-agent-jobs-dlq",
				"delivery_delay":    int64(0),
				"message_retention": int64(14 * 86400),
			},
			PreventDestroy: true,
		},
		{
			Kind: "queue", Name: "agent_jobs",
			Values: reconciler.Values{
				"name":              "monotask-staging-agent-jobs",
				"delivery_delay":    int64(0),
				"message_retention": int64(4 * 86400),
				"consumer": []reconciler.Values{{
					"type":              "worker",
					"worker":            "agent-worker",
					"batch_size":        int64(10),
					"max_wait":          int64(5000),
					"max_retries":       int64(3),
					"retry_delay":       int64(30),
					"max_concurrency":   int64(10),
					"dead_letter_queue": reconciler.RefValue{Address: "queue.agent_jobs_dlq", Name: "monotask-staging-agent-jobs-dlq"},
				}},
			},
			Deps: []string{"queue.agent_jobs_dlq"},
		},
	}
	if d := cmp.Diff(want, cfg.Blocks, ignoreRange, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("blocks (-want +got):\n%s", d)
	}
	wantFiles := []string{filepath.Join("testdata", "design_example", "main.flareops.hcl")}
	if d := cmp.Diff(wantFiles, sortedKeys(cfg.Files)); d != "" {
		t.Errorf("files read (-want +got):\n%s", d)
	}
	dlq := cfg.Blocks[0].DeclRange
	if dlq.Start.Line != 26 || dlq.Filename != wantFiles[0] {
		t.Errorf("DeclRange of queue.agent_jobs_dlq = %s, want line 26 of %s", dlq, wantFiles[0])
	}
	if len(cfg.Variables) != 1 || cfg.Variables[0].Value.AsString() != "staging" {
		t.Errorf("Variables = %#v, want env = staging", cfg.Variables)
	}
	if cfg.Hash == "" {
		t.Error("Hash is empty")
	}
}

func TestLoadEmptyDir(t *testing.T) {
	_, diags := Load(t.TempDir(), queueOpts())
	if !diags.HasErrors() || diags[0].Summary != "No configuration files" {
		t.Errorf("diags = %v, want No configuration files", diags)
	}
}

// TestLoadValues covers decoding: defaults, null as absent, references of each form,
// dependencies through interpolation and locals, order, functions, sensitivity.
func TestLoadValues(t *testing.T) {
	tests := []struct {
		name string
		src  string
		opts Options
		want []Block
	}{
		{
			name: "defaults and null as absent",
			src: `queue "a" {
  name   = "a"
  paused = null
  consumer {
    worker = null
  }
}`,
			want: []Block{{Kind: "queue", Name: "a", Values: reconciler.Values{
				"name": "a", "delivery_delay": int64(0), "message_retention": int64(345600),
				"consumer": []reconciler.Values{{"type": "worker"}},
			}}},
		},
		{
			name: "literal name and .name reference",
			src: `queue "a" {
  name = "a"
  consumer {
    dead_letter_queue = "existing-dlq"
  }
  consumer {
    type              = "http_pull"
    dead_letter_queue = queue.b.name
  }
}
queue "b" {
  name = "b-queue"
}`,
			want: []Block{
				{Kind: "queue", Name: "b", Values: reconciler.Values{"name": "b-queue", "delivery_delay": int64(0), "message_retention": int64(345600)}},
				{Kind: "queue", Name: "a", Deps: []string{"queue.b"}, Values: reconciler.Values{
					"name": "a", "delivery_delay": int64(0), "message_retention": int64(345600),
					"consumer": []reconciler.Values{
						{"type": "worker", "dead_letter_queue": reconciler.RefValue{Name: "existing-dlq"}},
						{"type": "http_pull", "dead_letter_queue": reconciler.RefValue{Address: "queue.b", Name: "b-queue"}},
					},
				}},
			},
		},
		{
			name: "interpolation and locals make dependencies",
			src: `locals {
  base = queue.c.name
}
queue "a" {
  name = "${queue.b.name}-a"
}
queue "b" {
  name              = "b"
  message_retention = queue.c.message_retention
}
queue "c" {
  name              = "c"
  message_retention = "2d"
}
queue "d" {
  name = "${local.base}-d"
}`,
			want: []Block{
				{Kind: "queue", Name: "c", Values: reconciler.Values{"name": "c", "delivery_delay": int64(0), "message_retention": int64(172800)}},
				{Kind: "queue", Name: "b", Deps: []string{"queue.c"}, Values: reconciler.Values{"name": "b", "delivery_delay": int64(0), "message_retention": int64(172800)}},
				{Kind: "queue", Name: "a", Deps: []string{"queue.b"}, Values: reconciler.Values{"name": "b-a", "delivery_delay": int64(0), "message_retention": int64(345600)}},
				{Kind: "queue", Name: "d", Deps: []string{"queue.c"}, Values: reconciler.Values{"name": "c-d", "delivery_delay": int64(0), "message_retention": int64(345600)}},
			},
		},
		{
			name: "independent blocks in address order",
			src:  `queue "z" { name = "z" }` + "\n" + `queue "m" { name = "m" }` + "\n" + `queue "a" { name = "a" }`,
			want: []Block{
				{Kind: "queue", Name: "a", Values: reconciler.Values{"name": "a", "delivery_delay": int64(0), "message_retention": int64(345600)}},
				{Kind: "queue", Name: "m", Values: reconciler.Values{"name": "m", "delivery_delay": int64(0), "message_retention": int64(345600)}},
				{Kind: "queue", Name: "z", Values: reconciler.Values{"name": "z", "delivery_delay": int64(0), "message_retention": int64(345600)}},
			},
		},
		{
			name: "functions, typed variables and prevent_destroy from a variable",
			src: `variable "env" {
  default = "PROD"
}
variable "retries" {
  type    = number
  default = 5
}
variable "protect" {
  type    = bool
  default = true
}
queue "a" {
  name            = join("-", [lower(var.env), "a"])
  prevent_destroy = var.protect
  consumer {
    max_retries = var.retries
    max_wait    = "1500ms"
    batch_size  = "7"
  }
}`,
			want: []Block{{Kind: "queue", Name: "a", PreventDestroy: true, Values: reconciler.Values{
				"name": "prod-a", "delivery_delay": int64(0), "message_retention": int64(345600),
				"consumer": []reconciler.Values{{"type": "worker", "max_retries": int64(5), "max_wait": int64(1500), "batch_size": int64(7)}},
			}}},
		},
		{
			name: "sensitive variables mark the attributes they reach",
			src: `variable "secret" {
  default   = "s3cr3t"
  sensitive = true
}
queue "a" {
  name = "q-${var.secret}"
  consumer {
    worker = var.secret
  }
}
queue "b" {
  name = "b"
  consumer {
    dead_letter_queue = queue.a
  }
}`,
			want: []Block{
				{Kind: "queue", Name: "a", Sensitive: []string{"consumer.0.worker", "name"}, Values: reconciler.Values{
					"name": "q-s3cr3t", "delivery_delay": int64(0), "message_retention": int64(345600),
					"consumer": []reconciler.Values{{"type": "worker", "worker": "s3cr3t"}},
				}},
				{Kind: "queue", Name: "b", Deps: []string{"queue.a"}, Sensitive: []string{"consumer.0.dead_letter_queue"}, Values: reconciler.Values{
					"name": "b", "delivery_delay": int64(0), "message_retention": int64(345600),
					"consumer": []reconciler.Values{{"type": "worker", "dead_letter_queue": reconciler.RefValue{Address: "queue.a", Name: "q-s3cr3t"}}},
				}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if opts.Kinds == nil {
				opts.Kinds = queueOpts().Kinds
			}
			cfg, diags := LoadFiles(map[string][]byte{"main.flareops.hcl": []byte(tt.src)}, opts)
			if diags.HasErrors() {
				t.Fatalf("LoadFiles: %s", renderDiags(t, cfg, diags))
			}
			if d := cmp.Diff(tt.want, cfg.Blocks, ignoreRange, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("blocks (-want +got):\n%s", d)
			}
		})
	}
}

// TestLoadErrors checks which diagnostics an input gets and where they point; the golden
// tests show the full text of one case per class.
func TestLoadErrors(t *testing.T) {
	oneConsumer := queueKind()
	oneConsumer.Schema.Blocks[0].MaxItems = 1
	noUnit := queueKind()
	noUnit.Schema.Attrs[1].Unit = 0
	patternOnNumber := queueKind()
	patternOnNumber.Schema.Blocks = []reconciler.NestedBlock{{Name: "consumer", Schema: reconciler.BlockSchema{
		Attrs: []reconciler.Attr{{Name: "batch_size", Type: reconciler.Int, MaxLen: 3}},
	}}}
	tests := []struct {
		name   string
		src    string
		opts   Options
		want   []string // "Summary @ line:col"
		substr string   // a part of the first detail
	}{
		{
			name:   "enum with suggestion",
			src:    "queue \"a\" {\n  name = \"a\"\n  consumer {\n    type = \"http-pull\"\n  }\n}",
			want:   []string{"Invalid value @ 4:12"},
			substr: `type must be one of "worker", "http_pull"; got "http-pull". Did you mean "http_pull"?`,
		},
		{
			name:   "too many nested blocks",
			src:    "queue \"a\" {\n  name = \"a\"\n  consumer {}\n  consumer {}\n}",
			opts:   Options{Kinds: []KindSchema{oneConsumer}},
			want:   []string{"Too many consumer blocks @ 4:3"},
			substr: "at most 1 consumer block",
		},
		{
			name:   "a kind schema the loader cannot honour",
			src:    "queue \"a\" {\n  name = \"a\"\n}",
			opts:   Options{Kinds: []KindSchema{noUnit, {Name: "local"}}},
			want:   []string{"Invalid kind schema @ (no subject)", "Invalid kind schema @ (no subject)"},
			substr: `kind "queue": duration "delivery_delay" has no unit.`,
		},
		{
			name:   "a pattern on a number",
			src:    "queue \"a\" {\n  name = \"a\"\n}",
			opts:   Options{Kinds: []KindSchema{patternOnNumber}},
			want:   []string{"Invalid kind schema @ (no subject)"},
			substr: `kind "queue": attribute "batch_size" has a pattern or a length but is no string.`,
		},
		{
			name: "required attribute set to null",
			src:  "queue \"a\" {\n  name = null\n}",
			want: []string{"Missing required argument @ 2:10"},
		},
		{
			name:   "not a whole number",
			src:    "queue \"a\" {\n  name = \"a\"\n  consumer {\n    batch_size = 2.5\n  }\n}",
			want:   []string{"Invalid value @ 4:18"},
			substr: "batch_size must be a whole number; got number 2.5.",
		},
		{
			name:   "duration without unit",
			src:    "queue \"a\" {\n  name = \"a\"\n  delivery_delay = 30\n}",
			want:   []string{"Incorrect attribute value type @ 3:20"},
			substr: `Add the unit and quotes, e.g. "30s".`,
		},
		{
			name:   "duration too long for an int64",
			src:    "queue \"a\" {\n  name = \"a\"\n  message_retention = \"99999999999999999999d\"\n}",
			want:   []string{"Value out of range @ 3:23"},
			substr: `message_retention must be between 1m and 14d; got "99999999999999999999d".`,
		},
		{
			name:   "duration too long as a sum",
			src:    "queue \"a\" {\n  name = \"a\"\n  message_retention = \"50000d50000d\"\n}",
			want:   []string{"Value out of range @ 3:23"},
			substr: `message_retention must be between 1m and 14d; got "50000d50000d".`,
		},
		{
			name:   "negative duration",
			src:    "queue \"a\" {\n  name = \"a\"\n  message_retention = \"-30d\"\n}",
			want:   []string{"Invalid duration @ 3:23"},
			substr: `"-30d" is not a duration: durations are never negative. Write a whole number and a unit (ms, s, m, h, d) in quotes, e.g. message_retention = "30s".`,
		},
		{
			name:   "block name too long",
			src:    "queue \"" + strings.Repeat("a", 500000) + "\" {\n  name = \"a\"\n}",
			want:   []string{"Invalid queue name @ 1:7"},
			substr: "A block name is at most 64 characters; this one has 500000.",
		},
		{
			name:   "variable name too long",
			src:    "variable \"" + strings.Repeat("v", 65) + "\" {\n  default = 1\n}\nqueue \"a\" {\n  name = \"a\"\n}",
			want:   []string{"Invalid variable name @ 1:10"},
			substr: "A variable name is at most 64 characters; this one has 65.",
		},
		{
			name:   "duration not whole in unit",
			src:    "queue \"a\" {\n  name = \"a\"\n  delivery_delay = \"1500ms\"\n}",
			want:   []string{"Invalid duration @ 3:20"},
			substr: "delivery_delay must be a whole number of seconds",
		},
		{
			name:   "bool",
			src:    "queue \"a\" {\n  name = \"a\"\n  paused = \"yes\"\n}",
			want:   []string{"Incorrect attribute value type @ 3:12"},
			substr: `paused must be true or false; got string "yes".`,
		},
		{
			name:   "ref of the wrong type",
			src:    "queue \"a\" {\n  name = \"a\"\n  consumer {\n    dead_letter_queue = [\"x\"]\n  }\n}",
			want:   []string{"Incorrect attribute value type @ 4:25"},
			substr: "dead_letter_queue must be a reference to a queue or the name of one; got tuple.",
		},
		{
			name:   "its own dead-letter queue",
			src:    "queue \"a\" {\n  name = \"a\"\n  consumer {\n    dead_letter_queue = queue.a\n  }\n}",
			want:   []string{"A queue cannot be its own dead-letter queue @ 4:5"},
			substr: "A queue cannot be its own dead-letter queue: queue.a sets dead_letter_queue to itself.",
		},
		{
			name:   "its own dead-letter queue by name, and no cascade to its users",
			src:    "queue \"a\" {\n  name = \"a\"\n  consumer {\n    dead_letter_queue = queue.a.name\n  }\n}\nqueue \"b\" {\n  name = queue.a.name\n}",
			want:   []string{"A queue cannot be its own dead-letter queue @ 4:5"},
			substr: "queue.a sets dead_letter_queue to itself",
		},
		{
			name:   "a reference to itself elsewhere is a cycle",
			src:    "queue \"a\" {\n  name = \"${queue.a.message_retention}\"\n}",
			want:   []string{"Reference cycle @ 2:13"},
			substr: "queue.a → queue.a:",
		},
		{
			name:   "unknown argument: typo",
			src:    "queue \"a\" {\n  nme = \"a\"\n}",
			want:   []string{"Unsupported argument @ 2:3"},
			substr: `An argument named "nme" is not expected in a queue block. Did you mean "name"?`,
		},
		{
			name:   "unknown argument: the last word of a name",
			src:    "queue \"a\" {\n  name = \"a\"\n  retention = \"1d\"\n}",
			want:   []string{"Unsupported argument @ 3:3"},
			substr: `Did you mean "message_retention"?`,
		},
		{
			name:   "unknown argument: initials, in a nested block",
			src:    "queue \"a\" {\n  name = \"a\"\n  consumer {\n    dlq = \"b\"\n  }\n}",
			want:   []string{"Unsupported argument @ 4:5"},
			substr: `An argument named "dlq" is not expected in a consumer block. Did you mean "dead_letter_queue"?`,
		},
		{
			name:   "unknown argument: several candidates",
			src:    "queue \"a\" {\n  name = \"a\"\n  consumer {\n    delay = \"1s\"\n  }\n}",
			want:   []string{"Unsupported argument @ 4:5"},
			substr: `Did you mean "retry_delay"?`,
		},
		{
			name:   "unknown argument: nothing close lists what is accepted",
			src:    "queue \"a\" {\n  name = \"a\"\n  colour = \"red\"\n}",
			want:   []string{"Unsupported argument @ 3:3"},
			substr: "The arguments accepted in a queue block are: name, delivery_delay, message_retention, paused, prevent_destroy.",
		},
		{
			name:   "a block written as an argument",
			src:    "queue \"a\" {\n  name = \"a\"\n  consumer = {}\n}",
			want:   []string{"Unsupported argument @ 3:3"},
			substr: "consumer is a block: write consumer { ... }, without the equals sign.",
		},
		{
			name:   "an argument written as a block",
			src:    "queue \"a\" {\n  name = \"a\"\n  paused {}\n}",
			want:   []string{"Unsupported block type @ 3:3"},
			substr: "paused is an argument: write paused = <value>.",
		},
		{
			name:   "unknown nested block type",
			src:    "queue \"a\" {\n  name = \"a\"\n  consumr {}\n}",
			want:   []string{"Unsupported block type @ 3:3"},
			substr: `Blocks of type "consumr" are not expected in a queue block. Did you mean "consumer"?`,
		},
		{
			name:   "unknown top-level block type",
			src:    "qeueu \"a\" {\n  name = \"a\"\n}",
			want:   []string{"Unsupported block type @ 1:1"},
			substr: `Blocks of type "qeueu" are not expected at the top level of a file. Did you mean "queue"?`,
		},
		{
			name:   "an argument at the top level",
			src:    "name = \"a\"\n",
			want:   []string{"Unsupported argument @ 1:1"},
			substr: "No arguments are accepted at the top level of a file.",
		},
		{
			name:   "cycle through a local",
			src:    "locals {\n  n = queue.a.name\n}\nqueue \"a\" {\n  name = \"a\"\n  consumer {\n    dead_letter_queue = local.n\n  }\n}",
			want:   []string{"Reference cycle @ 2:7"},
			substr: "local.n → queue.a → local.n:",
		},
		{
			name: "undeclared variable, local and root",
			src:  "queue \"a\" {\n  name = \"${var.nme}${local.x}${foo.bar}\"\n}",
			want: []string{
				"Reference to undeclared input variable @ 2:13",
				"Reference to undeclared local value @ 2:23",
				"Unknown variable @ 2:33",
			},
		},
		{
			name:   "duplicate local",
			src:    "locals {\n  a = 1\n}\nlocals {\n  a = 2\n}",
			want:   []string{"Duplicate local value @ 5:3"},
			substr: "local.a was already defined at main.flareops.hcl:2.",
		},
		{
			name:   "unknown block type with suggestion",
			src:    "queu \"a\" {\n  name = \"a\"\n}",
			want:   []string{"Unsupported block type @ 1:1"},
			substr: `Did you mean "queue"?`,
		},
		{
			name: "invalid default for its type",
			src:  "variable \"n\" {\n  type    = number\n  default = \"many\"\n}",
			want: []string{"Invalid value for variable @ 3:13"},
		},
		{
			name:   "invalid -var expression for a number",
			src:    "variable \"n\" {\n  type = number\n}",
			opts:   Options{Vars: map[string]string{"n": "many"}},
			want:   []string{"Invalid value for variable @ 1:3"},
			substr: `The -var value for var.n, "many", is not a number. Write a number, e.g. -var n=5.`,
		},
		{
			name:   "-var of the wrong type",
			src:    "variable \"n\" {\n  type = number\n}",
			opts:   Options{Vars: map[string]string{"n": `"many"`}},
			want:   []string{"Invalid value for variable @ 1:3"},
			substr: "The -var value of var.n does not match its type number: a number is required.",
		},
		{
			name: "a block failing does not fail its dependents again",
			src:  "queue \"a\" {\n  name = [\"x\"]\n}\nqueue \"b\" {\n  name = queue.a.name\n}",
			want: []string{"Incorrect attribute value type @ 2:10"},
		},
		{
			name: "a block with an unsupported argument still reports its values, and fails its users silently",
			src:  "queue \"a\" {\n  nme = \"a\"\n  name = \"a\"\n  message_retention = \"1s\"\n}\nqueue \"b\" {\n  name = \"${queue.a.name}-b\"\n}",
			want: []string{"Unsupported argument @ 2:3", "Value out of range @ 4:23"},
		},
		{
			name:   "sensitive values are not quoted",
			src:    "variable \"s\" {\n  default   = \"hunter2\"\n  sensitive = true\n}\nqueue \"a\" {\n  name = \"a\"\n  consumer {\n    type = var.s\n  }\n}",
			want:   []string{"Invalid value @ 8:12"},
			substr: `type must be one of "worker", "http_pull".`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if opts.Kinds == nil {
				opts.Kinds = queueOpts().Kinds
			}
			cfg, diags := LoadFiles(map[string][]byte{"main.flareops.hcl": []byte(tt.src)}, opts)
			var got []string
			for _, d := range diags {
				loc := "(no subject)"
				if d.Subject != nil {
					loc = fmt.Sprintf("%d:%d", d.Subject.Start.Line, d.Subject.Start.Column)
				}
				got = append(got, d.Summary+" @ "+loc)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("diagnostics (-want +got):\n%s\n%s", d, renderDiags(t, cfg, diags))
			}
			if tt.substr != "" && (len(diags) == 0 || !strings.Contains(diags[0].Detail, tt.substr)) {
				t.Errorf("first detail does not contain %q:\n%s", tt.substr, renderDiags(t, cfg, diags))
			}
			if len(cfg.Blocks) != 0 || cfg.Hash != "" {
				t.Errorf("a configuration with errors has %d blocks and hash %q, want none", len(cfg.Blocks), cfg.Hash)
			}
			if strings.Contains(renderDiags(t, cfg, diags), "hunter2") {
				t.Errorf("a sensitive value is shown:\n%s", renderDiags(t, cfg, diags))
			}
		})
	}
}

func TestHash(t *testing.T) {
	a := `queue "a" {
  name = "${var.env}-a"
  consumer {
    dead_letter_queue = queue.b
  }
}`
	b := `variable "env" {
  default = "staging"
}
queue "b" {
  name = "b"
}`
	load := func(files map[string][]byte, opts Options) string {
		t.Helper()
		opts.Kinds = queueOpts().Kinds
		cfg, diags := LoadFiles(files, opts)
		if diags.HasErrors() {
			t.Fatalf("LoadFiles: %s", renderDiags(t, cfg, diags))
		}
		return cfg.Hash
	}
	split := map[string][]byte{"a.flareops.hcl": []byte(a), "b.flareops.hcl": []byte(b)}
	first := load(split, Options{})
	if again := load(split, Options{}); again != first {
		t.Errorf("two loads give %s and %s", first, again)
	}
	if joined := load(map[string][]byte{"all.flareops.hcl": []byte(b + "\n" + a)}, Options{}); joined != first {
		t.Errorf("moving blocks between files changed the hash: %s, %s", first, joined)
	}
	changed := map[string][]byte{"a.flareops.hcl": []byte(strings.Replace(a, "-a", "-x", 1)), "b.flareops.hcl": []byte(b)}
	if h := load(changed, Options{}); h == first {
		t.Error("changing a value kept the hash")
	}
	if h := load(split, Options{Vars: map[string]string{"env": "prod"}}); h == first {
		t.Error("changing a variable kept the hash")
	}
}

func renderDiags(t *testing.T, cfg *Config, diags hcl.Diagnostics) string {
	t.Helper()
	var b strings.Builder
	if err := WriteDiagnostics(&b, cfg.Files, diags, false); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Durations keep the user's spelling, keyed by attribute and canonical rendering.
func TestSpelling(t *testing.T) {
	src := `variable "wait" {
  default = "5000ms"
}
variable "hidden" {
  default   = "120s"
  sensitive = true
}
queue "a" {
  name              = "a"
  delivery_delay    = "60s"
  message_retention = "1d"
  consumer {
    max_wait    = var.wait
    retry_delay = var.hidden
  }
}
queue "b" {
  name           = "b"
  delivery_delay = 0
}`
	cfg, diags := LoadFiles(map[string][]byte{"main.flareops.hcl": []byte(src)}, queueOpts())
	if diags.HasErrors() {
		t.Fatalf("LoadFiles: %s", renderDiags(t, cfg, diags))
	}
	got := map[string]map[string]string{}
	for _, b := range cfg.Blocks {
		got[b.Address()] = b.Spelling
	}
	want := map[string]map[string]string{
		"queue.a": {"delivery_delay=1m": "60s", "max_wait=5s": "5000ms"}, // "1d" is how a day is rendered anyway
		"queue.b": nil,                                                   // a number, and defaults, are no spelling
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("spellings (-want +got):\n%s", d)
	}
}
