package reconciler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// AlertDestinationKind is the `alert_destination` block: where alerts go. Its three forms
// are three different things in Cloudflare:
//
//   - email: no object at all. An address is a mechanism inside each notification policy
//     ({"email":[{"id":"ops@example.com"}]}). The destination is recorded in flareops's
//     state only: a managed email destination always exists and reads back as its state
//     says (its spec last applied), so a second plan is empty; changing the address
//     replaces it (its id changes), and the rules that send to it update.
//   - webhook: a webhook destination named after the block, whose secret Cloudflare
//     never returns. The state keeps the secret's SHA-256 only (SecretHash): an unchanged
//     secret reads back as the declared one, a changed one is an update.
//   - pagerduty: an existing PagerDuty service linked to the account, by name. flareops
//     never creates, links or deletes one; a missing one is a plan error naming it.
//
// The id of a destination (what rules refer to, `[flareops_alert_destination.x.id]` in
// Terraform) says which mechanism it is: "email:<address>", "webhook:<name>",
// "pagerduty:<service name>".
type AlertDestinationKind struct {
	API AlertingAPI
	run *alertingRun
}

// AlertingAPI is what the alerting kinds need of Cloudflare's Notifications API;
// *cloudflare.Client implements it.
type AlertingAPI interface {
	ListAlertPolicies(ctx context.Context) ([]cloudflare.AlertPolicy, error)
	CreateAlertPolicy(ctx context.Context, p cloudflare.AlertPolicy) (string, error)
	UpdateAlertPolicy(ctx context.Context, id string, p cloudflare.AlertPolicy) error
	DeleteAlertPolicy(ctx context.Context, id string) error
	ListAlertWebhooks(ctx context.Context) ([]cloudflare.AlertWebhook, error)
	CreateAlertWebhook(ctx context.Context, name, url, secret string) (string, error)
	UpdateAlertWebhook(ctx context.Context, id, name, url, secret string) error
	DeleteAlertWebhook(ctx context.Context, id string) error
	ListPagerDutyServices(ctx context.Context) ([]cloudflare.PagerDutyService, error)
	AlertTypes(ctx context.Context) ([]string, error)
}

// alertingRun is what the alerting kinds share during one run: the webhook and PagerDuty
// lists (one request each serves every destination and rule; writes drop them).
type alertingRun struct {
	mu       sync.Mutex
	webhooks []cloudflare.AlertWebhook
	services []cloudflare.PagerDutyService
	types    []string
	hooksOK  bool
	pdOK     bool
}

func newAlertingRun() *alertingRun { return &alertingRun{} }

func (r *alertingRun) listWebhooks(ctx context.Context, api AlertingAPI) ([]cloudflare.AlertWebhook, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.hooksOK {
		w, err := api.ListAlertWebhooks(ctx)
		if err != nil {
			return nil, err
		}
		r.webhooks, r.hooksOK = w, true
	}
	return r.webhooks, nil
}

func (r *alertingRun) listServices(ctx context.Context, api AlertingAPI) ([]cloudflare.PagerDutyService, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.pdOK {
		s, err := api.ListPagerDutyServices(ctx)
		if err != nil {
			return nil, err
		}
		r.services, r.pdOK = s, true
	}
	return r.services, nil
}

func (r *alertingRun) forgetWebhooks() {
	r.mu.Lock()
	r.hooksOK = false
	r.mu.Unlock()
}

// AlertDestinationSpec is the normalized, comparable form of a destination.
type AlertDestinationSpec struct {
	Name      string              `diff:"name"`
	Email     string              `diff:"email,omitzero"`
	PagerDuty string              `diff:"pagerduty,omitzero"`
	Webhook   *AlertWebhookTarget `diff:"webhook"`
}

// AlertWebhookTarget is a webhook destination. Secret is sensitive: it is emptied before
// the spec reaches the state or a plan, and SecretHash (hidden from the diff) is what the
// state keeps to tell an unchanged secret from a new one.
type AlertWebhookTarget struct {
	URL        string `diff:"url"`
	Secret     string `diff:"secret,sensitive"`
	SecretHash string `diff:"-"`
}

var destinationNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

const destinationNameRule = "1 to 64 letters, digits, `_`, `.` and `-`, starting with a letter or digit"

