package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"sort"
	"time"
)

// Alerting (notifications) v3: available alerts and policies here; destinations
// (webhooks, PagerDuty, eligible) in alerting_destinations.go; the alert type catalog in
// alerting_catalog.go.

const (
	// Unknown upstream: the codes for an unknown policy or destination id and for invalid
	// input are not documented. We choose 1003 ("not found") for unknown ids and 1002
	// for invalid input, both with the HTTP statuses Cloudflare uses elsewhere (404, 400).
	alertingCodeNotFound = 1003
	alertingCodeInvalid  = 1002
)

// alertingState is the Alerting family's part of the store. Ids are UUIDs, unique across
// accounts; each object records its account.
type alertingState struct {
	Policies  map[string]*alertingPolicy    `json:"policies"`
	Webhooks  map[string]*alertingWebhook   `json:"webhooks"`
	PagerDuty map[string]*alertingPagerDuty `json:"pagerduty"`
	// PagerDutyTokens maps a pending connect token → account id.
	PagerDutyTokens map[string]string `json:"pagerduty_tokens"`
}

func (st *alertingState) init() {
	if st.Policies == nil {
		st.Policies = map[string]*alertingPolicy{}
	}
	if st.Webhooks == nil {
		st.Webhooks = map[string]*alertingWebhook{}
	}
	if st.PagerDuty == nil {
		st.PagerDuty = map[string]*alertingPagerDuty{}
	}
	if st.PagerDutyTokens == nil {
		st.PagerDutyTokens = map[string]string{}
	}
}

type alertingPolicy struct {
	ID            string              `json:"id"`
	Account       string              `json:"account"`
	Name          string              `json:"name"`
	Description   string              `json:"description"`
	Enabled       bool                `json:"enabled"`
	AlertType     string              `json:"alert_type"`
	AlertInterval string              `json:"alert_interval,omitempty"`
	Filters       map[string][]string `json:"filters"`
	Mechanisms    alertingMechanisms  `json:"mechanisms"`
	Created       time.Time           `json:"created"`
	Modified      time.Time           `json:"modified"`
}

type alertingMechanisms struct {
	Email     []alertingMechanismID `json:"email,omitempty"`
	Webhooks  []alertingMechanismID `json:"webhooks,omitempty"`
	PagerDuty []alertingMechanismID `json:"pagerduty,omitempty"`
}

type alertingMechanismID struct {
	ID string `json:"id"`
}

func (p *alertingPolicy) view() map[string]any {
	v := map[string]any{
		"id": p.ID, "name": p.Name, "description": p.Description, "enabled": p.Enabled,
		"alert_type": p.AlertType, "filters": p.Filters, "mechanisms": p.Mechanisms,
		"created": timestamp(p.Created), "modified": timestamp(p.Modified),
	}
	if p.AlertInterval != "" {
		v["alert_interval"] = p.AlertInterval
	}
	return v
}

func (s *Server) routesAlerting() {
	const base = "/accounts/{account_id}/alerting/v3"
	s.handle("GET "+base+"/available_alerts", func(w http.ResponseWriter, r *http.Request) {
		writeResult(w, alertingAvailable())
	})
	s.handle("GET "+base+"/destinations/eligible", s.alertingEligible)
	s.handle("POST "+base+"/policies", s.alertingPolicyCreate)
	s.handle("GET "+base+"/policies", s.alertingPolicyList)
	s.handle("GET "+base+"/policies/{policy_id}", s.alertingPolicyGet)
	s.handle("PUT "+base+"/policies/{policy_id}", s.alertingPolicyUpdate)
	s.handle("DELETE "+base+"/policies/{policy_id}", s.alertingPolicyDelete)
	s.routesAlertingDestinations(base + "/destinations")
}

