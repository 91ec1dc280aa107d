package cloudflare

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cloudflare/cloudflare-go/v6/workers"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/monotask/flareops/emulator"
)

// workersEmulator starts the local Cloudflare on a fixed clock and a Client pointed at it.
func workersEmulator(t *testing.T, opts emulator.Options) (*Client, *emulator.Server) {
	t.Helper()
	emulatorOnly(t, "it runs on the emulator's fixed clock and limits, with unprefixed names")
	srv, err := emulator.New(opts)
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("emulator Close: %v", err)
		}
	})
	c, err := New(Config{BaseURL: hs.URL + "/client/v4", Token: "test-token", AccountID: rawTestAccount, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

// uploadScript deploys a module Worker whose entry point is index.js, as wrangler would.
func uploadScript(t *testing.T, c *Client, name, code string, meta workers.ScriptUpdateParamsMetadata) {
	t.Helper()
	set(&meta.MainModule, "index.js")
	var p workers.ScriptUpdateParams
	set(&p.AccountID, c.accountID)
	set(&p.Metadata, meta)
	set(&p.Files, []io.Reader{moduleFile{strings.NewReader(code), "index.js"}})
	_, err := c.scripts.Update(context.Background(), name, p)
	if err != nil {
		t.Fatalf("upload %s: %v", name, err)
	}
}

const (
	agentWorkerJS  = "export default { async queue(batch, env) { for (const m of batch.messages) m.ack() } }"
	reportWorkerJS = "export default { async fetch(req) { return new Response('ok') }, async scheduled(ev) {} }"
)

// TestConformanceListScripts: one request lists the account's Workers with what each
// was deployed with. On the emulator its clock is fixed and advanced an hour between the
// agent's deploys, so the times are exact; live they are Cloudflare's, and are checked
// for order only.
func TestConformanceListScripts(t *testing.T) {
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a := newConformanceAccountConfig(t, emulator.Options{RateLimit: -1, Now: func() time.Time { return clock }}, Config{MaxRetries: -1})
	c := a.c
	ctx := context.Background()

	got, err := c.ListScripts(ctx)
	if err != nil {
		t.Fatalf("ListScripts on an empty account: %v", err)
	}
	if got == nil || (!a.live() && len(got) != 0) {
		t.Fatalf("empty account: got %#v, want an empty, non-nil list", got)
	}

	report, agent := a.name("report-worker"), a.name("agent-worker")
	uploadScript(t, c, report, reportWorkerJS, workers.ScriptUpdateParamsMetadata{})
	a.removeScript(t, report)
	var first workers.ScriptUpdateParamsMetadata
	set(&first.CompatibilityDate, "2026-01-15")
	uploadScript(t, c, agent, "export default {}", first)
	a.removeScript(t, agent)
	if !a.live() {
		a.srv.Advance(time.Hour)
	}
	var second workers.ScriptUpdateParamsMetadata
	set(&second.CompatibilityDate, "2026-02-01")
	set(&second.CompatibilityFlags, []string{"nodejs_compat"})
	set(&second.UsageModel, workers.ScriptUpdateParamsMetadataUsageModelStandard)
	set(&second.Logpush, true)
	set(&second.Tags, []string{"team:agents"})
	uploadScript(t, c, agent, agentWorkerJS, second)

	before := c.Requests()
	got, err = c.ListScripts(ctx)
	if err != nil {
		t.Fatalf("ListScripts: %v", err)
	}
	if n := c.Requests() - before; n != 1 {
		t.Errorf("ListScripts sent %d requests, want 1", n)
	}
	got = mine(a, got, func(s Script) bool { return a.ours(s.Name) })
	want := []Script{
		{
			Name: agent, CreatedOn: clock, ModifiedOn: clock.Add(time.Hour),
			Handlers: []string{"queue"}, HasModules: true,
			CompatibilityDate: "2026-02-01", CompatibilityFlags: []string{"nodejs_compat"},
			UsageModel: "standard", Logpush: true, Tags: []string{"team:agents"},
			LastDeployedFrom: "api", // uploaded through the API (the SDK), not wrangler
		},
		{
			Name: report, CreatedOn: clock, ModifiedOn: clock,
			Handlers: []string{"fetch", "scheduled"}, HasModules: true,
			CompatibilityFlags: []string{}, UsageModel: "standard", Tags: []string{},
			LastDeployedFrom: "api",
		},
	}
	opts := []cmp.Option{
		cmpopts.IgnoreFields(Script{}, "Etag"),
		cmpopts.SortSlices(func(a, b Script) bool { return a.Name < b.Name }),
	}
	if a.live() { // Cloudflare's clock: the agent was modified after it was created
		opts = append(opts, cmpopts.IgnoreFields(Script{}, "CreatedOn", "ModifiedOn"))
		for _, s := range got {
			if s.CreatedOn.IsZero() || s.ModifiedOn.Before(s.CreatedOn) || (s.Name == agent && !s.ModifiedOn.After(s.CreatedOn)) {
				t.Errorf("%s: created %v, modified %v", s.Name, s.CreatedOn, s.ModifiedOn)
			}
		}
	}
	if diff := cmp.Diff(want, got, opts...); diff != "" {
		t.Errorf("ListScripts (-want +got):\n%s", diff)
	}
	for _, s := range got {
		if s.Etag == "" {
			t.Errorf("%s: no etag", s.Name)
		}
	}
}

func TestListScriptsError(t *testing.T) {
	emulatorOnly(t, "it needs a server that refuses the client's token: the emulator is started with another")
	c, _ := workersEmulator(t, emulator.Options{RateLimit: -1, Token: "another-token"})
	_, err := c.ListScripts(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusForbidden || !ae.HasCode(10000) {
		t.Fatalf("want an *APIError HTTP 403 code 10000, got %v", err)
	}
	if !strings.HasPrefix(err.Error(), "cannot list Workers scripts: HTTP 403") {
		t.Errorf("error text %q does not say what failed", err)
	}
}
