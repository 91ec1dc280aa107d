package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/reconciler"
)

// TestVariablePrecedence checks where a variable's value comes from, lowest to highest:
// default, FLAREOPS_VAR_ environment, -var-file in order, -var.
func TestVariablePrecedence(t *testing.T) {
	const src = `variable "env" {
  type    = string
  default = "default"
}
variable "retries" {
  type    = number
  default = 1
}
variable "tags" {
  type    = list(string)
  default = []
}
variable "limits" {
  type    = object({ batch = number, wait = optional(string, "2s") })
  default = { batch = 1 }
}
queue "q" {
  name = join("-", concat([var.env], var.tags))
  consumer {
    max_retries = var.retries
    batch_size  = var.limits.batch
    max_wait    = var.limits.wait
  }
}`
	dir := t.TempDir()
	writeFile := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	first := writeFile("first.hcl", "env = \"file1\"\nretries = 3\n")
	second := writeFile("second.hcl", "env = \"file2\"\nlimits = { batch = 9, wait = \"3s\" }\n")

	type result struct {
		Name                 string
		Retries, Batch, Wait int64
	}
	tests := []struct {
		name string
		opts Options
		want result
	}{
		{
			name: "defaults",
			want: result{"default", 1, 1, 2000},
		},
		{
			name: "environment overrides the default",
			opts: Options{Env: []string{"PATH=/bin", "FLAREOPS_VAR_env=fromenv", "FLAREOPS_VAR_retries=2", "FLAREOPS_VAR_undeclared=x"}},
			want: result{"fromenv", 2, 1, 2000},
		},
		{
			name: "a var file overrides the environment",
			opts: Options{Env: []string{"FLAREOPS_VAR_env=fromenv", "FLAREOPS_VAR_retries=2"}, VarFiles: []string{first}},
			want: result{"file1", 3, 1, 2000},
		},
		{
			name: "a later var file overrides an earlier one",
			opts: Options{VarFiles: []string{first, second}},
			want: result{"file2", 3, 9, 3000},
		},
		{
			name: "-var overrides everything; non-strings parse as HCL",
			opts: Options{
				Env:      []string{"FLAREOPS_VAR_env=fromenv"},
				VarFiles: []string{first, second},
				Vars:     map[string]string{"env": "cli", "retries": "4", "tags": `["a", "b"]`, "limits": `{ batch = 5 }`},
			},
			want: result{"cli-a-b", 4, 5, 2000},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Kinds = queueOpts().Kinds
			cfg, diags := LoadFiles(map[string][]byte{"main.flareops.hcl": []byte(src)}, opts)
			if diags.HasErrors() {
				t.Fatalf("LoadFiles: %s", renderDiags(t, cfg, diags))
			}
			v := cfg.Blocks[0].Values
			c := v["consumer"].([]reconciler.Values)[0]
			got := result{Name: v["name"].(string)}
			got.Retries, _ = c["max_retries"].(int64)
			got.Batch, _ = c["batch_size"].(int64)
			got.Wait, _ = c["max_wait"].(int64)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("values (-want +got):\n%s", d)
			}
		})
	}
}

func TestVarFileUndeclaredIsAWarning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vars.hcl")
	if err := os.WriteFile(path, []byte("evn = \"prod\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "variable \"env\" {\n  default = \"staging\"\n}\n"
	cfg, diags := LoadFiles(map[string][]byte{"main.flareops.hcl": []byte(src)}, Options{VarFiles: []string{path}})
	if diags.HasErrors() || len(diags) != 1 {
		t.Fatalf("want one warning, got:\n%s", renderDiags(t, cfg, diags))
	}
	if want := `The variables file sets "evn", but the configuration declares no variable of that name; the value is ignored. Did you mean "env"?`; diags[0].Detail != want {
		t.Errorf("detail = %q, want %q", diags[0].Detail, want)
	}
}

// TestBareWordForATypedVariable: a word given with -var or in the environment for a
// variable that is not a string is a value of the wrong type, said so with how to write
// one, not HCL's "Variables not allowed".
func TestBareWordForATypedVariable(t *testing.T) {
	src := `variable "num" {
  type = number
}
variable "on" {
  type = bool
}
variable "token" {
  type      = number
  sensitive = true
}
`
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"-var number", Options{Vars: map[string]string{"num": "word", "on": "true", "token": "1"}},
			`The -var value for var.num, "word", is not a number. Write a number, e.g. -var num=5.`},
		{"-var bool", Options{Vars: map[string]string{"num": "1", "on": "yes", "token": "1"}},
			`The -var value for var.on, "yes", is not true or false. Write true or false, e.g. -var on=true.`},
		{"environment", Options{Env: []string{"FLAREOPS_VAR_num=word"}, Vars: map[string]string{"on": "true", "token": "1"}},
			`The value of FLAREOPS_VAR_num for var.num, "word", is not a number. Write a number, e.g. FLAREOPS_VAR_num=5.`},
		{"sensitive", Options{Vars: map[string]string{"num": "1", "on": "true", "token": "hunter2"}},
			`The -var value for var.token (sensitive, not shown) is not a number. Write a number, e.g. -var token=5.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := LoadFiles(map[string][]byte{"main.flareops.hcl": []byte(src)}, tt.opts)
			if len(diags) != 1 || diags[0].Summary != "Invalid value for variable" || diags[0].Detail != tt.want {
				t.Fatalf("want one diagnostic %q, got:\n%s", tt.want, renderDiags(t, cfg, diags))
			}
			if out := renderDiags(t, cfg, diags); strings.Contains(out, "hunter2") {
				t.Errorf("a sensitive value is shown:\n%s", out)
			}
		})
	}
}
