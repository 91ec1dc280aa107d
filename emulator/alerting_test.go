package emulator_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudflare/cloudflare-go/v6/alerting"
	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/monotask/flareops/emulator"
)

const alertingAccount = "3333333333333333333333333333333c"

var alertingClock = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// alertingAcct sets the AccountID field of an SDK params struct and returns it.
func alertingAcct[T any](p T) T {
	f := reflect.ValueOf(&p).Elem().FieldByName("AccountID")
	f.FieldByName("Value").SetString(alertingAccount)
	f.FieldByName("Present").SetBool(true)
	return p
}

func alertingWantErr(t *testing.T, err error, status int, code int64) {
	t.Helper()
	var apiErr *alerting.Error
	if !errors.As(err, &apiErr) || len(apiErr.Errors) == 0 {
		t.Fatalf("want a Cloudflare API error, got %v", err)
	}
	if apiErr.StatusCode != status || apiErr.Errors[0].Code != code {
		t.Errorf("status %d code %d, want %d %d", apiErr.StatusCode, apiErr.Errors[0].Code, status, code)
	}
}

// alertingFixture holds the services and every response body the client received.
type alertingFixture struct {
	srv      *emulator.Server
	policies *alerting.PolicyService
	dests    *alerting.DestinationService
	alerts   *alerting.AvailableAlertService

	mu     sync.Mutex
	bodies []string
}

func newAlertingFixture(t *testing.T) *alertingFixture {
	t.Helper()
	srv, err := emulator.New(emulator.Options{RateLimit: -1, Now: func() time.Time { return alertingClock }})
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
	f := &alertingFixture{srv: srv}
	opts := []option.RequestOption{option.WithBaseURL(hs.URL + "/client/v4/"), option.WithAPIToken("test-token"),
		option.WithMaxRetries(0), option.WithMiddleware(f.record)}
	f.policies = alerting.NewPolicyService(opts...)
	f.dests = alerting.NewDestinationService(opts...)
	f.alerts = alerting.NewAvailableAlertService(opts...)
	return f
}

// record keeps a copy of every response body.
func (f *alertingFixture) record(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
	res, err := next(req)
	if err != nil {
		return res, err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(b))
	f.mu.Lock()
	f.bodies = append(f.bodies, string(b))
	f.mu.Unlock()
	return res, err
}

func (f *alertingFixture) webhook(t *testing.T, name, url, secret string) string {
	t.Helper()
	p := alertingAcct(alerting.DestinationWebhookNewParams{})
	setField(&p.Name, name)
	setField(&p.URL, url)
	if secret != "" {
		setField(&p.Secret, secret)
	}
	res, err := f.dests.Webhooks.New(context.Background(), p)
	if err != nil {
		t.Fatalf("create webhook %s: %v", name, err)
	}
	return res.ID
}

func TestAlertingAvailableAndEligible(t *testing.T) {
	f := newAlertingFixture(t)
	ctx := context.Background()
	avail, err := f.alerts.List(ctx, alertingAcct(alerting.AvailableAlertListParams{}))
	if err != nil {
		t.Fatalf("available alerts: %v", err)
	}
	found := map[string]string{}
	for group, items := range *avail {
		for _, it := range items {
			if _, dup := found[it.Type]; dup {
				t.Errorf("type %s listed twice", it.Type)
			}
			found[it.Type] = group
		}
	}
	for _, typ := range []string{"billing_usage_alert", "failing_logpush_job_disabled_alert", "pages_event_alert",
		"incident_alert", "maintenance_event_notification", "abuse_report_alert", "load_balancing_health_alert"} {
		if found[typ] == "" {
			t.Errorf("available_alerts lacks %s", typ)
		}
	}
	if len(found) != 69 {
		t.Errorf("available_alerts offers %d types, want the SDK enum's 69", len(found))
	}

	f.webhook(t, "ops", "https://example.com/hook", "")
	el, err := f.dests.Eligible.Get(ctx, alertingAcct(alerting.DestinationEligibleGetParams{}))
	if err != nil {
		t.Fatalf("eligible: %v", err)
	}
	got := map[string]bool{}
	for k, items := range *el {
		for _, it := range items {
			got[k+"/"+string(it.Type)] = it.Ready
		}
	}
	want := map[string]bool{"email/email": true, "pagerduty/pagerduty": false, "webhooks/webhook": true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("eligible (kind/type → ready) (-want +got):\n%s", diff)
	}
}

