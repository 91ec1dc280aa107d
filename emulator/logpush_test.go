package emulator_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cloudflare/cloudflare-go/v6/logpush"
	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/r2"
	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/emulator"
)

const logpushAccount = "3333333333333333333333333333333c"

// logpushDest is an R2 destination in bucket "logs" with a fake secret.
const (
	logpushSecret = "5f2b3c8a9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809a1b"
	logpushDest   = "r2://logs/workers/{DATE}?account-id=" + logpushAccount + "&access-key-id=AKID123&secret-access-key=" + logpushSecret
)

type logpushFixture struct {
	jobs    *logpush.JobService
	buckets *r2.BucketService
}

func newLogpushFixture(t *testing.T, opts emulator.Options) *logpushFixture {
	t.Helper()
	opts.RateLimit = -1
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
	o := []option.RequestOption{option.WithBaseURL(hs.URL + "/client/v4/"), option.WithAPIToken("t"), option.WithMaxRetries(0)}
	return &logpushFixture{jobs: logpush.NewJobService(o...), buckets: r2.NewBucketService(o...)}
}

func (f *logpushFixture) bucket(t *testing.T, name string) {
	t.Helper()
	var p r2.BucketNewParams
	setField(&p.AccountID, logpushAccount)
	setField(&p.Name, name)
	if _, err := f.buckets.New(context.Background(), p); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
}

// logpushNew is a valid job body for workers_trace_events into bucket "logs".
func logpushNew() logpush.JobNewParams {
	var p logpush.JobNewParams
	setField(&p.AccountID, logpushAccount)
	setField(&p.Name, "agent-traces")
	setField(&p.Dataset, logpush.JobNewParamsDatasetWorkersTraceEvents)
	setField(&p.Enabled, true)
	setField(&p.DestinationConf, logpushDest)
	setField(&p.Filter, `{"where":{"and":[{"key":"ScriptName","operator":"eq","value":"agent"},{"key":"Outcome","operator":"!eq","value":"ok"}]}}`)
	setField(&p.MaxUploadIntervalSeconds, logpush.JobNewParamsMaxUploadIntervalSeconds(60))
	var oo logpush.OutputOptionsParam
	setField(&oo.OutputType, logpush.OutputOptionsOutputTypeNdjson)
	setField(&oo.FieldNames, []string{"EventTimestampMs", "Outcome", "ScriptName", "Logs"})
	setField(&p.OutputOptions, oo)
	return p
}

func logpushErr(t *testing.T, err error) (int, int64) {
	t.Helper()
	var apiErr *logpush.Error
	if !errors.As(err, &apiErr) || len(apiErr.Errors) == 0 {
		t.Fatalf("want a Cloudflare API error, got %v", err)
	}
	return apiErr.StatusCode, apiErr.Errors[0].Code
}

type logpushView struct {
	Name, Dataset, Destination, OutputType string
	Enabled                                bool
	Fields                                 []string
	Interval                               int64
}

func logpushSummarize(j *logpush.LogpushJob) logpushView {
	return logpushView{Name: j.Name, Dataset: string(j.Dataset), Destination: j.DestinationConf,
		OutputType: string(j.OutputOptions.OutputType), Enabled: j.Enabled, Fields: j.OutputOptions.FieldNames,
		Interval: int64(j.MaxUploadIntervalSeconds)}
}

