package emulator_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/workers"
	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/emulator"
)

const workersAccount = "1111111111111111111111111111111a"

// workersClock is the emulator's fixed "now" in these tests.
var workersClock = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type (
	workersEdit     = workers.ScriptScriptAndVersionSettingEditParamsSettings
	workersBinding  = workers.ScriptScriptAndVersionSettingEditParamsSettingsBindingUnion
	workersBindAE   = workers.ScriptScriptAndVersionSettingEditParamsSettingsBindingsWorkersBindingKindAnalyticsEngine
	workersBindKV   = workers.ScriptScriptAndVersionSettingEditParamsSettingsBindingsWorkersBindingKindKVNamespace
	workersBindText = workers.ScriptScriptAndVersionSettingEditParamsSettingsBindingsWorkersBindingKindSecretText
)

// workersErr returns the HTTP status and first Cloudflare error code of an SDK error.
func workersErr(t *testing.T, err error) (int, int64) {
	t.Helper()
	var apiErr *workers.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("want a Cloudflare API error, got %v", err)
	}
	if len(apiErr.Errors) == 0 {
		t.Fatalf("API error without errors[]: %v", err)
	}
	return apiErr.StatusCode, apiErr.Errors[0].Code
}

func newWorkersFixture(t *testing.T) (*emulator.Server, *workers.ScriptService) {
	t.Helper()
	srv, err := emulator.New(emulator.Options{RateLimit: -1, Now: func() time.Time { return workersClock }})
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
	return srv, workers.NewScriptService(option.WithBaseURL(hs.URL+"/client/v4/"),
		option.WithAPIToken("test-token"), option.WithMaxRetries(0))
}

// workersFile is a module for upload: the SDK takes its part's file name and content type
// from these methods.
type workersFile struct {
	*strings.Reader
	name, contentType string
}

func (f workersFile) Filename() string    { return f.name }
func (f workersFile) ContentType() string { return f.contentType }

const workersIndexJS = "export default { async fetch(req) { return new Response('ok') }, async scheduled(ev) {} }"

// workersUpload uploads a module Worker whose entry point is index.js.
func workersUpload(t *testing.T, scripts *workers.ScriptService, name string, extra ...workersFile) (*workers.ScriptUpdateResponse, error) {
	t.Helper()
	var meta workers.ScriptUpdateParamsMetadata
	setField(&meta.MainModule, "index.js")
	setField(&meta.CompatibilityDate, "2026-01-15")
	files := []io.Reader{workersFile{strings.NewReader(workersIndexJS), "index.js", "application/javascript+module"}}
	for _, f := range extra {
		files = append(files, f)
	}
	var p workers.ScriptUpdateParams
	setField(&p.AccountID, workersAccount)
	setField(&p.Metadata, meta)
	setField(&p.Files, files)
	return scripts.Update(context.Background(), name, p)
}

// workersAcct sets the AccountID field of an SDK params struct and returns it.
func workersAcct[T any](p T) T {
	f := reflect.ValueOf(&p).Elem().FieldByName("AccountID")
	f.FieldByName("Value").SetString(workersAccount)
	f.FieldByName("Present").SetBool(true)
	return p
}

func TestWorkersScriptLifecycle(t *testing.T) {
	_, scripts := newWorkersFixture(t)
	ctx := context.Background()
	util := workersFile{strings.NewReader("export const x = 1"), "util.js", "application/javascript+module"}
	up, err := workersUpload(t, scripts, "api-worker", util)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	if up.ID != "api-worker" || !up.HasModules || !up.CreatedOn.Equal(workersClock) || up.Etag == "" {
		t.Errorf("upload answer = %+v", up)
	}
	if diff := cmp.Diff([]string{"fetch", "scheduled"}, up.Handlers); diff != "" {
		t.Errorf("handlers (-want +got):\n%s", diff)
	}

	page, err := scripts.List(ctx, workersAcct(workers.ScriptListParams{}))
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	var ids []string
	for _, s := range page.Result {
		ids = append(ids, s.ID)
	}
	if diff := cmp.Diff([]string{"api-worker"}, ids); diff != "" {
		t.Errorf("list ids (-want +got):\n%s", diff)
	}

	var raw *http.Response
	body, err := scripts.Get(ctx, "api-worker", workersAcct(workers.ScriptGetParams{}), option.WithResponseInto(&raw))
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	got := workersParseModules(t, raw.Header.Get("Content-Type"), *body)
	want := map[string]string{"index.js": workersIndexJS, "util.js": "export const x = 1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("downloaded modules (-want +got):\n%s", diff)
	}

	if _, err := scripts.Delete(ctx, "api-worker", workersAcct(workers.ScriptDeleteParams{})); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = scripts.Get(ctx, "api-worker", workersAcct(workers.ScriptGetParams{}))
	if status, code := workersErr(t, err); status != http.StatusNotFound || code != 10007 {
		t.Errorf("get after delete: status %d code %d, want 404 10007", status, code)
	}
}

