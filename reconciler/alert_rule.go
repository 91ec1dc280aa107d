package reconciler

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// AlertRuleKind is the `alert_rule` block. Its native form, a Cloudflare alert type with
// its filters and destinations, is a notification policy named after the rule.
//
// No perpetual diff (the official provider's issue #7342): filters are compared in their
// canonical form on both sides (CanonicalListMap: keys and values case-folded, each list a
// sorted set), so whatever order, case or repetition the API answers with, a second plan
// is empty; and destinations are compared as a sorted set of destination ids.
type AlertRuleKind struct {
	API AlertingAPI
	run *alertingRun
}

// AlertRuleSpec is the normalized, comparable form of a native alert rule.
type AlertRuleSpec struct {
	Name        string `diff:"name"`
	AlertType   string `diff:"alert_type"`
	Description string `diff:"description,omitzero"`
	Enabled     bool   `diff:"enabled"`
	// Filters is CanonicalListMap of the filters, rendered (`limit = ["100000"], product
	// = ["worker_requests"]`): one leaf in the diff.
	Filters string `diff:"filters,omitzero,zero=(none)"`
	// FilterMap is the same canonical map, for Flatten.
	FilterMap map[string][]string `diff:"-"`
	// To is the destinations' ids ("email:ops@example.com", "webhook:slack",
	// "pagerduty:monotask-oncall"), sorted.
	To []string `diff:"to"`
}

var alertRuleNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,127}$`)

const alertRuleNameRule = "1 to 128 letters, digits, spaces, `_`, `.`, `:` and `-`, starting with a letter or digit"

var alertRuleSchema = BlockSchema{
	Attrs: []Attr{
		{Name: "name", Type: String, LabelDefault: true, MaxLen: 128, Pattern: alertRuleNameRE, PatternText: alertRuleNameRule,
			Description: "Name of the rule: " + alertRuleNameRule + ". A native rule's notification policy has this name. Default: the block's label."},
		{Name: "description", Type: String, MaxLen: 1024, Description: "Description of the notification policy."},
		{Name: "enabled", Type: Bool, Default: true, Description: "Whether the rule notifies; `false` keeps it without alerting anyone (default true)."},
		{Name: "to", Type: RefList, RefKind: "alert_destination", Required: true, MaxItems: 50, RefRole: "destinations",
			Description: "Where the rule's alerts go: `[alert_destination.ops, alert_destination.slack]`. Each destination once; order does not matter."},
	},
	Blocks: []NestedBlock{{
		Name: "native", MaxItems: 1,
		Description: "A Cloudflare alert (Notifications): the alert type and its filters. It becomes a notification policy named after the rule.",
		Schema: BlockSchema{Attrs: []Attr{
			{Name: "alert_type", Type: String, Required: true, MaxLen: 128,
				Description: "The alert type, e.g. `billing_usage_alert`, `incident_alert`, `failing_logpush_job_disabled_alert`: one of the types the account's `available_alerts` lists (the plan checks it against the account)."},
			{Name: "filters", Type: StringListMap, MaxItems: 32, MaxLen: 256,
				Description: "The alert type's filters, each a list of strings: `{ product = [\"worker_requests\"], limit = [\"100000\"] }`. Compared without regard to order, case or repetition, so the policy never shows as changed when Cloudflare answers them otherwise."},
		}},
	}},
}

func (AlertRuleKind) Name() string        { return "alert_rule" }
func (AlertRuleKind) KeyAttr() string     { return "name" }
func (AlertRuleKind) Schema() BlockSchema { return alertRuleSchema }

