package graphql

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

const testQueue = "fedcba9876543210fedcba9876543210"

func TestQueueAndD1Datasets(t *testing.T) {
	var ev Events
	at := func(ago time.Duration) time.Time { return testNow.Add(-ago) }
	if err := ev.AddQueueOperations(testNow, []QueueOperation{
		{Datetime: at(30 * time.Minute), QueueID: testQueue, ActionType: "WriteMessage", SampleInterval: 10},
		{Datetime: at(20 * time.Minute), QueueID: testQueue, ActionType: "DeleteMessage", ConsumerType: "worker", Outcome: "success", LagTimeMs: 100, SampleInterval: 8},
		{Datetime: at(20 * time.Minute), QueueID: testQueue, ActionType: "DeleteMessage", ConsumerType: "worker", Outcome: "dlq", LagTimeMs: 1000, RetryCount: 3, SampleInterval: 2},
	}); err != nil {
		t.Fatal(err)
	}
	if err := ev.AddQueueBacklog(testNow, []QueueBacklog{
		{Datetime: at(5 * time.Minute), QueueID: testQueue, Messages: 100},
		{Datetime: at(4 * time.Minute), QueueID: testQueue, Messages: 300, SampleInterval: 3},
	}); err != nil {
		t.Fatal(err)
	}
	if err := ev.AddD1(testNow, []D1Query{
		{Datetime: at(7 * time.Minute), DatabaseID: "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b", QueryBatchTimeMs: 4, ReadQueries: 2, SampleInterval: 9},
		{Datetime: at(3 * time.Minute), DatabaseID: "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b", QueryBatchTimeMs: 40, WriteQueries: 1},
	}); err != nil {
		t.Fatal(err)
	}
	q := `{ viewer { accounts(filter: {accountTag: "` + testAccount + `"}) {
  ops: queueMessageOperationsAdaptiveGroups(limit: 10, orderBy: [outcome_ASC], filter: {queueId: "` + testQueue + `", actionType: "DeleteMessage", datetime_geq: "2026-03-10T11:00:00Z"}) {
    count dimensions { outcome } avg { lagTime retryCount } sum { billableOperations } }
  writes: queueMessageOperationsAdaptiveGroups(limit: 10, filter: {queueId: "` + testQueue + `", outcome: "none", datetime_geq: "2026-03-10T11:00:00Z"}) { count dimensions { actionType consumerType } }
  backlog: queueBacklogAdaptiveGroups(limit: 10, filter: {queueId: "` + testQueue + `", datetimeMinute_geq: "2026-03-10T11:50:00Z"}) { avg { messages sampleInterval } }
  d1: d1AnalyticsAdaptiveGroups(limit: 10, orderBy: [datetimeFiveMinutes_ASC], filter: {datetimeMinute_geq: "2026-03-10T11:50:00Z"}) {
    count dimensions { datetimeFiveMinutes } sum { readQueries writeQueries } quantiles { queryBatchTimeMsP50 queryBatchTimeMsP90 } avg { queryBatchTimeMs } }
} } }`
	got := serve(t, NewService(-1, 0), ev, q, nil)
	want := `{"data":{"viewer":{"accounts":[{` +
		`"ops":[{"count":2,"dimensions":{"outcome":"dlq"},"avg":{"lagTime":1000,"retryCount":3},"sum":{"billableOperations":2}},{"count":8,"dimensions":{"outcome":"success"},"avg":{"lagTime":100,"retryCount":0},"sum":{"billableOperations":8}}],` +
		`"writes":[{"count":10,"dimensions":{"actionType":"WriteMessage","consumerType":""}}],` +
		// (100·1 + 300·3) / 4 = 250; the mean sample interval is (1 + 3) / 2.
		`"backlog":[{"avg":{"messages":250,"sampleInterval":2}}],` +
		`"d1":[{"count":9,"dimensions":{"datetimeFiveMinutes":"2026-03-10T11:50:00Z"},"sum":{"readQueries":18,"writeQueries":0},"quantiles":{"queryBatchTimeMsP50":4,"queryBatchTimeMsP90":4},"avg":{"queryBatchTimeMs":4}},` +
		`{"count":1,"dimensions":{"datetimeFiveMinutes":"2026-03-10T11:55:00Z"},"sum":{"readQueries":0,"writeQueries":1},"quantiles":{"queryBatchTimeMsP50":40,"queryBatchTimeMsP90":40},"avg":{"queryBatchTimeMs":40}}]` +
		`}]}},"errors":null}`
	if got.status != http.StatusOK || got.body != want {
		t.Errorf("HTTP %d\n got %s\nwant %s", got.status, got.body, want)
	}

	// D1 has no raw datetime dimension, nor filter.
	bad := serve(t, NewService(-1, 0), ev, `{ viewer { accounts(filter: {accountTag: "`+testAccount+`"}) { d1AnalyticsAdaptiveGroups(limit: 1, filter: {datetime_geq: "2026-03-10T11:50:00Z"}) { count } } } }`, nil)
	if bad.status != 400 || !strings.Contains(bad.body, `unknown field \"datetime_geq\"`) {
		t.Errorf("D1 datetime filter: HTTP %d %s; want 400 unknown field", bad.status, bad.body)
	}
}

