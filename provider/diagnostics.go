package provider

import (
	"errors"
	"fmt"
	"net"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// The provider's error text has one shape (STYLE rule 6): a summary that says what failed,
// and a detail that says what happened, what to do, and the original error.

// addError appends an error diagnostic: what happened, then what to do, then the cause.
func addError(diags *diag.Diagnostics, summary, happened, todo string, err error) {
	diags.AddError(summary, detail(happened, todo, err))
}

// addAttributeError is addError for a diagnostic about one attribute: Terraform shows it
// with that attribute's line of the configuration.
func addAttributeError(diags *diag.Diagnostics, at path.Path, summary, happened, todo string, err error) {
	diags.AddAttributeError(at, summary, detail(happened, todo, err))
}

func detail(happened, todo string, err error) string {
	d := happened
	if todo != "" {
		d += "\n\n" + todo
	}
	if err != nil {
		d += "\n\nCause: " + err.Error() // not "Error:", which reads as a second diagnostic
	}
	return d
}

// apiTodo says what to do about a failed API call, by what kind of failure it was.
func apiTodo(err error) string {
	var ae *cloudflare.APIError
	var ne net.Error
	switch {
	case errors.As(err, &ae) && (ae.Status == 401 || ae.Status == 403):
		return "Check that the API token (api_token or CLOUDFLARE_API_TOKEN) is valid and has edit permission for Queues on the account (account_id or CLOUDFLARE_ACCOUNT_ID)."
	case errors.As(err, &ae) && ae.Status == 429:
		return "The account's API rate limit was reached even after retries. Lower rate_limit (or FLAREOPS_RATE_LIMIT) if other clients share the account, then run the command again."
	case errors.As(err, &ae) && ae.Status >= 500:
		return "Cloudflare answered with a server error. Run the command again; every step is idempotent, so a rerun continues where this one stopped."
	case errors.As(err, &ae):
		return "Cloudflare refused the request: correct the configuration as the error says, then run the command again."
	case errors.As(err, &ne):
		return "Cloudflare could not be reached. Check the network and base_url (or CLOUDFLARE_BASE_URL), then run the command again."
	}
	return "Run the command again; every step is idempotent, so a rerun continues where this one stopped."
}

// invalidConfig is the diagnostic of a block the kind's Build refuses: the engine's words,
// the same as the CLI's for the same block.
func invalidConfig(diags *diag.Diagnostics, kind string, err error) {
	addError(diags, fmt.Sprintf("Invalid flareops_%s configuration", kind), err.Error()+".",
		"Correct the block as the message says; terraform validate checks it again without calling the API.", nil)
}

// unconfigured is the diagnostic of a resource used before its provider was configured.
func unconfigured(diags *diag.Diagnostics, what string) {
	addError(diags, "Provider not configured",
		fmt.Sprintf("The flareops provider was not configured before it was asked to %s.", what),
		"This is a bug in the flareops provider or in Terraform: please report it with the command you ran.", nil)
}
