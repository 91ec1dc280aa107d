package provider

import (
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// The target is the account the provider manages: an API token, the account's id, and
// optionally the API's base URL. Unlike the CLI, the provider never falls back to the
// built-in local Cloudflare, so the token and the account id are always required. A target
// given in part (an account id or a base URL without a token, say) is an error that names
// what is set, where, and what is missing, as the CLI's is: flareops never guesses the rest
// of a target. The R2 settings are all or none, for the same reason.

// setting is one provider setting: from the provider block, else from its environment
// variable.
type setting struct {
	attr, env string
	value     string
	from      string // "the provider block", or env; "" while unset
}

// resolve reads a setting whose value in the configuration is known.
func resolve(attr, env string, v types.String, getenv func(string) string) setting {
	s := setting{attr: attr, env: env}
	switch {
	case v.ValueString() != "":
		s.value, s.from = v.ValueString(), "the provider block"
	case getenv(env) != "":
		s.value, s.from = getenv(env), env
	}
	return s
}

func (s setting) set() bool { return s.from != "" }

// checkTarget reports a missing token or account id: one diagnostic for all that is
// missing, on the first missing attribute.
func checkTarget(token, account, base setting) diag.Diagnostics {
	var diags diag.Diagnostics
	missing := unset(token, account)
	if len(missing) == 0 {
		return diags
	}
	given := isSet(token, account, base)
	if len(given) == 0 {
		addAttributeError(&diags, path.Root(token.attr), "No Cloudflare account configured",
			"The flareops provider manages a Cloudflare account and needs an API token and the account's id; none is set. (Unlike the flareops CLI, it never falls back to a local Cloudflare.)",
			"Set api_token and account_id in the provider block, or the CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID environment variables: a token with edit permission for the resources you manage, and the 32-character id of the account. "+
				"To try flareops without an account, run `flareops local serve` and export the three variables it prints (CLOUDFLARE_BASE_URL, CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID).", nil)
		return diags
	}
	addAttributeError(&diags, path.Root(missing[0].attr), "Incomplete Cloudflare settings",
		fmt.Sprintf("The provider settings give %s, but no %s. flareops does not guess the rest of an account's settings.", describeSet(given), names(missing)),
		"Set "+howToSet(missing)+". The API token needs edit permission for the resources you manage; the account id is the 32-character id on the account's home page in the Cloudflare dashboard.", nil)
	return diags
}

// checkR2 reports R2 settings given in part.
func checkR2(endpoint, keyID, secret setting) diag.Diagnostics {
	var diags diag.Diagnostics
	missing, given := unset(endpoint, keyID, secret), isSet(endpoint, keyID, secret)
	if len(missing) == 0 || len(given) == 0 {
		return diags
	}
	addAttributeError(&diags, path.Root(missing[0].attr), "Incomplete R2 settings",
		fmt.Sprintf("The provider settings give %s, but no %s. The R2 settings go together: the endpoint, and the access key that signs requests to it.", describeSet(given), names(missing)),
		"Set "+howToSet(missing)+", or unset them all: no resource uses R2 yet.", nil)
	return diags
}

func unset(ss ...setting) []setting {
	var out []setting
	for _, s := range ss {
		if !s.set() {
			out = append(out, s)
		}
	}
	return out
}

func isSet(ss ...setting) []setting {
	var out []setting
	for _, s := range ss {
		if s.set() {
			out = append(out, s)
		}
	}
	return out
}

// describeSet says "account_id (from CLOUDFLARE_ACCOUNT_ID) and base_url (from the
// provider block)".
func describeSet(ss []setting) string {
	var parts []string
	for _, s := range ss {
		parts = append(parts, fmt.Sprintf("%s (from %s)", s.attr, s.from))
	}
	return join(parts, "and")
}

// names says "api_token or account_id".
func names(ss []setting) string {
	var parts []string
	for _, s := range ss {
		parts = append(parts, s.attr)
	}
	return join(parts, "or")
}

// howToSet says "api_token (in the provider block, or CLOUDFLARE_API_TOKEN)" for each.
func howToSet(ss []setting) string {
	var parts []string
	for _, s := range ss {
		parts = append(parts, fmt.Sprintf("%s (in the provider block, or %s)", s.attr, s.env))
	}
	return join(parts, "and")
}

// join lists parts as prose: "a", "a and b", "a, b and c".
func join(parts []string, conj string) string {
	if len(parts) <= 1 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " " + conj + " " + parts[len(parts)-1]
}
