package emulator_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/queues"
	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/emulator"
)

const queuesAccountID = "0123456789abcdef0123456789abcdef"

// queuesFixture is an emulator behind httptest and a Queues client pointed at it.
type queuesFixture struct {
	t   *testing.T
	srv *emulator.Server
	qs  *queues.QueueService
	url string
}

func newQueuesClient(t *testing.T, opts emulator.Options) *queuesFixture {
	t.Helper()
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
	qs := queues.NewQueueService(option.WithBaseURL(hs.URL+"/client/v4/"), option.WithAPIToken("test-token"), option.WithMaxRetries(0))
	return &queuesFixture{t: t, srv: srv, qs: qs, url: hs.URL}
}

// queuesErrCode is the first Cloudflare error code of err and its HTTP status.
func queuesErrCode(t *testing.T, err error) (status int, code int64) {
	t.Helper()
	var apiErr *queues.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("want a Cloudflare API error, got %v", err)
	}
	if len(apiErr.Errors) == 0 {
		t.Fatalf("API error without errors[]: %v", err)
	}
	return apiErr.StatusCode, apiErr.Errors[0].Code
}

func queuesWantErr(t *testing.T, err error, status int, code int64) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %d/%d, got success", status, code)
	}
	if gotStatus, gotCode := queuesErrCode(t, err); gotStatus != status || gotCode != code {
		t.Fatalf("want HTTP %d code %d, got HTTP %d code %d: %v", status, code, gotStatus, gotCode, err)
	}
}

func (f *queuesFixture) create(name string) *queues.Queue {
	f.t.Helper()
	var p queues.QueueNewParams
	setField(&p.AccountID, queuesAccountID)
	setField(&p.QueueName, name)
	q, err := f.qs.New(f.t.Context(), p)
	if err != nil {
		f.t.Fatalf("create queue %q: %v", name, err)
	}
	return q
}

func (f *queuesFixture) get(id string) (*queues.Queue, error) {
	var p queues.QueueGetParams
	setField(&p.AccountID, queuesAccountID)
	return f.qs.Get(f.t.Context(), id, p)
}

func (f *queuesFixture) edit(id string, q queues.QueueParam) (*queues.Queue, error) {
	var p queues.QueueEditParams
	setField(&p.AccountID, queuesAccountID)
	p.Queue = q
	return f.qs.Edit(f.t.Context(), id, p)
}

func (f *queuesFixture) del(id string) error {
	var p queues.QueueDeleteParams
	setField(&p.AccountID, queuesAccountID)
	_, err := f.qs.Delete(f.t.Context(), id, p)
	return err
}

// consumer creates a consumer from a generic body: typ, script ("" to omit), dlq
// ("" to omit) and settings (nil to omit).
func (f *queuesFixture) consumer(queueID, typ, script, dlq string, settings map[string]any) (*queues.Consumer, error) {
	var b queues.ConsumerNewParamsBody
	setField(&b.Type, queues.ConsumerNewParamsBodyType(typ))
	if script != "" {
		setField(&b.ScriptName, script)
	}
	if dlq != "" {
		setField(&b.DeadLetterQueue, dlq)
	}
	if settings != nil {
		setField(&b.Settings, settings)
	}
	var p queues.ConsumerNewParams
	setField(&p.AccountID, queuesAccountID)
	p.Body = b
	return f.qs.Consumers.New(f.t.Context(), queueID, p)
}

func (f *queuesFixture) mustConsumer(queueID, typ, script, dlq string, settings map[string]any) *queues.Consumer {
	f.t.Helper()
	c, err := f.consumer(queueID, typ, script, dlq, settings)
	if err != nil {
		f.t.Fatalf("create %s consumer: %v", typ, err)
	}
	return c
}

// queuesQueueView is the comparable part of a queue (SDK structs hold unexported JSON state).
type queuesQueueView struct {
	Name                    string
	Delay, Retention        float64
	Paused                  bool
	Consumers, ConsumersTot int
	Producers               int
}

func queuesViewQueue(q *queues.Queue) queuesQueueView {
	s := q.Settings
	return queuesQueueView{q.QueueName, s.DeliveryDelay, s.MessageRetentionPeriod, s.DeliveryPaused, len(q.Consumers), int(q.ConsumersTotalCount), len(q.Producers)}
}