// workersParseModules reads a multipart script download into file name → content.
func workersParseModules(t *testing.T, contentType, body string) map[string]string {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil || mediaType != "multipart/form-data" {
		t.Fatalf("module script download has Content-Type %q, want multipart/form-data", contentType)
	}
	out := map[string]string{}
	mr := multipart.NewReader(strings.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("read download: %v", err)
		}
		b, _ := io.ReadAll(p)
		out[p.FileName()] = string(b)
	}
}

func TestWorkersServiceWorkerDownloadIsRaw(t *testing.T) {
	_, scripts := newWorkersFixture(t)
	ctx := context.Background()
	const js = "addEventListener('fetch', e => e.respondWith(new Response('hi')))"
	var meta workers.ScriptUpdateParamsMetadata
	setField(&meta.BodyPart, "worker.js")
	var p workers.ScriptUpdateParams
	setField(&p.AccountID, workersAccount)
	setField(&p.Metadata, meta)
	setField(&p.Files, []io.Reader{workersFile{strings.NewReader(js), "worker.js", "application/javascript"}})
	if _, err := scripts.Update(ctx, "sw", p); err != nil {
		t.Fatalf("upload: %v", err)
	}
	body, err := scripts.Get(ctx, "sw", workersAcct(workers.ScriptGetParams{}))
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if *body != js {
		t.Errorf("download = %q, want the raw script %q", *body, js)
	}
}

