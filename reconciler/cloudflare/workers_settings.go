package cloudflare

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/textproto"

	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/workers"
)

// WorkerSettings is what flareops reads and writes of a Worker's settings
// (GET/PATCH /accounts/{a}/workers/scripts/{name}/settings). Other settings
// (compatibility date and flags, tags, placement, usage model, tail consumers) are not
// sent, so a write leaves them as they are.
type WorkerSettings struct {
	// Bindings are every binding object exactly as the API returns it. The API never
	// returns secret values (a secret_text binding comes without its text); to keep a
	// binding without knowing it, write {"type":"inherit","name":"X"} in its place.
	Bindings []json.RawMessage
	// CPUMs is limits.cpu_ms; 0 when unset. Writing 0 clears the limit (sends
	// "limits": {}), so the platform's default applies.
	CPUMs   int64
	Logpush bool
	// Observability is nil when the API returns none; writing nil leaves it as it is.
	Observability *Observability
}

// Observability is a Worker's observability setting.
type Observability struct {
	Enabled bool
	// HeadSamplingRate is 0–1. The API's default is 1, and an answer without it reads as 1.
	HeadSamplingRate float64
	Logs             *ObservabilityLogs // nil when none
	// Traces is the traces object exactly as the API returns it (nil when none), sent
	// back as it is so that a read-modify-write keeps it.
	Traces json.RawMessage
}

// ObservabilityLogs is the logs part of Observability.
type ObservabilityLogs struct {
	Enabled        bool
	InvocationLogs bool
	// HeadSamplingRate is 0–1; an answer without it reads as 1, as for Observability.
	HeadSamplingRate float64
	// Persist and Destinations are sent back only when set (nil), so that a
	// read-modify-write keeps what the API has.
	Persist      *bool
	Destinations []string
}

// workerSettingsWire is the JSON shape of the fields WorkerSettings covers.
type workerSettingsWire struct {
	Bindings      []json.RawMessage  `json:"bindings"`
	Limits        *limitsWire        `json:"limits,omitempty"`
	Logpush       bool               `json:"logpush"`
	Observability *observabilityWire `json:"observability,omitempty"`
}

type limitsWire struct {
	CPUMs int64 `json:"cpu_ms,omitempty"`
}

type observabilityWire struct {
	Enabled          bool            `json:"enabled"`
	HeadSamplingRate *float64        `json:"head_sampling_rate,omitempty"`
	Logs             *logsWire       `json:"logs,omitempty"`
	Traces           json.RawMessage `json:"traces,omitempty"`
}

type logsWire struct {
	Enabled          bool     `json:"enabled"`
	InvocationLogs   bool     `json:"invocation_logs"`
	HeadSamplingRate *float64 `json:"head_sampling_rate,omitempty"`
	Persist          *bool    `json:"persist,omitempty"`
	Destinations     []string `json:"destinations,omitempty"`
}

// WorkerSettings reads a Worker's settings in one request. IsNotFound (and
// IsScriptNotFound) is true of the error when the script does not exist.
func (c *Client) WorkerSettings(ctx context.Context, script string) (WorkerSettings, error) {
	var p workers.ScriptScriptAndVersionSettingGetParams
	set(&p.AccountID, c.accountID)
	res, err := c.scripts.ScriptAndVersionSettings.Get(ctx, script, p)
	if err != nil {
		return WorkerSettings{}, failed(fmt.Sprintf("read settings of Worker %q", script), err)
	}
	var w workerSettingsWire
	if err := json.Unmarshal([]byte(res.JSON.RawJSON()), &w); err != nil {
		return WorkerSettings{}, fmt.Errorf("cannot read settings of Worker %q: %w", script, err)
	}
	return fromSettingsWire(w), nil
}

// SetWorkerSettings PATCHes the bindings (the whole list), limits, logpush and
// observability as given, in one multipart request whose `settings` part holds the JSON,
// as the API wants. Bindings are sent verbatim; {"type":"inherit","name":"X"} keeps the
// existing binding X (the way to keep a secret whose value is never read), and the API
// refuses the write when X does not exist.
func (c *Client) SetWorkerSettings(ctx context.Context, script string, s WorkerSettings) error {
	op := fmt.Sprintf("write settings of Worker %q", script)
	body, contentType, err := settingsMultipart(toSettingsWire(s))
	if err != nil {
		return fmt.Errorf("cannot %s: %w", op, err)
	}
	// The SDK's typed bindings cannot carry a binding verbatim, so the service sends our
	// own body; it still builds the path and reads the answer.
	var p workers.ScriptScriptAndVersionSettingEditParams
	set(&p.AccountID, c.accountID)
	if _, err := c.scripts.ScriptAndVersionSettings.Edit(ctx, script, p, option.WithRequestBody(contentType, body)); err != nil {
		return failed(op, err)
	}
	return nil
}