func TestQueuesLifecycle(t *testing.T) {
	f := newQueuesClient(t, emulator.Options{})
	q := f.create("orders")
	if len(q.QueueID) != 32 || q.CreatedOn == "" || q.ModifiedOn == "" {
		t.Fatalf("created queue lacks id or timestamps: %+v", q)
	}
	if diff := cmp.Diff(queuesQueueView{Name: "orders", Retention: 345600}, queuesViewQueue(q)); diff != "" {
		t.Errorf("created queue (-want +got):\n%s", diff)
	}
	got, err := f.get(q.QueueID)
	if err != nil || got.QueueID != q.QueueID || got.QueueName != "orders" {
		t.Fatalf("get: %+v, %v", got, err)
	}

	// PATCH changes only what it names.
	var patch queues.QueueParam
	var s queues.QueueSettingsParam
	setField(&s.DeliveryDelay, 30)
	setField(&patch.Settings, s)
	if _, err := f.edit(q.QueueID, patch); err != nil {
		t.Fatalf("edit delay: %v", err)
	}
	patch, s = queues.QueueParam{}, queues.QueueSettingsParam{}
	setField(&s.DeliveryPaused, true)
	setField(&patch.Settings, s)
	edited, err := f.edit(q.QueueID, patch)
	if err != nil {
		t.Fatalf("edit paused: %v", err)
	}
	if diff := cmp.Diff(queuesQueueView{Name: "orders", Delay: 30, Retention: 345600, Paused: true}, queuesViewQueue(edited)); diff != "" {
		t.Errorf("after two PATCHes (-want +got):\n%s", diff)
	}

	// PUT replaces: settings it omits go back to their defaults.
	var put queues.QueueUpdateParams
	setField(&put.AccountID, queuesAccountID)
	setField(&put.Queue.QueueName, "orders-v2")
	s = queues.QueueSettingsParam{}
	setField(&s.MessageRetentionPeriod, 60)
	setField(&put.Queue.Settings, s)
	replaced, err := f.qs.Update(t.Context(), q.QueueID, put)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if diff := cmp.Diff(queuesQueueView{Name: "orders-v2", Retention: 60}, queuesViewQueue(replaced)); diff != "" {
		t.Errorf("after PUT (-want +got):\n%s", diff)
	}

	other := f.create("audit")
	var lp queues.QueueListParams
	setField(&lp.AccountID, queuesAccountID)
	page, err := f.qs.List(t.Context(), lp)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	var ids []string
	for _, q := range page.Result {
		ids = append(ids, q.QueueID)
	}
	if diff := cmp.Diff([]string{q.QueueID, other.QueueID}, ids); diff != "" {
		t.Errorf("list ids, oldest first (-want +got):\n%s", diff)
	}

	if err := f.del(q.QueueID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = f.get(q.QueueID)
	queuesWantErr(t, err, http.StatusNotFound, 10104)
}

func TestQueuesErrors(t *testing.T) {
	f := newQueuesClient(t, emulator.Options{})
	q := f.create("taken")
	settings := func(delay, retention float64) queues.QueueParam {
		var p queues.QueueParam
		var s queues.QueueSettingsParam
		setField(&s.DeliveryDelay, delay)
		setField(&s.MessageRetentionPeriod, retention)
		setField(&p.Settings, s)
		return p
	}
	tests := []struct {
		name   string
		call   func() error
		status int
		code   int64
	}{
		{"unknown queue id", func() error { _, err := f.get(strings.Repeat("ab", 16)); return err }, 404, 10104},
		{"malformed queue id", func() error { _, err := f.get("not-a-queue-id"); return err }, 400, 10107},
		{"delete unknown queue", func() error { return f.del(strings.Repeat("0", 32)) }, 404, 10104},
		{"delivery_delay above 43200", func() error { _, err := f.edit(q.QueueID, settings(43201, 345600)); return err }, 400, 10207},
		{"delivery_delay negative", func() error { _, err := f.edit(q.QueueID, settings(-1, 345600)); return err }, 400, 10207},
		{"retention below 60", func() error { _, err := f.edit(q.QueueID, settings(0, 59)); return err }, 400, 10207},
		{"retention above 14 days", func() error { _, err := f.edit(q.QueueID, settings(0, 1209601)); return err }, 400, 10207},
		{"duplicate name", func() error { return queuesNew(f, "taken") }, 400, 11009},
		{"name with a dot", func() error { return queuesNew(f, "a.b") }, 400, 10207},
		{"name of 64 characters", func() error { return queuesNew(f, strings.Repeat("q", 64)) }, 400, 10207},
		{"name starting with a dash", func() error { return queuesNew(f, "-q") }, 400, 10207},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			queuesWantErr(t, tt.call(), tt.status, tt.code)
		})
	}
	if got, err := f.get(q.QueueID); err != nil || got.Settings.DeliveryDelay != 0 {
		t.Errorf("rejected edits changed the queue: %+v, %v", got, err)
	}
}

func queuesNew(f *queuesFixture, name string) error {
	var p queues.QueueNewParams
	setField(&p.AccountID, queuesAccountID)
	setField(&p.QueueName, name)
	_, err := f.qs.New(f.t.Context(), p)
	return err
}

// queuesConsumerView is the comparable part of a consumer, settings of either type included.
type queuesConsumerView struct {
	Type, Script, DLQ, QueueName                    string
	Batch, Retries, Wait, Delay, Concurrency, VisMs float64
}

func queuesViewConsumer(c *queues.Consumer) queuesConsumerView {
	v := queuesConsumerView{Type: string(c.Type), Script: c.ScriptName, DLQ: c.DeadLetterQueue, QueueName: c.QueueName}
	switch u := c.AsUnion().(type) {
	case queues.ConsumerMqWorkerConsumerResponse:
		s := u.Settings
		v.Batch, v.Retries, v.Wait, v.Delay, v.Concurrency = s.BatchSize, s.MaxRetries, s.MaxWaitTimeMs, s.RetryDelay, s.MaxConcurrency
	case queues.ConsumerMqHTTPConsumerResponse:
		s := u.Settings
		v.Batch, v.Retries, v.Delay, v.VisMs = s.BatchSize, s.MaxRetries, s.RetryDelay, s.VisibilityTimeoutMs
	}
	return v
}

