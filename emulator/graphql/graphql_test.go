package graphql

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var testNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

const testAccount = "0123456789abcdef0123456789abcdef"

// testEvents: two scripts over the last hour, sample intervals other than 1, so that
// unweighted arithmetic gives wrong answers.
func testEvents(t *testing.T) Events {
	t.Helper()
	var ev Events
	at := func(ago time.Duration) time.Time { return testNow.Add(-ago) }
	if err := ev.AddWorkers(testNow, []WorkerInvocation{
		{Datetime: at(50 * time.Minute), ScriptName: "api", Status: "success", WallTimeUs: 100, CPUTimeUs: 10, Subrequests: 2, SampleInterval: 10},
		{Datetime: at(50*time.Minute - 30*time.Second), ScriptName: "api", Status: "success", WallTimeUs: 300, CPUTimeUs: 30, SampleInterval: 5},
		{Datetime: at(40 * time.Minute), ScriptName: "api", Status: "scriptThrewException", WallTimeUs: 5000, CPUTimeUs: 50, SampleInterval: 1},
		{Datetime: at(30 * time.Minute), ScriptName: "api", Status: "clientDisconnected", WallTimeUs: 700, SampleInterval: 4},
		{Datetime: at(20 * time.Minute), ScriptName: "web", Status: "success", WallTimeUs: 50, SampleInterval: 100},
		{Datetime: at(10 * time.Minute), ScriptName: "web", Status: "exceededResources", WallTimeUs: 9000, SampleInterval: 2},
		{Datetime: at(26 * time.Hour), ScriptName: "api", Status: "success", WallTimeUs: 1, SampleInterval: 1000},
	}); err != nil {
		t.Fatal(err)
	}
	return ev
}

type answer struct {
	status int
	body   string
}

func serve(t testing.TB, svc *Service, ev Events, query string, vars map[string]any) answer {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	svc.Serve(rec, httptest.NewRequest(http.MethodPost, "/client/v4/graphql", strings.NewReader(string(body))), ev, testNow, "token")
	return answer{rec.Code, strings.TrimSpace(rec.Body.String())}
}

// workers wraps a dataset selection in the viewer/accounts query.
func workers(args, selection string) string {
	return `{ viewer { accounts(filter: {accountTag: "` + testAccount + `"}) { workersInvocationsAdaptive(` + args + `) { ` + selection + ` } } } }`
}

const lastHour = `datetime_geq: "2026-03-10T11:00:00Z", datetime_lt: "2026-03-10T12:00:00Z"`

func data(groups string) string {
	return `{"data":{"viewer":{"accounts":[{"workersInvocationsAdaptive":` + groups + `}]}},"errors":null}`
}