// alertingDeleted is the answer of every alerting DELETE: result_info and no result
// (GO PolicyDeleteResponse). Unknown upstream: what the counts hold; we report the
// number of objects deleted.
func alertingDeleted(w http.ResponseWriter, n int) {
	writeJSON(w, http.StatusOK, map[string]any{
		"success": true, "errors": []apiMsg{}, "messages": []apiMsg{},
		"result_info": map[string]int{"count": n, "page": 1, "per_page": 25, "total_count": n},
	})
}

// alertingPolicyBody is a create or update body; pointers tell absent from zero.
type alertingPolicyBody struct {
	Name          *string                    `json:"name"`
	Description   *string                    `json:"description"`
	Enabled       *bool                      `json:"enabled"`
	AlertType     *string                    `json:"alert_type"`
	AlertInterval *string                    `json:"alert_interval"`
	Filters       map[string]json.RawMessage `json:"filters"`
	Mechanisms    map[string]json.RawMessage `json:"mechanisms"`
}

// apply merges the body onto p (present fields replace) and validates the result.
// The caller holds s.mu.
func (s *Server) alertingApply(p *alertingPolicy, b alertingPolicyBody) error {
	alertingSetString(&p.Name, b.Name)
	alertingSetString(&p.Description, b.Description)
	alertingSetString(&p.AlertType, b.AlertType)
	alertingSetString(&p.AlertInterval, b.AlertInterval)
	if b.Enabled != nil {
		p.Enabled = *b.Enabled
	}
	if b.Filters != nil {
		f, err := alertingFilters(b.Filters)
		if err != nil {
			return err
		}
		p.Filters = f
	}
	if b.Mechanisms != nil {
		m, err := s.alertingMechanisms(p.Account, b.Mechanisms)
		if err != nil {
			return err
		}
		p.Mechanisms = m
	}
	switch {
	case p.Name == "":
		return fmt.Errorf("name is required")
	case !alertingTypes[p.AlertType]:
		return fmt.Errorf("alert_type %q is not a known alert type (see available_alerts)", p.AlertType)
	}
	if p.AlertInterval != "" {
		if d, err := time.ParseDuration(p.AlertInterval); err != nil || d <= 0 {
			return fmt.Errorf("alert_interval %q must be a positive duration such as 30m or 1h", p.AlertInterval)
		}
	}
	return nil
}

