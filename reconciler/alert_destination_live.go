package reconciler

import (
	"context"
	"errors"
	"fmt"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

var (
	_ ScopedObserver = AlertDestinationKind{}
	_ LiveValidator  = AlertDestinationKind{}
	_ RefNamer       = AlertDestinationKind{}
)

// Observe lists the account's webhook destinations (one request): without a scope, the
// email and PagerDuty destinations flareops records are not known.
func (k AlertDestinationKind) Observe(ctx context.Context) ([]Object, error) {
	hooks, err := k.run.listWebhooks(ctx, k.API)
	if err != nil {
		return nil, err
	}
	out := make([]Object, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, liveWebhook(h, nil, nil))
	}
	return out, nil
}

// ObserveScoped reads what the scope names: every webhook destination with a declared or
// managed name (one list), the PagerDuty services (one list, only when a scope entry is
// one), and, for email destinations, the state's record. An entry known only by its id (an
// import: "webhook:slack", "pagerduty:monotask-oncall", "email:ops@example.com") is read by it.
func (k AlertDestinationKind) ObserveScoped(ctx context.Context, scope Scope) ([]Object, error) {
	type target struct {
		desired, applied *AlertDestinationSpec
		id               string
	}
	targets := map[string]*target{}
	get := func(name string) *target {
		if targets[name] == nil {
			targets[name] = &target{}
		}
		return targets[name]
	}
	for _, o := range scope.Desired {
		if s, ok := o.Spec.(AlertDestinationSpec); ok {
			get(s.Name).desired = &s
		}
	}
	for _, en := range scope.Managed {
		key := en.Key
		if _, _, byRef := parseDestinationRef(en.ID); byRef && en.Key == en.ID {
			// An import by id: the declared destination with that id takes it, else
			// the id names it.
			key = importedKey(en.ID)
			for _, o := range scope.Desired {
				if s, ok := o.Spec.(AlertDestinationSpec); ok && s.ref() == en.ID {
					key = s.Name
				}
			}
		}
		t := get(key)
		t.id = en.ID
		if a, ok := decodeApplied(en.Applied, AlertDestinationSpec{}); ok {
			s := a.(AlertDestinationSpec)
			t.applied = &s
		}
	}
	var out []Object
	for _, name := range sortedKeys(targets) {
		t := targets[name]
		o, found, err := k.observeOne(ctx, name, t.id, t.desired, t.applied)
		if err != nil {
			return nil, err
		}
		if found {
			out = append(out, o)
		}
	}
	return out, nil
}

// observeOne reads one destination. Webhooks are found by name whatever the scope says of
// them (so that a name someone else holds is seen); email and PagerDuty destinations exist
// when flareops manages them (their id is in the state) and, for PagerDuty, the service is
// still linked.
func (k AlertDestinationKind) observeOne(ctx context.Context, name, id string, desired, applied *AlertDestinationSpec) (Object, bool, error) {
	if kind, value, byRef := parseDestinationRef(id); byRef && applied == nil {
		// Managed without a record of what was applied (an import): the id says it.
		switch kind {
		case "email":
			applied = &AlertDestinationSpec{Name: name, Email: value}
		case "pagerduty":
			applied = &AlertDestinationSpec{Name: name, PagerDuty: value}
		}
	}
	switch {
	case applied != nil && applied.Email != "":
		s := *applied
		s.Name = name
		return Object{Key: name, ID: s.ref(), Spec: s}, true, nil
	case applied != nil && applied.PagerDuty != "":
		services, err := k.run.listServices(ctx, k.API)
		if err != nil {
			return Object{}, false, err
		}
		svc := findService(services, applied.PagerDuty)
		if svc == nil {
			return Object{}, false, nil // unlinked outside flareops: the plan creates (looks it up) again
		}
		s := *applied
		s.Name = name
		return Object{Key: name, ID: s.ref(), Spec: s, Private: svc.ID}, true, nil
	}
	hooks, err := k.run.listWebhooks(ctx, k.API)
	if err != nil {
		return Object{}, false, err
	}
	for _, h := range hooks {
		if h.Name == name {
			return liveWebhook(h, desired, applied), true, nil
		}
	}
	return Object{}, false, nil
}

// importedKey is the name a destination imported by id alone gets: a webhook's name, or
// an address's or service's characters that a name allows.
func importedKey(id string) string {
	kind, value, _ := parseDestinationRef(id)
	if kind == "webhook" {
		return value
	}
	return importedName(value)
}

// importedName is the name an imported email or PagerDuty destination gets: its address
// or service name, in the characters a name allows.
func importedName(v string) string {
	b := []byte(v)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) > 64 {
		b = b[:64]
	}
	return string(b)
}