// Build checks the form and the destinations. Private of the desired object holds the
// filters as written (duplicates removed), which is what is sent.
func (AlertRuleKind) Build(v Values) (Object, error) {
	spec := AlertRuleSpec{Name: v.str("name"), Description: v.str("description"), Enabled: true}
	if e, ok := v["enabled"].(bool); ok {
		spec.Enabled = e
	}
	natives := v.blocks("native")
	if len(natives) != 1 {
		return Object{}, fmt.Errorf("an alert rule needs a native block (native { alert_type = \"...\" }); metric rules are not supported yet")
	}
	n := natives[0]
	spec.AlertType = n.str("alert_type")
	raw := map[string][]string{}
	for k, vs := range n.listMap("filters") {
		seen := map[string]bool{}
		for _, x := range vs {
			if !seen[x] {
				seen[x] = true
				raw[k] = append(raw[k], x)
			}
		}
	}
	spec.FilterMap = CanonicalListMap(raw)
	spec.Filters = renderListMap(spec.FilterMap)
	for i, r := range v.refs("to") {
		if _, _, ok := parseDestinationRef(r.Name); !ok {
			return Object{}, fmt.Errorf("%s: %q is not an alert destination id (email:ADDRESS, webhook:NAME or pagerduty:SERVICE); refer to an alert_destination block", ItemName("to", i), r.Name)
		}
		ref := r.Name
		if strings.HasPrefix(ref, "email:") {
			ref = strings.ToLower(ref) // addresses are compared case-folded, as the live side is
		}
		spec.To = append(spec.To, ref)
	}
	if len(spec.To) == 0 {
		return Object{}, fmt.Errorf("to: a rule alerts nobody without destinations; name at least one alert_destination")
	}
	sort.Strings(spec.To)
	return Object{Key: spec.Name, Spec: spec, Private: raw}, nil
}

// renderListMap is a canonical filter map as one line: `a = ["x", "y"], b = ["z"]`.
func renderListMap(m map[string][]string) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		q := make([]string, len(m[k]))
		for i, s := range m[k] {
			q[i] = strconv.Quote(s)
		}
		parts = append(parts, k+" = ["+strings.Join(q, ", ")+"]")
	}
	return strings.Join(parts, ", ")
}

// Flatten turns a spec back into block values.
func (AlertRuleKind) Flatten(spec any) Values {
	s := spec.(AlertRuleSpec)
	v := Values{"name": s.Name, "enabled": s.Enabled}
	if s.Description != "" {
		v["description"] = s.Description
	}
	nv := Values{"alert_type": s.AlertType}
	if len(s.FilterMap) > 0 {
		nv["filters"] = s.FilterMap
	}
	v["native"] = []Values{nv}
	refs := make([]RefValue, len(s.To))
	for i, t := range s.To {
		refs[i] = RefValue{Name: t}
	}
	v["to"] = refs
	return v
}

// liveRule reads a policy back: filters canonical, mechanisms as destination ids. A
// webhook or PagerDuty id that matches no destination reads as "webhook-id:<id>" /
// "pagerduty-id:<id>", which no declaration has, so it shows as a change.
func liveRule(p cloudflare.AlertPolicy, hooks []cloudflare.AlertWebhook, services []cloudflare.PagerDutyService) AlertRuleSpec {
	s := AlertRuleSpec{Name: p.Name, AlertType: p.AlertType, Description: p.Description, Enabled: p.Enabled}
	s.FilterMap = CanonicalListMap(p.Filters)
	s.Filters = renderListMap(s.FilterMap)
	seen := map[string]bool{}
	add := func(ref string) {
		if !seen[ref] {
			seen[ref] = true
			s.To = append(s.To, ref)
		}
	}
	for _, e := range p.Email {
		add("email:" + strings.ToLower(e))
	}
	for _, id := range p.Webhooks {
		ref := "webhook-id:" + id
		for _, h := range hooks {
			if h.ID == id {
				ref = "webhook:" + h.Name
			}
		}
		add(ref)
	}
	for _, id := range p.PagerDuty {
		ref := "pagerduty-id:" + id
		for _, svc := range services {
			if svc.ID == id {
				ref = "pagerduty:" + svc.Name
			}
		}
		add(ref)
	}
	sort.Strings(s.To)
	return s
}

func (AlertRuleKind) Impact(action Action, c FieldChange, live, desired any) string {
	switch {
	case action == Delete:
		return "the notification policy is deleted: these alerts no longer notify anyone"
	case action == Create:
		return ""
	case c.Field == "enabled" && c.New == "false":
		return "the rule stops notifying (the policy is kept, disabled)"
	case c.Field == "to":
		return "alerts go to the new destinations from the next one on"
	case c.Field == "filters":
		return "which events alert changes"
	}
	return ""
}