func TestWorkersUploadErrors(t *testing.T) {
	_, scripts := newWorkersFixture(t)
	tests := []struct {
		name   string
		script string
		extra  []workersFile
	}{
		{name: "uppercase name", script: "Bad-Name"},
		{name: "name longer than 63", script: strings.Repeat("a", 64)},
		{name: "module uploaded twice", script: "ok", extra: []workersFile{{strings.NewReader("x"), "index.js", "application/javascript+module"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := workersUpload(t, scripts, tt.script, tt.extra...)
			if status, code := workersErr(t, err); status != http.StatusBadRequest || code != 10021 {
				t.Errorf("status %d code %d, want 400 10021", status, code)
			}
		})
	}
}

// workersEditSettings PATCHes /settings through the SDK.
func workersEditSettings(scripts *workers.ScriptService, name string, s workersEdit) (*workers.ScriptScriptAndVersionSettingEditResponse, error) {
	var p workers.ScriptScriptAndVersionSettingEditParams
	setField(&p.AccountID, workersAccount)
	setField(&p.Settings, s)
	return scripts.ScriptAndVersionSettings.Edit(context.Background(), name, p)
}

func workersAEBinding(name, dataset string) workersBinding {
	var b workersBindAE
	setField(&b.Name, name)
	setField(&b.Type, workers.ScriptScriptAndVersionSettingEditParamsSettingsBindingsWorkersBindingKindAnalyticsEngineTypeAnalyticsEngine)
	if dataset != "" {
		setField(&b.Dataset, dataset)
	}
	return b
}

func workersKVBinding(name, nsID string) workersBinding {
	var b workersBindKV
	setField(&b.Name, name)
	setField(&b.Type, workers.ScriptScriptAndVersionSettingEditParamsSettingsBindingsWorkersBindingKindKVNamespaceTypeKVNamespace)
	if nsID != "" {
		setField(&b.NamespaceID, nsID)
	}
	return b
}

// workersSecret is a secret_text binding; a nil text leaves the field out.
func workersSecret(name string, text *string) workersBinding {
	var b workersBindText
	setField(&b.Name, name)
	setField(&b.Type, workers.ScriptScriptAndVersionSettingEditParamsSettingsBindingsWorkersBindingKindSecretTextTypeSecretText)
	if text != nil {
		setField(&b.Text, *text)
	}
	return b
}

// workersInherit keeps the binding of that name from the current settings.
func workersInherit(name string) workersBinding {
	var b workers.ScriptScriptAndVersionSettingEditParamsSettingsBindingsWorkersBindingKindInherit
	setField(&b.Name, name)
	setField(&b.Type, workers.ScriptScriptAndVersionSettingEditParamsSettingsBindingsWorkersBindingKindInheritTypeInherit)
	return b
}

// workersObs is an observability edit with that head sampling rate.
func workersObs(rate float64) workersEdit {
	var o workers.ScriptScriptAndVersionSettingEditParamsSettingsObservability
	setField(&o.Enabled, true)
	setField(&o.HeadSamplingRate, rate)
	var e workersEdit
	setField(&e.Observability, o)
	return e
}

type workersBindingView struct{ Name, Type, Dataset, NamespaceID, Text string }

func TestWorkersSettingsMerge(t *testing.T) {
	_, scripts := newWorkersFixture(t)
	ctx := context.Background()
	if _, err := workersUpload(t, scripts, "agent"); err != nil {
		t.Fatalf("upload: %v", err)
	}
	fresh, err := scripts.ScriptAndVersionSettings.Get(ctx, "agent", workersAcct(workers.ScriptScriptAndVersionSettingGetParams{}))
	if err != nil {
		t.Fatalf("get settings: %v", err)
	}
	if !fresh.JSON.Limits.IsMissing() || fresh.UsageModel != "standard" || fresh.CompatibilityDate != "2026-01-15" {
		t.Errorf("fresh settings: limits %q, usage_model %q, compatibility_date %q; want limits absent, standard, 2026-01-15",
			fresh.JSON.Limits.Raw(), fresh.UsageModel, fresh.CompatibilityDate)
	}

	var secret workersBindText
	setField(&secret.Name, "TOKEN")
	setField(&secret.Type, workers.ScriptScriptAndVersionSettingEditParamsSettingsBindingsWorkersBindingKindSecretTextTypeSecretText)
	setField(&secret.Text, "s3cr3t")
	var edit workersEdit
	setField(&edit.Bindings, []workersBinding{workersAEBinding("METRICS", "agent_metrics"), workersKVBinding("OPS", "0123456789abcdef0123456789abcdef"), secret})
	var limits workers.ScriptScriptAndVersionSettingEditParamsSettingsLimits
	setField(&limits.CPUMs, int64(120_000))
	setField(&edit.Limits, limits)
	setField(&edit.Tags, []string{"team:agents"})
	if _, err := workersEditSettings(scripts, "agent", edit); err != nil {
		t.Fatalf("edit settings: %v", err)
	}

	// A PATCH with only logpush keeps every other field.
	var onlyLogpush workersEdit
	setField(&onlyLogpush.Logpush, true)
	got, err := workersEditSettings(scripts, "agent", onlyLogpush)
	if err != nil {
		t.Fatalf("edit logpush: %v", err)
	}
	var bindings []workersBindingView
	for _, b := range got.Bindings {
		bindings = append(bindings, workersBindingView{b.Name, string(b.Type), b.Dataset, b.NamespaceID, b.Text})
	}
	want := []workersBindingView{
		{Name: "METRICS", Type: "analytics_engine", Dataset: "agent_metrics"},
		{Name: "OPS", Type: "kv_namespace", NamespaceID: "0123456789abcdef0123456789abcdef"},
		{Name: "TOKEN", Type: "secret_text"}, // the secret text is never echoed
	}
	if diff := cmp.Diff(want, bindings); diff != "" {
		t.Errorf("bindings after merge (-want +got):\n%s", diff)
	}
	if strings.Contains(got.JSON.RawJSON(), "s3cr3t") {
		t.Errorf("settings answer echoes a secret_text value: %s", got.JSON.RawJSON())
	}
	if !got.Logpush || got.Limits.CPUMs != 120_000 || !cmp.Equal(got.Tags, []string{"team:agents"}) {
		t.Errorf("after merge: logpush %v cpu_ms %d tags %v", got.Logpush, got.Limits.CPUMs, got.Tags)
	}

	// /script-settings edits the same fields.
	var ss workers.ScriptSettingEditParams
	setField(&ss.AccountID, workersAccount)
	setField(&ss.ScriptSetting.Tags, []string{"team:ops"})
	if _, err := scripts.Settings.Edit(ctx, "agent", ss); err != nil {
		t.Fatalf("edit script-settings: %v", err)
	}
	after, err := scripts.ScriptAndVersionSettings.Get(ctx, "agent", workersAcct(workers.ScriptScriptAndVersionSettingGetParams{}))
	if err != nil {
		t.Fatalf("get settings: %v", err)
	}
	if !cmp.Equal(after.Tags, []string{"team:ops"}) || !after.Logpush || len(after.Bindings) != 3 {
		t.Errorf("after script-settings edit: tags %v logpush %v bindings %d", after.Tags, after.Logpush, len(after.Bindings))
	}
}

func TestWorkersSettingsErrors(t *testing.T) {
	_, scripts := newWorkersFixture(t)
	if _, err := workersUpload(t, scripts, "agent"); err != nil {
		t.Fatalf("upload: %v", err)
	}
	cpu := func(ms int64) workersEdit {
		var l workers.ScriptScriptAndVersionSettingEditParamsSettingsLimits
		setField(&l.CPUMs, ms)
		var e workersEdit
		setField(&e.Limits, l)
		return e
	}
	bindings := func(b ...workersBinding) workersEdit {
		var e workersEdit
		setField(&e.Bindings, b)
		return e
	}
	date := func(d string) workersEdit {
		var e workersEdit
		setField(&e.CompatibilityDate, d)
		return e
	}
	tests := []struct {
		name       string
		script     string
		edit       workersEdit
		wantStatus int
		wantCode   int64
	}{
		{"cpu_ms above 300000", "agent", cpu(500_000), 400, 10021},
		{"cpu_ms below 10", "agent", cpu(5), 400, 10021},
		{"duplicate binding names", "agent", bindings(workersAEBinding("M", "a"), workersKVBinding("M", "0123456789abcdef0123456789abcdef")), 400, 10021},
		{"analytics_engine without dataset", "agent", bindings(workersAEBinding("M", "")), 400, 10021},
		{"kv_namespace without namespace_id", "agent", bindings(workersKVBinding("OPS", "")), 400, 10021},
		{"compatibility_date in the future", "agent", date("2026-03-02"), 400, 10021},
		{"secret_text without text", "agent", bindings(workersSecret("TOKEN", nil)), 400, 10021},
		{"inherit of a binding that does not exist", "agent", bindings(workersInherit("TOKEN")), 400, 10021},
		{"head_sampling_rate above 1", "agent", workersObs(1.5), 400, 10021},
		{"head_sampling_rate below 0", "agent", workersObs(-0.1), 400, 10021},
		{"unknown script", "nope", cpu(50), 404, 10007},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := workersEditSettings(scripts, tt.script, tt.edit)
			if status, code := workersErr(t, err); status != tt.wantStatus || code != tt.wantCode {
				t.Errorf("status %d code %d, want %d %d", status, code, tt.wantStatus, tt.wantCode)
			}
		})
	}
	got, err := scripts.ScriptAndVersionSettings.Get(context.Background(), "agent", workersAcct(workers.ScriptScriptAndVersionSettingGetParams{}))
	if err != nil {
		t.Fatalf("get settings: %v", err)
	}
	if len(got.Bindings) != 0 || !got.JSON.Limits.IsMissing() {
		t.Errorf("rejected edits changed the settings: %s", got.JSON.RawJSON())
	}
}