func TestQueuesConsumers(t *testing.T) {
	f := newQueuesClient(t, emulator.Options{})
	q := f.create("jobs")
	f.create("jobs-dlq")

	w := f.mustConsumer(q.QueueID, "worker", "job-runner", "jobs-dlq", nil)
	if diff := cmp.Diff(queuesConsumerView{Type: "worker", Script: "job-runner", DLQ: "jobs-dlq", QueueName: "jobs", Batch: 10, Retries: 3, Wait: 5000}, queuesViewConsumer(w)); diff != "" {
		t.Errorf("worker consumer defaults (-want +got):\n%s", diff)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(w.JSON.RawJSON()), &raw); err != nil || raw["script"] != "job-runner" || raw["queue_id"] != q.QueueID {
		t.Errorf("worker consumer must carry script (older clients) and queue_id: %s", w.JSON.RawJSON())
	}
	p := f.mustConsumer(q.QueueID, "http_pull", "", "", map[string]any{"batch_size": 20, "visibility_timeout_ms": 60000})
	if diff := cmp.Diff(queuesConsumerView{Type: "http_pull", QueueName: "jobs", Batch: 20, Retries: 3, VisMs: 60000}, queuesViewConsumer(p)); diff != "" {
		t.Errorf("http_pull consumer (-want +got):\n%s", diff)
	}

	// Older clients name the Worker "script"; it is accepted and answered under both names.
	legacyQ := f.create("legacy")
	var lb queues.ConsumerNewParamsBody
	setField(&lb.Type, queues.ConsumerNewParamsBodyTypeWorker)
	var lnp queues.ConsumerNewParams
	setField(&lnp.AccountID, queuesAccountID)
	lnp.Body = lb
	legacy, err := f.qs.Consumers.New(t.Context(), legacyQ.QueueID, lnp, option.WithJSONSet("script", "old-worker"))
	if err != nil || legacy.ScriptName != "old-worker" {
		t.Fatalf("consumer created with script: %+v, %v", legacy, err)
	}

	var lp queues.ConsumerListParams
	setField(&lp.AccountID, queuesAccountID)
	page, err := f.qs.Consumers.List(t.Context(), q.QueueID, lp)
	if err != nil || len(page.Result) != 2 || page.Result[0].ConsumerID != w.ConsumerID || page.Result[1].ConsumerID != p.ConsumerID {
		t.Fatalf("list consumers: %+v, %v", page, err)
	}
	var gp queues.ConsumerGetParams
	setField(&gp.AccountID, queuesAccountID)
	got, err := f.qs.Consumers.Get(t.Context(), q.QueueID, w.ConsumerID, gp)
	if err != nil || queuesViewConsumer(got) != queuesViewConsumer(w) {
		t.Fatalf("get consumer: %+v, %v", got, err)
	}

	// PUT replaces: the DLQ goes away and unnamed settings return to their defaults.
	var up queues.ConsumerUpdateParams
	setField(&up.AccountID, queuesAccountID)
	var ub queues.ConsumerUpdateParamsBodyMqWorkerConsumerRequest
	setField(&ub.Type, queues.ConsumerUpdateParamsBodyMqWorkerConsumerRequestTypeWorker)
	setField(&ub.ScriptName, "job-runner-v2")
	var us queues.ConsumerUpdateParamsBodyMqWorkerConsumerRequestSettings
	setField(&us.BatchSize, 50)
	setField(&us.MaxConcurrency, 4)
	setField(&ub.Settings, us)
	up.Body = ub
	updated, err := f.qs.Consumers.Update(t.Context(), q.QueueID, w.ConsumerID, up)
	if err != nil {
		t.Fatalf("update consumer: %v", err)
	}
	want := queuesConsumerView{Type: "worker", Script: "job-runner-v2", QueueName: "jobs", Batch: 50, Retries: 3, Wait: 5000, Concurrency: 4}
	if diff := cmp.Diff(want, queuesViewConsumer(updated)); diff != "" {
		t.Errorf("replaced consumer (-want +got):\n%s", diff)
	}
	if updated.ConsumerID != w.ConsumerID || !updated.CreatedOn.Equal(w.CreatedOn) {
		t.Errorf("PUT changed id or created_on: %v %v -> %v %v", w.ConsumerID, w.CreatedOn, updated.ConsumerID, updated.CreatedOn)
	}

	var dp queues.ConsumerDeleteParams
	setField(&dp.AccountID, queuesAccountID)
	if _, err := f.qs.Consumers.Delete(t.Context(), q.QueueID, p.ConsumerID, dp); err != nil {
		t.Fatalf("delete consumer: %v", err)
	}
	_, err = f.qs.Consumers.Get(t.Context(), q.QueueID, p.ConsumerID, gp)
	queuesWantErr(t, err, http.StatusNotFound, 11005)
}

// TestQueuesListEmbedsConsumers checks that one list call shows every consumer, in the
// same shape as the consumer endpoints.
func TestQueuesListEmbedsConsumers(t *testing.T) {
	f := newQueuesClient(t, emulator.Options{})
	q := f.create("events")
	f.create("events-dlq")
	c := f.mustConsumer(q.QueueID, "worker", "indexer", "events-dlq", map[string]any{"max_retries": 7, "max_concurrency": nil})
	var lp queues.QueueListParams
	setField(&lp.AccountID, queuesAccountID)
	page, err := f.qs.List(t.Context(), lp)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	var got []queuesConsumerView
	for _, lq := range page.Result {
		if lq.QueueID == q.QueueID {
			if lq.ConsumersTotalCount != 1 || len(lq.Consumers) != 1 || lq.Consumers[0].ConsumerID != c.ConsumerID {
				t.Fatalf("queue in list: %+v", lq)
			}
			got = append(got, queuesViewConsumer(&lq.Consumers[0]))
		}
	}
	want := []queuesConsumerView{{Type: "worker", Script: "indexer", DLQ: "events-dlq", QueueName: "events", Batch: 10, Retries: 7, Wait: 5000}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("embedded consumers (-want +got):\n%s", diff)
	}
}

