package emulator

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"
)

// Alerting destinations: webhooks, PagerDuty, eligibility. A webhook's secret is stored
// but never appears in any answer. The emulator never calls out: creating a webhook does
// not send Cloudflare's test delivery.

type alertingWebhook struct {
	ID        string    `json:"id"`
	Account   string    `json:"account"`
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	Type      string    `json:"type"`
	Secret    string    `json:"secret,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

func (wh *alertingWebhook) view() map[string]any {
	return map[string]any{
		"id": wh.ID, "name": wh.Name, "url": wh.URL, "type": wh.Type,
		"created_at": timestamp(wh.CreatedAt), "last_success": nil, "last_failure": nil,
	}
}

// alertingPagerDuty is a linked PagerDuty service. Account "" (SeedPagerDuty) is
// visible to every account.
type alertingPagerDuty struct {
	ID      string `json:"id"`
	Account string `json:"account"`
	Name    string `json:"name"`
}

func (pd *alertingPagerDuty) visibleTo(acct string) bool {
	return pd.Account == "" || pd.Account == acct
}

func (s *Server) routesAlertingDestinations(base string) {
	s.handle("POST "+base+"/webhooks", s.alertingWebhookCreate)
	s.handle("GET "+base+"/webhooks", s.alertingWebhookList)
	s.handle("GET "+base+"/webhooks/{webhook_id}", s.alertingWebhookGet)
	s.handle("PUT "+base+"/webhooks/{webhook_id}", s.alertingWebhookUpdate)
	s.handle("DELETE "+base+"/webhooks/{webhook_id}", s.alertingWebhookDelete)
	s.handle("GET "+base+"/pagerduty", s.alertingPagerDutyList)
	s.handle("DELETE "+base+"/pagerduty", s.alertingPagerDutyDelete)
	s.handle("POST "+base+"/pagerduty/connect", s.alertingPagerDutyConnect)
	s.handle("GET "+base+"/pagerduty/connect/{token_id}", s.alertingPagerDutyLink)
}

// SeedPagerDuty adds a linked PagerDuty destination visible to every account and
// returns its id. Linking is interactive on Cloudflare (OAuth with PagerDuty), so tests
// and local runs seed one instead. Seeding a name already seeded returns its id.
func (s *Server) SeedPagerDuty(name string) string {
	s.mu.Lock()
	for _, pd := range s.st.Alerting.PagerDuty {
		if pd.Account == "" && pd.Name == name {
			s.mu.Unlock()
			return pd.ID
		}
	}
	// GO's Pagerduty.ID and MechanismPagerdutyParam.ID are documented as UUIDs.
	pd := &alertingPagerDuty{ID: newUUID(), Name: name}
	s.st.Alerting.PagerDuty[pd.ID] = pd
	s.mu.Unlock()
	if err := s.persist(); err != nil {
		fmt.Fprintf(os.Stderr, "emulator: %v\n", err)
	}
	return pd.ID
}

// alertingWebhookType derives the webhook type from the URL host, as Cloudflare does.
func alertingWebhookType(host string) string {
	host = strings.ToLower(host)
	suffix := func(domains ...string) bool {
		for _, d := range domains {
			if host == d || strings.HasSuffix(host, "."+d) {
				return true
			}
		}
		return false
	}
	switch {
	case suffix("hooks.slack.com"):
		return "slack"
	case suffix("discord.com", "discordapp.com"):
		return "discord"
	case suffix("chat.googleapis.com"):
		return "gchat"
	case suffix("open.feishu.cn", "open.larksuite.com"):
		return "feishu"
	case suffix("opsgenie.com"):
		return "opsgenie"
	case suffix("datadoghq.com", "datadoghq.eu"):
		return "datadog"
	case suffix("splunkcloud.com"):
		return "splunk"
	}
	return "generic"
}

// alertingCheckURL accepts https URLs to public hosts on the default port. Cloudflare
// delivers to public IPs on ports 80 and 443; requiring https is the strictest choice
// (a webhook secret must not travel in clear text).
func alertingCheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "":
		return nil, fmt.Errorf("url %q is not an absolute URL", raw)
	case u.Scheme != "https":
		return nil, fmt.Errorf("url must use https")
	case u.User != nil:
		return nil, fmt.Errorf("url must not carry credentials; use secret")
	case u.Port() != "" && u.Port() != "443":
		return nil, fmt.Errorf("url must use the default https port 443")
	case strings.EqualFold(u.Hostname(), "localhost"):
		return nil, fmt.Errorf("url must point to a public host")
	}
	if ip := net.ParseIP(u.Hostname()); ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified()) {
		return nil, fmt.Errorf("url must point to a public IP address")
	}
	return u, nil
}

type alertingWebhookBody struct {
	Name   *string `json:"name"`
	URL    *string `json:"url"`
	Secret *string `json:"secret"`
}

// check validates a create or update body (both require name and url).
func (b alertingWebhookBody) check() (*url.URL, error) {
	if b.Name == nil || *b.Name == "" || b.URL == nil {
		return nil, fmt.Errorf("name and url are required")
	}
	return alertingCheckURL(*b.URL)
}

func (s *Server) alertingWebhookCreate(w http.ResponseWriter, r *http.Request) {
	var b alertingWebhookBody
	if !decodeJSON(w, r, &b) {
		return
	}
	u, err := b.check()
	if err != nil {
		writeError(w, http.StatusBadRequest, alertingCodeInvalid, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	wh := &alertingWebhook{ID: newUUID(), Account: r.PathValue("account_id"), Name: *b.Name,
		URL: *b.URL, Type: alertingWebhookType(u.Hostname()), CreatedAt: s.Now()}
	if b.Secret != nil {
		wh.Secret = *b.Secret
	}
	s.st.Alerting.Webhooks[wh.ID] = wh
	writeResult(w, map[string]string{"id": wh.ID})
}

func (s *Server) alertingWebhookFor(w http.ResponseWriter, r *http.Request) *alertingWebhook {
	wh := s.st.Alerting.Webhooks[r.PathValue("webhook_id")]
	if wh == nil || wh.Account != r.PathValue("account_id") {
		writeError(w, http.StatusNotFound, alertingCodeNotFound, "webhook not found")
		return nil
	}
	return wh
}

func (s *Server) alertingWebhookList(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	acct := r.PathValue("account_id")
	var list []*alertingWebhook
	for _, wh := range s.st.Alerting.Webhooks {
		if wh.Account == acct {
			list = append(list, wh)
		}
	}
	sort.Slice(list, func(i, j int) bool {
		return list[i].CreatedAt.Before(list[j].CreatedAt) || list[i].CreatedAt.Equal(list[j].CreatedAt) && list[i].ID < list[j].ID
	})
	out := make([]map[string]any, 0, len(list))
	for _, wh := range list {
		out = append(out, wh.view())
	}
	writeResult(w, out)
}

func (s *Server) alertingWebhookGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if wh := s.alertingWebhookFor(w, r); wh != nil {
		writeResult(w, wh.view())
	}
}

// alertingWebhookUpdate replaces name and url. Unknown upstream: whether an absent secret
// clears the stored one; we keep it, since the secret is write-only and a client that
// cannot read it back could otherwise never rename a webhook safely.
func (s *Server) alertingWebhookUpdate(w http.ResponseWriter, r *http.Request) {
	var b alertingWebhookBody
	if !decodeJSON(w, r, &b) {
		return
	}
	u, err := b.check()
	if err != nil {
		writeError(w, http.StatusBadRequest, alertingCodeInvalid, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	wh := s.alertingWebhookFor(w, r)
	if wh == nil {
		return
	}
	wh.Name, wh.URL, wh.Type = *b.Name, *b.URL, alertingWebhookType(u.Hostname())
	if b.Secret != nil {
		wh.Secret = *b.Secret
	}
	writeResult(w, map[string]string{"id": wh.ID})
}

// alertingInUse names a policy of the account that sends to the destination, if any.
// Unknown upstream: whether Cloudflare refuses to delete a destination in use; we refuse
// (strictest), so that a client must remove the policies first.
func (s *Server) alertingInUse(acct, kind, id string) string {
	for _, p := range s.st.Alerting.Policies {
		list := p.Mechanisms.Webhooks
		if kind == "pagerduty" {
			list = p.Mechanisms.PagerDuty
		}
		for _, m := range list {
			if p.Account == acct && m.ID == id {
				return p.Name
			}
		}
	}
	return ""
}

func (s *Server) alertingWebhookDelete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	wh := s.alertingWebhookFor(w, r)
	if wh == nil {
		return
	}
	if p := s.alertingInUse(wh.Account, "webhooks", wh.ID); p != "" {
		writeError(w, http.StatusBadRequest, alertingCodeInvalid, fmt.Sprintf("webhook is used by policy %q; remove it there first", p))
		return
	}
	delete(s.st.Alerting.Webhooks, wh.ID)
	alertingDeleted(w, 1)
}

func (s *Server) alertingPagerDutyList(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []map[string]string{}
	for _, pd := range s.alertingPagerDutyOf(r.PathValue("account_id")) {
		out = append(out, map[string]string{"id": pd.ID, "name": pd.Name})
	}
	writeResult(w, out)
}

func (s *Server) alertingPagerDutyOf(acct string) []*alertingPagerDuty {
	var list []*alertingPagerDuty
	for _, pd := range s.st.Alerting.PagerDuty {
		if pd.visibleTo(acct) {
			list = append(list, pd)
		}
	}
	sort.Slice(list, func(i, j int) bool {
		return list[i].Name < list[j].Name || list[i].Name == list[j].Name && list[i].ID < list[j].ID
	})
	return list
}

// alertingPagerDutyDelete removes every PagerDuty destination the account sees.
func (s *Server) alertingPagerDutyDelete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	acct := r.PathValue("account_id")
	list := s.alertingPagerDutyOf(acct)
	for _, pd := range list {
		if p := s.alertingInUse(acct, "pagerduty", pd.ID); p != "" {
			writeError(w, http.StatusBadRequest, alertingCodeInvalid, fmt.Sprintf("PagerDuty destination %q is used by policy %q; remove it there first", pd.Name, p))
			return
		}
	}
	for _, pd := range list {
		delete(s.st.Alerting.PagerDuty, pd.ID)
	}
	alertingDeleted(w, len(list))
}

// alertingPagerDutyConnect starts linking: it answers a token id that the (interactive,
// on Cloudflare) flow finishes with GET connect/{token}.
func (s *Server) alertingPagerDutyConnect(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	token := newHexID()
	s.st.Alerting.PagerDutyTokens[token] = r.PathValue("account_id")
	writeResult(w, map[string]string{"id": token})
}

// alertingPagerDutyLink finishes linking: the token is consumed and a PagerDuty
// destination is created for the account; the answer carries the destination id.
func (s *Server) alertingPagerDutyLink(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	acct, token := r.PathValue("account_id"), r.PathValue("token_id")
	if s.st.Alerting.PagerDutyTokens[token] != acct {
		writeError(w, http.StatusNotFound, alertingCodeNotFound, "PagerDuty connect token not found")
		return
	}
	delete(s.st.Alerting.PagerDutyTokens, token)
	pd := &alertingPagerDuty{ID: newUUID(), Account: acct, Name: "PagerDuty"}
	s.st.Alerting.PagerDuty[pd.ID] = pd
	writeResult(w, map[string]string{"id": pd.ID})
}

// alertingEligible tells which destination kinds the account can use and which have at
// least one destination configured.
func (s *Server) alertingEligible(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	acct := r.PathValue("account_id")
	hasWebhook := false
	for _, wh := range s.st.Alerting.Webhooks {
		hasWebhook = hasWebhook || wh.Account == acct
	}
	item := func(typ string, ready bool) []map[string]any {
		return []map[string]any{{"eligible": true, "ready": ready, "type": typ}}
	}
	writeResult(w, map[string]any{
		"email":     item("email", true),
		"pagerduty": item("pagerduty", len(s.alertingPagerDutyOf(acct)) > 0),
		"webhooks":  item("webhook", hasWebhook),
	})
}
