package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/queues"

	"github.com/monotask/flareops/emulator"
)

const coreAccount = "0123456789abcdef0123456789abcdef"

func coreServer(t testing.TB, opts emulator.Options) (*emulator.Server, string) {
	t.Helper()
	srv, err := emulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	srv.SetBaseURL(hs.URL)
	return srv, hs.URL
}

func coreQueues(url, token string) *queues.QueueService {
	return queues.NewQueueService(option.WithBaseURL(url+emulator.APIPrefix+"/"), option.WithAPIToken(token), option.WithMaxRetries(0))
}

// coreErr returns the HTTP status and the first Cloudflare error code of an SDK error.
func coreErr(t *testing.T, err error) (int, int64) {
	t.Helper()
	var e *queues.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v; want an API error", err)
	}
	if len(e.Errors) == 0 {
		t.Fatalf("API error without codes: %v", err)
	}
	return e.StatusCode, e.Errors[0].Code
}

func TestCoreAuthenticationAndRouting(t *testing.T) {
	_, url := coreServer(t, emulator.Options{Token: "right"})
	ctx := context.Background()
	list := func(token, account string) error {
		_, err := coreQueues(url, token).List(ctx, queueList(account))
		return err
	}
	if err := list("right", coreAccount); err != nil {
		t.Fatalf("valid request failed: %v", err)
	}
	cases := []struct {
		name, token, account string
		status               int
		code                 int64
	}{
		{"wrong token", "wrong", coreAccount, 403, 10000},
		{"malformed account id", "right", "not-an-account", 404, 7003},
		{"short account id", "right", "0123", 404, 7003},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, code := coreErr(t, list(c.token, c.account))
			if status != c.status || code != c.code {
				t.Fatalf("got %d/%d, want %d/%d", status, code, c.status, c.code)
			}
		})
	}
	t.Run("unknown route", func(t *testing.T) {
		req, _ := http.NewRequest("GET", url+emulator.APIPrefix+"/accounts/"+coreAccount+"/no-such-thing", nil)
		req.Header.Set("Authorization", "Bearer right")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env struct {
			Success bool
			Errors  []struct{ Code int }
		}
		if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 404 || env.Success || len(env.Errors) != 2 || env.Errors[0].Code != 7003 || env.Errors[1].Code != 7000 {
			t.Fatalf("status %d, envelope %+v; want 404 with 7003 and 7000", resp.StatusCode, env)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type = %q", ct)
		}
	})
	t.Run("missing token", func(t *testing.T) {
		resp, err := http.Get(url + emulator.APIPrefix + "/accounts/" + coreAccount + "/queues")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Fatalf("status %d, want 400", resp.StatusCode)
		}
	})
}

func TestCoreRateLimit(t *testing.T) {
	srv, url := coreServer(t, emulator.Options{RateLimit: 5, RateWindow: time.Hour})
	ctx := context.Background()
	q := coreQueues(url, "tok")
	for i := 0; i < 5; i++ {
		if _, err := q.List(ctx, queueList(coreAccount)); err != nil {
			t.Fatalf("request %d within the limit failed: %v", i+1, err)
		}
	}
	var resp *http.Response
	_, err := q.List(ctx, queueList(coreAccount), option.WithResponseInto(&resp))
	status, _ := coreErr(t, err)
	if status != 429 {
		t.Fatalf("status %d, want 429", status)
	}
	ra, convErr := strconv.Atoi(resp.Header.Get("Retry-After"))
	if convErr != nil || ra < 3500 || ra > 3600 {
		t.Fatalf("Retry-After = %q; want the rest of the one-hour block", resp.Header.Get("Retry-After"))
	}
	if !strings.Contains(resp.Header.Get("Ratelimit-Policy"), "q=5") {
		t.Fatalf("Ratelimit-Policy = %q", resp.Header.Get("Ratelimit-Policy"))
	}
	// Blocked means blocked: the next call is refused too, even though it is a new call.
	if _, err := q.List(ctx, queueList(coreAccount)); err == nil {
		t.Fatal("request after the limit was accepted")
	}
	// The limit is per token: another token is not affected.
	if _, err := coreQueues(url, "other").List(ctx, queueList(coreAccount)); err != nil {
		t.Fatalf("other token blocked: %v", err)
	}
	c := srv.Counts()
	if c.ByStatus[429] != 2 || c.Total != 8 {
		t.Fatalf("counts = %+v; want 8 requests, 2 of them 429", c)
	}
}

