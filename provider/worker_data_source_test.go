package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/monotask/flareops/emulator"
)

// The Workers that flareops_worker looks up are deployed by wrangler, not by flareops, so
// the tests deploy them as wrangler does: a multipart upload of the modules and their
// metadata to the emulator.

const (
	agentWorkerJS    = "export default { async queue(batch, env) { for (const m of batch.messages) m.ack() } }"
	agentWorkerV2JS  = "export default { async fetch(req) { return new Response('ok') }, async queue(batch) { batch.ackAll() } }"
	fetchOnlyWorker  = "export default { async fetch(req) { return new Response('ok') } }"
	workerTestClock0 = "2026-03-01T12:00:00Z"
)

// workerTestClock is the emulator's clock in these tests, so timestamps are known.
var workerTestClock = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// deployWorker uploads a module Worker whose entry point is index.js to the emulator.
// meta adds to the upload's metadata (compatibility_date, tags, ...).
func (tg *target) deployWorker(t *testing.T, name, code string, meta map[string]any) {
	t.Helper()
	tg.deployWorkerAs(t, name, code, meta, "")
}

// deployWorkerAs is deployWorker sending userAgent ("wrangler/4.20.0": Cloudflare records
// the Worker as last deployed from wrangler); "" sends Go's.
func (tg *target) deployWorkerAs(t *testing.T, name, code string, meta map[string]any, userAgent string) {
	t.Helper()
	if tg.srv == nil {
		t.Fatal("deployWorker uploads to the emulator only")
	}
	m := map[string]any{"main_module": "index.js"}
	for k, v := range meta {
		m[k] = v
	}
	metaJSON, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if err := mw.WriteField("metadata", string(metaJSON)); err != nil {
		t.Fatal(err)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="files"; filename="index.js"`)
	h.Set("Content-Type", "application/javascript+module")
	pw, err := mw.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(pw, code); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("%s/accounts/%s/workers/scripts/%s", tg.baseURL, tg.account, name)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPut, url, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tg.token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if userAgent != "" {
		req.Header.Set("User-Agent", userAgent)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("deploy Worker %s: HTTP %d: %s", name, resp.StatusCode, b)
	}
}

func workerTarget(t *testing.T) *target {
	t.Helper()
	return newEmulatorTarget(t, emulator.Options{Now: func() time.Time { return workerTestClock }})
}

// TestWorkerDataSource looks a deployed Worker up, then again after a new version.
func TestWorkerDataSource(t *testing.T) {
	tg := workerTarget(t)
	tg.deployWorker(t, "agent-worker", agentWorkerJS, map[string]any{
		"compatibility_date":  "2026-02-01",
		"compatibility_flags": []string{"nodejs_compat"},
		"tags":                []string{"team:agents"},
	})
	tg.deployWorker(t, "report-worker", fetchOnlyWorker, nil)
	const w = "data.flareops_worker.agent"
	config := tg.providerBlock() + `data "flareops_worker" "agent" { name = "agent-worker" }`
	etag := statecheck.CompareValue(compare.ValuesDiffer())
	created := statecheck.CompareValue(compare.ValuesSame())
	str := func(attr, want string) statecheck.StateCheck {
		return statecheck.ExpectKnownValue(w, tfjsonpath.New(attr), knownvalue.StringExact(want))
	}
	list := func(attr string, want ...string) statecheck.StateCheck {
		vals := make([]knownvalue.Check, 0, len(want))
		for _, s := range want {
			vals = append(vals, knownvalue.StringExact(s))
		}
		return statecheck.ExpectKnownValue(w, tfjsonpath.New(attr), knownvalue.ListExact(vals))
	}

	tg.run(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					str("id", "agent-worker"),
					str("name", "agent-worker"),
					str("created_on", workerTestClock0),
					str("modified_on", workerTestClock0),
					list("handlers", "queue"),
					statecheck.ExpectKnownValue(w, tfjsonpath.New("has_modules"), knownvalue.Bool(true)),
					str("compatibility_date", "2026-02-01"),
					list("compatibility_flags", "nodejs_compat"),
					str("usage_model", "standard"),
					statecheck.ExpectKnownValue(w, tfjsonpath.New("logpush"), knownvalue.Bool(false)),
					list("tags", "team:agents"),
					statecheck.ExpectKnownValue(w, tfjsonpath.New("etag"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{64}$`))),
					etag.AddStateValue(w, tfjsonpath.New("etag")),
					created.AddStateValue(w, tfjsonpath.New("created_on")),
				},
			},
			{
				// A new version: new code, no flags or tags given (tags are kept, as
				// Cloudflare keeps script-level settings an upload leaves out).
				PreConfig: func() {
					tg.srv.Advance(90 * time.Minute)
					tg.deployWorker(t, "agent-worker", agentWorkerV2JS, map[string]any{"compatibility_date": "2026-03-01"})
				},
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					str("modified_on", "2026-03-01T13:30:00Z"),
					list("handlers", "fetch", "queue"),
					str("compatibility_date", "2026-03-01"),
					list("compatibility_flags"),
					list("tags", "team:agents"),
					etag.AddStateValue(w, tfjsonpath.New("etag")),
					created.AddStateValue(w, tfjsonpath.New("created_on")),
				},
			},
		},
	})
}

