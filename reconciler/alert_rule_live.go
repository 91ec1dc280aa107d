package reconciler

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/monotask/flareops/reconciler/alerting"
	"github.com/monotask/flareops/reconciler/cloudflare"
	"github.com/monotask/flareops/reconciler/suggest"
)

var _ LiveValidator = AlertRuleKind{}

// PlanLiveChecked asks the Terraform provider to check the alert type in every plan of
// the resource, as the CLI's planner does.
func (AlertRuleKind) PlanLiveChecked() {}

// Observe is ObserveScoped without a scope: metric rules then read as their documents'
// hashes only.
func (k AlertRuleKind) Observe(ctx context.Context) ([]Object, error) {
	return k.ObserveScoped(ctx, Scope{})
}

// ObserveScoped lists the account's notification policies, and the webhook and PagerDuty
// lists that name their destinations: three requests however many rules there are (the
// two destination lists are shared with alert_destination); and, when a metric rule is
// declared or managed, the ops namespace's key list (shared with every kind that
// publishes). A metric rule reads as the declared (or last applied) rule when its
// document's hash is that rule's, and as its hash alone otherwise.
func (k AlertRuleKind) ObserveScoped(ctx context.Context, scope Scope) ([]Object, error) {
	out, err := k.observePolicies(ctx)
	if err != nil {
		return nil, err
	}
	applied, desired := map[string]*AlertRuleSpec{}, map[string]*AlertRuleSpec{}
	imported := false
	for _, en := range scope.Managed {
		// Just imported by its id: a metric rule's document is read to be found.
		imported = imported || (strings.HasPrefix(en.ID, "metric/") && en.Applied == nil)
		if a, ok := decodeApplied(en.Applied, AlertRuleSpec{}); ok {
			if s := a.(AlertRuleSpec); s.Metric != "" {
				applied[en.Key] = &s
			}
		}
	}
	for _, o := range scope.Desired {
		if s, ok := o.Spec.(AlertRuleSpec); ok && s.Metric != "" {
			desired[s.Name] = &s
		}
	}
	if (len(applied)+len(desired) == 0 && !imported) || k.Docs == nil || k.Settings.OpsKVNamespace == "" {
		return out, nil
	}
	docs, err := k.Docs.Observe(ctx)
	if err != nil {
		return nil, err
	}
	for key, d := range docs {
		name, ok := strings.CutPrefix(key, metricKey(""))
		if !ok || name == "" {
			continue
		}
		live := AlertRuleSpec{Name: name, Enabled: true, Metric: "(unknown)", Document: shortHash(d.Hash)} // a metric rule is always enabled
		if d.Hash == "" {
			live.Document = "(not written by flareops)"
		}
		live = readBack(live, applied[name], desired[name])
		out = append(out, Object{Key: name, ID: "metric/" + name, Spec: live})
	}
	return out, nil
}

// observePolicies reads the notification policies as native rules.
func (k AlertRuleKind) observePolicies(ctx context.Context) ([]Object, error) {
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
		if s.Metric != "" {
			continue // a metric rule has no alert type
		}
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

// Create makes the notification policy, or publishes a metric rule's document.
func (k AlertRuleKind) Create(ctx context.Context, desired Object) (string, error) {
	if r, ok := desired.Private.(alerting.MetricRule); ok {
		if err := k.publishMetric(ctx, r); err != nil {
			return "", err
		}
		return "metric/" + r.Name, nil
	}
	p, err := k.policy(ctx, desired)
	if err != nil {
		return "", err
	}
	return k.API.CreateAlertPolicy(ctx, p)
}

// Update replaces the policy with the declared one (filters and destinations whole), or
// publishes a metric rule's document again. A rule that changes form is replaced instead
// (its id changes): see Build's ForceNew of the form.
func (k AlertRuleKind) Update(ctx context.Context, id string, live, desired Object) error {
	if r, ok := desired.Private.(alerting.MetricRule); ok {
		if !strings.HasPrefix(id, "metric/") {
			return Refused(fmt.Errorf("alert rule %s changes from native to metric: remove it, apply, then declare it again", r.Name))
		}
		return k.publishMetric(ctx, r)
	}
	if strings.HasPrefix(id, "metric/") {
		return Refused(fmt.Errorf("alert rule %s changes from metric to native: remove it, apply, then declare it again", desired.Key))
	}
	p, err := k.policy(ctx, desired)
	if err != nil {
		return err
	}
	return k.API.UpdateAlertPolicy(ctx, id, p)
}

// Delete deletes the policy or the metric rule's document; deleting what is gone is success.
func (k AlertRuleKind) Delete(ctx context.Context, id string, _ Object) error {
	if name, ok := strings.CutPrefix(id, "metric/"); ok {
		return k.Docs.Delete(ctx, metricKey(name))
	}
	if err := k.API.DeleteAlertPolicy(ctx, id); err != nil && !errors.Is(err, ErrNotFound) && !cloudflare.IsNotFound(err) {
		return err
	}
	return nil
}

// publishMetric writes a metric rule's document.
func (k AlertRuleKind) publishMetric(ctx context.Context, r alerting.MetricRule) error {
	doc, err := r.Document()
	if err != nil {
		return err
	}
	return k.Docs.Put(ctx, doc.Key(), doc)
}

// readBack is what a published document says, knowing only its hash: the applied spec
// when the hash is its document's, else the declared one when it is that one's, else the
// applied (or declared) spec with the document's own hash, so that an edit outside
// flareops shows as a changed document and nothing else.
func readBack(live AlertRuleSpec, applied, desired *AlertRuleSpec) AlertRuleSpec {
	for _, base := range []*AlertRuleSpec{applied, desired} {
		if base != nil && base.Document == live.Document {
			return *base
		}
	}
	for _, base := range []*AlertRuleSpec{applied, desired} {
		if base != nil {
			out := *base
			out.Document = live.Document
			return out
		}
	}
	return live
}