func TestWorkersSettingsInheritKeepsSecret(t *testing.T) {
	srv, scripts := newWorkersFixture(t)
	if _, err := workersUpload(t, scripts, "agent"); err != nil {
		t.Fatalf("upload: %v", err)
	}
	text := "s3cr3t"
	var first workersEdit
	setField(&first.Bindings, []workersBinding{workersSecret("TOKEN", &text), workersKVBinding("OPS", "0123456789abcdef0123456789abcdef")})
	if _, err := workersEditSettings(scripts, "agent", first); err != nil {
		t.Fatalf("first edit: %v", err)
	}
	// The whole list is replaced: OPS goes, TOKEN is inherited, METRICS is new.
	var second workersEdit
	setField(&second.Bindings, []workersBinding{workersInherit("TOKEN"), workersAEBinding("METRICS", "agent_metrics")})
	got, err := workersEditSettings(scripts, "agent", second)
	if err != nil {
		t.Fatalf("second edit: %v", err)
	}
	var names []string
	for _, b := range got.Bindings {
		names = append(names, b.Name+":"+string(b.Type))
	}
	if diff := cmp.Diff([]string{"TOKEN:secret_text", "METRICS:analytics_engine"}, names); diff != "" {
		t.Errorf("bindings (-want +got):\n%s", diff)
	}
	if v, ok := srv.SecretText(workersAccount, "agent", "TOKEN"); !ok || v != text {
		t.Errorf("TOKEN after inherit = %q, %v; want %q", v, ok, text)
	}
}

