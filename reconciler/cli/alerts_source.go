package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/monotask/flareops/reconciler"
	"github.com/monotask/flareops/reconciler/alerting"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

// alertingNow is the instant alerts check and slo status evaluate at; tests set it.
var alertingNow = time.Now

// cfSource runs the alerting package's queries through the Cloudflare client: Analytics
// Engine SQL and GraphQL Analytics, both paced with the client's other requests.
type cfSource struct{ c *cloudflare.Client }

var (
	_ alerting.Source   = cfSource{}
	_ alerting.Resolver = cfSource{}
)

func (s cfSource) SQL(ctx context.Context, query string) ([]map[string]any, error) {
	res, err := s.c.Raw().QuerySQL(ctx, s.c.AccountID(), query)
	if err != nil {
		return nil, err
	}
	return res.Data, nil
}

func (s cfSource) GraphQL(ctx context.Context, query string, variables map[string]any) (json.RawMessage, error) {
	var data json.RawMessage
	if err := s.c.Raw().GraphQL(ctx, query, variables, &data); err != nil {
		return nil, err
	}
	return data, nil
}

// QueueID finds a queue's id by its name (one list of queues).
func (s cfSource) QueueID(ctx context.Context, name string) (string, error) {
	qs, err := s.c.ListQueues(ctx)
	if err != nil {
		return "", err
	}
	for _, q := range qs {
		if q.Name == name {
			return q.ID, nil
		}
	}
	return "", fmt.Errorf("the account has no queue named %q", name)
}

// D1DatabaseID finds a D1 database's id by its name (the list filtered by name).
func (s cfSource) D1DatabaseID(ctx context.Context, name string) (string, error) {
	var dbs []struct {
		UUID string `json:"uuid"`
		Name string `json:"name"`
	}
	path := "accounts/" + url.PathEscape(s.c.AccountID()) + "/d1/database"
	if _, err := s.c.Raw().Do(ctx, http.MethodGet, path, url.Values{"name": {name}, "per_page": {"100"}}, nil, &dbs); err != nil {
		return "", fmt.Errorf("cannot list D1 databases: %w", err)
	}
	for _, db := range dbs {
		if db.Name == name {
			return db.UUID, nil
		}
	}
	return "", fmt.Errorf("the account has no D1 database named %q", name)
}

// alertingDecls builds the configuration's SLOs and metric alert rules: the slo and
// alert_rule kinds put the alerting model in each desired object's Private (native alert
// rules have none and are Cloudflare's to evaluate).
func alertingDecls(reg *reconciler.Registry, desired []reconciler.Desired) ([]alerting.SLO, []alerting.MetricRule, error) {
	var slos []alerting.SLO
	var rules []alerting.MetricRule
	for _, d := range desired {
		if d.Addr.Kind != "slo" && d.Addr.Kind != "alert_rule" {
			continue
		}
		k, ok := reg.Kind(d.Addr.Kind)
		if !ok {
			return nil, nil, fmt.Errorf("%s: this flareops has no %s kind", d.Source, d.Addr.Kind)
		}
		obj, err := k.Build(d.Values)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %s: %w", d.Source, d.Addr, err)
		}
		switch p := obj.Private.(type) {
		case alerting.SLO:
			slos = append(slos, p)
		case *alerting.SLO:
			slos = append(slos, *p)
		case alerting.MetricRule:
			rules = append(rules, p)
		case *alerting.MetricRule:
			rules = append(rules, *p)
		}
	}
	return slos, rules, nil
}

// alertingSession is what alerts check and slo status work with: the configuration's
// SLOs and metric rules, and an evaluator on the target.
type alertingSession struct {
	slos  []alerting.SLO
	rules []alerting.MetricRule
	eval  *alerting.Evaluator
	close func() error
}

// openAlerting loads the configuration as plan does, builds its SLOs and metric rules,
// and connects to the target (no state is read: the rules are evaluated from the
// configuration against live data).
func openAlerting(cf configFlags, io IO) (*alertingSession, bool) {
	cfg, ok := loadConfig(cf, io)
	if !ok {
		return nil, false
	}
	slos, rules, err := alertingDecls(registry(nil, cfg.settings), cfg.desired)
	if err != nil {
		errorf(io, "%v", err)
		return nil, false
	}
	ws, err := resolveWorkspace(cf.workspace, io)
	if err != nil {
		errorf(io, "%v", err)
		return nil, false
	}
	ref, err := resolveTarget(cf.dir, ws, io)
	if err != nil {
		errorf(io, "%v", err)
		return nil, false
	}
	tgt, err := openTarget(cf.dir, ref, io)
	if err != nil {
		errorf(io, "%v", err)
		return nil, false
	}
	src := cfSource{tgt.client}
	return &alertingSession{
		slos: slos, rules: rules,
		eval:  &alerting.Evaluator{Source: src, Resolver: src, Account: tgt.client.AccountID(), Now: alertingNow().UTC()},
		close: tgt.close,
	}, true
}
