package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cloudflare/cloudflare-go/v6/logpush"
)

// LogpushJob is an account-scoped Logpush job (cloudflare-api.md §11).
//
// DestinationConf holds R2 credentials: never log it. LogpushJob's String and GoString
// mask the secret-access-key, so %v, %+v and %#v print the job safely. The API may not
// return the secret either (the local Cloudflare masks it, as RedactDestinationConf
// does): a reader cannot compare secrets, only RedactDestinationConf of both sides, and
// must keep a hash of the secret it wrote to notice that it changed.
type LogpushJob struct {
	ID              int64
	Name            string
	Dataset         string // "workers_trace_events"
	Enabled         bool
	DestinationConf string // r2://bucket/path/{DATE}?account-id=…&access-key-id=…&secret-access-key=… (secret!)
	Filter          string // JSON filter, "" for none
	OutputType      string // output_options.output_type, e.g. "ndjson"; "" when unset
	FieldNames      []string
	// MaxUpload* are 0 for "no limit".
	MaxUploadIntervalSeconds int64
	MaxUploadBytes           int64
	MaxUploadRecords         int64
	LastError                string // read-only: the API's error_message, "" while the job is not failing
}

// secretMask replaces the secret-access-key in RedactDestinationConf; it is what the
// local Cloudflare answers in its place.
const secretMask = "REDACTED"

// RedactDestinationConf returns conf with the value of secret-access-key replaced by
// "REDACTED" and everything else as it is.
func RedactDestinationConf(conf string) string {
	base, query, ok := strings.Cut(conf, "?")
	if !ok {
		return conf
	}
	params := strings.Split(query, "&")
	for i, p := range params {
		if k, _, _ := strings.Cut(p, "="); k == "secret-access-key" {
			params[i] = k + "=" + secretMask
		}
	}
	return base + "?" + strings.Join(params, "&")
}

// logpushJobFields is LogpushJob without its methods, for printing.
type logpushJobFields LogpushJob

// Redacted returns a copy of j whose DestinationConf has its secret masked.
func (j LogpushJob) Redacted() LogpushJob {
	j.DestinationConf = RedactDestinationConf(j.DestinationConf)
	return j
}

// String prints j with its secret masked.
func (j LogpushJob) String() string {
	return fmt.Sprintf("%+v", logpushJobFields(j.Redacted()))
}

// GoString prints j with its secret masked.
func (j LogpushJob) GoString() string {
	s := fmt.Sprintf("%#v", logpushJobFields(j.Redacted()))
	return "cloudflare.LogpushJob" + strings.TrimPrefix(s, "cloudflare.logpushJobFields")
}

// ListLogpushJobs returns every Logpush job of the account, in one request (the list is
// not paginated).
func (c *Client) ListLogpushJobs(ctx context.Context) ([]LogpushJob, error) {
	var p logpush.JobListParams
	set(&p.AccountID, c.accountID)
	page, err := c.logpush.List(ctx, p)
	if err != nil {
		return nil, failed("list Logpush jobs", err)
	}
	out := make([]LogpushJob, 0, len(page.Result))
	for _, j := range page.Result {
		job, err := fromLogpushJob(j)
		if err != nil {
			return nil, fmt.Errorf("cannot list Logpush jobs: %w", err)
		}
		out = append(out, job)
	}
	return out, nil
}

// CreateLogpushJob creates a job and returns it as the API answers (with its ID). Like
// CreateQueue it is retried only on 429 and returns an *AmbiguousError when it cannot tell
// whether the job exists: job names are not unique, so the caller recognises its job by
// name and destination when it lists them.
func (c *Client) CreateLogpushJob(ctx context.Context, j LogpushJob) (LogpushJob, error) {
	var p logpush.JobNewParams
	set(&p.AccountID, c.accountID)
	set(&p.Dataset, logpush.JobNewParamsDataset(j.Dataset))
	set(&p.Name, j.Name)
	set(&p.Enabled, j.Enabled)
	set(&p.DestinationConf, j.DestinationConf)
	set(&p.Filter, j.Filter)
	set(&p.MaxUploadIntervalSeconds, logpush.JobNewParamsMaxUploadIntervalSeconds(j.MaxUploadIntervalSeconds))
	set(&p.MaxUploadBytes, logpush.JobNewParamsMaxUploadBytes(j.MaxUploadBytes))
	set(&p.MaxUploadRecords, logpush.JobNewParamsMaxUploadRecords(j.MaxUploadRecords))
	if oo, ok := outputOptions(j); ok {
		set(&p.OutputOptions, oo)
	}
	res, err := c.logpush.New(ctx, p)
	if err != nil {
		return LogpushJob{}, failedCreate(fmt.Sprintf("create Logpush job %q", j.Name), err)
	}
	out, err := fromLogpushJob(*res)
	if err != nil {
		return LogpushJob{}, fmt.Errorf("cannot create Logpush job %q: %w", j.Name, err)
	}
	return out, nil
}

