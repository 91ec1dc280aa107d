package cloudflare

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/monotask/flareops/emulator"
)

const (
	logpushSecret = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
	logpushDest   = "r2://agent-logs/traces/{DATE}?account-id=" + rawTestAccount + "&access-key-id=AKIDLOGS&secret-access-key=" + logpushSecret
	routeLogpush  = "POST /client/v4/accounts/{account_id}/logpush/jobs"
)

func traceJob() LogpushJob {
	return LogpushJob{
		Name: "agent-traces", Dataset: "workers_trace_events", Enabled: true, DestinationConf: logpushDest,
		Filter:     `{"where":{"key":"ScriptName","operator":"eq","value":"agent"}}`,
		OutputType: "ndjson", FieldNames: []string{"EventTimestampMs", "Outcome", "ScriptName", "Logs"},
		MaxUploadIntervalSeconds: 30, MaxUploadBytes: 5_000_000, MaxUploadRecords: 1000,
	}
}

// traceJobIn is traceJob for the account a, into its bucket: named a.name(…), with the
// account's id, and live the S3 credentials of R2_ACCESS_KEY_ID and R2_SECRET_ACCESS_KEY
// (Cloudflare checks a destination by writing to it; the test skips without them). On
// the emulator it is traceJob itself.
func traceJobIn(t *testing.T, a *conformanceAccount, bucket string) LogpushJob {
	t.Helper()
	key, secret := "AKIDLOGS", logpushSecret
	if a.live() {
		cfg, err := R2ConfigFromEnv(os.Getenv, a.c.AccountID(), "a live Logpush job into R2")
		if err != nil {
			t.Skipf("skipped against the live account: %v", err)
		}
		key, secret = cfg.AccessKeyID, cfg.SecretAccessKey
	}
	j := traceJob()
	j.Name = a.name(j.Name)
	j.DestinationConf = "r2://" + bucket + "/traces/{DATE}?account-id=" + a.c.AccountID() + "&access-key-id=" + key + "&secret-access-key=" + secret
	return j
}

// TestConformanceLogpushJobLifecycle: create, list, update and delete a job, one request
// each; the secret of the destination is never read back, so writing back what was read
// is refused.
func TestConformanceLogpushJobLifecycle(t *testing.T) {
	a := newConformanceAccountConfig(t, emulator.Options{RateLimit: -1}, Config{MaxRetries: -1})
	c := a.c
	job := traceJobIn(t, a, a.bucket(t, "agent-logs"))
	ctx := context.Background()

	var created LogpushJob
	if n := countRequests(t, c, func() (err error) { created, err = c.CreateLogpushJob(ctx, job); return err }); n != 1 {
		t.Errorf("CreateLogpushJob sent %d requests, want 1", n)
	}
	if created.ID < 1 {
		t.Fatalf("created job has id %d", created.ID)
	}
	a.removeLogpushJob(t, created.ID)
	isOurs := func(j LogpushJob) bool { return j.ID == created.ID }
	want := job.Redacted() // the API does not return the secret
	want.ID = created.ID
	if diff := cmp.Diff(want, created); diff != "" {
		t.Errorf("create answer (-want +got):\n%s", diff)
	}

	var list []LogpushJob
	if n := countRequests(t, c, func() (err error) { list, err = c.ListLogpushJobs(ctx); return err }); n != 1 {
		t.Errorf("ListLogpushJobs sent %d requests, want 1", n)
	}
	list = mine(a, list, isOurs)
	if diff := cmp.Diff([]LogpushJob{want}, list); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	if len(list) == 0 {
		t.FailNow()
	}

	// A reader compares destinations without their secrets.
	if RedactDestinationConf(job.DestinationConf) != RedactDestinationConf(list[0].DestinationConf) {
		t.Errorf("redacted destinations differ: %q", list[0].DestinationConf)
	}

	// Writing back what was read is refused: the read destination holds no secret.
	err := c.UpdateLogpushJob(ctx, list[0])
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 400 || !ae.HasCode(1002) {
		t.Errorf("update with the masked destination: %v, want HTTP 400 code 1002", err)
	}

	update := job
	update.ID, update.Enabled, update.Filter = created.ID, false, ""
	update.OutputType, update.FieldNames = "", nil
	update.MaxUploadIntervalSeconds, update.MaxUploadBytes, update.MaxUploadRecords = 0, 0, 0
	if n := countRequests(t, c, func() error { return c.UpdateLogpushJob(ctx, update) }); n != 1 {
		t.Errorf("UpdateLogpushJob sent %d requests, want 1", n)
	}
	list, err = c.ListLogpushJobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]LogpushJob{update.Redacted()}, mine(a, list, isOurs), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("after update (-want +got):\n%s", diff)
	}

	if n := countRequests(t, c, func() error { return c.DeleteLogpushJob(ctx, created.ID) }); n != 1 {
		t.Errorf("DeleteLogpushJob sent %d requests, want 1", n)
	}
	err = c.DeleteLogpushJob(ctx, created.ID)
	if !IsNotFound(err) || !strings.Contains(err.Error(), fmt.Sprintf("cannot delete Logpush job %d", created.ID)) {
		t.Errorf("deleting again: %v, want IsNotFound naming the job", err)
	}
	if list, err := c.ListLogpushJobs(ctx); err != nil || list == nil || len(mine(a, list, isOurs)) != 0 {
		t.Errorf("after delete: %#v, %v; want an empty list", list, err)
	}
}

