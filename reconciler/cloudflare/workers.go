package cloudflare

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cloudflare/cloudflare-go/v6/workers"
)

// Script is a live Worker script as the account's script list shows it. flareops does not
// deploy Workers (wrangler does); it reads them to refer to them, e.g. as queue consumers.
type Script struct {
	Name       string
	CreatedOn  time.Time
	ModifiedOn time.Time
	// Etag is a hash of the script's content: it changes when new code is uploaded.
	Etag string
	// Handlers are the handlers of the default export ("fetch", "queue", "scheduled", ...);
	// a queue consumer needs "queue".
	Handlers []string
	// HasModules is true for the ES modules format, false for the service-worker format.
	HasModules         bool
	CompatibilityDate  string // "" when the script has none
	CompatibilityFlags []string
	UsageModel         string // "standard", "bundled" or "unbound"
	Logpush            bool
	Tags               []string
	// LastDeployedFrom is the client that last deployed the Worker, as Cloudflare records
	// it: "wrangler", "dash", "api", "terraform", ... ("" when the answer has none).
	LastDeployedFrom string
}

// ListScripts returns every Worker script of the account, in one request (the list is not
// paginated). Slices are never nil.
func (c *Client) ListScripts(ctx context.Context) ([]Script, error) {
	var p workers.ScriptListParams
	set(&p.AccountID, c.accountID)
	page, err := c.scripts.List(ctx, p)
	if err != nil {
		return nil, failed("list Workers scripts", err)
	}
	out := make([]Script, 0, len(page.Result))
	for _, s := range page.Result {
		out = append(out, fromScript(s))
	}
	return out, nil
}

// UploadScript deploys a Worker made of one ES module, index.js, holding source, with
// no bindings: enough to stand in for a Worker that flareops refers to (e.g. a queue
// consumer) where nobody deployed one, as in the local Cloudflare. Uploading replaces
// the script, so it is safe to repeat. Real Workers are deployed with wrangler.
func (c *Client) UploadScript(ctx context.Context, name, source string) error {
	var meta workers.ScriptUpdateParamsMetadata
	set(&meta.MainModule, "index.js")
	var p workers.ScriptUpdateParams
	set(&p.AccountID, c.accountID)
	set(&p.Metadata, meta)
	set(&p.Files, []io.Reader{moduleFile{strings.NewReader(source), "index.js"}})
	if _, err := c.scripts.Update(ctx, name, p); err != nil {
		return failed(fmt.Sprintf("upload Worker %q", name), err)
	}
	return nil
}

// moduleFile is an ES module to upload: the SDK names its multipart part by these methods.
type moduleFile struct {
	io.Reader
	name string
}

func (f moduleFile) Filename() string    { return f.name }
func (f moduleFile) ContentType() string { return "application/javascript+module" }

func fromScript(s workers.ScriptListResponse) Script {
	return Script{
		Name:               s.ID,
		CreatedOn:          s.CreatedOn,
		ModifiedOn:         s.ModifiedOn,
		Etag:               s.Etag,
		Handlers:           stringsOrEmpty(s.Handlers),
		HasModules:         s.HasModules,
		CompatibilityDate:  s.CompatibilityDate,
		CompatibilityFlags: stringsOrEmpty(s.CompatibilityFlags),
		UsageModel:         string(s.UsageModel),
		Logpush:            s.Logpush,
		Tags:               stringsOrEmpty(s.Tags),
		LastDeployedFrom:   s.LastDeployedFrom,
	}
}

// stringsOrEmpty turns an absent or null list into an empty one, so callers need not tell them apart.
func stringsOrEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
