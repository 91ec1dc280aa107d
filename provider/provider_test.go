package provider

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/monotask/flareops/emulator"
)

// TestProviderConfigErrors checks that a provider with missing or partial settings says, in
// one diagnostic, what is set, where from, and what to set (unlike the CLI, it has no
// built-in local Cloudflare to fall back to).
func TestProviderConfigErrors(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	envs := []string{"CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_BASE_URL", "FLAREOPS_RATE_LIMIT",
		"FLAREOPS_R2_ENDPOINT", "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY", "FLAREOPS_OPS_KV_NAMESPACE"}
	for _, env := range envs {
		t.Setenv(env, "")
	}
	res := "\nresource \"flareops_queue\" \"q\" { name = \"q\" }\n"
	block := func(lines ...string) string {
		return "provider \"flareops\" {\n" + strings.Join(lines, "\n") + "\n}\n"
	}
	baseURL, token, account := `base_url = "`+tg.baseURL+`"`, `api_token = "t"`, `account_id = "`+testAccount+`"`
	tests := []struct {
		name, provider string
		env            map[string]string
		want           string
	}{
		{"nothing", block(), nil,
			`Error: No Cloudflare account configured.*needs an API token and the account's id; none is set.*flareops local serve`},
		{"no token", block(baseURL, account), nil,
			`Error: Incomplete Cloudflare settings.*with provider\["registry.opentofu.org/monotask/flareops"\].*` +
				`The provider settings give account_id \(from the provider block\) and base_url \(from the provider block\), but no api_token\. ` +
				`.*Set api_token \(in the provider block, or CLOUDFLARE_API_TOKEN\)`},
		{"no token, account from the environment", block(baseURL), map[string]string{"CLOUDFLARE_ACCOUNT_ID": testAccount},
			`Error: Incomplete Cloudflare settings.*account_id \(from CLOUDFLARE_ACCOUNT_ID\) and base_url \(from the provider block\), but no api_token\.`},
		{"base url only", block(), map[string]string{"CLOUDFLARE_BASE_URL": tg.baseURL},
			`Error: Incomplete Cloudflare settings.*give base_url \(from CLOUDFLARE_BASE_URL\), but no api_token or account_id\. ` +
				`.*Set api_token \(in the provider block, or CLOUDFLARE_API_TOKEN\) and account_id \(in the provider block, or CLOUDFLARE_ACCOUNT_ID\)`},
		{"no account", block(baseURL, token), nil,
			`Error: Incomplete Cloudflare settings.*api_token \(from the provider block\) and base_url \(from the provider block\), but no account_id\.`},
		{"partial R2", block(baseURL, token, account), map[string]string{"FLAREOPS_R2_ENDPOINT": "https://r2.example"},
			`Error: Incomplete R2 settings.*give r2_endpoint \(from FLAREOPS_R2_ENDPOINT\), but no r2_access_key_id or r2_secret_access_key\.`},
		{"short account", block(baseURL, token, `account_id = "abc"`), nil, `not a 32-character`},
		{"bad rate limit", block(token, account, `rate_limit = "fast"`), nil, `Error: Invalid rate_limit.*requests/window`},
		{"bad base url", block(token, account, `base_url = "127.0.0.1:8787"`), nil, `Error: Invalid base_url`},
		{"bad ops_kv_namespace", block(baseURL, token, account, `ops_kv_namespace = " ops"`), nil,
			`Error: Invalid value.*ops_kv_namespace must be 1 to 512 characters, with no control characters and no spaces at either end; got " ops"`},
		{"bad ops_kv_namespace from the environment", block(baseURL, token, account), map[string]string{"FLAREOPS_OPS_KV_NAMESPACE": "ops "},
			`Error: Invalid ops_kv_namespace.*title from FLAREOPS_OPS_KV_NAMESPACE is not valid: ops_kv_namespace must be 1 to 512 characters`},
	}
	var c oneError
	var steps []resource.TestStep
	for _, tt := range tests {
		setEnv := func() {
			for _, env := range envs {
				os.Setenv(env, tt.env[env])
			}
		}
		steps = append(steps, c.failStep(resource.TestStep{PreConfig: setEnv, Config: tt.provider + res, PlanOnly: true}, pattern(tt.want)))
	}
	tg.run(t, resource.TestCase{ErrorCheck: c.check, Steps: steps})
	if c.hits != len(tests) {
		t.Errorf("%d steps failed as expected, want %d", c.hits, len(tests))
	}
}

// TestProviderEnvironment checks that every setting falls back to its environment variable.
func TestProviderEnvironment(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	tg.setEnv(t)
	t.Setenv("FLAREOPS_RATE_LIMIT", "600/1m")
	t.Setenv("FLAREOPS_OPS_KV_NAMESPACE", "monotask-ops")
	tg.run(t, resource.TestCase{
		Steps: []resource.TestStep{{
			Config: `resource "flareops_queue" "q" { name = "from-env" }`,
			Check: func(*terraform.State) error {
				if _, ok := tg.liveQueue(t, "from-env"); !ok {
					return fmt.Errorf("queue from-env was not created in the emulator named by CLOUDFLARE_BASE_URL")
				}
				return nil
			},
		}},
	})
	if _, ok := tg.liveQueue(t, "from-env"); ok {
		t.Error("queue from-env still exists after destroy")
	}
}

// TestServeAddress checks the provider address against the one OpenTofu's dev_overrides
// and mirrors use (GNUmakefile's PROVIDER_ADDR).
func TestServeAddress(t *testing.T) {
	mk, err := os.ReadFile("../GNUmakefile")
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`(?m)^PROVIDER_NAME\s*:=\s*(\S+)$`).FindSubmatch(mk)
	addr := regexp.MustCompile(`(?m)^PROVIDER_ADDR\s*:=\s*(\S+)$`).FindSubmatch(mk)
	if name == nil || addr == nil {
		t.Fatal("GNUmakefile no longer sets PROVIDER_NAME and PROVIDER_ADDR")
	}
	if got := strings.ReplaceAll(string(addr[1]), "$(PROVIDER_NAME)", string(name[1])); got != Address {
		t.Errorf("GNUmakefile's PROVIDER_ADDR is %s, provider.Address is %s", got, Address)
	}
	if Address != "registry.opentofu.org/monotask/flareops" {
		t.Errorf("Address = %q", Address)
	}
}
