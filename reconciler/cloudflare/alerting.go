package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/cloudflare/cloudflare-go/v6/alerting"
	"github.com/cloudflare/cloudflare-go/v6/option"
)

// Notifications (alerting v3, cloudflare-api.md §4): notification policies, webhook
// destinations and the account's linked PagerDuty services. Every list is one request
// (the SDK's single-page lists).

// AlertPolicy is a notification policy. Filters are the API's own map of string arrays
// (the SDK's typed PolicyFilter knows only the filters of its generation, so flareops
// reads and writes the raw map). Email, Webhooks and PagerDuty are the mechanism ids:
// email addresses, webhook ids, PagerDuty destination ids.
type AlertPolicy struct {
	ID          string
	Name        string
	Description string
	Enabled     bool
	AlertType   string
	Filters     map[string][]string
	Email       []string
	Webhooks    []string
	PagerDuty   []string
}

// AlertWebhook is a webhook destination as the API returns it: never with its secret.
type AlertWebhook struct {
	ID, Name, URL string
	Type          string // derived by Cloudflare from the URL: slack, generic, ...
}

// PagerDutyService is a PagerDuty service linked to the account (linking is interactive:
// flareops only looks services up).
type PagerDutyService struct {
	ID, Name string
}

// ListAlertPolicies returns every notification policy of the account.
func (c *Client) ListAlertPolicies(ctx context.Context) ([]AlertPolicy, error) {
	var p alerting.PolicyListParams
	set(&p.AccountID, c.accountID)
	page, err := c.alertPolicies.List(ctx, p)
	if err != nil {
		return nil, failed("list notification policies", err)
	}
	out := make([]AlertPolicy, 0, len(page.Result))
	for _, r := range page.Result {
		ap, err := fromPolicy(r)
		if err != nil {
			return nil, fmt.Errorf("cannot list notification policies: %w", err)
		}
		out = append(out, ap)
	}
	return out, nil
}

func fromPolicy(r alerting.Policy) (AlertPolicy, error) {
	ap := AlertPolicy{ID: r.ID, Name: r.Name, Description: r.Description, Enabled: r.Enabled, AlertType: string(r.AlertType), Filters: map[string][]string{}}
	if raw := r.JSON.Filters.Raw(); raw != "" && raw != "null" {
		if err := json.Unmarshal([]byte(raw), &ap.Filters); err != nil {
			return ap, fmt.Errorf("policy %s: filters are not a map of string arrays: %w", r.ID, err)
		}
	}
	for _, m := range r.Mechanisms.Email {
		ap.Email = append(ap.Email, m.ID)
	}
	for _, m := range r.Mechanisms.Webhooks {
		ap.Webhooks = append(ap.Webhooks, m.ID)
	}
	for _, m := range r.Mechanisms.Pagerduty {
		ap.PagerDuty = append(ap.PagerDuty, m.ID)
	}
	return ap, nil
}

// mechanisms is the policy's mechanisms as the SDK sends them (every list present, so
// that an update replaces each one).
func (p AlertPolicy) mechanisms() alerting.MechanismParam {
	var m alerting.MechanismParam
	email := make([]alerting.MechanismEmailParam, 0, len(p.Email))
	for _, id := range p.Email {
		var e alerting.MechanismEmailParam
		set(&e.ID, id)
		email = append(email, e)
	}
	hooks := make([]alerting.MechanismWebhookParam, 0, len(p.Webhooks))
	for _, id := range p.Webhooks {
		var w alerting.MechanismWebhookParam
		set(&w.ID, id)
		hooks = append(hooks, w)
	}
	pd := make([]alerting.MechanismPagerdutyParam, 0, len(p.PagerDuty))
	for _, id := range p.PagerDuty {
		var d alerting.MechanismPagerdutyParam
		set(&d.ID, id)
		pd = append(pd, d)
	}
	set(&m.Email, email)
	set(&m.Webhooks, hooks)
	set(&m.Pagerduty, pd)
	return m
}

// filtersOption sends the filters as the raw map: the SDK's PolicyFilterParam has a fixed
// set of fields, and an alert type's filters are whatever available_alerts says.
func (p AlertPolicy) filtersOption() option.RequestOption {
	f := p.Filters
	if f == nil {
		f = map[string][]string{}
	}
	return option.WithJSONSet("filters", f)
}

// CreateAlertPolicy creates a policy and returns its id. Retried only on 429; an answer
// that is lost is an *AmbiguousError (the caller looks for the policy by name).
func (c *Client) CreateAlertPolicy(ctx context.Context, p AlertPolicy) (string, error) {
	var params alerting.PolicyNewParams
	set(&params.AccountID, c.accountID)
	set(&params.Name, p.Name)
	set(&params.Description, p.Description)
	set(&params.Enabled, p.Enabled)
	set(&params.AlertType, alerting.PolicyNewParamsAlertType(p.AlertType))
	set(&params.Mechanisms, p.mechanisms())
	res, err := c.alertPolicies.New(ctx, params, p.filtersOption())
	if err != nil {
		return "", failedCreate(fmt.Sprintf("create notification policy %q", p.Name), err)
	}
	return res.ID, nil
}