// UpdateLogpushJob replaces the job j.ID with j (PUT): every field but the dataset, which
// cannot change, and LastError, which is read-only. output_options is replaced whole.
func (c *Client) UpdateLogpushJob(ctx context.Context, j LogpushJob) error {
	var p logpush.JobUpdateParams
	set(&p.AccountID, c.accountID)
	set(&p.Name, j.Name)
	set(&p.Enabled, j.Enabled)
	set(&p.DestinationConf, j.DestinationConf)
	set(&p.Filter, j.Filter)
	set(&p.MaxUploadIntervalSeconds, logpush.JobUpdateParamsMaxUploadIntervalSeconds(j.MaxUploadIntervalSeconds))
	set(&p.MaxUploadBytes, logpush.JobUpdateParamsMaxUploadBytes(j.MaxUploadBytes))
	set(&p.MaxUploadRecords, logpush.JobUpdateParamsMaxUploadRecords(j.MaxUploadRecords))
	oo, _ := outputOptions(j)
	set(&p.OutputOptions, oo) // {} when unset: the PUT clears output options
	if _, err := c.logpush.Update(ctx, j.ID, p); err != nil {
		return failed(fmt.Sprintf("update Logpush job %d (%q)", j.ID, j.Name), err)
	}
	return nil
}

// DeleteLogpushJob deletes a job. Deleting a job that is gone is an error for which
// IsNotFound is true; callers that delete idempotently treat it as success.
func (c *Client) DeleteLogpushJob(ctx context.Context, id int64) error {
	var p logpush.JobDeleteParams
	set(&p.AccountID, c.accountID)
	if _, err := c.logpush.Delete(ctx, id, p); err != nil {
		return failed(fmt.Sprintf("delete Logpush job %d", id), err)
	}
	return nil
}

// outputOptions builds output_options from j; ok is false when j sets none.
func outputOptions(j LogpushJob) (logpush.OutputOptionsParam, bool) {
	var oo logpush.OutputOptionsParam
	if j.OutputType != "" {
		set(&oo.OutputType, logpush.OutputOptionsOutputType(j.OutputType))
	}
	if len(j.FieldNames) > 0 {
		set(&oo.FieldNames, j.FieldNames)
	}
	return oo, j.OutputType != "" || len(j.FieldNames) > 0
}

// fromLogpushJob converts the SDK's job. The SDK's type has no filter field; it is read
// from the job's JSON.
func fromLogpushJob(j logpush.LogpushJob) (LogpushJob, error) {
	out := LogpushJob{
		ID:                       j.ID,
		Name:                     j.Name,
		Dataset:                  string(j.Dataset),
		Enabled:                  j.Enabled,
		DestinationConf:          j.DestinationConf,
		OutputType:               string(j.OutputOptions.OutputType),
		FieldNames:               j.OutputOptions.FieldNames,
		MaxUploadIntervalSeconds: int64(j.MaxUploadIntervalSeconds),
		MaxUploadBytes:           int64(j.MaxUploadBytes),
		MaxUploadRecords:         int64(j.MaxUploadRecords),
		LastError:                j.ErrorMessage,
	}
	if f, ok := j.JSON.ExtraFields["filter"]; ok && !f.IsNull() {
		if err := json.Unmarshal([]byte(f.Raw()), &out.Filter); err != nil {
			return LogpushJob{}, fmt.Errorf("job %d: filter is not a string: %w", j.ID, err)
		}
	}
	return out, nil
}
