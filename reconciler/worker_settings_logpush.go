package reconciler

// The Logpush job of a worker_settings block: what a logpush block becomes (a job of the
// dataset workers_trace_events, named flareops-<script>, limited to the Worker's events,
// writing to an R2 destination) and how a job reads back.

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"

	"github.com/monotask/flareops/reconciler/cloudflare"
	"github.com/monotask/flareops/reconciler/workerset"
)

// LogpushAPI is what the worker_settings kind needs of Logpush; *cloudflare.Client
// implements it.
type LogpushAPI interface {
	ListLogpushJobs(ctx context.Context) ([]cloudflare.LogpushJob, error)
	CreateLogpushJob(ctx context.Context, j cloudflare.LogpushJob) (cloudflare.LogpushJob, error)
	UpdateLogpushJob(ctx context.Context, j cloudflare.LogpushJob) error
	DeleteLogpushJob(ctx context.Context, id int64) error
}

// traceEvents is the Logpush dataset of Workers' trace events (cloudflare-api.md §11).
const traceEvents = "workers_trace_events"

// logpushJobName is the name of the Logpush job of a Worker's settings. Cloudflare does
// not keep job names unique, so the name is how flareops finds its job again, also after
// a create whose answer was lost.
func logpushJobName(script string) string { return "flareops-" + script }

// findJob is the Worker's Logpush job: the trace events job of its name, the oldest if
// there are several.
func findJob(jobs []cloudflare.LogpushJob, script string) *cloudflare.LogpushJob {
	var found *cloudflare.LogpushJob
	for i, j := range jobs {
		if j.Name == logpushJobName(script) && j.Dataset == traceEvents && (found == nil || j.ID < found.ID) {
			found = &jobs[i]
		}
	}
	return found
}

// liveLogpush reads a job back into a LogpushSpec (without its secret).
func (k WorkerSettingsKind) liveLogpush(j cloudflare.LogpushJob, w workerset.Worker) LogpushSpec {
	l := LogpushSpec{Enabled: j.Enabled, MaxUploadInterval: j.MaxUploadIntervalSeconds, Filter: userFilter(w.Script, j.Filter)}
	d, ok := parseR2Destination(j.DestinationConf)
	switch {
	case !ok:
		l.Bucket = "(not an R2 destination)"
	case d.accountID != k.AccountID:
		l.Bucket, l.Path, l.AccessKeyID = d.bucket+" (in account "+d.accountID+")", d.path, d.accessKeyID
	default:
		l.Bucket, l.Path, l.AccessKeyID = d.bucket, d.path, d.accessKeyID
	}
	return l
}

// r2Destination is the parts of a destination_conf flareops writes.
type r2Destination struct {
	bucket, path, accountID, accessKeyID string
}

// destination is the job's destination_conf: r2://<bucket>/[<path>/]{DATE}?account-id=…
// &access-key-id=…&secret-access-key=… (cloudflare-api.md §11). It holds the secret:
// never print it.
func (k WorkerSettingsKind) destination(l LogpushSpec) string {
	loc := l.Bucket
	if l.Path != "" {
		loc += "/" + l.Path
	}
	q := "account-id=" + url.QueryEscape(k.AccountID) + "&access-key-id=" + url.QueryEscape(l.AccessKeyID) + "&secret-access-key=" + url.QueryEscape(l.SecretAccessKey)
	return "r2://" + loc + "/{DATE}?" + q
}

func parseR2Destination(conf string) (r2Destination, bool) {
	var d r2Destination
	rest, ok := strings.CutPrefix(conf, "r2://")
	if !ok {
		return d, false
	}
	loc, query, _ := strings.Cut(rest, "?")
	loc = strings.TrimSuffix(strings.TrimSuffix(loc, "{DATE}"), "/")
	d.bucket, d.path, _ = strings.Cut(loc, "/")
	q, err := url.ParseQuery(query)
	if err != nil {
		return d, false
	}
	d.accountID, d.accessKeyID = q.Get("account-id"), q.Get("access-key-id")
	return d, true
}

// scriptCondition keeps the events of one Worker: workers_trace_events is the account's
// dataset, so a job without it would push every Worker's events.
func scriptCondition(script string) map[string]any {
	return map[string]any{"key": "ScriptName", "operator": "eq", "value": script}
}

// jobFilter is the job's filter: the Worker's events, and those of them the declared
// filter (normalized, or "") keeps.
func jobFilter(script, user string) string {
	where := any(scriptCondition(script))
	if user != "" {
		var u map[string]any
		_ = json.Unmarshal([]byte(user), &u) // normalized by Build
		where = map[string]any{"and": []any{scriptCondition(script), u["where"]}}
	}
	b, _ := json.Marshal(map[string]any{"where": where})
	return string(b)
}

// userFilter is the declared part of a job's filter ("" for none). A filter that does not
// keep the Worker's events alone is shown as it is, marked, so that it differs from any
// declaration and the next apply sets it right.
func userFilter(script, f string) string {
	var m struct {
		Where map[string]any `json:"where"`
	}
	if json.Unmarshal([]byte(f), &m) == nil && m.Where != nil {
		cond, _ := json.Marshal(scriptCondition(script))
		if b, _ := json.Marshal(m.Where); string(b) == string(cond) {
			return ""
		}
		if and, ok := m.Where["and"].([]any); ok && len(and) == 2 && len(m.Where) == 1 {
			if b, _ := json.Marshal(and[0]); string(b) == string(cond) {
				rest, _ := json.Marshal(map[string]any{"where": and[1]})
				return string(rest)
			}
		}
	}
	return "(not limited to this Worker) " + f
}

// job is the Logpush job that pushes what l declares.
func (k WorkerSettingsKind) job(script string, l LogpushSpec) cloudflare.LogpushJob {
	return cloudflare.LogpushJob{
		Name: logpushJobName(script), Dataset: traceEvents, Enabled: l.Enabled,
		DestinationConf: k.destination(l), Filter: jobFilter(script, l.Filter),
		MaxUploadIntervalSeconds: l.MaxUploadInterval,
	}
}

// createJob creates the Worker's Logpush job, whose name was free just before. When the
// answer is lost, a job under that name now is the one this call made (the name was free,
// and the engine serializes the writes of one declaration), so it is not an error.
func (k WorkerSettingsKind) createJob(ctx context.Context, want WorkerSettingsSpec) error {
	_, err := k.Logpush.CreateLogpushJob(ctx, k.job(want.Script, *want.Logpush))
	if err == nil || !MayHaveApplied(err) {
		return err
	}
	jobs, lerr := k.Logpush.ListLogpushJobs(ctx)
	if lerr == nil && findJob(jobs, want.Script) != nil {
		return nil
	}
	return err
}

// sameLogpush compares what the job holds (the hash aside).
func sameLogpush(a, b LogpushSpec) bool {
	a.Credentials, b.Credentials = "", ""
	return a == b
}

func (k WorkerSettingsKind) deleteJob(ctx context.Context, id int64) error {
	if err := k.Logpush.DeleteLogpushJob(ctx, id); err != nil && !errors.Is(err, ErrNotFound) && !cloudflare.IsNotFound(err) {
		return err
	}
	return nil
}