// Every /client/v4 answer carries the policy (the configured limit) and, for a known
// token, the remaining budget; the reset time counts on the emulator clock.
func TestCoreRateLimitHeaders(t *testing.T) {
	srv, url := coreServer(t, emulator.Options{RateLimit: 3, RateWindow: 90 * time.Second})
	get := func(path, token string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", url+emulator.APIPrefix+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	queuesPath := "/accounts/" + coreAccount + "/queues"
	tests := []struct {
		name, path, token string
		status            int
		ratelimit         string // "" means absent
		retryAfter        string
	}{
		{"success", queuesPath, "tok", 200, `"default";r=2;t=90`, ""},
		{"unknown route", "/accounts/" + coreAccount + "/nope", "tok", 404, `"default";r=1;t=90`, ""},
		{"no token: the policy only", queuesPath, "", 400, "", ""},
		{"last of the quota", queuesPath, "tok", 200, `"default";r=0;t=90`, ""},
		{"over the quota: blocked for a window", queuesPath, "tok", 429, `"default";r=0;t=90`, "90"},
	}
	for _, tt := range tests {
		resp := get(tt.path, tt.token)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, resp.StatusCode, tt.status)
		}
		if got := resp.Header.Get("Ratelimit-Policy"); got != `"burst";q=3;w=90` {
			t.Errorf("%s: Ratelimit-Policy = %q", tt.name, got)
		}
		if got := resp.Header.Get("Ratelimit"); got != tt.ratelimit {
			t.Errorf("%s: Ratelimit = %q, want %q", tt.name, got, tt.ratelimit)
		}
		if got := resp.Header.Get("Retry-After"); got != tt.retryAfter {
			t.Errorf("%s: Retry-After = %q, want %q", tt.name, got, tt.retryAfter)
		}
	}
	// The block ends on the emulator clock; reset times are rounded up.
	srv.Advance(90*time.Second + 500*time.Millisecond)
	resp := get(queuesPath, "tok")
	if resp.StatusCode != 200 || resp.Header.Get("Ratelimit") != `"default";r=2;t=90` {
		t.Errorf("after the block: %d %q", resp.StatusCode, resp.Header.Get("Ratelimit"))
	}
	srv.Advance(500 * time.Millisecond)
	if got := get(queuesPath, "tok").Header.Get("Ratelimit"); got != `"default";r=1;t=90` {
		t.Errorf("half a second later: Ratelimit = %q, want t rounded up to 90", got)
	}
}

func TestCoreFaultsAndCounters(t *testing.T) {
	srv, url := coreServer(t, emulator.Options{})
	ctx := context.Background()
	q := coreQueues(url, "tok")
	listRoute := "GET /client/v4/accounts/{account_id}/queues"
	list := func() error {
		_, err := q.List(ctx, queueList(coreAccount))
		return err
	}

	srv.SetFaults(emulator.Faults{Burst429: 2})
	for i := 0; i < 2; i++ {
		if status, _ := coreErr(t, list()); status != 429 {
			t.Fatalf("burst request %d: status %d, want 429", i, status)
		}
	}
	if err := list(); err != nil {
		t.Fatalf("after the burst: %v", err)
	}

	srv.SetFaults(emulator.Faults{Routes: map[string]emulator.RouteFaults{listRoute: {FailRate: 1}}})
	if status, code := coreErr(t, list()); status != 503 || code != 15000 {
		t.Fatalf("injected 5xx: %d/%d", status, code)
	}

	// A dropped connection happens after the work: the queue exists though the client
	// never heard back.
	srv.SetFaults(emulator.Faults{Routes: map[string]emulator.RouteFaults{"POST /client/v4/accounts/{account_id}/queues": {DropRate: 1}}})
	_, err := q.New(ctx, queueNew(coreAccount, "dropped"))
	var apiErr *queues.Error
	if err == nil || errors.As(err, &apiErr) {
		t.Fatalf("err = %v; want a transport error", err)
	}
	srv.SetFaults(emulator.Faults{})
	page, err := q.List(ctx, queueList(coreAccount))
	if err != nil || len(page.Result) != 1 || page.Result[0].QueueName != "dropped" {
		t.Fatalf("after a dropped create: %v %+v", err, page)
	}

	// Same seed, same decisions.
	decisions := func() []bool {
		srv.SetFaults(emulator.Faults{Seed: 42, FailRate: 0.5})
		var out []bool
		for i := 0; i < 20; i++ {
			out = append(out, list() != nil)
		}
		return out
	}
	a, b := decisions(), decisions()
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("faults are not deterministic:\n%v\n%v", a, b)
	}
	srv.SetFaults(emulator.Faults{})

	c := srv.Counts()
	if c.ByRoute[listRoute] != 5+20+20 {
		t.Fatalf("list calls counted %d, want 45 (%v)", c.ByRoute[listRoute], c.ByRoute)
	}
	srv.ResetCounts()
	if c := srv.Counts(); c.Total != 0 {
		t.Fatalf("after reset: %+v", c)
	}
}