func TestAlertingWebhooks(t *testing.T) {
	f := newAlertingFixture(t)
	ctx := context.Background()
	const secret = "hunter2-very-secret"
	slack := f.webhook(t, "slack", "https://hooks.slack.com/services/T0/B0/xyz", "")
	generic := f.webhook(t, "pager-bridge", "https://alerts.example.com/cf", secret)

	list, err := f.dests.Webhooks.List(ctx, alertingAcct(alerting.DestinationWebhookListParams{}))
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	type view struct{ ID, Name, URL, Type string }
	var got []view
	for _, wh := range list.Result {
		got = append(got, view{wh.ID, wh.Name, wh.URL, string(wh.Type)})
	}
	want := []view{
		{slack, "slack", "https://hooks.slack.com/services/T0/B0/xyz", "slack"},
		{generic, "pager-bridge", "https://alerts.example.com/cf", "generic"},
	}
	byName := cmpopts.SortSlices(func(a, b view) bool { return a.Name < b.Name })
	if diff := cmp.Diff(want, got, byName); diff != "" {
		t.Errorf("webhooks (-want +got):\n%s", diff)
	}

	up := alertingAcct(alerting.DestinationWebhookUpdateParams{})
	setField(&up.Name, "bridge")
	setField(&up.URL, "https://alerts.example.com/cf2")
	if _, err := f.dests.Webhooks.Update(ctx, generic, up); err != nil {
		t.Fatalf("update: %v", err)
	}
	one, err := f.dests.Webhooks.Get(ctx, generic, alertingAcct(alerting.DestinationWebhookGetParams{}))
	if err != nil || one.Name != "bridge" || one.URL != "https://alerts.example.com/cf2" || !one.CreatedAt.Equal(alertingClock) {
		t.Errorf("get after update = %+v, %v", one, err)
	}
	for _, b := range f.bodies {
		if strings.Contains(b, secret) || strings.Contains(b, `"secret"`) {
			t.Errorf("a response carries the webhook secret: %s", b)
		}
	}

	del, err := f.dests.Webhooks.Delete(ctx, slack, alertingAcct(alerting.DestinationWebhookDeleteParams{}))
	if err != nil || !del.Success {
		t.Fatalf("delete = %+v, %v", del, err)
	}
	_, err = f.dests.Webhooks.Get(ctx, slack, alertingAcct(alerting.DestinationWebhookGetParams{}))
	alertingWantErr(t, err, http.StatusNotFound, 1003)
}

func TestAlertingWebhookErrors(t *testing.T) {
	f := newAlertingFixture(t)
	tests := []struct{ name, url string }{
		{"plain http", "http://alerts.example.com/cf"},
		{"not absolute", "alerts.example.com/cf"},
		{"private address", "https://10.0.0.1/cf"},
		{"other port", "https://alerts.example.com:8443/cf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := alertingAcct(alerting.DestinationWebhookNewParams{})
			setField(&p.Name, "x")
			setField(&p.URL, tt.url)
			_, err := f.dests.Webhooks.New(context.Background(), p)
			alertingWantErr(t, err, http.StatusBadRequest, 1002)
		})
	}
	t.Run("unknown id", func(t *testing.T) {
		up := alertingAcct(alerting.DestinationWebhookUpdateParams{})
		setField(&up.Name, "x")
		setField(&up.URL, "https://example.com")
		_, err := f.dests.Webhooks.Update(context.Background(), "00000000-0000-4000-8000-000000000000", up)
		alertingWantErr(t, err, http.StatusNotFound, 1003)
	})
}

// alertingPolicyParams builds a create body for billing usage alerts.
func alertingPolicyParams(name string, mech alerting.MechanismParam) alerting.PolicyNewParams {
	p := alertingAcct(alerting.PolicyNewParams{})
	setField(&p.Name, name)
	setField(&p.AlertType, alerting.PolicyNewParamsAlertTypeBillingUsageAlert)
	setField(&p.Enabled, true)
	setField(&p.Mechanisms, mech)
	var filters alerting.PolicyFilterParam
	setField(&filters.Product, []string{"worker_requests"})
	setField(&filters.Limit, []string{"1000000"})
	setField(&p.Filters, filters)
	return p
}