func TestWorkersDataset(t *testing.T) {
	ev := testEvents(t)
	for _, tc := range []struct {
		name, query string
		want        string
	}{
		{
			// api: requests 10+5+1+4 = 20, errors 1 (clientDisconnected is no error);
			// web: 102 requests, 2 errors. The 26 h old event is outside the range.
			name:  "grouped and weighted",
			query: workers(`limit: 10, filter: {`+lastHour+`}`, `dimensions { scriptName } sum { requests errors subrequests cpuTimeUs } avg { sampleInterval }`),
			want: data(`[{"dimensions":{"scriptName":"api"},"sum":{"requests":20,"errors":1,"subrequests":20,"cpuTimeUs":300},"avg":{"sampleInterval":5}},` +
				`{"dimensions":{"scriptName":"web"},"sum":{"requests":102,"errors":2,"subrequests":0,"cpuTimeUs":0},"avg":{"sampleInterval":51}}]`),
		},
		{
			// Weighted nearest rank over api's 20: 100 µs ×10, 300 ×5, 700 ×4, 5000 ×1.
			name:  "quantiles max min",
			query: workers(`limit: 10, filter: {scriptName: "api", `+lastHour+`}`, `quantiles { wallTimeP25 wallTimeP50 wallTimeP75 wallTimeP90 wallTimeP99 wallTimeP999 } max { wallTime } min { wallTime }`),
			want:  data(`[{"quantiles":{"wallTimeP25":100,"wallTimeP50":100,"wallTimeP75":300,"wallTimeP90":700,"wallTimeP99":5000,"wallTimeP999":5000},"max":{"wallTime":5000},"min":{"wallTime":100}}]`),
		},
		{
			name:  "order by a sum, limit",
			query: workers(`limit: 1, orderBy: [sum_requests_DESC], filter: {`+lastHour+`}`, `dimensions { scriptName } sum { requests }`),
			want:  data(`[{"dimensions":{"scriptName":"web"},"sum":{"requests":102}}]`),
		},
		{
			name:  "time buckets, descending",
			query: workers(`limit: 10, orderBy: [datetimeHour_DESC], filter: {scriptName: "api", datetime_geq: "2026-03-09T09:00:00Z"}`, `dimensions { datetimeHour } sum { requests }`),
			want:  data(`[{"dimensions":{"datetimeHour":"2026-03-10T11:00:00Z"},"sum":{"requests":20}},{"dimensions":{"datetimeHour":"2026-03-09T10:00:00Z"},"sum":{"requests":1000}}]`),
		},
		{
			name:  "minute and date",
			query: workers(`limit: 10, filter: {scriptName: "web", `+lastHour+`}`, `dimensions { date datetimeMinute datetime status }`),
			want:  data(`[{"dimensions":{"date":"2026-03-10","datetimeMinute":"2026-03-10T11:40:00Z","datetime":"2026-03-10T11:40:00Z","status":"success"}},{"dimensions":{"date":"2026-03-10","datetimeMinute":"2026-03-10T11:50:00Z","datetime":"2026-03-10T11:50:00Z","status":"exceededResources"}}]`),
		},
		{
			name:  "in, neq, like",
			query: workers(`limit: 10, filter: {status_in: ["success", "clientDisconnected"], scriptName_neq: "web", scriptName_like: "a%", `+lastHour+`}`, `sum { requests }`),
			want:  data(`[{"sum":{"requests":19}}]`),
		},
		{
			name:  "notin, notlike",
			query: workers(`limit: 10, filter: {status_notin: ["success"], scriptName_notlike: "%eb", `+lastHour+`}`, `dimensions { status } sum { requests }`),
			want:  data(`[{"dimensions":{"status":"clientDisconnected"},"sum":{"requests":4}},{"dimensions":{"status":"scriptThrewException"},"sum":{"requests":1}}]`),
		},
		{
			name:  "AND and OR",
			query: workers(`limit: 10, filter: {AND: [{`+lastHour+`}, {OR: [{scriptName: "web", status: "exceededResources"}, {scriptName: "api", status: "scriptThrewException"}]}]}`, `dimensions { scriptName } sum { requests errors }`),
			want:  data(`[{"dimensions":{"scriptName":"api"},"sum":{"requests":1,"errors":1}},{"dimensions":{"scriptName":"web"},"sum":{"requests":2,"errors":2}}]`),
		},
		{
			name:  "time comparison at minute grain",
			query: workers(`limit: 10, filter: {datetimeMinute_gt: "2026-03-10T11:30:00Z", datetimeMinute_leq: "2026-03-10T11:40:00Z", `+lastHour+`}`, `sum { requests }`),
			want:  data(`[{"sum":{"requests":100}}]`),
		},
		{
			name:  "no rows is no groups",
			query: workers(`limit: 10, filter: {scriptName: "nobody", `+lastHour+`}`, `sum { requests }`),
			want:  data(`[]`),
		},
		{
			name:  "aliases, fragments and __typename",
			query: `query { v: viewer { a: accounts(filter: {accountTag: "` + testAccount + `"}) { ...W } } } fragment W on account { w: workersInvocationsAdaptive(limit: 1, filter: {scriptName: "api", ` + lastHour + `}) { __typename total: sum { r: requests } } }`,
			want:  `{"data":{"v":{"a":[{"w":[{"__typename":"AccountWorkersInvocationsAdaptive","total":{"r":20}}]}]}},"errors":null}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := serve(t, NewService(-1, 0), ev, tc.query, nil)
			if got.status != http.StatusOK {
				t.Fatalf("HTTP %d: %s", got.status, got.body)
			}
			if diff := cmp.Diff(tc.want, got.body); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
}

// Variables carry every value; Cloudflare accepts built-in types for its own scalars.
func TestVariables(t *testing.T) {
	ev := testEvents(t)
	q := `query Q($tag: String!, $filter: AccountWorkersInvocationsAdaptiveFilter_InputObject!, $limit: Int!, $order: [AccountWorkersInvocationsAdaptiveOrderBy!]) {
  viewer { accounts(filter: {accountTag: $tag}) { workersInvocationsAdaptive(filter: $filter, limit: $limit, orderBy: $order) { dimensions { scriptName } sum { requests } } } } }`
	vars := map[string]any{"tag": testAccount, "limit": 1, "order": []string{"sum_requests_desc"},
		"filter": map[string]any{"datetime_geq": "2026-03-10T11:00:00Z", "status_in": []string{"success", `x" } evil: {`}}}
	got := serve(t, NewService(-1, 0), ev, q, vars)
	// The enum value in lower case (the parser accepts any case in variables) is obeyed.
	if want := data(`[{"dimensions":{"scriptName":"web"},"sum":{"requests":100}}]`); got.status != 200 || got.body != want {
		t.Errorf("got HTTP %d %s\nwant %s", got.status, got.body, want)
	}
}

func TestErrors(t *testing.T) {
	ev := testEvents(t)
	acct := func(inner string) string {
		return `{ viewer { accounts(filter: {accountTag: "` + testAccount + `"}) { ` + inner + ` } } }`
	}
	for _, tc := range []struct {
		name   string
		query  string
		vars   map[string]any
		status int
		want   string
		path   string
	}{
		{"unknown quantile", workers(`limit: 1, filter: {`+lastHour+`}`, `quantiles { wallTimeP95 }`), nil, 400,
			`unknown field "wallTimeP95" on type "AccountWorkersInvocationsAdaptiveQuantiles". Did you mean`, ""},
		{"unknown dataset", acct(`workersInvocations(limit: 1) { count }`), nil, 400, `unknown field "workersInvocations" on type "account"`, ""},
		{"unknown filter field", workers(`limit: 1, filter: {colo: "AMS", `+lastHour+`}`, `sum { requests }`), nil, 400,
			`unknown field "colo" on input "AccountWorkersInvocationsAdaptiveFilter_InputObject"`, ""},
		{"unknown filter field in a variable", `query($f: AccountWorkersInvocationsAdaptiveFilter_InputObject!) { viewer { accounts(filter: {accountTag: "` + testAccount + `"}) { workersInvocationsAdaptive(limit: 1, filter: $f) { count } } } }`,
			map[string]any{"f": map[string]any{"colo": "AMS"}}, 400, `unknown field "count" on type`, ""},
		{"unknown filter field, variable only", `query($f: AccountWorkersInvocationsAdaptiveFilter_InputObject!) { viewer { accounts(filter: {accountTag: "` + testAccount + `"}) { workersInvocationsAdaptive(limit: 1, filter: $f) { sum { requests } } } } }`,
			map[string]any{"f": map[string]any{"colo": "AMS"}}, 400, `error parsing args: variable.f.colo: unknown field`, ""},
		{"limit is required", workers(`filter: {`+lastHour+`}`, `sum { requests }`), nil, 400, `argument "limit" of type "uint64!" is required`, ""},
		{"limit zero", workers(`limit: 0, filter: {`+lastHour+`}`, `sum { requests }`), nil, 400, "limit must be positive number and not greater than 10000", "viewer.accounts.0.workersInvocationsAdaptive"},
		{"limit too large", workers(`limit: 10001, filter: {`+lastHour+`}`, `sum { requests }`), nil, 400, "limit must be positive number and not greater than 10000", "viewer.accounts.0.workersInvocationsAdaptive"},
		{"range too large", workers(`limit: 1, filter: {datetime_geq: "2026-02-01T00:00:00Z"}`, `sum { requests }`), nil, 400, "query time range is too large", "viewer.accounts.0.workersInvocationsAdaptive"},
		{"too old", workers(`limit: 1, filter: {datetime_geq: "2025-11-01T00:00:00Z", datetime_lt: "2025-11-02T00:00:00Z"}`, `sum { requests }`), nil, 400, "cannot request data older than 7948800s", "viewer.accounts.0.workersInvocationsAdaptive"},
		{"no lower bound", workers(`limit: 1, filter: {scriptName: "api"}`, `sum { requests }`), nil, 400, "query time range is too large: the filter sets no lower time bound", "viewer.accounts.0.workersInvocationsAdaptive"},
		{"OR does not bound", workers(`limit: 1, filter: {OR: [{`+lastHour+`}]}`, `sum { requests }`), nil, 400, "no lower time bound", "viewer.accounts.0.workersInvocationsAdaptive"},
		{"bad time", workers(`limit: 1, filter: {datetime_geq: "yesterday"}`, `sum { requests }`), nil, 400, `error parsing args: filter.datetime_geq: "yesterday" is not a Time`, "viewer.accounts.0.workersInvocationsAdaptive"},
		{"order by an ungrouped dimension", workers(`limit: 1, orderBy: [scriptName_ASC], filter: {`+lastHour+`}`, `sum { requests }`), nil, 400, "cannot order by scriptName", "viewer.accounts.0.workersInvocationsAdaptive"},
		{"unknown order", workers(`limit: 1, orderBy: [sum_cpuTime_ASC], filter: {`+lastHour+`}`, `sum { requests }`), nil, 400, `Value "sum_cpuTime_ASC" does not exist in "AccountWorkersInvocationsAdaptiveOrderBy!" enum`, ""},
		{"too many fields", workers(`limit: 1, filter: {`+lastHour+`}`, `quantiles { cpuTimeP25 cpuTimeP50 cpuTimeP75 cpuTimeP90 cpuTimeP99 cpuTimeP999 wallTimeP25 wallTimeP50 wallTimeP75 wallTimeP90 wallTimeP99 wallTimeP999 durationP25 durationP50 durationP75 durationP90 durationP99 durationP999 responseBodySizeP25 responseBodySizeP50 responseBodySizeP75 responseBodySizeP90 responseBodySizeP99 responseBodySizeP999 } sum { requests errors subrequests wallTime cpuTimeUs duration responseBodySize }`), nil, 400, "number of fields can't be more than 30", "viewer.accounts.0.workersInvocationsAdaptive"},
		{"no account tag", `{ viewer { accounts(filter: {}) { workersInvocationsAdaptive(limit: 1, filter: {` + lastHour + `}) { count } } } }`, nil, 400, `unknown field "count"`, ""},
		{"no account tag, valid selection", `{ viewer { accounts(filter: {}) { workersInvocationsAdaptive(limit: 1, filter: {` + lastHour + `}) { sum { requests } } } } }`, nil, 400, "accounts filter must name exactly one accountTag", "viewer.accounts"},
		{"foreign account", `{ viewer { accounts(filter: {accountTag: "not-an-account"}) { workersInvocationsAdaptive(limit: 1, filter: {` + lastHour + `}) { sum { requests } } } } }`, nil, 403, "not authorized for that account", "viewer.accounts"},
		{"syntax", `{ viewer { accounts(filter: {accountTag: "x"}) { `, nil, 400, "Expected Name, found <EOF>", ""},
		{"mutation", `mutation { viewer }`, nil, 400, "Schema does not support operation type \"mutation\"", ""},
		{"missing variable", `query($f: AccountWorkersInvocationsAdaptiveFilter_InputObject!) { viewer { accounts(filter: {accountTag: "` + testAccount + `"}) { workersInvocationsAdaptive(limit: 1, filter: $f) { sum { requests } } } } }`,
			nil, 400, "error parsing args: variable.f: must be defined", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := serve(t, NewService(-1, 0), ev, tc.query, tc.vars)
			var body struct {
				Data   any `json:"data"`
				Errors []struct {
					Message    string         `json:"message"`
					Path       []any          `json:"path"`
					Extensions map[string]any `json:"extensions"`
				} `json:"errors"`
			}
			if err := json.Unmarshal([]byte(got.body), &body); err != nil {
				t.Fatalf("answer is not JSON: %s", got.body)
			}
			if got.status != tc.status || body.Data != nil || len(body.Errors) == 0 {
				t.Fatalf("HTTP %d %s; want %d, data null and errors", got.status, got.body, tc.status)
			}
			e := body.Errors[0]
			if !strings.Contains(e.Message, tc.want) {
				t.Errorf("message %q; want it to contain %q", e.Message, tc.want)
			}
			var path []string
			for _, p := range e.Path {
				path = append(path, p.(string))
			}
			if strings.Join(path, ".") != tc.path {
				t.Errorf("path %v; want %q", e.Path, tc.path)
			}
			if e.Extensions["timestamp"] != "2026-03-10T12:00:00Z" {
				t.Errorf("extensions %v; want the emulator clock's timestamp", e.Extensions)
			}
		})
	}
}

func TestBudget(t *testing.T) {
	ev := testEvents(t)
	svc := NewService(2, time.Minute)
	q := workers(`limit: 1, filter: {`+lastHour+`}`, `sum { requests }`)
	for i := 0; i < 2; i++ {
		if got := serve(t, svc, ev, q, nil); got.status != 200 {
			t.Fatalf("query %d: HTTP %d %s", i, got.status, got.body)
		}
	}
	got := serve(t, svc, ev, q, nil)
	want := `{"data":null,"errors":[{"message":"rate limiter budget depleted, try again after 5 minutes","path":null,"extensions":{"code":"budget","timestamp":"2026-03-10T12:00:00Z"}}]}`
	if got.status != http.StatusTooManyRequests || got.body != want {
		t.Errorf("third query: HTTP %d %s; want 429 %s", got.status, got.body, want)
	}
	// Another token has its own budget.
	rec := httptest.NewRecorder()
	body, _ := json.Marshal(map[string]any{"query": q})
	svc.Serve(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body))), ev, testNow, "other")
	if rec.Code != 200 {
		t.Errorf("other token: HTTP %d", rec.Code)
	}
	// The window slides: a minute later the budget is back.
	rec = httptest.NewRecorder()
	svc.Serve(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body))), ev, testNow.Add(time.Minute+time.Second), "token")
	if rec.Code != 200 {
		t.Errorf("after the window: HTTP %d %s", rec.Code, rec.Body)
	}
}

