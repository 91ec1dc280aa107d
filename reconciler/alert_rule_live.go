package reconciler

import (
	"context"
	"errors"
	"fmt"

	"github.com/monotask/flareops/reconciler/cloudflare"
	"github.com/monotask/flareops/reconciler/suggest"
)

var _ LiveValidator = AlertRuleKind{}

// PlanLiveChecked asks the Terraform provider to check the alert type in every plan of
// the resource, as the CLI's planner does.
func (AlertRuleKind) PlanLiveChecked() {}

// Observe lists the account's notification policies, and the webhook and PagerDuty lists
// that name their destinations: three requests however many rules there are (the two
// destination lists are shared with alert_destination).
func (k AlertRuleKind) Observe(ctx context.Context) ([]Object, error) {
	policies, err := k.API.ListAlertPolicies(ctx)
	if err != nil {
		return nil, err
	}
	if len(policies) == 0 {
		return nil, nil
	}
	hooks, err := k.run.listWebhooks(ctx, k.API)
	if err != nil {
		return nil, err
	}
	services, err := k.run.listServices(ctx, k.API)
	if err != nil {
		return nil, err
	}
	out := make([]Object, 0, len(policies))
	for _, p := range policies {
		out = append(out, Object{Key: p.Name, ID: p.ID, Spec: liveRule(p, hooks, services)})
	}
	return out, nil
}

// ValidateLive checks every native rule's alert type against the account's available
// alerts (one request, only when a rule is declared), with the closest types as hints.
func (k AlertRuleKind) ValidateLive(ctx context.Context, desired []Desired) ([]LiveProblem, error) {
	var out []LiveProblem
	var types []string
	for _, d := range desired {
		obj, err := k.Build(d.Values)
		if err != nil {
			continue
		}
		s := obj.Spec.(AlertRuleSpec)
		if types == nil {
			k.run.mu.Lock()
			cached := k.run.types
			k.run.mu.Unlock()
			if cached == nil {
				if cached, err = k.API.AlertTypes(ctx); err != nil {
					return nil, err
				}
				k.run.mu.Lock()
				k.run.types = cached
				k.run.mu.Unlock()
			}
			types = cached
		}
		found := false
		for _, t := range types {
			found = found || t == s.AlertType
		}
		if !found {
			out = append(out, LiveProblem{Addr: d.Addr, Source: d.Source, Object: "alert type", Name: s.AlertType,
				Detail: fmt.Sprintf("native.alert_type %q is not an alert type of this account (available_alerts lists %d).%s", s.AlertType, len(types), suggest.DidYouMean(s.AlertType, types))})
		}
	}
	return out, nil
}

// policy is the notification policy desired declares, its destinations resolved to the
// ids Cloudflare wants: addresses, webhook ids (by name), PagerDuty ids (by service name).
func (k AlertRuleKind) policy(ctx context.Context, desired Object) (cloudflare.AlertPolicy, error) {
	s := desired.Spec.(AlertRuleSpec)
	filters, _ := desired.Private.(map[string][]string)
	if filters == nil {
		filters = s.FilterMap
	}
	p := cloudflare.AlertPolicy{Name: s.Name, Description: s.Description, Enabled: s.Enabled, AlertType: s.AlertType, Filters: filters}
	k.run.forgetWebhooks() // a destination created in this apply must be found
	for _, ref := range s.To {
		kind, value, _ := parseDestinationRef(ref)
		switch kind {
		case "email":
			p.Email = append(p.Email, value)
		case "webhook":
			hooks, err := k.run.listWebhooks(ctx, k.API)
			if err != nil {
				return p, err
			}
			id := ""
			for _, h := range hooks {
				if h.Name == value {
					id = h.ID
				}
			}
			if id == "" {
				return p, Refused(fmt.Errorf("webhook destination %q does not exist; declare it (alert_destination with a webhook block) or fix the reference", value))
			}
			p.Webhooks = append(p.Webhooks, id)
		case "pagerduty":
			services, err := k.run.listServices(ctx, k.API)
			if err != nil {
				return p, err
			}
			svc := findService(services, value)
			if svc == nil {
				return p, Refused(fmt.Errorf("no PagerDuty service named %q is linked to the account", value))
			}
			p.PagerDuty = append(p.PagerDuty, svc.ID)
		}
	}
	return p, nil
}

// Create makes the notification policy.
func (k AlertRuleKind) Create(ctx context.Context, desired Object) (string, error) {
	p, err := k.policy(ctx, desired)
	if err != nil {
		return "", err
	}
	return k.API.CreateAlertPolicy(ctx, p)
}

// Update replaces the policy with the declared one (filters and destinations whole).
func (k AlertRuleKind) Update(ctx context.Context, id string, _, desired Object) error {
	p, err := k.policy(ctx, desired)
	if err != nil {
		return err
	}
	return k.API.UpdateAlertPolicy(ctx, id, p)
}

// Delete deletes the policy; deleting what is gone is success.
func (k AlertRuleKind) Delete(ctx context.Context, id string, _ Object) error {
	if err := k.API.DeleteAlertPolicy(ctx, id); err != nil && !errors.Is(err, ErrNotFound) && !cloudflare.IsNotFound(err) {
		return err
	}
	return nil
}
