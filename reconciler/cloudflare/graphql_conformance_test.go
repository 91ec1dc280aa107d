package cloudflare

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/emulator/graphql"
)

// The raw GraphQL call over HTTP to the emulator, for every dataset, filter form, limit
// and documented error: what a rule written as GraphQL (alerting's Source) relies on.
func TestGraphQLConformance(t *testing.T) {
	c, srv := gqlEmulator(t, emulator.Options{})
	now := gqlNow
	seedWorkers(t, srv, now)
	at := func(ago time.Duration) time.Time { return now.Add(-ago) }
	if err := srv.AddQueueOperations(
		graphql.QueueOperation{Datetime: at(30 * time.Minute), QueueID: gqlQueue, ActionType: "DeleteMessage", ConsumerType: "worker", Outcome: "success", SampleInterval: 7},
		graphql.QueueOperation{Datetime: at(20 * time.Minute), QueueID: gqlQueue, ActionType: "DeleteMessage", ConsumerType: "http", Outcome: "dlq", SampleInterval: 3},
		graphql.QueueOperation{Datetime: at(10 * time.Minute), QueueID: gqlQueue, ActionType: "DeleteMessage", ConsumerType: "worker", Outcome: "fail"},
	); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddQueueBacklog(graphql.QueueBacklog{Datetime: at(3 * time.Minute), QueueID: gqlQueue, Messages: 42, SampleInterval: 2}); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddD1Queries(
		graphql.D1Query{Datetime: at(12 * time.Minute), DatabaseID: gqlDB, QueryBatchTimeMs: 5, SampleInterval: 4},
		graphql.D1Query{Datetime: at(2 * time.Minute), DatabaseID: gqlDB, QueryBatchTimeMs: 50},
	); err != nil {
		t.Fatal(err)
	}

	const w = `query($a: string!, $f: AccountWorkersInvocationsAdaptiveFilter_InputObject!, $limit: uint64!) { viewer { accounts(filter: {accountTag: $a}) { rows: workersInvocationsAdaptive(filter: $f, limit: $limit, orderBy: [sum_requests_DESC]) { dimensions { status } sum { requests } } } } }`
	const q = `query($a: string!, $f: AccountQueueMessageOperationsAdaptiveGroupsFilter_InputObject!) { viewer { accounts(filter: {accountTag: $a}) { rows: queueMessageOperationsAdaptiveGroups(filter: $f, limit: 100, orderBy: [count_DESC]) { count dimensions { outcome } } } } }`
	const b = `query($a: string!, $f: AccountQueueBacklogAdaptiveGroupsFilter_InputObject!) { viewer { accounts(filter: {accountTag: $a}) { rows: queueBacklogAdaptiveGroups(filter: $f, limit: 100) { avg { messages sampleInterval } } } } }`
	const d = `query($a: string!, $f: AccountD1AnalyticsAdaptiveGroupsFilter_InputObject!) { viewer { accounts(filter: {accountTag: $a}) { rows: d1AnalyticsAdaptiveGroups(filter: $f, limit: 100, orderBy: [datetimeFiveMinutes_ASC]) { count dimensions { datetimeFiveMinutes } quantiles { queryBatchTimeMsP90 } } } } }`
	hour := func(extra map[string]any) map[string]any {
		f := map[string]any{"datetime_geq": gqlTime(at(time.Hour)), "datetime_lt": gqlTime(now)}
		for k, v := range extra {
			f[k] = v
		}
		return f
	}
	api := map[string]any{"scriptName": "api"}
	for _, tc := range []struct {
		name   string
		query  string
		filter map[string]any
		limit  int
		want   string // the rows, as JSON
	}{
		{"workers eq", w, hour(api), 10, `[{"dimensions":{"status":"success"},"sum":{"requests":5880}},{"dimensions":{"status":"exceededResources"},"sum":{"requests":60}},{"dimensions":{"status":"scriptThrewException"},"sum":{"requests":60}}]`},
		{"workers limit", w, hour(api), 1, `[{"dimensions":{"status":"success"},"sum":{"requests":5880}}]`},
		{"workers neq", w, hour(map[string]any{"scriptName": "api", "status_neq": "success"}), 10, `[{"dimensions":{"status":"exceededResources"},"sum":{"requests":60}},{"dimensions":{"status":"scriptThrewException"},"sum":{"requests":60}}]`},
		{"workers in", w, hour(map[string]any{"scriptName_in": []string{"web"}}), 10, `[{"dimensions":{"status":"internalError"},"sum":{"requests":60000}}]`},
		{"workers notin", w, hour(map[string]any{"scriptName_notin": []string{"web"}, "status_notin": []string{"success", "exceededResources"}}), 10, `[{"dimensions":{"status":"scriptThrewException"},"sum":{"requests":60}}]`},
		{"workers like", w, hour(map[string]any{"scriptName_like": "w%", "status_notlike": "%Error"}), 10, `[]`},
		{"workers time", w, map[string]any{"scriptName": "api", "datetimeMinute_gt": gqlTime(at(3 * time.Minute)), "datetime_geq": gqlTime(at(10 * time.Minute)), "datetime_leq": gqlTime(now)}, 10,
			`[{"dimensions":{"status":"success"},"sum":{"requests":196}},{"dimensions":{"status":"exceededResources"},"sum":{"requests":2}},{"dimensions":{"status":"scriptThrewException"},"sum":{"requests":2}}]`},
		{"workers AND OR", w, map[string]any{"AND": []any{hour(nil), map[string]any{"OR": []any{map[string]any{"scriptName": "web"}, map[string]any{"status": "scriptThrewException"}}}}}, 10,
			`[{"dimensions":{"status":"internalError"},"sum":{"requests":60000}},{"dimensions":{"status":"scriptThrewException"},"sum":{"requests":60}}]`},
		{"queue operations", q, hour(map[string]any{"queueId": gqlQueue, "actionType": "DeleteMessage"}), 0, `[{"count":7,"dimensions":{"outcome":"success"}},{"count":3,"dimensions":{"outcome":"dlq"}},{"count":1,"dimensions":{"outcome":"fail"}}]`},
		{"queue outcome_in", q, hour(map[string]any{"queueId": gqlQueue, "outcome_in": []string{"dlq", "fail"}, "consumerType": "worker"}), 0, `[{"count":1,"dimensions":{"outcome":"fail"}}]`},
		{"queue backlog", b, hour(map[string]any{"queueId": gqlQueue}), 0, `[{"avg":{"messages":42,"sampleInterval":2}}]`},
		{"queue backlog, idle queue", b, hour(map[string]any{"queueId": gqlIdle}), 0, `[]`},
		{"d1", d, map[string]any{"databaseId": gqlDB, "datetimeMinute_geq": gqlTime(at(15 * time.Minute))}, 0,
			`[{"count":4,"dimensions":{"datetimeFiveMinutes":"2026-03-10T11:45:00Z"},"quantiles":{"queryBatchTimeMsP90":5}},{"count":1,"dimensions":{"datetimeFiveMinutes":"2026-03-10T11:55:00Z"},"quantiles":{"queryBatchTimeMsP90":50}}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]any{"a": rawTestAccount, "f": tc.filter}
			if tc.limit > 0 {
				vars["limit"] = tc.limit
			}
			var data struct {
				Viewer struct {
					Accounts []struct {
						Rows json.RawMessage `json:"rows"`
					} `json:"accounts"`
				} `json:"viewer"`
			}
			if err := c.GraphQL(context.Background(), tc.query, vars, &data); err != nil {
				t.Fatalf("GraphQL: %v", err)
			}
			if got := string(data.Viewer.Accounts[0].Rows); got != tc.want {
				t.Errorf("rows\n got %s\nwant %s", got, tc.want)
			}
		})
	}

	for _, tc := range []struct {
		name   string
		query  string
		vars   map[string]any
		status int
		want   string
	}{
		{"unknown field", strings.Replace(w, "sum { requests }", "sum { requests } quantiles { wallTimeP95 }", 1), map[string]any{"a": rawTestAccount, "f": hour(api), "limit": 1}, 400, `unknown field "wallTimeP95"`},
		{"unknown dataset", `{ viewer { accounts(filter: {accountTag: "` + rawTestAccount + `"}) { queuesBacklogAdaptiveGroups(limit: 1, filter: {}) { count } } } }`, nil, 400, `unknown field "queuesBacklogAdaptiveGroups"`},
		{"unknown filter field", w, map[string]any{"a": rawTestAccount, "f": hour(map[string]any{"outcome": "ok"}), "limit": 1}, 400, "variable.f.outcome: unknown field"},
		{"limit", w, map[string]any{"a": rawTestAccount, "f": hour(api), "limit": 10001}, 400, "limit must be positive number and not greater than 10000"},
		{"range", w, map[string]any{"a": rawTestAccount, "f": map[string]any{"datetime_geq": gqlTime(at(32 * 24 * time.Hour))}, "limit": 1}, 400, "query time range is too large"},
		{"too old", d, map[string]any{"a": rawTestAccount, "f": map[string]any{"datetimeMinute_geq": gqlTime(at(40 * 24 * time.Hour)), "datetimeMinute_lt": gqlTime(at(39 * 24 * time.Hour))}}, 400, "cannot request data older than 2678400s"},
		{"bad time", w, map[string]any{"a": rawTestAccount, "f": map[string]any{"datetime_geq": "last tuesday"}, "limit": 1}, 400, `error parsing args: filter.datetime_geq: "last tuesday" is not a Time`},
		{"account", w, map[string]any{"a": "someone-else", "f": hour(api), "limit": 1}, 403, "not authorized for that account"},
		{"syntax", `{ viewer { `, nil, 400, "Expected Name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.GraphQL(context.Background(), tc.query, tc.vars, nil)
			var ge *GraphQLError
			if !errors.As(err, &ge) || ge.Status != tc.status || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want a GraphQLError %d containing %q", err, tc.status, tc.want)
			}
		})
	}
}