func TestLogpushJobLifecycle(t *testing.T) {
	f := newLogpushFixture(t, emulator.Options{})
	f.bucket(t, "logs")
	ctx := context.Background()
	acct := func() logpush.JobGetParams {
		var p logpush.JobGetParams
		setField(&p.AccountID, logpushAccount)
		return p
	}

	created, err := f.jobs.New(ctx, logpushNew())
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	masked := strings.Replace(logpushDest, logpushSecret, "REDACTED", 1)
	want := logpushView{Name: "agent-traces", Dataset: "workers_trace_events", Destination: masked, OutputType: "ndjson",
		Enabled: true, Fields: []string{"EventTimestampMs", "Outcome", "ScriptName", "Logs"}, Interval: 60}
	if diff := cmp.Diff(want, logpushSummarize(created)); diff != "" {
		t.Errorf("create answer (-want +got):\n%s", diff)
	}
	if created.ID < 1 || strings.Contains(created.JSON.RawJSON(), logpushSecret) {
		t.Errorf("create answer: id %d; it must be positive and must not echo the secret: %s", created.ID, created.JSON.RawJSON())
	}

	var lp logpush.JobListParams
	setField(&lp.AccountID, logpushAccount)
	list, err := f.jobs.List(ctx, lp)
	if err != nil || len(list.Result) != 1 || list.Result[0].ID != created.ID {
		t.Fatalf("list = %+v, %v; want the one job", list, err)
	}
	got, err := f.jobs.Get(ctx, created.ID, acct())
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if diff := cmp.Diff(want, logpushSummarize(got)); diff != "" {
		t.Errorf("get (-want +got):\n%s", diff)
	}

	// PUT keeps absent fields and replaces output_options whole.
	var up logpush.JobUpdateParams
	setField(&up.AccountID, logpushAccount)
	setField(&up.Enabled, false)
	var oo logpush.OutputOptionsParam
	setField(&oo.FieldNames, []string{"ScriptName"})
	setField(&up.OutputOptions, oo)
	updated, err := f.jobs.Update(ctx, created.ID, up)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	want.Enabled, want.OutputType, want.Fields = false, "", []string{"ScriptName"}
	if diff := cmp.Diff(want, logpushSummarize(updated)); diff != "" {
		t.Errorf("after update (-want +got):\n%s", diff)
	}

	// Writing back the masked destination is refused: it is not a secret.
	var back logpush.JobUpdateParams
	setField(&back.AccountID, logpushAccount)
	setField(&back.DestinationConf, got.DestinationConf)
	_, err = f.jobs.Update(ctx, created.ID, back)
	if status, code := logpushErr(t, err); status != 400 || code != 1002 {
		t.Errorf("PUT with the masked destination: %d %d, want 400 1002", status, code)
	}
	_, err = f.jobs.Update(ctx, created.ID, up, option.WithJSONSet("dataset", "audit_logs"))
	if status, code := logpushErr(t, err); status != 400 || code != 1002 {
		t.Errorf("PUT changing the dataset: %d %d, want 400 1002", status, code)
	}

	var del logpush.JobDeleteParams
	setField(&del.AccountID, logpushAccount)
	res, err := f.jobs.Delete(ctx, created.ID, del)
	if err != nil || res.ID != created.ID {
		t.Fatalf("delete = %+v, %v", res, err)
	}
	_, err = f.jobs.Delete(ctx, created.ID, del)
	if status, code := logpushErr(t, err); status != 404 || code != 1003 {
		t.Errorf("delete again: %d %d, want 404 1003", status, code)
	}
	_, err = f.jobs.Get(ctx, created.ID, acct())
	if status, code := logpushErr(t, err); status != 404 || code != 1003 {
		t.Errorf("get after delete: %d %d, want 404 1003", status, code)
	}
}