// liveWebhook reads a webhook destination back. Cloudflare never returns the secret: the
// live spec carries the hash the state recorded, and the declared secret when its hash is
// that one (so an unchanged secret is no change, a new one an update).
func liveWebhook(h cloudflare.AlertWebhook, desired, applied *AlertDestinationSpec) Object {
	w := &AlertWebhookTarget{URL: h.URL}
	if applied != nil && applied.Webhook != nil {
		w.SecretHash = applied.Webhook.SecretHash
		if desired != nil && desired.Webhook != nil && desired.Webhook.SecretHash == w.SecretHash {
			w.Secret = desired.Webhook.Secret
		}
	}
	s := AlertDestinationSpec{Name: h.Name, Webhook: w}
	return Object{Key: h.Name, ID: s.ref(), Spec: s, Private: h.ID}
}

func findService(services []cloudflare.PagerDutyService, name string) *cloudflare.PagerDutyService {
	for i, s := range services {
		if s.Name == name {
			return &services[i]
		}
	}
	return nil
}

// ValidateLive checks that every PagerDuty service named exists (one list, only when a
// declaration names one).
func (k AlertDestinationKind) ValidateLive(ctx context.Context, desired []Desired) ([]LiveProblem, error) {
	var out []LiveProblem
	for _, d := range desired {
		obj, err := k.Build(d.Values)
		if err != nil {
			continue
		}
		s := obj.Spec.(AlertDestinationSpec)
		if s.PagerDuty == "" {
			continue
		}
		services, err := k.run.listServices(ctx, k.API)
		if err != nil {
			return nil, err
		}
		if findService(services, s.PagerDuty) == nil {
			names := make([]string, 0, len(services))
			for _, svc := range services {
				names = append(names, svc.Name)
			}
			detail := fmt.Sprintf("no PagerDuty service named %q is linked to the account; link it in the dashboard (Notifications > Destinations > PagerDuty) or fix the name", s.PagerDuty)
			if len(names) > 0 {
				detail += fmt.Sprintf(" (linked: %q)", names)
			}
			out = append(out, LiveProblem{Addr: d.Addr, Source: d.Source, Object: "PagerDuty service", Name: s.PagerDuty, Detail: detail})
		}
	}
	return out, nil
}

// Create makes a webhook destination; an email destination writes nothing, and a
// PagerDuty one only checks that its service is linked.
func (k AlertDestinationKind) Create(ctx context.Context, desired Object) (string, error) {
	s := desired.Spec.(AlertDestinationSpec)
	switch {
	case s.Email != "":
		return s.ref(), nil
	case s.PagerDuty != "":
		k.run.mu.Lock()
		k.run.pdOK = false // a service linked since the plan counts
		k.run.mu.Unlock()
		services, err := k.run.listServices(ctx, k.API)
		if err != nil {
			return "", err
		}
		if findService(services, s.PagerDuty) == nil {
			return "", Refused(fmt.Errorf("no PagerDuty service named %q is linked to the account; link it in the dashboard first", s.PagerDuty))
		}
		return s.ref(), nil
	}
	defer k.run.forgetWebhooks()
	if _, err := k.API.CreateAlertWebhook(ctx, s.Name, s.Webhook.URL, s.Webhook.Secret); err != nil {
		return "", err
	}
	return s.ref(), nil
}

// Update changes a webhook's URL and secret (its name, and the other forms' fields, force
// a replacement). The secret is sent only when it changed.
func (k AlertDestinationKind) Update(ctx context.Context, _ string, live, desired Object) error {
	have, want := live.Spec.(AlertDestinationSpec), desired.Spec.(AlertDestinationSpec)
	if want.Webhook == nil || have.Webhook == nil {
		return nil // email and PagerDuty destinations have nothing of their own to update
	}
	hookID, _ := live.Private.(string)
	if hookID == "" {
		return fmt.Errorf("webhook destination %s has no known id; run plan again", want.Name)
	}
	secret := ""
	if have.Webhook.SecretHash != want.Webhook.SecretHash {
		secret = want.Webhook.Secret
	}
	defer k.run.forgetWebhooks()
	return k.API.UpdateAlertWebhook(ctx, hookID, want.Name, want.Webhook.URL, secret)
}

// Delete removes a webhook destination (Cloudflare refuses while a policy sends to it);
// email and PagerDuty destinations are only forgotten. Deleting what is gone is success.
func (k AlertDestinationKind) Delete(ctx context.Context, _ string, live Object) error {
	s := live.Spec.(AlertDestinationSpec)
	if s.Webhook == nil {
		return nil
	}
	hookID, _ := live.Private.(string)
	if hookID == "" {
		return nil
	}
	defer k.run.forgetWebhooks()
	if err := k.API.DeleteAlertWebhook(ctx, hookID); err != nil && !errors.Is(err, ErrNotFound) && !cloudflare.IsNotFound(err) {
		return err
	}
	return nil
}

var _ RemoteIdentifier = AlertDestinationKind{}

// RemoteID is a webhook destination's Cloudflare id (its id in flareops is "webhook:<name>",
// which rules refer to); email and PagerDuty destinations have none of their own.
func (AlertDestinationKind) RemoteID(live Object) string {
	if s, ok := live.Spec.(AlertDestinationSpec); ok && s.Webhook != nil {
		id, _ := live.Private.(string)
		return id
	}
	return ""
}