func TestSettings(t *testing.T) {
	q := `{ viewer { accounts(filter: {accountTag: "` + testAccount + `"}) { settings {
  workersInvocationsAdaptive { enabled maxDuration notOlderThan maxPageSize maxNumberOfFields }
  queueBacklogAdaptiveGroups { maxDuration availableFields }
  d1AnalyticsAdaptiveGroups { notOlderThan } } } } }`
	got := serve(t, NewService(-1, 0), Events{}, q, nil)
	want := `{"data":{"viewer":{"accounts":[{"settings":{` +
		`"workersInvocationsAdaptive":{"enabled":true,"maxDuration":2678400,"notOlderThan":7948800,"maxPageSize":10000,"maxNumberOfFields":30},` +
		`"queueBacklogAdaptiveGroups":{"maxDuration":2678400,"availableFields":["dimensions.date","dimensions.datetime","dimensions.datetimeHour","dimensions.datetimeMinute","dimensions.queueId","avg.bytes","avg.messages","avg.sampleInterval"]},` +
		`"d1AnalyticsAdaptiveGroups":{"notOlderThan":2678400}}}]}},"errors":null}`
	if got.status != 200 || got.body != want {
		t.Errorf("HTTP %d\n got %s\nwant %s", got.status, got.body, want)
	}
}