// TestWorkerDataSourceNotFound checks the error for a Worker that is not deployed.
func TestWorkerDataSourceNotFound(t *testing.T) {
	tg := workerTarget(t)
	tg.deployWorker(t, "agent-worker", agentWorkerJS, nil)
	tg.run(t, resource.TestCase{
		Steps: []resource.TestStep{{
			Config: tg.providerBlock() + `data "flareops_worker" "x" { name = "agent-workr" }`,
			ExpectError: regexp.MustCompile(`(?s)No Worker named "agent-workr".*Account\s+` + testAccount +
				`\s+has\s+no\s+Worker\s+named.*Check\s+the\s+name.*account_id`),
		}},
	})
}

// TestWorkerDataSourceExample applies examples/data-sources/flareops_worker: the queue's
// consumer is the looked-up Worker, and the example's precondition refuses a Worker
// without a queue handler.
func TestWorkerDataSourceExample(t *testing.T) {
	tg := workerTarget(t)
	tg.setEnv(t)
	tg.deployWorker(t, "agent-worker", agentWorkerJS, map[string]any{"compatibility_date": "2026-02-01"})
	config := readExample(t, "provider/provider.tf") + readExample(t, "data-sources/flareops_worker/data-source.tf")

	tg.run(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.CompareValuePairs("data.flareops_worker.agent", tfjsonpath.New("name"),
						"flareops_queue.agent_jobs", consumerPath("worker"), compare.ValuesSame()),
					statecheck.ExpectKnownOutputValue("agent_worker_deployed_at", knownvalue.StringExact(workerTestClock0)),
				},
			},
			{
				PreConfig:   func() { tg.deployWorker(t, "agent-worker", fetchOnlyWorker, nil) },
				Config:      config,
				ExpectError: regexp.MustCompile(`(?s)Worker\s+agent-worker\s+has\s+no\s+queue\(\)\s+handler`),
			},
		},
	})
	q, ok := tg.liveQueue(t, "monotask-production-agent-jobs")
	if ok {
		t.Errorf("the example's queue outlived the test: %+v", q)
	}
}

// TestWorkerDataSourceSchema: name is the required key, everything else is computed, and
// every attribute is documented for the registry page.
func TestWorkerDataSourceSchema(t *testing.T) {
	ctx := context.Background()
	var sr datasource.SchemaResponse
	NewWorkerDataSource().Schema(ctx, datasource.SchemaRequest{}, &sr)
	if diags := sr.Schema.ValidateImplementation(ctx); diags.HasError() {
		t.Fatal(diags)
	}
	if sr.Schema.MarkdownDescription == "" {
		t.Error("the data source has no MarkdownDescription")
	}
	for name, a := range sr.Schema.Attributes {
		if a.GetMarkdownDescription() == "" {
			t.Errorf("%s has no MarkdownDescription", name)
		}
		if name == "name" {
			if !a.IsRequired() {
				t.Errorf("name: the lookup key must be required")
			}
		} else if !a.IsComputed() || a.IsOptional() || a.IsRequired() {
			t.Errorf("%s: want computed only", name)
		}
	}
}