// workersPutCrons replaces a script's cron triggers.
func workersPutCrons(scripts *workers.ScriptService, name string, crons ...string) (*workers.ScriptScheduleUpdateResponse, error) {
	p := workers.ScriptScheduleUpdateParams{Body: []workers.ScriptScheduleUpdateParamsBody{}}
	setField(&p.AccountID, workersAccount)
	for _, c := range crons {
		var b workers.ScriptScheduleUpdateParamsBody
		setField(&b.Cron, c)
		p.Body = append(p.Body, b)
	}
	return scripts.Schedules.Update(context.Background(), name, p)
}

func TestWorkersSchedules(t *testing.T) {
	_, scripts := newWorkersFixture(t)
	if _, err := workersUpload(t, scripts, "agent"); err != nil {
		t.Fatalf("upload: %v", err)
	}
	valid := []string{"*/30 * * * *", "0 18 * * friL", "10 7 * * mon-fri", "59 23 LW * *", "0 10 * * MON#2", "0 0 1 jan,jul *", "15 3 15W * 1-7"}
	if _, err := workersPutCrons(scripts, "agent", valid...); err != nil {
		t.Fatalf("put crons: %v", err)
	}
	got, err := scripts.Schedules.Get(context.Background(), "agent", workersAcct(workers.ScriptScheduleGetParams{}))
	if err != nil {
		t.Fatalf("get crons: %v", err)
	}
	var crons []string
	for _, s := range got.Schedules {
		crons = append(crons, s.Cron)
		if s.CreatedOn == "" || s.ModifiedOn == "" {
			t.Errorf("schedule %q lacks timestamps", s.Cron)
		}
	}
	if diff := cmp.Diff(valid, crons); diff != "" {
		t.Errorf("schedules (-want +got):\n%s", diff)
	}
	empty, err := workersPutCrons(scripts, "agent")
	if err != nil || len(empty.Schedules) != 0 {
		t.Errorf("PUT [] = %v, %v; want no schedules", empty, err)
	}
}

func TestWorkersScheduleErrors(t *testing.T) {
	_, scripts := newWorkersFixture(t)
	for _, name := range []string{"a", "b"} {
		if _, err := workersUpload(t, scripts, name); err != nil {
			t.Fatalf("upload %s: %v", name, err)
		}
	}
	tests := []struct {
		name, script, cron string
		wantStatus         int
		wantCode           int64
	}{
		{"six fields", "a", "0 */5 * * * *", 400, 10021},
		{"four fields", "a", "* * * *", 400, 10021},
		{"minute 60", "a", "60 * * * *", 400, 10021},
		{"hour 24", "a", "0 24 * * *", 400, 10021},
		{"weekday 0", "a", "0 0 * * 0", 400, 10021},
		{"question mark", "a", "0 0 ? * MON", 400, 10021},
		{"backwards range", "a", "0 0 * * 5-2", 400, 10021},
		{"zero step", "a", "*/0 * * * *", 400, 10021},
		{"L in minutes", "a", "L * * * *", 400, 10021},
		{"unknown script", "nope", "* * * * *", 404, 10007},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := workersPutCrons(scripts, tt.script, tt.cron)
			if status, code := workersErr(t, err); status != tt.wantStatus || code != tt.wantCode {
				t.Errorf("status %d code %d, want %d %d", status, code, tt.wantStatus, tt.wantCode)
			}
		})
	}
	t.Run("duplicate cron", func(t *testing.T) {
		_, err := workersPutCrons(scripts, "a", "* * * * *", "* * * * *")
		if status, code := workersErr(t, err); status != 400 || code != 10021 {
			t.Errorf("status %d code %d, want 400 10021", status, code)
		}
	})
	t.Run("more than 250 per account", func(t *testing.T) {
		var many []string
		for i := 0; i < 250; i++ {
			many = append(many, fmt.Sprintf("%d %d * * *", i%60, i/60))
		}
		if _, err := workersPutCrons(scripts, "a", many...); err != nil {
			t.Fatalf("250 crons on one script: %v", err)
		}
		_, err := workersPutCrons(scripts, "b", "* * * * *")
		if status, code := workersErr(t, err); status != 400 || code != 10072 {
			t.Errorf("251st cron: status %d code %d, want 400 10072", status, code)
		}
	})
}