func settingsMultipart(w workerSettingsWire) ([]byte, string, error) {
	js, err := json.Marshal(w)
	if err != nil {
		return nil, "", fmt.Errorf("a binding is not valid JSON: %w", err)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="settings"`)
	h.Set("Content-Type", "application/json")
	part, err := mw.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := part.Write(js); err != nil {
		return nil, "", err
	}
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), mw.FormDataContentType(), nil
}

func toSettingsWire(s WorkerSettings) workerSettingsWire {
	w := workerSettingsWire{Bindings: s.Bindings, Limits: &limitsWire{CPUMs: s.CPUMs}, Logpush: s.Logpush}
	if w.Bindings == nil {
		w.Bindings = []json.RawMessage{}
	}
	if o := s.Observability; o != nil {
		w.Observability = &observabilityWire{Enabled: o.Enabled, HeadSamplingRate: &o.HeadSamplingRate, Traces: o.Traces}
		if l := o.Logs; l != nil {
			w.Observability.Logs = &logsWire{Enabled: l.Enabled, InvocationLogs: l.InvocationLogs,
				HeadSamplingRate: &l.HeadSamplingRate, Persist: l.Persist, Destinations: l.Destinations}
		}
	}
	return w
}

func fromSettingsWire(w workerSettingsWire) WorkerSettings {
	s := WorkerSettings{Bindings: w.Bindings, Logpush: w.Logpush}
	if s.Bindings == nil {
		s.Bindings = []json.RawMessage{}
	}
	if w.Limits != nil {
		s.CPUMs = w.Limits.CPUMs
	}
	if o := w.Observability; o != nil {
		s.Observability = &Observability{Enabled: o.Enabled, HeadSamplingRate: rateOrOne(o.HeadSamplingRate), Traces: o.Traces}
		if l := o.Logs; l != nil {
			s.Observability.Logs = &ObservabilityLogs{Enabled: l.Enabled, InvocationLogs: l.InvocationLogs,
				HeadSamplingRate: rateOrOne(l.HeadSamplingRate), Persist: l.Persist, Destinations: l.Destinations}
		}
	}
	return s
}

// rateOrOne reads an absent head_sampling_rate as the API's default, 1.
func rateOrOne(r *float64) float64 {
	if r == nil {
		return 1
	}
	return *r
}

// WorkerCrons returns a Worker's cron triggers in the API's order, in one request.
func (c *Client) WorkerCrons(ctx context.Context, script string) ([]string, error) {
	var p workers.ScriptScheduleGetParams
	set(&p.AccountID, c.accountID)
	res, err := c.scripts.Schedules.Get(ctx, script, p)
	if err != nil {
		return nil, failed(fmt.Sprintf("read cron triggers of Worker %q", script), err)
	}
	out := make([]string, 0, len(res.Schedules))
	for _, s := range res.Schedules {
		out = append(out, s.Cron)
	}
	return out, nil
}

// SetWorkerCrons replaces a Worker's cron triggers with crons (PUT: the whole list; an
// empty list removes them all). Cloudflare counts triggers per account and refuses a
// list that takes the account over its limit (IsTooManyCrons).
func (c *Client) SetWorkerCrons(ctx context.Context, script string, crons []string) error {
	p := workers.ScriptScheduleUpdateParams{Body: make([]workers.ScriptScheduleUpdateParamsBody, 0, len(crons))}
	set(&p.AccountID, c.accountID)
	for _, cron := range crons {
		var b workers.ScriptScheduleUpdateParamsBody
		set(&b.Cron, cron)
		p.Body = append(p.Body, b)
	}
	if _, err := c.scripts.Schedules.Update(ctx, script, p); err != nil {
		return failed(fmt.Sprintf("write cron triggers of Worker %q", script), err)
	}
	return nil
}