// TestConformanceLogpushJobErrorsHideTheSecret: a refused create names the job and not the
// secret of its destination.
func TestConformanceLogpushJobErrorsHideTheSecret(t *testing.T) {
	a := newConformanceAccountConfig(t, emulator.Options{RateLimit: -1}, Config{MaxRetries: -1})
	c := a.c
	ctx := context.Background()
	job := traceJob() // the bucket does not exist
	job.Name = a.name(job.Name)
	job.DestinationConf = strings.Replace(job.DestinationConf, "r2://agent-logs/", "r2://"+a.name("agent-logs")+"/", 1)
	job.DestinationConf = strings.Replace(job.DestinationConf, rawTestAccount, c.AccountID(), 1)
	created, err := c.CreateLogpushJob(ctx, job)
	if err == nil {
		a.removeLogpushJob(t, created.ID)
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 400 || MayHaveApplied(err) {
		t.Fatalf("create into a missing bucket: %v, want a definite HTTP 400", err)
	}
	if strings.Contains(err.Error(), logpushSecret) || !strings.Contains(err.Error(), fmt.Sprintf("cannot create Logpush job %q", job.Name)) {
		t.Errorf("error %q: want the operation named and no secret", err)
	}
}

func TestCreateLogpushJobIsNotRetriedBlindly(t *testing.T) {
	fastBackoff(t)
	c, srv, _ := emulatorClient(t, emulator.Options{RateLimit: -1}, Config{})
	if _, err := c.CreateR2Bucket(context.Background(), "agent-logs"); err != nil {
		t.Fatal(err)
	}
	srv.SetFaults(emulator.Faults{Routes: map[string]emulator.RouteFaults{routeLogpush: {DropRate: 1}}})
	_, err := c.CreateLogpushJob(context.Background(), traceJob())
	var amb *AmbiguousError
	if !errors.As(err, &amb) || !MayHaveApplied(err) {
		t.Fatalf("CreateLogpushJob = %v; want an *AmbiguousError", err)
	}
	if n := srv.Counts().ByRoute[routeLogpush]; n != 1 {
		t.Errorf("the create was sent %d times, want once", n)
	}
	srv.SetFaults(emulator.Faults{})
	jobs, err := c.ListLogpushJobs(context.Background())
	if err != nil || len(jobs) != 1 || jobs[0].Name != "agent-traces" {
		t.Errorf("after the lost answer: %v, %v; want the job, found by name", jobs, err)
	}
}

func TestLogpushJobPrintsNoSecret(t *testing.T) {
	j := traceJob()
	for _, s := range []string{
		fmt.Sprint(j), fmt.Sprintf("%v", j), fmt.Sprintf("%+v", j), fmt.Sprintf("%#v", j), fmt.Sprintf("%s", j),
		fmt.Sprintf("%v", &j), fmt.Sprintf("%+v", []LogpushJob{j}), fmt.Sprintf("%#v", []LogpushJob{j}),
		fmt.Sprintf("%v", map[string]LogpushJob{"a": j}),
	} {
		if strings.Contains(s, logpushSecret) || !strings.Contains(s, "secret-access-key=REDACTED") {
			t.Errorf("printed job %q: want the secret masked", s)
		}
	}
	if got := fmt.Sprintf("%#v", j); !strings.HasPrefix(got, "cloudflare.LogpushJob{") {
		t.Errorf("%%#v = %q, want it to name cloudflare.LogpushJob", got)
	}
	if j.DestinationConf != logpushDest {
		t.Errorf("printing changed the job")
	}
}

func TestRedactDestinationConf(t *testing.T) {
	tests := []struct{ in, want string }{
		{logpushDest, strings.Replace(logpushDest, logpushSecret, "REDACTED", 1)},
		{"r2://b/p?secret-access-key=s&account-id=a", "r2://b/p?secret-access-key=REDACTED&account-id=a"},
		{"r2://b/p", "r2://b/p"},
		{"https://logs.example.com/ingest?header_Authorization=x", "https://logs.example.com/ingest?header_Authorization=x"},
	}
	for _, tt := range tests {
		if got := RedactDestinationConf(tt.in); got != tt.want {
			t.Errorf("RedactDestinationConf(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