// workersCronsOf returns a script's cron expressions.
func workersCronsOf(t *testing.T, scripts *workers.ScriptService, name string) []string {
	t.Helper()
	got, err := scripts.Schedules.Get(context.Background(), name, workersAcct(workers.ScriptScheduleGetParams{}))
	if err != nil {
		t.Fatalf("get crons of %s: %v", name, err)
	}
	out := []string{}
	for _, s := range got.Schedules {
		out = append(out, s.Cron)
	}
	return out
}

func TestWorkersCronLimit(t *testing.T) {
	dir := t.TempDir()
	open := func(limit int) *workers.ScriptService {
		srv, err := emulator.New(emulator.Options{DataDir: dir, CronLimit: limit, RateLimit: -1, Now: func() time.Time { return workersClock }})
		if err != nil {
			t.Fatalf("emulator.New: %v", err)
		}
		hs := httptest.NewServer(srv)
		t.Cleanup(func() { hs.Close(); srv.Close() })
		return workers.NewScriptService(option.WithBaseURL(hs.URL+"/client/v4/"), option.WithAPIToken("t"), option.WithMaxRetries(0))
	}
	free := open(5)
	for _, name := range []string{"a", "b"} {
		if _, err := workersUpload(t, free, name); err != nil {
			t.Fatalf("upload %s: %v", name, err)
		}
	}
	if _, err := workersPutCrons(free, "a", "0 * * * *", "1 * * * *", "2 * * * *"); err != nil {
		t.Fatalf("3 crons: %v", err)
	}
	if _, err := workersPutCrons(free, "b", "3 * * * *", "4 * * * *"); err != nil {
		t.Fatalf("5 crons in all: %v", err)
	}
	// Replacing a's list counts a's new list, not its old one on top of it.
	if _, err := workersPutCrons(free, "a", "5 * * * *", "6 * * * *", "7 * * * *"); err != nil {
		t.Errorf("replacing 3 crons with 3 others: %v", err)
	}
	_, err := workersPutCrons(free, "b", "3 * * * *", "4 * * * *", "8 * * * *")
	if status, code := workersErr(t, err); status != 400 || code != 10072 {
		t.Errorf("sixth cron: status %d code %d, want 400 10072", status, code)
	}
	if diff := cmp.Diff([]string{"3 * * * *", "4 * * * *"}, workersCronsOf(t, free, "b")); diff != "" {
		t.Errorf("a refused PUT changed the crons (-want +got):\n%s", diff)
	}

	// An account over its limit (the same store served with a lower limit) can change
	// no schedule, not even to remove one, as on Cloudflare.
	paid := open(0)
	if _, err := workersPutCrons(paid, "b", "3 * * * *", "4 * * * *", "8 * * * *"); err != nil {
		t.Fatalf("sixth cron under the default limit of 250: %v", err)
	}
	free = open(5)
	_, err = workersPutCrons(free, "b")
	if status, code := workersErr(t, err); status != 400 || code != 10072 {
		t.Errorf("removing crons while over the limit: status %d code %d, want 400 10072", status, code)
	}
	if got := workersCronsOf(t, free, "b"); len(got) != 3 {
		t.Errorf("a refused PUT changed the crons: %v", got)
	}
}
