package config

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/reconciler"
)

const queueA = `queue "a" {
  name = "a"
}
`

func TestSettings(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		vars  map[string]string
		want  string // OpsKVNamespace
		where string // file of the block; "" for none
	}{
		{name: "no flareops block", files: map[string]string{"main.flareops.hcl": queueA}},
		{
			name:  "literal",
			files: map[string]string{"main.flareops.hcl": "flareops {\n  ops_kv_namespace = \"monotask-ops\"\n}\n" + queueA},
			want:  "monotask-ops", where: "main.flareops.hcl",
		},
		{
			name: "from a local and a variable, in another file than they are",
			files: map[string]string{
				"a.flareops.hcl": "variable \"env\" {\n  default = \"staging\"\n}\nlocals {\n  prefix = \"monotask-${var.env}\"\n}\n" + queueA,
				"z.flareops.hcl": "flareops {\n  ops_kv_namespace = \"${local.prefix}-ops\"\n}\n",
			},
			vars: map[string]string{"env": "prod"},
			want: "monotask-prod-ops", where: "z.flareops.hcl",
		},
		{
			name:  "empty block",
			files: map[string]string{"main.flareops.hcl": "flareops {}\n" + queueA},
			where: "main.flareops.hcl",
		},
		{
			name:  "null is unset",
			files: map[string]string{"main.flareops.hcl": "flareops {\n  ops_kv_namespace = null\n}\n" + queueA},
			where: "main.flareops.hcl",
		},
		{
			name:  "any text a title may be",
			files: map[string]string{"main.flareops.hcl": "flareops {\n  ops_kv_namespace = \"Monotask ops / prod (ü)\"\n}\n" + queueA},
			want:  "Monotask ops / prod (ü)", where: "main.flareops.hcl",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string][]byte{}
			for name, src := range tt.files {
				files[name] = []byte(src)
			}
			opts := queueOpts()
			opts.Vars = tt.vars
			cfg, diags := LoadFiles(files, opts)
			if diags.HasErrors() {
				t.Fatalf("LoadFiles: %s", renderDiags(t, cfg, diags))
			}
			if got := cfg.Settings.OpsKVNamespace; got != tt.want {
				t.Errorf("OpsKVNamespace = %q, want %q", got, tt.want)
			}
			if got := cfg.Settings.Engine(); got != (reconciler.Settings{OpsKVNamespace: tt.want}) {
				t.Errorf("Engine() = %+v", got)
			}
			if r := cfg.Settings.DeclRange; r.Filename != tt.where || (tt.where != "" && r.Start.Line == 0) {
				t.Errorf("DeclRange = %s, want a range in %q", r, tt.where)
			}
			if len(cfg.Blocks) != 1 {
				t.Errorf("blocks %v, want queue.a alone", cfg.Blocks)
			}
		})
	}
}

// The single-file mistakes are golden cases (testdata/diags/settings_*.hcl); these span
// files or need the whole result.
func TestSettingsErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // summaries
		at    []string // file:line:col of each
	}{
		{
			name: "a second block in another file",
			files: map[string]string{
				"a.flareops.hcl": "flareops {\n  ops_kv_namespace = \"a\"\n}\n",
				"b.flareops.hcl": queueA + "\nflareops {\n  ops_kv_namespace = \"b\"\n}\n",
			},
			want: []string{"Duplicate flareops block"},
			at:   []string{"b.flareops.hcl:5:1"},
		},
		{
			name: "an error in the block fails the load, not just the settings",
			files: map[string]string{
				"a.flareops.hcl": "flareops {\n  ops_kv_namespace = \"\"\n}\n" + queueA,
			},
			want: []string{"Invalid value"},
			at:   []string{"a.flareops.hcl:2:22"},
		},
		{
			name: "a reference to a block",
			files: map[string]string{
				"a.flareops.hcl": "flareops {\n  ops_kv_namespace = flareops.x\n}\n" + queueA,
			},
			want: []string{"Unknown variable"},
			at:   []string{"a.flareops.hcl:2:22"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string][]byte{}
			for name, src := range tt.files {
				files[name] = []byte(src)
			}
			cfg, diags := LoadFiles(files, queueOpts())
			var got, at []string
			for _, d := range diags {
				got = append(got, d.Summary)
				if d.Subject != nil {
					at = append(at, fmt.Sprintf("%s:%d:%d", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column))
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("summaries (-want +got):\n%s\n%s", d, renderDiags(t, cfg, diags))
			}
			if d := cmp.Diff(tt.at, at); d != "" {
				t.Errorf("places (-want +got):\n%s", d)
			}
			if cfg.Settings != (Settings{}) || cfg.Blocks != nil || cfg.Hash != "" {
				t.Errorf("a failed load returned settings %+v, %d blocks, hash %q", cfg.Settings, len(cfg.Blocks), cfg.Hash)
			}
		})
	}
}

func TestSettingsHash(t *testing.T) {
	hash := func(srcs ...string) string {
		t.Helper()
		files := map[string][]byte{}
		for i, src := range srcs {
			files[string(rune('a'+i))+".flareops.hcl"] = []byte(src)
		}
		cfg, diags := LoadFiles(files, queueOpts())
		if diags.HasErrors() {
			t.Fatalf("LoadFiles: %s", renderDiags(t, cfg, diags))
		}
		return cfg.Hash
	}
	settings := func(title string) string {
		return "flareops {\n  ops_kv_namespace = \"" + title + "\"\n}\n"
	}
	none := hash(queueA)
	if h := hash(queueA, "flareops {}\n"); h != none {
		t.Error("an empty flareops block changed the hash")
	}
	one := hash(queueA, settings("ops"))
	if one == none {
		t.Error("setting ops_kv_namespace kept the hash")
	}
	if h := hash(settings("ops"), queueA); h != one {
		t.Error("moving the flareops block to another file changed the hash")
	}
	if h := hash(queueA, settings("ops-2")); h == one {
		t.Error("changing ops_kv_namespace kept the hash")
	}
}

func TestSettingsNameIsReserved(t *testing.T) {
	opts := Options{Kinds: []KindSchema{{Name: reconciler.SettingsBlock}}}
	_, diags := LoadFiles(map[string][]byte{"a.flareops.hcl": []byte(queueA)}, opts)
	if !diags.HasErrors() || diags[0].Summary != "Invalid kind schema" {
		t.Errorf("a kind named %q: %v, want Invalid kind schema", reconciler.SettingsBlock, diags)
	}
}

func TestFormatKeepsSettings(t *testing.T) {
	in := "flareops {\nops_kv_namespace = \"monotask-ops\"\n}\n"
	want := "flareops {\n  ops_kv_namespace = \"monotask-ops\"\n}\n"
	if got := string(Format([]byte(in))); got != want {
		t.Errorf("Format:\n%s\nwant:\n%s", got, want)
	}
	if got := string(Format([]byte(want))); got != want {
		t.Errorf("Format changed canonical input:\n%s", got)
	}
}