// float32 fields render as the float32 they are (0.1, not 0.10000000149011612); float64
// averages keep their precision.
func TestFloat32Rendering(t *testing.T) {
	var ev Events
	if err := ev.AddWorkers(testNow, []WorkerInvocation{{Datetime: testNow.Add(-time.Minute), ScriptName: "api", Status: "success", WallTimeUs: 0.1, Duration: 0.1}}); err != nil {
		t.Fatal(err)
	}
	got := serve(t, NewService(-1, 0), ev, workers(`limit: 1, filter: {`+lastHour+`}`, `quantiles { wallTimeP50 } sum { duration }`), nil)
	if want := data(`[{"quantiles":{"wallTimeP50":0.1},"sum":{"duration":0.1}}]`); got.body != want {
		t.Errorf("got %s\nwant %s", got.body, want)
	}
}

func TestSkipInclude(t *testing.T) {
	q := `query($detail: Boolean!) { viewer { accounts(filter: {accountTag: "` + testAccount + `"}) { workersInvocationsAdaptive(limit: 10, filter: {` + lastHour + `}) {
  dimensions @include(if: $detail) { scriptName } sum { requests errors @skip(if: true) } } } } }`
	for _, tc := range []struct {
		detail bool
		want   string
	}{
		{false, data(`[{"sum":{"requests":122}}]`)},
		{true, data(`[{"dimensions":{"scriptName":"api"},"sum":{"requests":20}},{"dimensions":{"scriptName":"web"},"sum":{"requests":102}}]`)},
	} {
		got := serve(t, NewService(-1, 0), testEvents(t), q, map[string]any{"detail": tc.detail})
		if got.body != tc.want {
			t.Errorf("detail %v:\n got %s\nwant %s", tc.detail, got.body, tc.want)
		}
	}
}
