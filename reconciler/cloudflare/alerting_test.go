package cloudflare

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/emulator"
)

const webhookSecret = "whsec-7c1d2e3f4a5b"

// TestConformanceAlertingClient drives every alerting call through the SDK: one request
// per list, the raw filters map both ways, mechanisms of all three kinds, a secret that
// is accepted and never returned, and not-found errors. PagerDuty is emulator only (it
// seeds a service: linking one is interactive on Cloudflare); live, the policy has email
// and webhook mechanisms.
func TestConformanceAlertingClient(t *testing.T) {
	a := newConformanceAccountConfig(t, emulator.Options{RateLimit: -1}, Config{MaxRetries: -1})
	c, srv := a.c, a.srv
	ctx := context.Background()
	var pdID string
	if !a.live() {
		pdID = srv.SeedPagerDuty("monotask-oncall")
	}

	var services []PagerDutyService
	if n := countRequests(t, c, func() (err error) { services, err = c.ListPagerDutyServices(ctx); return err }); n != 1 {
		t.Errorf("ListPagerDutyServices sent %d requests, want 1", n)
	}
	if !a.live() {
		if diff := cmp.Diff([]PagerDutyService{{ID: pdID, Name: "monotask-oncall"}}, services); diff != "" {
			t.Errorf("PagerDuty services (-want +got):\n%s", diff)
		}
	}

	hookID, err := c.CreateAlertWebhook(ctx, a.name("slack"), "https://hooks.slack.com/services/T0/B0/x", webhookSecret)
	if err != nil {
		t.Fatal(err)
	}
	a.removeAlertWebhook(t, hookID)
	isHook := func(h AlertWebhook) bool { return h.ID == hookID }
	var hooks []AlertWebhook
	if n := countRequests(t, c, func() (err error) { hooks, err = c.ListAlertWebhooks(ctx); return err }); n != 1 {
		t.Errorf("ListAlertWebhooks sent %d requests, want 1", n)
	}
	want := []AlertWebhook{{ID: hookID, Name: a.name("slack"), URL: "https://hooks.slack.com/services/T0/B0/x", Type: "slack"}}
	if diff := cmp.Diff(want, mine(a, hooks, isHook)); diff != "" {
		t.Errorf("webhooks (-want +got):\n%s", diff)
	}
	if err := c.UpdateAlertWebhook(ctx, hookID, a.name("slack-ops"), "https://alerts.example.com/cf", ""); err != nil {
		t.Fatal(err)
	}
	hooks, err = c.ListAlertWebhooks(ctx)
	hooks = mine(a, hooks, isHook)
	if err != nil || len(hooks) != 1 || hooks[0].Name != a.name("slack-ops") || hooks[0].Type != "generic" {
		t.Errorf("after update: %+v, %v", hooks, err)
	}

	types, err := c.AlertTypes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !contains(types, "billing_usage_alert") || !contains(types, "incident_alert") {
		t.Errorf("alert types lack billing_usage_alert or incident_alert: %d types", len(types))
	}

	p := AlertPolicy{Name: a.name("flareops-usage"), Description: "managed by flareops", Enabled: true, AlertType: "billing_usage_alert",
		Filters: map[string][]string{"product": {"worker_requests"}, "limit": {"100000"}},
		Email:   []string{"ops@example.com"}, Webhooks: []string{hookID}, PagerDuty: []string{pdID}}
	if a.live() {
		p.PagerDuty = nil
	}
	id, err := c.CreateAlertPolicy(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	a.removeAlertPolicy(t, id)
	isPolicy := func(p AlertPolicy) bool { return p.ID == id }
	var policies []AlertPolicy
	if n := countRequests(t, c, func() (err error) { policies, err = c.ListAlertPolicies(ctx); return err }); n != 1 {
		t.Errorf("ListAlertPolicies sent %d requests, want 1", n)
	}
	p.ID = id
	if diff := cmp.Diff([]AlertPolicy{p}, mine(a, policies, isPolicy)); diff != "" {
		t.Errorf("policies (-want +got):\n%s", diff)
	}

	// An update replaces filters and mechanisms whole: a removed filter and destination go.
	p.Filters = map[string][]string{"product": {"worker_requests"}}
	p.Webhooks, p.PagerDuty = nil, nil
	if err := c.UpdateAlertPolicy(ctx, id, p); err != nil {
		t.Fatal(err)
	}
	policies, err = c.ListAlertPolicies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]AlertPolicy{p}, mine(a, policies, isPolicy)); diff != "" {
		t.Errorf("policies after update (-want +got):\n%s", diff)
	}

	// An unknown alert type is a definite refusal, not an ambiguous create.
	bad := p
	bad.AlertType = "no_such_alert"
	badID, err := c.CreateAlertPolicy(ctx, bad)
	if err == nil {
		a.removeAlertPolicy(t, badID)
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 400 || MayHaveApplied(err) {
		t.Errorf("unknown alert type: %v, want a definite HTTP 400", err)
	}

	// A webhook in use cannot be deleted; once the policy is gone it can, and then it is not found.
	if err := c.DeleteAlertPolicy(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteAlertPolicy(ctx, id); !IsNotFound(err) {
		t.Errorf("deleting a gone policy: %v, want not found", err)
	}
	if err := c.DeleteAlertWebhook(ctx, hookID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteAlertWebhook(ctx, hookID); !IsNotFound(err) {
		t.Errorf("deleting a gone webhook: %v, want not found", err)
	}
}

// TestConformanceAlertingWebhookSecretNeverReturned: the secret goes out in the create
// body and comes back in no answer.
func TestConformanceAlertingWebhookSecretNeverReturned(t *testing.T) {
	a := newConformanceAccountConfig(t, emulator.Options{RateLimit: -1}, Config{MaxRetries: -1})
	c := a.c
	ctx := context.Background()
	var answers strings.Builder
	id, err := c.CreateAlertWebhook(ctx, a.name("generic"), "https://alerts.example.com/hook", webhookSecret)
	if err != nil {
		t.Fatal(err)
	}
	a.removeAlertWebhook(t, id)
	for _, path := range []string{"webhooks", "webhooks/" + id} {
		body, err := c.Raw().DoRaw(ctx, "GET", "accounts/"+c.AccountID()+"/alerting/v3/destinations/"+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		answers.Write(body)
	}
	if strings.Contains(answers.String(), webhookSecret) || !strings.Contains(answers.String(), id) {
		t.Errorf("answers hold the secret, or not the webhook: %s", answers.String())
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