func TestEventValidation(t *testing.T) {
	q := "fedcba9876543210fedcba9876543210"
	for _, tc := range []struct {
		name string
		add  func(e *Events) error
		want string
	}{
		{"future", func(e *Events) error {
			return e.AddWorkers(testNow, []WorkerInvocation{{Datetime: testNow.Add(time.Minute), ScriptName: "api", Status: "success"}})
		}, "is after the emulator clock"},
		{"past retention", func(e *Events) error {
			return e.AddQueueBacklog(testNow, []QueueBacklog{{Datetime: testNow.Add(-32 * day), QueueID: q}})
		}, "older than the dataset's retention"},
		{"no script", func(e *Events) error { return e.AddWorkers(testNow, []WorkerInvocation{{Status: "success"}}) }, "scriptName"},
		{"bad status", func(e *Events) error {
			return e.AddWorkers(testNow, []WorkerInvocation{{ScriptName: "api", Status: "ok!"}})
		}, "status"},
		{"negative", func(e *Events) error {
			return e.AddWorkers(testNow, []WorkerInvocation{{ScriptName: "api", Status: "success", WallTimeUs: -1}})
		}, "wallTimeUs is -1"},
		{"delete outcome", func(e *Events) error {
			return e.AddQueueOperations(testNow, []QueueOperation{{QueueID: q, ActionType: "DeleteMessage", ConsumerType: "worker", Outcome: "none"}})
		}, "must be success, dlq or fail"},
		{"write outcome", func(e *Events) error {
			return e.AddQueueOperations(testNow, []QueueOperation{{QueueID: q, ActionType: "WriteMessage", Outcome: "dlq"}})
		}, "outcome of a WriteMessage is none"},
		{"write lag", func(e *Events) error {
			return e.AddQueueOperations(testNow, []QueueOperation{{QueueID: q, ActionType: "WriteMessage", LagTimeMs: 5}})
		}, "lagTime of a WriteMessage is 0"},
		{"action", func(e *Events) error {
			return e.AddQueueOperations(testNow, []QueueOperation{{QueueID: q, ActionType: "Peek"}})
		}, "actionType"},
		{"queue id", func(e *Events) error {
			return e.AddQueueOperations(testNow, []QueueOperation{{QueueID: "jobs", ActionType: "WriteMessage"}})
		}, "queueId"},
		{"database id", func(e *Events) error { return e.AddD1(testNow, []D1Query{{DatabaseID: "db"}}) }, "databaseId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e Events
			err := tc.add(&e)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want %q", err, tc.want)
			}
			if len(e.Workers)+len(e.QueueOperations)+len(e.QueueBacklog)+len(e.D1) != 0 {
				t.Errorf("a refused batch left events behind: %+v", e)
			}
		})
	}
}

func TestExpire(t *testing.T) {
	var e Events
	if err := e.AddQueueBacklog(testNow, []QueueBacklog{{Datetime: testNow.Add(-30 * day), QueueID: testQueue}, {QueueID: testQueue}}); err != nil {
		t.Fatal(err)
	}
	if err := e.AddWorkers(testNow, []WorkerInvocation{{Datetime: testNow.Add(-30 * day), ScriptName: "api", Status: "success"}}); err != nil {
		t.Fatal(err)
	}
	old := e.QueueBacklog
	e.Expire(testNow.Add(2 * day))
	// The queue datasets keep 31 days, Workers 92.
	if len(e.QueueBacklog) != 1 || len(e.Workers) != 1 || len(old) != 2 {
		t.Errorf("after expiry: %d backlog samples (want 1), %d invocations (want 1), old slice %d (want 2, untouched)", len(e.QueueBacklog), len(e.Workers), len(old))
	}
}

// The schema types the queue averages as integers: an average of 1000 and 1001 ms is
// 1000, and of 1 and 2 retries is 1; D1's batch time average stays a float.
func TestIntegerAverages(t *testing.T) {
	var ev Events
	at := testNow.Add(-time.Minute)
	if err := ev.AddQueueOperations(testNow, []QueueOperation{
		{Datetime: at, QueueID: testQueue, ActionType: "ReadMessage", ConsumerType: "worker", LagTimeMs: 1000, RetryCount: 1},
		{Datetime: at, QueueID: testQueue, ActionType: "ReadMessage", ConsumerType: "worker", LagTimeMs: 1001, RetryCount: 2},
	}); err != nil {
		t.Fatal(err)
	}
	if err := ev.AddD1(testNow, []D1Query{{Datetime: at, DatabaseID: "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b", QueryBatchTimeMs: 1}, {Datetime: at, DatabaseID: "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b", QueryBatchTimeMs: 2}}); err != nil {
		t.Fatal(err)
	}
	q := `{ viewer { accounts(filter: {accountTag: "` + testAccount + `"}) {
  queueMessageOperationsAdaptiveGroups(limit: 1, filter: {datetime_geq: "2026-03-10T11:00:00Z"}) { avg { lagTime retryCount } }
  d1AnalyticsAdaptiveGroups(limit: 1, filter: {datetimeMinute_geq: "2026-03-10T11:00:00Z"}) { avg { queryBatchTimeMs } quantiles { queryBatchTimeMsP50 } } } } }`
	got := serve(t, NewService(-1, 0), ev, q, nil)
	want := `{"data":{"viewer":{"accounts":[{"queueMessageOperationsAdaptiveGroups":[{"avg":{"lagTime":1000,"retryCount":1}}],"d1AnalyticsAdaptiveGroups":[{"avg":{"queryBatchTimeMs":1.5},"quantiles":{"queryBatchTimeMsP50":1}}]}]}},"errors":null}`
	if got.body != want {
		t.Errorf("got %s\nwant %s", got.body, want)
	}
}
