package emulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/monotask/flareops/emulator"
)

var gqlTestNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func gqlServer(t *testing.T, opts emulator.Options) (*emulator.Server, string) {
	t.Helper()
	opts.Now = func() time.Time { return gqlTestNow }
	srv, err := emulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv, hs.URL
}

func post(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

const gqlRequestsQuery = `{"query":"{ viewer { accounts(filter: {accountTag: \"0123456789abcdef0123456789abcdef\"}) { workersInvocationsAdaptive(limit: 10, filter: {datetime_geq: \"2026-03-10T11:00:00Z\"}) { dimensions { scriptName } sum { requests errors } } } } }"}`

// The admin feed and the GraphQL endpoint over HTTP, as `flareops local serve` serves
// them; the events survive a restart of a persistent emulator.
func TestGraphQLAdminFeedAndPersistence(t *testing.T) {
	dir := t.TempDir()
	_, url := gqlServer(t, emulator.Options{DataDir: dir})

	code, body := post(t, "POST", url+"/__flareops/admin/analytics/workers", "",
		`[{"scriptName":"api","status":"success","sampleInterval":99},{"datetime":"2026-03-10T11:30:00Z","scriptName":"api","status":"internalError"}]`)
	if code != 200 || body != `{"written":2}` {
		t.Fatalf("workers feed: %d %s", code, body)
	}
	// A bad event refuses the whole batch and says which.
	code, body = post(t, "POST", url+"/__flareops/admin/analytics/workers", "", `[{"scriptName":"api","status":"success"},{"scriptName":"api","status":"success","datetime":"2026-03-10T13:00:00Z"}]`)
	if code != 400 || !strings.Contains(body, "event 1: datetime 2026-03-10T13:00:00Z is after the emulator clock") {
		t.Fatalf("future event: %d %s", code, body)
	}
	code, body = post(t, "POST", url+"/__flareops/admin/analytics/workers", "", `[{"scriptName":"api","status":"success","colo":"AMS"}]`)
	if code != 400 || !strings.Contains(body, `unknown field "colo"`) {
		t.Fatalf("unknown event field: %d %s", code, body)
	}
	code, body = post(t, "POST", url+"/__flareops/admin/analytics/queues", "",
		`{"operations":[{"queueId":"fedcba9876543210fedcba9876543210","actionType":"DeleteMessage","consumerType":"worker","outcome":"dlq"}],"backlog":[{"queueId":"bad","messages":3}]}`)
	if code != 400 || !strings.Contains(body, "backlog: sample 0: queueId") {
		t.Fatalf("queues feed with a bad sample: %d %s", code, body)
	}
	code, body = post(t, "POST", url+"/__flareops/admin/analytics/d1", "", `[{"databaseId":"6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b","queryBatchTimeMs":3}]`)
	if code != 200 || body != `{"written":1}` {
		t.Fatalf("d1 feed: %d %s", code, body)
	}

	want := `{"data":{"viewer":{"accounts":[{"workersInvocationsAdaptive":[{"dimensions":{"scriptName":"api"},"sum":{"requests":100,"errors":1}}]}]}},"errors":null}`
	code, body = post(t, "POST", url+"/client/v4/graphql", "tok", gqlRequestsQuery)
	if code != 200 || body != want {
		t.Fatalf("graphql: %d %s\nwant %s", code, body, want)
	}
	// Nothing of the refused queue batch was stored: its valid operation is absent.
	code, body = post(t, "POST", url+"/client/v4/graphql", "tok", `{"query":"{ viewer { accounts(filter: {accountTag: \"0123456789abcdef0123456789abcdef\"}) { queueMessageOperationsAdaptiveGroups(limit: 10, filter: {datetime_geq: \"2026-03-10T11:00:00Z\"}) { count } } } }"}`)
	if code != 200 || !strings.Contains(body, `"queueMessageOperationsAdaptiveGroups":[]`) {
		t.Fatalf("queue operations after a refused batch: %d %s", code, body)
	}

	// Restart on the same data dir.
	_, url2 := gqlServer(t, emulator.Options{DataDir: dir})
	code, body = post(t, "POST", url2+"/client/v4/graphql", "tok", gqlRequestsQuery)
	if code != 200 || body != want {
		t.Fatalf("after restart: %d %s\nwant %s", code, body, want)
	}
}

func TestGraphQLBudgetAndAuth(t *testing.T) {
	srv, url := gqlServer(t, emulator.Options{})
	code, body := post(t, "PUT", url+"/__flareops/admin/analytics/budget", "", `{"limit":1,"window":"5m"}`)
	if code != 204 {
		t.Fatalf("budget: %d %s", code, body)
	}
	if code, body = post(t, "POST", url+"/client/v4/graphql", "tok", gqlRequestsQuery); code != 200 {
		t.Fatalf("first query: %d %s", code, body)
	}
	code, body = post(t, "POST", url+"/client/v4/graphql", "tok", gqlRequestsQuery)
	var answer struct {
		Errors []struct {
			Message    string            `json:"message"`
			Extensions map[string]string `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(body), &answer); err != nil || code != 429 || len(answer.Errors) != 1 || answer.Errors[0].Extensions["code"] != "budget" {
		t.Fatalf("second query: %d %s; want 429 with code budget", code, body)
	}
	// The budget is the GraphQL API's own: REST calls still pass.
	if code, body = post(t, "GET", url+"/client/v4/accounts/0123456789abcdef0123456789abcdef/queues", "tok", ""); code != 200 {
		t.Fatalf("REST after the GraphQL budget: %d %s", code, body)
	}
	// No token: 401 Unauthorized in the GraphQL shape, not the v4 envelope.
	if code, body = post(t, "POST", url+"/client/v4/graphql", "", gqlRequestsQuery); code != 401 || !strings.HasPrefix(body, `{"data":null,"errors":[{"message":"Unauthorized"`) {
		t.Fatalf("no token: %d %s; want 401 Unauthorized", code, body)
	}
	// GraphQL queries are counted like every request.
	if n := srv.Counts().ByRoute["POST /client/v4/graphql"]; n != 3 {
		t.Errorf("counter for POST /client/v4/graphql = %d; want 3", n)
	}
}