func TestQueuesConsumerErrors(t *testing.T) {
	f := newQueuesClient(t, emulator.Options{})
	q := f.create("main")
	f.create("spare")
	f.mustConsumer(q.QueueID, "worker", "first", "", nil)
	tests := []struct {
		name, queueID, typ, script, dlq string
		settings                        map[string]any
		status                          int
		code                            int64
	}{
		{"unknown queue", strings.Repeat("f", 32), "worker", "w", "", nil, 404, 10104},
		{"malformed queue id", "main", "worker", "w", "", nil, 400, 10107},
		{"second worker consumer", q.QueueID, "worker", "second", "", nil, 400, 11001},
		{"missing dead letter queue", q.QueueID, "http_pull", "", "nowhere", nil, 400, 10207},
		{"dead letter queue is itself", q.QueueID, "http_pull", "", "main", nil, 400, 10207},
		{"worker without script", q.QueueID, "worker", "", "", nil, 400, 10207},
		{"unknown type", q.QueueID, "cron", "", "", nil, 400, 10207},
		{"batch_size 0", q.QueueID, "http_pull", "", "", map[string]any{"batch_size": 0}, 400, 10207},
		{"batch_size 101", q.QueueID, "http_pull", "", "", map[string]any{"batch_size": 101}, 400, 10207},
		{"max_retries 101", q.QueueID, "http_pull", "", "", map[string]any{"max_retries": 101}, 400, 10207},
		{"retry_delay above 24h", q.QueueID, "http_pull", "", "", map[string]any{"retry_delay": 86401}, 400, 10207},
		{"visibility above 12h", q.QueueID, "http_pull", "", "", map[string]any{"visibility_timeout_ms": 43200001}, 400, 10207},
		{"fractional batch_size", q.QueueID, "http_pull", "", "", map[string]any{"batch_size": 1.5}, 400, 10207},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.consumer(tt.queueID, tt.typ, tt.script, tt.dlq, tt.settings)
			queuesWantErr(t, err, tt.status, tt.code)
		})
	}
	spare := f.create("worker-q")
	_, err := f.consumer(spare.QueueID, "worker", "w", "", map[string]any{"max_concurrency": 251})
	queuesWantErr(t, err, 400, 10207)
}