// UpdateAlertPolicy replaces the policy id with p (every field flareops manages is sent).
func (c *Client) UpdateAlertPolicy(ctx context.Context, id string, p AlertPolicy) error {
	var params alerting.PolicyUpdateParams
	set(&params.AccountID, c.accountID)
	set(&params.Name, p.Name)
	set(&params.Description, p.Description)
	set(&params.Enabled, p.Enabled)
	set(&params.AlertType, alerting.PolicyUpdateParamsAlertType(p.AlertType))
	set(&params.Mechanisms, p.mechanisms())
	if _, err := c.alertPolicies.Update(ctx, id, params, p.filtersOption()); err != nil {
		return failed(fmt.Sprintf("update notification policy %s (%q)", id, p.Name), err)
	}
	return nil
}

// DeleteAlertPolicy deletes a policy; IsNotFound is true of the error when it is gone.
func (c *Client) DeleteAlertPolicy(ctx context.Context, id string) error {
	var p alerting.PolicyDeleteParams
	set(&p.AccountID, c.accountID)
	if _, err := c.alertPolicies.Delete(ctx, id, p); err != nil {
		return failed("delete notification policy "+id, err)
	}
	return nil
}

// ListAlertWebhooks returns every webhook destination of the account.
func (c *Client) ListAlertWebhooks(ctx context.Context) ([]AlertWebhook, error) {
	var p alerting.DestinationWebhookListParams
	set(&p.AccountID, c.accountID)
	page, err := c.alertDests.Webhooks.List(ctx, p)
	if err != nil {
		return nil, failed("list webhook destinations", err)
	}
	out := make([]AlertWebhook, 0, len(page.Result))
	for _, w := range page.Result {
		out = append(out, AlertWebhook{ID: w.ID, Name: w.Name, URL: w.URL, Type: string(w.Type)})
	}
	return out, nil
}

// CreateAlertWebhook creates a webhook destination; secret "" sends none (Cloudflare then
// takes it from a Slack-style URL). The secret is never logged or returned.
func (c *Client) CreateAlertWebhook(ctx context.Context, name, url, secret string) (string, error) {
	var p alerting.DestinationWebhookNewParams
	set(&p.AccountID, c.accountID)
	set(&p.Name, name)
	set(&p.URL, url)
	if secret != "" {
		set(&p.Secret, secret)
	}
	res, err := c.alertDests.Webhooks.New(ctx, p)
	if err != nil {
		return "", failedCreate(fmt.Sprintf("create webhook destination %q", name), err)
	}
	return res.ID, nil
}

// UpdateAlertWebhook sets the name and URL of webhook id, and its secret unless secret is
// "" (an absent secret keeps the stored one).
func (c *Client) UpdateAlertWebhook(ctx context.Context, id, name, url, secret string) error {
	var p alerting.DestinationWebhookUpdateParams
	set(&p.AccountID, c.accountID)
	set(&p.Name, name)
	set(&p.URL, url)
	if secret != "" {
		set(&p.Secret, secret)
	}
	if _, err := c.alertDests.Webhooks.Update(ctx, id, p); err != nil {
		return failed(fmt.Sprintf("update webhook destination %s (%q)", id, name), err)
	}
	return nil
}

// DeleteAlertWebhook deletes a webhook destination; IsNotFound is true of the error when
// it is gone.
func (c *Client) DeleteAlertWebhook(ctx context.Context, id string) error {
	var p alerting.DestinationWebhookDeleteParams
	set(&p.AccountID, c.accountID)
	if _, err := c.alertDests.Webhooks.Delete(ctx, id, p); err != nil {
		return failed("delete webhook destination "+id, err)
	}
	return nil
}

// ListPagerDutyServices returns the PagerDuty services linked to the account.
func (c *Client) ListPagerDutyServices(ctx context.Context) ([]PagerDutyService, error) {
	var p alerting.DestinationPagerdutyGetParams
	set(&p.AccountID, c.accountID)
	page, err := c.alertDests.Pagerduty.Get(ctx, p)
	if err != nil {
		return nil, failed("list PagerDuty services", err)
	}
	out := make([]PagerDutyService, 0, len(page.Result))
	for _, s := range page.Result {
		out = append(out, PagerDutyService{ID: s.ID, Name: s.Name})
	}
	return out, nil
}

// AlertTypes returns the alert types the account may create policies for
// (available_alerts), sorted.
func (c *Client) AlertTypes(ctx context.Context) ([]string, error) {
	var p alerting.AvailableAlertListParams
	set(&p.AccountID, c.accountID)
	res, err := c.alertTypes.List(ctx, p)
	if err != nil {
		return nil, failed("list available alert types", err)
	}
	var out []string
	if res != nil {
		for _, items := range *res {
			for _, it := range items {
				out = append(out, it.Type)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}