func alertingMech(emails, webhooks, pagerduty []string) alerting.MechanismParam {
	var m alerting.MechanismParam
	var e []alerting.MechanismEmailParam
	for _, id := range emails {
		var x alerting.MechanismEmailParam
		setField(&x.ID, id)
		e = append(e, x)
	}
	var w []alerting.MechanismWebhookParam
	for _, id := range webhooks {
		var x alerting.MechanismWebhookParam
		setField(&x.ID, id)
		w = append(w, x)
	}
	var pd []alerting.MechanismPagerdutyParam
	for _, id := range pagerduty {
		var x alerting.MechanismPagerdutyParam
		setField(&x.ID, id)
		pd = append(pd, x)
	}
	if e != nil {
		setField(&m.Email, e)
	}
	if w != nil {
		setField(&m.Webhooks, w)
	}
	if pd != nil {
		setField(&m.Pagerduty, pd)
	}
	return m
}

func TestAlertingPolicies(t *testing.T) {
	f := newAlertingFixture(t)
	ctx := context.Background()
	hook := f.webhook(t, "ops", "https://alerts.example.com/cf", "s")
	pd := f.srv.SeedPagerDuty("On-call")

	created, err := f.policies.New(ctx, alertingPolicyParams("usage", alertingMech([]string{"ops@example.com"}, []string{hook}, []string{pd})))
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	got, err := f.policies.Get(ctx, created.ID, alertingAcct(alerting.PolicyGetParams{}))
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	type view struct {
		Name, AlertType           string
		Enabled                   bool
		Product, Limit            []string
		Email, Webhooks, PagerDut []string
	}
	ids := func(n int, at func(int) string) []string {
		var out []string
		for i := 0; i < n; i++ {
			out = append(out, at(i))
		}
		return out
	}
	gotView := view{got.Name, string(got.AlertType), got.Enabled, got.Filters.Product, got.Filters.Limit,
		ids(len(got.Mechanisms.Email), func(i int) string { return got.Mechanisms.Email[i].ID }),
		ids(len(got.Mechanisms.Webhooks), func(i int) string { return got.Mechanisms.Webhooks[i].ID }),
		ids(len(got.Mechanisms.Pagerduty), func(i int) string { return got.Mechanisms.Pagerduty[i].ID })}
	want := view{"usage", "billing_usage_alert", true, []string{"worker_requests"}, []string{"1000000"},
		[]string{"ops@example.com"}, []string{hook}, []string{pd}}
	if diff := cmp.Diff(want, gotView); diff != "" {
		t.Errorf("policy (-want +got):\n%s", diff)
	}

	up := alertingAcct(alerting.PolicyUpdateParams{})
	setField(&up.Name, "usage-renamed")
	setField(&up.Enabled, false)
	if res, err := f.policies.Update(ctx, created.ID, up); err != nil || res.ID != created.ID {
		t.Fatalf("update = %+v, %v", res, err)
	}
	list, err := f.policies.List(ctx, alertingAcct(alerting.PolicyListParams{}))
	if err != nil || len(list.Result) != 1 || list.Result[0].Name != "usage-renamed" || list.Result[0].Enabled ||
		!cmp.Equal(list.Result[0].Filters.Product, []string{"worker_requests"}) {
		t.Fatalf("list after update = %+v, %v", list, err)
	}

	// A destination in use cannot be deleted.
	_, err = f.dests.Webhooks.Delete(ctx, hook, alertingAcct(alerting.DestinationWebhookDeleteParams{}))
	alertingWantErr(t, err, http.StatusBadRequest, 1002)

	del, err := f.policies.Delete(ctx, created.ID, alertingAcct(alerting.PolicyDeleteParams{}))
	if err != nil || !del.Success || del.ResultInfo.Count != 1 {
		t.Fatalf("delete = %+v, %v", del, err)
	}
	if !strings.Contains(del.JSON.RawJSON(), `"result_info"`) || strings.Contains(del.JSON.RawJSON(), `"result"`) {
		t.Errorf("delete answer = %s; want result_info and no result", del.JSON.RawJSON())
	}
	_, err = f.policies.Get(ctx, created.ID, alertingAcct(alerting.PolicyGetParams{}))
	alertingWantErr(t, err, http.StatusNotFound, 1003)
}