var alertDestinationSchema = BlockSchema{
	Attrs: []Attr{
		{Name: "name", Type: String, LabelDefault: true, ForceNew: true, MaxLen: 64, Pattern: destinationNameRE, PatternText: destinationNameRule,
			Description: "Name of the destination: " + destinationNameRule + ". A webhook destination has this name in Cloudflare. Default: the block's label."},
		{Name: "email", Type: String, ForceNew: true, MaxLen: 254,
			Description: "An email address: alerts are mailed there. Cloudflare has no object for it (an address is part of each notification policy), so flareops records it in its state only. Set exactly one of `email`, `webhook` and `pagerduty`."},
		{Name: "pagerduty", Type: String, ForceNew: true, MaxLen: 256,
			Description: "Name of an existing PagerDuty service linked to the account (Notifications > Destinations in the dashboard). flareops never creates, links or deletes a service; one that is missing fails the plan."},
	},
	Blocks: []NestedBlock{{
		Name: "webhook", MaxItems: 1,
		Description: "A webhook destination (Slack, or any HTTPS endpoint) that flareops creates and names after the destination.",
		Schema: BlockSchema{Attrs: []Attr{
			{Name: "url", Type: String, Required: true, MaxLen: 2048,
				Description: "The HTTPS URL alerts are POSTed to, e.g. a Slack incoming-webhook URL."},
			{Name: "secret", Type: String, Sensitive: true, MaxLen: 1024,
				Description: "Sent by Cloudflare in the `cf-webhook-auth` header of each delivery. Sensitive: give it from a variable; it is never printed, never read back (Cloudflare does not return it) and never stored by flareops in clear (only its SHA-256, to notice that it changed)."},
		}},
	}},
}

func (AlertDestinationKind) Name() string        { return "alert_destination" }
func (AlertDestinationKind) KeyAttr() string     { return "name" }
func (AlertDestinationKind) Schema() BlockSchema { return alertDestinationSchema }

// Build checks that exactly one form is set, the address, and the URL.
func (AlertDestinationKind) Build(v Values) (Object, error) {
	spec := AlertDestinationSpec{Name: v.str("name"), Email: v.str("email"), PagerDuty: v.str("pagerduty")}
	for _, wv := range v.blocks("webhook") {
		spec.Webhook = &AlertWebhookTarget{URL: wv.str("url"), Secret: wv.str("secret")}
		spec.Webhook.SecretHash = webhookSecretHash(spec.Webhook.Secret)
	}
	n := 0
	for _, set := range []bool{spec.Email != "", spec.PagerDuty != "", spec.Webhook != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return Object{}, fmt.Errorf("set exactly one of email, webhook and pagerduty (this destination sets %d)", n)
	}
	if spec.Email != "" {
		a, err := mail.ParseAddress(spec.Email)
		if err != nil || a.Address != spec.Email {
			return Object{}, fmt.Errorf("email: %q is not an email address; write it alone, e.g. \"ops@example.com\"", spec.Email)
		}
	}
	if w := spec.Webhook; w != nil {
		u, err := url.Parse(w.URL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return Object{}, errors.New("webhook.url must be an https:// URL (Cloudflare delivers to public HTTPS endpoints; a secret must not travel in clear)")
		}
		if u.User != nil {
			return Object{}, errors.New("webhook.url must not carry credentials: give them as webhook.secret")
		}
	}
	return Object{Key: spec.Name, Spec: spec}, nil
}

// RefName is what rules refer to a destination by: its id.
func (k AlertDestinationKind) RefName(v Values) string {
	obj, err := k.Build(v)
	if err != nil {
		return ""
	}
	return obj.Spec.(AlertDestinationSpec).ref()
}

// ref is the destination's id: "email:<address>", "webhook:<name>", "pagerduty:<service>".
func (s AlertDestinationSpec) ref() string {
	switch {
	case s.Email != "":
		return "email:" + s.Email
	case s.PagerDuty != "":
		return "pagerduty:" + s.PagerDuty
	}
	return "webhook:" + s.Name
}

// webhookSecretHash is what the state keeps of a webhook secret: "" for none.
func webhookSecretHash(secret string) string {
	if secret == "" {
		return ""
	}
	h := sha256.Sum256([]byte("flareops webhook secret\x00" + secret))
	return hex.EncodeToString(h[:])
}

// Flatten turns a spec back into block values (a live webhook carries its secret only
// when it is known to be the declared one).
func (AlertDestinationKind) Flatten(spec any) Values {
	s := spec.(AlertDestinationSpec)
	v := Values{"name": s.Name}
	if s.Email != "" {
		v["email"] = s.Email
	}
	if s.PagerDuty != "" {
		v["pagerduty"] = s.PagerDuty
	}
	if w := s.Webhook; w != nil {
		wv := Values{"url": w.URL}
		if w.Secret != "" {
			wv["secret"] = w.Secret
		}
		v["webhook"] = []Values{wv}
	}
	return v
}

// parseDestinationRef splits a destination id: "webhook:slack" → ("webhook", "slack").
func parseDestinationRef(ref string) (kind, value string, ok bool) {
	kind, value, ok = strings.Cut(ref, ":")
	switch kind {
	case "email", "webhook", "pagerduty":
		return kind, value, ok && value != ""
	}
	return "", "", false
}

func (AlertDestinationKind) Impact(action Action, c FieldChange, live, desired any) string {
	switch {
	case action == Delete:
		return "alert rules can no longer send here; flareops refuses while a rule it manages still does"
	case c.Field == "secret":
		return "Cloudflare signs deliveries with the new secret (cf-webhook-auth header): update the receiver at the same time"
	case c.Field == "url":
		return "alerts go to the new URL from now on"
	}
	return ""
}