func TestCoreAdminInterface(t *testing.T) {
	srv, url := coreServer(t, emulator.Options{})
	do := func(method, path, body string) *http.Response {
		req, _ := http.NewRequest(method, url+"/__flareops/admin/"+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	before := srv.Now()
	if r := do("POST", "clock", `{"advance":"25h"}`); r.StatusCode != 200 {
		t.Fatalf("clock: %d", r.StatusCode)
	}
	if d := srv.Now().Sub(before); d < 25*time.Hour {
		t.Fatalf("clock moved %s, want ≥ 25h", d)
	}
	if r := do("PUT", "faults", `{"burst_429":1}`); r.StatusCode != 204 {
		t.Fatalf("faults: %d", r.StatusCode)
	}
	_, err := coreQueues(url, "t").List(context.Background(), queueList(coreAccount))
	if status, _ := coreErr(t, err); status != 429 {
		t.Fatalf("fault set over HTTP not applied: %d", status)
	}
	r := do("GET", "counters", "")
	var c emulator.Counts
	if err := json.NewDecoder(r.Body).Decode(&c); err != nil || c.Total != 1 || c.ByStatus[429] != 1 {
		t.Fatalf("counters: %v %+v", err, c)
	}
	if r := do("PUT", "ratelimit", `{"limit":1,"window":"1h"}`); r.StatusCode != 204 {
		t.Fatalf("ratelimit: %d", r.StatusCode)
	}
	if r := do("POST", "clock", `{"advance":"-1h"}`); r.StatusCode != 400 {
		t.Fatalf("negative advance accepted: %d", r.StatusCode)
	}
	body, _ := io.ReadAll(do("GET", "nope", "").Body)
	if !bytes.Contains(body, []byte("unknown admin route")) {
		t.Fatalf("unknown admin route: %s", body)
	}
}

// Fault durations are Go duration strings, as the clock's, or nanoseconds.
func TestCoreAdminFaultDurations(t *testing.T) {
	_, url := coreServer(t, emulator.Options{})
	put := func(body string) int {
		t.Helper()
		req, _ := http.NewRequest("PUT", url+"/__flareops/admin/faults", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	get := func() emulator.Faults {
		t.Helper()
		resp, err := http.Get(url + "/__flareops/admin/faults")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var f emulator.Faults
		if err := json.NewDecoder(resp.Body).Decode(&f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	route := "GET /client/v4/accounts/{account_id}/queues"
	tests := []struct {
		name, body string
		status     int
		latency    time.Duration
		routeLat   time.Duration
	}{
		{"string", `{"latency":"1s"}`, 204, time.Second, 0},
		{"nanoseconds", `{"latency":2000000}`, 204, 2 * time.Millisecond, 0},
		{"per route", `{"routes":{"` + route + `":{"latency":"250ms","fail_rate":0.5}}}`, 204, 0, 250 * time.Millisecond},
		{"not a duration", `{"latency":"soon"}`, 400, 0, 0},
		{"negative", `{"latency":"-1s"}`, 400, 0, 0},
		{"misspelt field", `{"latancy":"1s"}`, 400, 0, 0},
		{"rate over 1", `{"fail_rate":0.7,"drop_rate":0.7}`, 400, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if status := put(tt.body); status != tt.status {
				t.Fatalf("PUT %s: status %d, want %d", tt.body, status, tt.status)
			}
			if tt.status != 204 {
				return
			}
			// GET answers nanoseconds, which PUT reads back.
			f := get()
			if f.Latency != tt.latency || f.Routes[route].Latency != tt.routeLat {
				t.Errorf("faults = %+v; want latency %v, route latency %v", f, tt.latency, tt.routeLat)
			}
		})
	}
}

// S3 requests are counted per method and take injected faults as R2 shows them.
func TestCoreS3CountsAndFaults(t *testing.T) {
	srv, url := coreServer(t, emulator.Options{})
	put := func() *http.Response {
		req, _ := http.NewRequest("PUT", url+"/some-bucket", nil)
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=k/20260101/auto/s3/aws4_request, SignedHeaders=host, Signature="+strings.Repeat("0", 64))
		req.Header.Set("X-Amz-Date", "20260101T000000Z")
		req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := put(); resp.StatusCode != 200 {
		t.Fatalf("CreateBucket: %d", resp.StatusCode)
	}
	srv.SetFaults(emulator.Faults{Routes: map[string]emulator.RouteFaults{"S3 PUT": {FailRate: 1}}})
	if resp := put(); resp.StatusCode != 500 {
		t.Fatalf("injected S3 fault: %d, want 500", resp.StatusCode)
	}
	srv.SetFaults(emulator.Faults{})
	c := srv.Counts()
	if c.ByRoute["S3 PUT"] != 2 || c.ByStatus[500] != 1 {
		t.Fatalf("counts = %+v", c)
	}
}
