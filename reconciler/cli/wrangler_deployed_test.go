package cli

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

// wranglerUA sends every request as wrangler does, so that the Worker it uploads is
// recorded as last deployed from wrangler.
type wranglerUA struct{}

func (wranglerUA) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", "wrangler/4.20.0")
	return http.DefaultTransport.RoundTrip(r)
}

// A plan that writes to a Worker Cloudflare records as last deployed with wrangler, when
// the configuration does not say who deploys it, warns that the next `wrangler deploy`
// will remove what flareops writes, and says what to do; a Worker deployed otherwise, a
// Worker the configuration says wrangler deploys, and a plan that writes nothing do not.
func TestWarnsBeforeWritingToAWranglerDeployedWorker(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	c, err := cloudflare.New(cloudflare.Config{BaseURL: a.url + emulator.APIPrefix, Token: "wrangler-token", AccountID: LocalAccountID, Transport: wranglerUA{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.UploadScript(context.Background(), "wrangler-w", "export default {};\n"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := `analytics_dataset "m" {
  dataset = "m"
  binding {
    worker = "wrangler-w"
    name   = "METRICS"
  }
  binding {
    worker = "our-worker"
    name   = "METRICS"
  }
}
`
	writeFile(t, dir, "main.flareops.hcl", src)
	out := mustRun(t, ExitChanges, a.env, "plan", "-detailed-exitcode", "-dir", dir)
	want := `Warning: Worker wrangler-w was last deployed with wrangler (Cloudflare's last_deployed_from), and this plan writes to it: binding METRICS (analytics_dataset.m).`
	if !strings.Contains(out, want) || !strings.Contains(out, `deployed_by = "wrangler"`) {
		t.Errorf("plan lacks the warning %q:\n%s", want, out)
	}
	if strings.Contains(out, "Worker our-worker was last deployed") {
		t.Errorf("plan warns about a Worker deployed through the API:\n%s", out)
	}
	js := mustRun(t, ExitChanges, a.env, "plan", "-detailed-exitcode", "-format", "json", "-dir", dir)
	if !strings.Contains(js, "Worker wrangler-w was last deployed with wrangler") {
		t.Errorf("the JSON plan lacks the warning:\n%s", js)
	}

	// Applied anyway (the user's call), the next plan writes nothing and says nothing, and
	// does not list the account's Workers to find out.
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	a.srv.ResetCounts()
	out = mustRun(t, 0, a.env, "plan", "-detailed-exitcode", "-dir", dir)
	if strings.Contains(out, "Warning:") {
		t.Errorf("steady-state plan warns:\n%s", out)
	}
	if n := a.srv.Counts().ByRoute["GET /client/v4/accounts/{account_id}/workers/scripts"]; n != 0 {
		t.Errorf("steady-state plan listed the Workers %d times", n)
	}

	// Told that wrangler deploys it, flareops checks instead of writing: no such warning.
	writeFile(t, dir, "main.flareops.hcl", src+`
worker_settings "w" {
  script      = "wrangler-w"
  deployed_by = "wrangler"
  cpu_ms      = 50
}
`)
	code, out, errOut := run(t, a.env, "plan", "-dir", dir)
	if code != 0 || strings.Contains(out, "was last deployed with wrangler") || !strings.Contains(out, "wrangler.toml") {
		t.Errorf("plan with deployed_by = wrangler: exit %d, want the wrangler fragment and no warning:\n%s\n%s", code, out, errOut)
	}
}