func TestLogpushJobValidation(t *testing.T) {
	f := newLogpushFixture(t, emulator.Options{})
	f.bucket(t, "logs")
	dest := func(d string) func(*logpush.JobNewParams) {
		return func(p *logpush.JobNewParams) { setField(&p.DestinationConf, d) }
	}
	tests := []struct {
		name string
		mod  func(*logpush.JobNewParams)
	}{
		{"no dataset", func(p *logpush.JobNewParams) { p.Dataset.Present = false }},
		{"zone dataset", func(p *logpush.JobNewParams) { setField(&p.Dataset, logpush.JobNewParamsDatasetHTTPRequests) }},
		{"not R2", dest("s3://logs/x?region=us-east-1")},
		{"no secret", dest("r2://logs/x?account-id=" + logpushAccount + "&access-key-id=AKID123")},
		{"bad account-id", dest("r2://logs/x?account-id=nope&access-key-id=a&secret-access-key=s")},
		{"unknown parameter", dest(logpushDest + "&region=auto")},
		{"bad bucket name", dest("r2://Logs/x?account-id=" + logpushAccount + "&access-key-id=a&secret-access-key=s")},
		{"bucket missing", dest("r2://nope/x?account-id=" + logpushAccount + "&access-key-id=a&secret-access-key=s")},
		{"destination over 4096", dest(logpushDest + strings.Repeat("x", 4096))},
		{"name with a space", func(p *logpush.JobNewParams) { setField(&p.Name, "agent traces") }},
		{"max_upload_bytes below 5 MB", func(p *logpush.JobNewParams) {
			setField(&p.MaxUploadBytes, logpush.JobNewParamsMaxUploadBytes(1000))
		}},
		{"max_upload_interval_seconds 10", func(p *logpush.JobNewParams) {
			setField(&p.MaxUploadIntervalSeconds, logpush.JobNewParamsMaxUploadIntervalSeconds(10))
		}},
		{"max_upload_records above 1000000", func(p *logpush.JobNewParams) {
			setField(&p.MaxUploadRecords, logpush.JobNewParamsMaxUploadRecords(2_000_000))
		}},
		{"unknown output type", func(p *logpush.JobNewParams) {
			var oo logpush.OutputOptionsParam
			setField(&oo.OutputType, logpush.OutputOptionsOutputType("json"))
			setField(&p.OutputOptions, oo)
		}},
		{"unknown field name", func(p *logpush.JobNewParams) {
			var oo logpush.OutputOptionsParam
			setField(&oo.FieldNames, []string{"ClientIP"})
			setField(&p.OutputOptions, oo)
		}},
		{"filter not JSON", func(p *logpush.JobNewParams) { setField(&p.Filter, "ScriptName = agent") }},
		{"filter on an unknown field", func(p *logpush.JobNewParams) {
			setField(&p.Filter, `{"where":{"key":"ClientIP","operator":"eq","value":"1.1.1.1"}}`)
		}},
		{"filter with an unknown operator", func(p *logpush.JobNewParams) {
			setField(&p.Filter, `{"where":{"key":"Outcome","operator":"like","value":"ok"}}`)
		}},
		{"edge kind", func(p *logpush.JobNewParams) { setField(&p.Kind, logpush.JobNewParamsKindEdge) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := logpushNew()
			tt.mod(&p)
			_, err := f.jobs.New(context.Background(), p)
			status, code := logpushErr(t, err)
			if status != http.StatusBadRequest || code != 1002 {
				t.Errorf("status %d code %d, want 400 1002", status, code)
			}
			if strings.Contains(err.Error(), "AKID123") || strings.Contains(err.Error(), logpushSecret) {
				t.Errorf("the error quotes the destination: %v", err)
			}
		})
	}
	t.Run("five jobs for one dataset", func(t *testing.T) {
		for i := 0; i < 4; i++ {
			if _, err := f.jobs.New(context.Background(), logpushNew()); err != nil {
				t.Fatalf("job %d: %v", i+1, err)
			}
		}
		_, err := f.jobs.New(context.Background(), logpushNew())
		if status, code := logpushErr(t, err); status != 400 || code != 1004 {
			t.Errorf("fifth job: %d %d, want 400 1004", status, code)
		}
	})
}

func TestLogpushPersists(t *testing.T) {
	dir := t.TempDir()
	clock := func() time.Time { return workersClock }
	first := newLogpushFixture(t, emulator.Options{DataDir: dir, Now: clock})
	first.bucket(t, "logs")
	a, err := first.jobs.New(context.Background(), logpushNew())
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	second := newLogpushFixture(t, emulator.Options{DataDir: dir, Now: clock})
	var lp logpush.JobListParams
	setField(&lp.AccountID, logpushAccount)
	list, err := second.jobs.List(context.Background(), lp)
	if err != nil || len(list.Result) != 1 || list.Result[0].ID != a.ID || list.Result[0].Name != "agent-traces" {
		t.Fatalf("after reopening: %+v, %v; want job %d", list, err, a.ID)
	}
	b, err := second.jobs.New(context.Background(), logpushNew())
	if err != nil || b.ID <= a.ID {
		t.Errorf("second job: id %v, %v; want an id above %d", b, err, a.ID)
	}
}