func alertingSetString(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

// alertingFilters checks that every filter is a known key holding an array of strings.
func alertingFilters(raw map[string]json.RawMessage) (map[string][]string, error) {
	out := make(map[string][]string, len(raw))
	for k, v := range raw {
		if !alertingFilterKeys[k] {
			return nil, fmt.Errorf("filters.%s is not a known filter", k)
		}
		var list []string
		if err := json.Unmarshal(v, &list); err != nil || list == nil {
			return nil, fmt.Errorf("filters.%s must be an array of strings", k)
		}
		out[k] = list
	}
	return out, nil
}

// alertingMechanisms checks destinations: email ids are addresses; webhook and PagerDuty
// ids exist in the account. At least one destination is required (strictest: a policy
// that notifies nobody is almost certainly a mistake).
func (s *Server) alertingMechanisms(acct string, raw map[string]json.RawMessage) (alertingMechanisms, error) {
	var m alertingMechanisms
	lists := map[string]*[]alertingMechanismID{"email": &m.Email, "webhooks": &m.Webhooks, "pagerduty": &m.PagerDuty}
	total := 0
	for k, v := range raw {
		dst, ok := lists[k]
		if !ok {
			return m, fmt.Errorf("mechanisms.%s is not one of email, webhooks, pagerduty", k)
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return m, fmt.Errorf(`mechanisms.%s must be an array of {"id": ...}`, k)
		}
		for _, d := range *dst {
			if err := s.alertingCheckDestination(acct, k, d.ID); err != nil {
				return m, err
			}
		}
		total += len(*dst)
	}
	if total == 0 {
		return m, fmt.Errorf("mechanisms must name at least one destination")
	}
	return m, nil
}

func (s *Server) alertingCheckDestination(acct, kind, id string) error {
	switch kind {
	case "email":
		addr, err := mail.ParseAddress(id)
		if err != nil || addr.Address != id {
			return fmt.Errorf("mechanisms.email: %q is not a valid email address", id)
		}
	case "webhooks":
		if wh := s.st.Alerting.Webhooks[id]; wh == nil || wh.Account != acct {
			return fmt.Errorf("mechanisms.webhooks: no webhook destination with id %q", id)
		}
	case "pagerduty":
		if pd := s.st.Alerting.PagerDuty[id]; pd == nil || !pd.visibleTo(acct) {
			return fmt.Errorf("mechanisms.pagerduty: no PagerDuty destination with id %q", id)
		}
	}
	return nil
}

func (s *Server) alertingPolicyCreate(w http.ResponseWriter, r *http.Request) {
	var b alertingPolicyBody
	if !decodeJSON(w, r, &b) {
		return
	}
	// GO PolicyNewParams: name, alert_type, enabled and mechanisms are required.
	if b.Name == nil || b.AlertType == nil || b.Enabled == nil || b.Mechanisms == nil {
		writeError(w, http.StatusBadRequest, alertingCodeInvalid, "name, alert_type, enabled and mechanisms are required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	p := &alertingPolicy{ID: newUUID(), Account: r.PathValue("account_id"), Filters: map[string][]string{}, Created: now, Modified: now}
	if err := s.alertingApply(p, b); err != nil {
		writeError(w, http.StatusBadRequest, alertingCodeInvalid, err.Error())
		return
	}
	s.st.Alerting.Policies[p.ID] = p
	writeResult(w, map[string]string{"id": p.ID})
}

// alertingPolicyFor returns the policy in the path, or answers 404 and returns nil.
func (s *Server) alertingPolicyFor(w http.ResponseWriter, r *http.Request) *alertingPolicy {
	p := s.st.Alerting.Policies[r.PathValue("policy_id")]
	if p == nil || p.Account != r.PathValue("account_id") {
		writeError(w, http.StatusNotFound, alertingCodeNotFound, "policy not found")
		return nil
	}
	return p
}

func (s *Server) alertingPolicyList(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	acct := r.PathValue("account_id")
	var list []*alertingPolicy
	for _, p := range s.st.Alerting.Policies {
		if p.Account == acct {
			list = append(list, p)
		}
	}
	sort.Slice(list, func(i, j int) bool {
		return list[i].Created.Before(list[j].Created) || list[i].Created.Equal(list[j].Created) && list[i].ID < list[j].ID
	})
	out := make([]map[string]any, 0, len(list))
	for _, p := range list {
		out = append(out, p.view())
	}
	writeResult(w, out)
}

func (s *Server) alertingPolicyGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.alertingPolicyFor(w, r); p != nil {
		writeResult(w, p.view())
	}
}

// alertingPolicyUpdate merges the body onto the policy: GO PolicyUpdateParams makes every
// field optional, so absent fields keep their value. The merged policy is validated as a
// whole and nothing changes when it is invalid.
func (s *Server) alertingPolicyUpdate(w http.ResponseWriter, r *http.Request) {
	var b alertingPolicyBody
	if !decodeJSON(w, r, &b) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.alertingPolicyFor(w, r)
	if p == nil {
		return
	}
	next := *p
	if err := s.alertingApply(&next, b); err != nil {
		writeError(w, http.StatusBadRequest, alertingCodeInvalid, err.Error())
		return
	}
	next.Modified = s.Now()
	*p = next
	writeResult(w, map[string]string{"id": p.ID})
}

func (s *Server) alertingPolicyDelete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.alertingPolicyFor(w, r)
	if p == nil {
		return
	}
	delete(s.st.Alerting.Policies, p.ID)
	alertingDeleted(w, 1)
}
