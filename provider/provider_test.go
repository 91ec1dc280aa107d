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

// TestProviderConfigErrors checks that a provider without credentials says which attribute
// and environment variable to set (unlike the CLI, it has no built-in local Cloudflare).
func TestProviderConfigErrors(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	for _, env := range []string{"CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_BASE_URL", "FLAREOPS_RATE_LIMIT"} {
		t.Setenv(env, "")
	}
	res := "\nresource \"flareops_queue\" \"q\" { name = \"q\" }\n"
	tests := []struct {
		name, provider string
		want           *regexp.Regexp
	}{
		{"no token", `provider "flareops" {
  base_url   = "` + tg.baseURL + `"
  account_id = "` + testAccount + `"
}`, regexp.MustCompile(`(?s)Missing Cloudflare API token.*CLOUDFLARE_API_TOKEN`)},
		{"no account", `provider "flareops" {
  base_url  = "` + tg.baseURL + `"
  api_token = "t"
}`, regexp.MustCompile(`(?s)Missing Cloudflare account ID.*CLOUDFLARE_ACCOUNT_ID`)},
		{"short account", `provider "flareops" {
  base_url   = "` + tg.baseURL + `"
  api_token  = "t"
  account_id = "abc"
}`, regexp.MustCompile(`(?s)not a 32-character`)},
		{"bad rate limit", `provider "flareops" {
  api_token  = "t"
  account_id = "` + testAccount + `"
  rate_limit = "fast"
}`, regexp.MustCompile(`(?s)Invalid rate_limit.*requests/window`)},
		{"bad base url", `provider "flareops" {
  api_token  = "t"
  account_id = "` + testAccount + `"
  base_url   = "127.0.0.1:8787"
}`, regexp.MustCompile(`Invalid base_url`)},
	}
	var steps []resource.TestStep
	for _, tt := range tests {
		steps = append(steps, resource.TestStep{Config: tt.provider + res, PlanOnly: true, ExpectError: tt.want})
	}
	tg.run(t, resource.TestCase{Steps: steps})
}

// TestProviderEnvironment checks that every setting falls back to its environment variable.
func TestProviderEnvironment(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	tg.setEnv(t)
	t.Setenv("FLAREOPS_RATE_LIMIT", "600/1m")
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