// uploadWorker uploads a minimal module Worker (one index.js) as wrangler would.
func (f *queuesFixture) uploadWorker(name string) {
	f.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("metadata", `{"main_module":"index.js"}`)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="files"; filename="index.js"`)
	h.Set("Content-Type", "application/javascript+module")
	pw, _ := mw.CreatePart(h)
	_, _ = pw.Write([]byte("export default { async queue(batch) {} }"))
	_ = mw.Close()
	req, _ := http.NewRequest("PUT", f.url+"/client/v4/accounts/"+queuesAccountID+"/workers/scripts/"+name, &body)
	req.Header.Set("Authorization", "Bearer test-token")
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		f.t.Fatalf("upload %s: status %d", name, resp.StatusCode)
	}
}

// With RequireConsumerScripts, a worker consumer needs its Worker uploaded, on create and
// on replace; pull consumers name no Worker.
func TestQueuesConsumerRequiresScript(t *testing.T) {
	f := newQueuesClient(t, emulator.Options{RequireConsumerScripts: true})
	q := f.create("jobs")
	_, err := f.consumer(q.QueueID, "worker", "job-runner", "", nil)
	queuesWantErr(t, err, 400, 10007)
	f.uploadWorker("job-runner")
	c := f.mustConsumer(q.QueueID, "worker", "job-runner", "", nil)

	var up queues.ConsumerUpdateParams
	setField(&up.AccountID, queuesAccountID)
	var ub queues.ConsumerUpdateParamsBodyMqWorkerConsumerRequest
	setField(&ub.Type, queues.ConsumerUpdateParamsBodyMqWorkerConsumerRequestTypeWorker)
	setField(&ub.ScriptName, "job-runner-v2")
	up.Body = ub
	_, err = f.qs.Consumers.Update(t.Context(), q.QueueID, c.ConsumerID, up)
	queuesWantErr(t, err, 400, 10007)

	pull := f.create("pulled")
	f.mustConsumer(pull.QueueID, "http_pull", "", "", nil)
}

// TestQueuesDeleteWithDLQ: a queue in use as a dead letter queue cannot be deleted, and
// deleting a queue deletes its consumers (which releases the DLQ).
func TestQueuesDeleteWithDLQ(t *testing.T) {
	f := newQueuesClient(t, emulator.Options{})
	q := f.create("work")
	dlq := f.create("work-dlq")
	c := f.mustConsumer(q.QueueID, "http_pull", "", "work-dlq", nil)
	err := f.del(dlq.QueueID)
	queuesWantErr(t, err, 400, 11001)
	if !strings.Contains(err.Error(), c.ConsumerID) {
		t.Errorf("refusal should name the consumer %s: %v", c.ConsumerID, err)
	}
	if err := f.del(q.QueueID); err != nil {
		t.Fatalf("delete queue with consumer: %v", err)
	}
	if err := f.del(dlq.QueueID); err != nil {
		t.Fatalf("DLQ should be deletable once its user is gone: %v", err)
	}
}

func (f *queuesFixture) pushText(queueID, text string) {
	f.t.Helper()
	var b queues.MessagePushParamsBodyMqQueueMessageText
	setField(&b.Body, text)
	setField(&b.ContentType, queues.MessagePushParamsBodyMqQueueMessageTextContentTypeText)
	if err := f.push(queueID, b); err != nil {
		f.t.Fatalf("push %q: %v", text, err)
	}
}

func (f *queuesFixture) push(queueID string, body queues.MessagePushParamsBodyUnion) error {
	var p queues.MessagePushParams
	setField(&p.AccountID, queuesAccountID)
	p.Body = body
	_, err := f.qs.Messages.Push(f.t.Context(), queueID, p)
	return err
}

func (f *queuesFixture) batch(queueID string, msgs []queues.MessageBulkPushParamsMessageUnion, delay float64) error {
	var p queues.MessageBulkPushParams
	setField(&p.AccountID, queuesAccountID)
	setField(&p.Messages, msgs)
	if delay != 0 {
		setField(&p.DelaySeconds, delay)
	}
	_, err := f.qs.Messages.BulkPush(f.t.Context(), queueID, p)
	return err
}

// pull leases messages; batch and visibility 0 leave the consumer's settings in force.
func (f *queuesFixture) pull(queueID string, batch, visibilityMs float64) (*queues.MessagePullResponse, error) {
	var p queues.MessagePullParams
	setField(&p.AccountID, queuesAccountID)
	if batch != 0 {
		setField(&p.BatchSize, batch)
	}
	if visibilityMs != 0 {
		setField(&p.VisibilityTimeoutMs, visibilityMs)
	}
	return f.qs.Messages.Pull(f.t.Context(), queueID, p)
}

func (f *queuesFixture) mustPull(queueID string, batch, visibilityMs float64) *queues.MessagePullResponse {
	f.t.Helper()
	res, err := f.pull(queueID, batch, visibilityMs)
	if err != nil {
		f.t.Fatalf("pull: %v", err)
	}
	return res
}

// ack acknowledges acks and retries retries (lease id → delay seconds, <0 to omit).
func (f *queuesFixture) ack(queueID string, acks []string, retries map[string]float64) *queues.MessageAckResponse {
	f.t.Helper()
	var p queues.MessageAckParams
	setField(&p.AccountID, queuesAccountID)
	var as []queues.MessageAckParamsAck
	for _, id := range acks {
		var a queues.MessageAckParamsAck
		setField(&a.LeaseID, id)
		as = append(as, a)
	}
	var rs []queues.MessageAckParamsRetry
	for id, delay := range retries {
		var r queues.MessageAckParamsRetry
		setField(&r.LeaseID, id)
		if delay >= 0 {
			setField(&r.DelaySeconds, delay)
		}
		rs = append(rs, r)
	}
	setField(&p.Acks, as)
	setField(&p.Retries, rs)
	res, err := f.qs.Messages.Ack(f.t.Context(), queueID, p)
	if err != nil {
		f.t.Fatalf("ack: %v", err)
	}
	return res
}

// queuesPulledView is the comparable part of a pulled message.
type queuesPulledView struct {
	Body        string
	Attempts    float64
	ContentType any
}

func queuesViewPulled(res *queues.MessagePullResponse) []queuesPulledView {
	out := []queuesPulledView{}
	for _, m := range res.Messages {
		md, _ := m.Metadata.(map[string]any)
		out = append(out, queuesPulledView{m.Body, m.Attempts, md["CF-Content-Type"]})
	}
	return out
}

func queuesB64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// newPullQueue creates a queue with an http_pull consumer with the given settings.
func (f *queuesFixture) newPullQueue(name, dlq string, settings map[string]any) string {
	f.t.Helper()
	q := f.create(name)
	f.mustConsumer(q.QueueID, "http_pull", "", dlq, settings)
	return q.QueueID
}

func TestQueuesMessagesPushPullAck(t *testing.T) {
	f := newQueuesClient(t, emulator.Options{})
	qid := f.newPullQueue("inbox", "", nil)

	f.pushText(qid, "hello")
	var j queues.MessagePushParamsBodyMqQueueMessageJson
	setField(&j.Body, map[string]any{"n": 1})
	setField(&j.ContentType, queues.MessagePushParamsBodyMqQueueMessageJsonContentTypeJson)
	if err := f.push(qid, j); err != nil {
		t.Fatalf("push json: %v", err)
	}
	var t1, t2 queues.MessageBulkPushParamsMessagesMqQueueMessageText
	setField(&t1.Body, "b1")
	setField(&t1.ContentType, queues.MessageBulkPushParamsMessagesMqQueueMessageTextContentTypeText)
	setField(&t2.Body, "b2")
	setField(&t2.ContentType, queues.MessageBulkPushParamsMessagesMqQueueMessageTextContentTypeText)
	if err := f.batch(qid, []queues.MessageBulkPushParamsMessageUnion{t1, t2}, 0); err != nil {
		t.Fatalf("batch: %v", err)
	}

	var bin queues.MessagePushParamsBody
	setField(&bin.Body, queuesB64("\x00\xffbinary"))
	setField(&bin.ContentType, "bytes")
	if err := f.push(qid, bin); err != nil {
		t.Fatalf("push bytes: %v", err)
	}

	res := f.mustPull(qid, 10, 0)
	want := []queuesPulledView{{"hello", 1, "text"}, {queuesB64(`{"n":1}`), 1, "json"}, {"b1", 1, "text"}, {"b2", 1, "text"}, {queuesB64("\x00\xffbinary"), 1, "bytes"}}
	if diff := cmp.Diff(want, queuesViewPulled(res)); diff != "" {
		t.Fatalf("pulled (-want +got):\n%s", diff)
	}
	if res.MessageBacklogCount != 5 || res.Messages[0].LeaseID == "" || res.Messages[0].ID == "" || res.Messages[0].TimestampMs == 0 {
		t.Errorf("pull answer incomplete: backlog %v, first %+v", res.MessageBacklogCount, res.Messages[0])
	}
	if again := f.mustPull(qid, 10, 0); len(again.Messages) != 0 {
		t.Errorf("leased messages were delivered twice: %+v", queuesViewPulled(again))
	}

	lease := func(i int) string { return res.Messages[i].LeaseID }
	ack := f.ack(qid, []string{lease(0), lease(1), lease(4), "no-such-lease"}, map[string]float64{lease(2): 0})
	if ack.AckCount != 3 || ack.RetryCount != 1 || len(ack.Warnings) != 1 || ack.Warnings["no-such-lease"] == "" {
		t.Errorf("ack answer: %+v", ack)
	}
	res = f.mustPull(qid, 10, 0)
	if diff := cmp.Diff([]queuesPulledView{{"b1", 2, "text"}}, queuesViewPulled(res)); diff != "" {
		t.Errorf("after retry, only the retried message is visible (-want +got):\n%s", diff)
	}
	if res.MessageBacklogCount != 2 {
		t.Errorf("backlog after three acks = %v, want 2", res.MessageBacklogCount)
	}
}

func TestQueuesLeaseExpiry(t *testing.T) {
	f := newQueuesClient(t, emulator.Options{})
	qid := f.newPullQueue("leases", "", map[string]any{"visibility_timeout_ms": 1000})
	f.pushText(qid, "m")
	first := f.mustPull(qid, 0, 0)
	if len(first.Messages) != 1 {
		t.Fatalf("first pull: %+v", queuesViewPulled(first))
	}
	f.srv.Advance(900 * time.Millisecond) // margin for the real time the test takes
	if res := f.mustPull(qid, 0, 0); len(res.Messages) != 0 {
		t.Fatalf("message visible before its lease expired: %+v", queuesViewPulled(res))
	}
	f.srv.Advance(200 * time.Millisecond)
	second := f.mustPull(qid, 0, 5000)
	if diff := cmp.Diff([]queuesPulledView{{"m", 2, "text"}}, queuesViewPulled(second)); diff != "" {
		t.Fatalf("after lease expiry (-want +got):\n%s", diff)
	}
	if second.Messages[0].LeaseID == first.Messages[0].LeaseID {
		t.Errorf("a new delivery must carry a new lease id")
	}
	// The pull's own visibility timeout (5 s) governs this lease.
	f.srv.Advance(6 * time.Second)
	// An ack after the visibility timeout is still accepted (documented) while the
	// message has not been leased again.
	if ack := f.ack(qid, []string{second.Messages[0].LeaseID}, nil); ack.AckCount != 1 {
		t.Errorf("late ack: %+v", ack)
	}
	if res := f.mustPull(qid, 0, 0); len(res.Messages) != 0 || res.MessageBacklogCount != 0 {
		t.Errorf("acked message still there: %+v backlog %v", queuesViewPulled(res), res.MessageBacklogCount)
	}
}

func TestQueuesDeadLetter(t *testing.T) {
	f := newQueuesClient(t, emulator.Options{})
	dlq := f.newPullQueue("dead", "", nil)
	qid := f.newPullQueue("live", "dead", map[string]any{"max_retries": 1, "visibility_timeout_ms": 1000})

	// Explicit retries: attempt 1 and attempt 2 (the one retry allowed) fail.
	f.pushText(qid, "explicit")
	for attempt := 1; attempt <= 2; attempt++ {
		res := f.mustPull(qid, 0, 0)
		if len(res.Messages) != 1 || res.Messages[0].Attempts != float64(attempt) {
			t.Fatalf("attempt %d: %+v", attempt, queuesViewPulled(res))
		}
		f.ack(qid, nil, map[string]float64{res.Messages[0].LeaseID: -1})
	}
	// Lease expiry counts as a failed attempt too, settled when the clock moves.
	f.pushText(qid, "expired")
	for attempt := 1; attempt <= 2; attempt++ {
		if res := f.mustPull(qid, 0, 0); len(res.Messages) != 1 {
			t.Fatalf("expiry attempt %d: %+v", attempt, queuesViewPulled(res))
		}
		f.srv.Advance(2 * time.Second)
	}
	if res := f.mustPull(qid, 0, 0); len(res.Messages) != 0 || res.MessageBacklogCount != 0 {
		t.Errorf("source queue keeps dead messages: %+v backlog %v", queuesViewPulled(res), res.MessageBacklogCount)
	}
	got := f.mustPull(dlq, 10, 0)
	if diff := cmp.Diff([]queuesPulledView{{"explicit", 1, "text"}, {"expired", 1, "text"}}, queuesViewPulled(got)); diff != "" {
		t.Errorf("dead letter queue (-want +got):\n%s", diff)
	}

	// Without a DLQ, a message past max_retries is dropped.
	drop := f.newPullQueue("no-dlq", "", map[string]any{"max_retries": 0})
	f.pushText(drop, "gone")
	res := f.mustPull(drop, 0, 0)
	f.ack(drop, nil, map[string]float64{res.Messages[0].LeaseID: 0})
	if res := f.mustPull(drop, 0, 0); len(res.Messages) != 0 || res.MessageBacklogCount != 0 {
		t.Errorf("message past max_retries without DLQ still there: %+v", queuesViewPulled(res))
	}
}

func TestQueuesDelayAndPause(t *testing.T) {
	f := newQueuesClient(t, emulator.Options{})
	qid := f.newPullQueue("later", "", map[string]any{"retry_delay": 30})
	var m queues.MessagePushParamsBodyMqQueueMessageText
	setField(&m.Body, "delayed")
	setField(&m.ContentType, queues.MessagePushParamsBodyMqQueueMessageTextContentTypeText)
	setField(&m.DelaySeconds, 60)
	if err := f.push(qid, m); err != nil {
		t.Fatalf("push: %v", err)
	}
	if res := f.mustPull(qid, 0, 0); len(res.Messages) != 0 || res.MessageBacklogCount != 1 {
		t.Fatalf("delayed message visible early: %+v", queuesViewPulled(res))
	}
	f.srv.Advance(60 * time.Second)
	res := f.mustPull(qid, 0, 0)
	if len(res.Messages) != 1 {
		t.Fatalf("delayed message not visible after its delay: %+v", queuesViewPulled(res))
	}
	// A retry without delay_seconds waits the consumer's retry_delay.
	f.ack(qid, nil, map[string]float64{res.Messages[0].LeaseID: -1})
	f.srv.Advance(29 * time.Second)
	if res := f.mustPull(qid, 0, 0); len(res.Messages) != 0 {
		t.Fatalf("retried message visible before retry_delay: %+v", queuesViewPulled(res))
	}
	f.srv.Advance(time.Second)

	var patch queues.QueueParam
	var s queues.QueueSettingsParam
	setField(&s.DeliveryPaused, true)
	setField(&patch.Settings, s)
	if _, err := f.edit(qid, patch); err != nil {
		t.Fatalf("pause: %v", err)
	}
	f.pushText(qid, "while paused") // pushes are still accepted
	if res := f.mustPull(qid, 0, 0); len(res.Messages) != 0 || res.MessageBacklogCount != 2 {
		t.Fatalf("paused queue delivered: %+v backlog %v", queuesViewPulled(res), res.MessageBacklogCount)
	}
	setField(&s.DeliveryPaused, false)
	setField(&patch.Settings, s)
	if _, err := f.edit(qid, patch); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if diff := cmp.Diff([]queuesPulledView{{"delayed", 2, "text"}, {"while paused", 1, "text"}}, queuesViewPulled(f.mustPull(qid, 10, 0))); diff != "" {
		t.Errorf("after resume (-want +got):\n%s", diff)
	}
}

func TestQueuesPurge(t *testing.T) {
	f := newQueuesClient(t, emulator.Options{})
	qid := f.newPullQueue("purged", "", nil)
	var sp queues.PurgeStatusParams
	setField(&sp.AccountID, queuesAccountID)
	if st, err := f.qs.Purge.Status(t.Context(), qid, sp); err != nil || st.Completed != "false" || st.StartedAt != "" {
		t.Fatalf("status before any purge: %+v, %v", st, err)
	}
	f.pushText(qid, "a")
	f.pushText(qid, "b")

	var p queues.PurgeStartParams
	setField(&p.AccountID, queuesAccountID)
	_, err := f.qs.Purge.Start(t.Context(), qid, p)
	queuesWantErr(t, err, 400, 10207) // delete_messages_permanently must be true
	setField(&p.DeleteMessagesPermanently, true)
	q, err := f.qs.Purge.Start(t.Context(), qid, p)
	if err != nil || q.QueueID != qid {
		t.Fatalf("purge: %+v, %v", q, err)
	}
	st, err := f.qs.Purge.Status(t.Context(), qid, sp)
	if err != nil || st.Completed != "true" || st.StartedAt == "" {
		t.Fatalf("status after purge: %+v, %v", st, err)
	}
	if res := f.mustPull(qid, 0, 0); len(res.Messages) != 0 || res.MessageBacklogCount != 0 {
		t.Errorf("messages survived the purge: %+v", queuesViewPulled(res))
	}
	_, err = f.qs.Purge.Status(t.Context(), strings.Repeat("9", 32), sp)
	queuesWantErr(t, err, 404, 10104)
}

func TestQueuesMessageErrors(t *testing.T) {
	f := newQueuesClient(t, emulator.Options{})
	qid := f.newPullQueue("strict", "", nil)
	noPull := f.create("push-only").QueueID
	text := func(body string, delay float64) queues.MessageBulkPushParamsMessageUnion {
		var m queues.MessageBulkPushParamsMessagesMqQueueMessageText
		setField(&m.Body, body)
		setField(&m.ContentType, queues.MessageBulkPushParamsMessagesMqQueueMessageTextContentTypeText)
		if delay != 0 {
			setField(&m.DelaySeconds, delay)
		}
		return m
	}
	many := func(n, size int) []queues.MessageBulkPushParamsMessageUnion {
		out := make([]queues.MessageBulkPushParamsMessageUnion, n)
		for i := range out {
			out[i] = text(strings.Repeat("x", size), 0)
		}
		return out
	}
	var noType, badBytes queues.MessagePushParamsBody
	setField(&noType.Body, "x")
	setField(&badBytes.Body, "not base64!")
	setField(&badBytes.ContentType, "bytes")
	tests := []struct {
		name   string
		call   func() error
		status int
		code   int64
	}{
		{"101 messages", func() error { return f.batch(qid, many(101, 1), 0) }, 400, 10206},
		{"message over 128 KB", func() error { return f.batch(qid, many(1, 128000), 0) }, 400, 10204},
		{"batch over 256 KB", func() error { return f.batch(qid, many(3, 100000), 0) }, 400, 10205},
		{"message delay over 24 h", func() error { return f.batch(qid, []queues.MessageBulkPushParamsMessageUnion{text("x", 86401)}, 0) }, 400, 10203},
		{"batch delay over 24 h", func() error { return f.batch(qid, many(1, 1), 86401) }, 400, 10202},
		{"push without content_type", func() error { return f.push(qid, noType) }, 400, 10203},
		{"push bytes that are not base64", func() error { return f.push(qid, badBytes) }, 400, 10207},
		{"push to unknown queue", func() error { return f.batch(strings.Repeat("1", 32), many(1, 1), 0) }, 404, 10104},
		{"pull batch_size 101", func() error { _, err := f.pull(qid, 101, 0); return err }, 400, 10207},
		{"pull visibility over 12 h", func() error { _, err := f.pull(qid, 0, 43200001); return err }, 400, 10207},
		{"pull without http_pull consumer", func() error { _, err := f.pull(noPull, 0, 0); return err }, 400, 11004},
		{"pull malformed queue id", func() error { _, err := f.pull("xyz", 0, 0); return err }, 400, 10107},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			queuesWantErr(t, tt.call(), tt.status, tt.code)
		})
	}
	if res := f.mustPull(qid, 100, 0); len(res.Messages) != 0 {
		t.Errorf("rejected pushes enqueued messages: %d", len(res.Messages))
	}
	if err := f.batch(qid, many(100, 2000), 0); err != nil {
		t.Errorf("a batch at the limits (100 messages, 210 KB) must pass: %v", err)
	}
}

// TestQueuesPersisted: messages and leases are part of the persisted store, so a new
// emulator on the same data dir carries on where the first stopped.
func TestQueuesPersisted(t *testing.T) {
	dir := t.TempDir()
	before := newQueuesClient(t, emulator.Options{DataDir: dir})
	qid := before.newPullQueue("durable", "", nil)
	before.pushText(qid, "leased")
	before.pushText(qid, "waiting")
	leased := before.mustPull(qid, 1, 0)
	if len(leased.Messages) != 1 {
		t.Fatalf("pull: %+v", queuesViewPulled(leased))
	}

	after := newQueuesClient(t, emulator.Options{DataDir: dir})
	res := after.mustPull(qid, 10, 0)
	if diff := cmp.Diff([]queuesPulledView{{"waiting", 1, "text"}}, queuesViewPulled(res)); diff != "" {
		t.Errorf("after restart, only the unleased message is visible (-want +got):\n%s", diff)
	}
	if ack := after.ack(qid, []string{leased.Messages[0].LeaseID}, nil); ack.AckCount != 1 {
		t.Errorf("a lease from before the restart must still ack: %+v", ack)
	}
}

// TestQueuesDeliveryDelay: a message's own delay wins over the batch's, which wins over
// the queue's delivery_delay.
func TestQueuesDeliveryDelay(t *testing.T) {
	f := newQueuesClient(t, emulator.Options{})
	qid := f.newPullQueue("slow", "", nil)
	var patch queues.QueueParam
	var s queues.QueueSettingsParam
	setField(&s.DeliveryDelay, 10)
	setField(&patch.Settings, s)
	if _, err := f.edit(qid, patch); err != nil {
		t.Fatalf("set delivery_delay: %v", err)
	}
	f.pushText(qid, "queue-delay")
	var batchDelayed, own queues.MessageBulkPushParamsMessagesMqQueueMessageText
	setField(&batchDelayed.Body, "batch-delay")
	setField(&batchDelayed.ContentType, queues.MessageBulkPushParamsMessagesMqQueueMessageTextContentTypeText)
	setField(&own.Body, "own-delay")
	setField(&own.ContentType, queues.MessageBulkPushParamsMessagesMqQueueMessageTextContentTypeText)
	setField(&own.DelaySeconds, 0)
	if err := f.batch(qid, []queues.MessageBulkPushParamsMessageUnion{batchDelayed, own}, 5); err != nil {
		t.Fatalf("batch: %v", err)
	}
	for _, want := range []string{"own-delay", "batch-delay", "queue-delay"} {
		res := f.mustPull(qid, 10, 0)
		if diff := cmp.Diff([]queuesPulledView{{want, 1, "text"}}, queuesViewPulled(res)); diff != "" {
			t.Fatalf("pull (-want +got):\n%s", diff)
		}
		f.srv.Advance(5 * time.Second)
	}
}

// TestQueuesRetention: messages older than message_retention_period are dropped, leased
// or not.
func TestQueuesRetention(t *testing.T) {
	f := newQueuesClient(t, emulator.Options{})
	qid := f.newPullQueue("short-lived", "", nil)
	var patch queues.QueueParam
	var s queues.QueueSettingsParam
	setField(&s.MessageRetentionPeriod, 60)
	setField(&patch.Settings, s)
	if _, err := f.edit(qid, patch); err != nil {
		t.Fatalf("set retention: %v", err)
	}
	f.pushText(qid, "old")
	f.mustPull(qid, 0, 120000) // leased well past the retention period
	f.srv.Advance(30 * time.Second)
	f.pushText(qid, "young")
	f.srv.Advance(30 * time.Second)
	res := f.mustPull(qid, 10, 0)
	if diff := cmp.Diff([]queuesPulledView{{"young", 1, "text"}}, queuesViewPulled(res)); diff != "" || res.MessageBacklogCount != 1 {
		t.Errorf("after 60 s, backlog %v (-want +got):\n%s", res.MessageBacklogCount, diff)
	}
}