func TestAlertingPolicyErrors(t *testing.T) {
	f := newAlertingFixture(t)
	ctx := context.Background()
	email := alertingMech([]string{"ops@example.com"}, nil, nil)
	tests := []struct {
		name   string
		params alerting.PolicyNewParams
		opts   []option.RequestOption
	}{
		{name: "unknown alert_type", params: alertingPolicyParams("p", email),
			opts: []option.RequestOption{option.WithJSONSet("alert_type", "workers_cpu_alert")}},
		{name: "invalid email", params: alertingPolicyParams("p", alertingMech([]string{"not-an-address"}, nil, nil))},
		{name: "email with a display name", params: alertingPolicyParams("p", alertingMech([]string{"Ops <ops@example.com>"}, nil, nil))},
		{name: "unknown webhook", params: alertingPolicyParams("p", alertingMech(nil, []string{"00000000-0000-4000-8000-000000000000"}, nil))},
		{name: "unknown pagerduty", params: alertingPolicyParams("p", alertingMech(nil, nil, []string{"abc"}))},
		{name: "no destination", params: alertingPolicyParams("p", alerting.MechanismParam{})},
		{name: "filter not an array of strings", params: alertingPolicyParams("p", email),
			opts: []option.RequestOption{option.WithJSONSet("filters.product", "worker_requests")}},
		{name: "missing mechanisms", params: alertingPolicyParams("p", email),
			opts: []option.RequestOption{option.WithJSONDel("mechanisms")}},
		{name: "missing name", params: alertingPolicyParams("p", email),
			opts: []option.RequestOption{option.WithJSONDel("name")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.policies.New(ctx, tt.params, tt.opts...)
			alertingWantErr(t, err, http.StatusBadRequest, 1002)
		})
	}
	t.Run("unknown policy", func(t *testing.T) {
		_, err := f.policies.Update(ctx, "00000000-0000-4000-8000-000000000000", alertingAcct(alerting.PolicyUpdateParams{}))
		alertingWantErr(t, err, http.StatusNotFound, 1003)
	})
	list, err := f.policies.List(ctx, alertingAcct(alerting.PolicyListParams{}))
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(list.Result) != 0 {
		t.Errorf("rejected creates left %d policies: %s", len(list.Result), list.JSON.RawJSON())
	}
}

func TestAlertingPagerDuty(t *testing.T) {
	f := newAlertingFixture(t)
	ctx := context.Background()
	seeded := f.srv.SeedPagerDuty("Seeded")
	token, err := f.dests.Pagerduty.New(ctx, alertingAcct(alerting.DestinationPagerdutyNewParams{}))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	linked, err := f.dests.Pagerduty.Link(ctx, token.ID, alertingAcct(alerting.DestinationPagerdutyLinkParams{}))
	if err != nil {
		t.Fatalf("link: %v", err)
	}
	_, err = f.dests.Pagerduty.Link(ctx, token.ID, alertingAcct(alerting.DestinationPagerdutyLinkParams{}))
	alertingWantErr(t, err, http.StatusNotFound, 1003)

	list, err := f.dests.Pagerduty.Get(ctx, alertingAcct(alerting.DestinationPagerdutyGetParams{}))
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	got := map[string]string{}
	for _, p := range list.Result {
		got[p.ID] = p.Name
	}
	if diff := cmp.Diff(map[string]string{seeded: "Seeded", linked.ID: "PagerDuty"}, got); diff != "" {
		t.Errorf("pagerduty destinations (-want +got):\n%s", diff)
	}
	del, err := f.dests.Pagerduty.Delete(ctx, alertingAcct(alerting.DestinationPagerdutyDeleteParams{}))
	if err != nil || !del.Success {
		t.Fatalf("delete all = %+v, %v", del, err)
	}
	list, err = f.dests.Pagerduty.Get(ctx, alertingAcct(alerting.DestinationPagerdutyGetParams{}))
	if err != nil {
		t.Fatalf("list after delete all: %v", err)
	}
	if len(list.Result) != 0 {
		t.Errorf("after delete all: %s", list.JSON.RawJSON())
	}
}
