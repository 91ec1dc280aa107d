package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Worker settings: GET/PATCH /settings ("script and version settings", multipart with a
// `settings` JSON part) and GET/PATCH /script-settings (JSON, the script-level subset).
// Both edit the same fields. PATCH merges: a field present replaces the stored value
// (a list such as bindings replaces the whole list), an absent field keeps it, and an
// explicit null resets it to the default.

const (
	workersCPUMsMin = 10
	workersCPUMsMax = 300_000 // 5 minutes on Paid (DOCS changelog 2025-03-25)
)

type workersSettings struct {
	Bindings           []map[string]any      `json:"bindings"`
	CompatibilityDate  string                `json:"compatibility_date"`
	CompatibilityFlags []string              `json:"compatibility_flags"`
	Limits             *workersLimits        `json:"limits,omitempty"`
	Logpush            bool                  `json:"logpush"`
	Observability      json.RawMessage       `json:"observability,omitempty"`
	Placement          json.RawMessage       `json:"placement,omitempty"`
	Tags               []string              `json:"tags"`
	TailConsumers      []workersTailConsumer `json:"tail_consumers"`
	UsageModel         string                `json:"usage_model"`
}

type workersLimits struct {
	CPUMs       int64 `json:"cpu_ms,omitempty"`
	Subrequests int64 `json:"subrequests,omitempty"`
}

type workersTailConsumer struct {
	Service     string `json:"service"`
	Environment string `json:"environment,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
}

func (ws *workersSettings) usageModel() string {
	if ws.UsageModel == "" {
		return "standard"
	}
	return ws.UsageModel
}

// view is the /settings answer. Secret material (secret_text text, secret_key keys) is
// never echoed. `limits` is omitted when never set rather than echoed as the 30000 ms
// default: Cloudflare stores what was sent, and a reconciler comparing against an echoed
// default would see drift where the user declared nothing.
func (ws *workersSettings) view() map[string]any {
	v := ws.scriptView()
	v["bindings"] = workersRedactBindings(ws.Bindings)
	v["compatibility_date"] = ws.CompatibilityDate
	v["compatibility_flags"] = workersNonNil(ws.CompatibilityFlags)
	v["usage_model"] = ws.usageModel()
	if ws.Limits != nil {
		v["limits"] = ws.Limits
	}
	if ws.Placement != nil {
		v["placement"] = ws.Placement
	}
	return v
}

// scriptView is the /script-settings answer (GO ScriptSetting).
func (ws *workersSettings) scriptView() map[string]any {
	v := map[string]any{
		"logpush":        ws.Logpush,
		"tags":           workersNonNil(ws.Tags),
		"tail_consumers": workersNonNil(ws.TailConsumers),
	}
	if ws.Observability != nil {
		v["observability"] = ws.Observability
	}
	return v
}

// workersScriptFields are the fields /script-settings edits; /settings edits all of
// workersSettingFields.
var workersScriptFields = []string{"logpush", "observability", "tags", "tail_consumers"}

type workersFieldSetter func(ws *workersSettings, raw json.RawMessage, now time.Time) error

var workersSettingFields = map[string]workersFieldSetter{
	"bindings":            (*workersSettings).setBindings,
	"compatibility_date":  (*workersSettings).setCompatibilityDate,
	"compatibility_flags": (*workersSettings).setCompatibilityFlags,
	"limits":              (*workersSettings).setLimits,
	"logpush":             (*workersSettings).setLogpush,
	"observability":       (*workersSettings).setObservability,
	"placement":           (*workersSettings).setPlacement,
	"tags":                (*workersSettings).setTags,
	"tail_consumers":      (*workersSettings).setTailConsumers,
	"usage_model":         (*workersSettings).setUsageModel,
}

// workersAllFields lists workersSettingFields in a fixed order, so that the first
// validation error reported is always the same one.
var workersAllFields = func() []string {
	fields := make([]string, 0, len(workersSettingFields))
	for f := range workersSettingFields {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	return fields
}()

// patch applies the named fields present in body onto a copy of ws and returns it, or
// the first validation error. Fields not listed are ignored, as Cloudflare ignores
// unknown JSON fields (e.g. `annotations`, which belongs to versions). `inherit`
// bindings are left for the caller to resolve against the previous bindings.
func (ws workersSettings) patch(body map[string]json.RawMessage, fields []string, now time.Time) (workersSettings, error) {
	for _, f := range fields {
		raw, ok := body[f]
		if !ok {
			continue
		}
		if err := workersSettingFields[f](&ws, raw, now); err != nil {
			return ws, fmt.Errorf("%s: %w", f, err)
		}
	}
	return ws, nil
}

// applyUpload applies upload metadata: version-level fields are replaced (absent means
// empty), script-level fields merge. keep_bindings keeps old bindings of the listed types.
func (ws *workersSettings) applyUpload(meta map[string]json.RawMessage, now time.Time, strictInherit bool) error {
	prev := ws.Bindings
	next := *ws
	next.Bindings, next.CompatibilityDate, next.CompatibilityFlags = nil, "", nil
	next.Limits, next.Placement = nil, nil
	next, err := next.patch(meta, workersAllFields, now)
	if err != nil {
		return err
	}
	if raw, ok := meta["keep_bindings"]; ok {
		var keep []string
		if err := json.Unmarshal(raw, &keep); err != nil {
			return fmt.Errorf("keep_bindings must be an array of binding types")
		}
		next.Bindings = workersKeepBindings(next.Bindings, prev, keep)
	}
	if next.Bindings, err = workersResolveInherit(next.Bindings, prev, strictInherit); err != nil {
		return fmt.Errorf("bindings: %w", err)
	}
	*ws = next
	return nil
}

func (s *Server) workersSettingsGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc := s.workersScriptFor(w, r); sc != nil {
		writeResult(w, sc.Settings.view())
	}
}

func (s *Server) workersScriptSettingsGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc := s.workersScriptFor(w, r); sc != nil {
		writeResult(w, sc.Settings.scriptView())
	}
}

// workersSettingsPatch reads the `settings` part of a multipart body. A JSON body is
// accepted too: Cloudflare documents multipart, but the strict choice would only break
// clients without telling anything about the settings themselves.
func (s *Server) workersSettingsPatch(w http.ResponseWriter, r *http.Request) {
	body, err := workersReadSettingsPart(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, workersCodeInvalid, err.Error())
		return
	}
	s.workersPatch(w, r, body, workersAllFields, (*workersSettings).view)
}

func (s *Server) workersScriptSettingsPatch(w http.ResponseWriter, r *http.Request) {
	var body map[string]json.RawMessage
	if !decodeJSON(w, r, &body) {
		return
	}
	s.workersPatch(w, r, body, workersScriptFields, (*workersSettings).scriptView)
}

func (s *Server) workersPatch(w http.ResponseWriter, r *http.Request, body map[string]json.RawMessage,
	fields []string, view func(*workersSettings) map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.workersScriptFor(w, r)
	if sc == nil {
		return
	}
	next, err := sc.Settings.patch(body, fields, s.Now())
	if err == nil {
		// A settings edit is a new version too: `inherit` refers to the current bindings.
		// Unknown upstream: whether PATCH drops an `inherit` naming no current binding
		// (as an upload without bindings_inherit=strict does) or refuses it. We refuse
		// it (strictest): a merge that means to keep a secret it cannot read must hear
		// that the secret is gone rather than lose it silently.
		next.Bindings, err = workersResolveInherit(next.Bindings, sc.Settings.Bindings, true)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, workersCodeInvalid, err.Error())
		return
	}
	sc.Settings, sc.ModifiedOn = next, s.Now()
	writeResult(w, view(&sc.Settings))
}

func workersReadSettingsPart(r *http.Request) (map[string]json.RawMessage, error) {
	var body map[string]json.RawMessage
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType == "application/json" {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return nil, fmt.Errorf("invalid JSON in request body: %w", err)
		}
		return body, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, fmt.Errorf("PATCH /settings must be multipart/form-data with a `settings` part: %w", err)
	}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("multipart body has no `settings` part")
		}
		if err != nil {
			return nil, fmt.Errorf("malformed multipart body: %w", err)
		}
		if p.FormName() != "settings" {
			continue
		}
		if err := json.NewDecoder(p).Decode(&body); err != nil {
			return nil, fmt.Errorf("`settings` part is not a JSON object: %w", err)
		}
		return body, nil
	}
}

// workersObservability is the shape /settings accepts for `observability`; it is only
// used to validate, the stored value is the JSON as sent.
type workersObservability struct {
	Enabled          *bool    `json:"enabled"`
	HeadSamplingRate *float64 `json:"head_sampling_rate"`
	Logs             *struct {
		Enabled          *bool    `json:"enabled"`
		InvocationLogs   *bool    `json:"invocation_logs"`
		HeadSamplingRate *float64 `json:"head_sampling_rate"`
		Persist          *bool    `json:"persist"`
		Destinations     []string `json:"destinations"`
	} `json:"logs"`
	Traces *struct {
		Enabled          *bool    `json:"enabled"`
		HeadSamplingRate *float64 `json:"head_sampling_rate"`
		Persist          *bool    `json:"persist"`
		Destinations     []string `json:"destinations"`
	} `json:"traces"`
}

func (ws *workersSettings) setObservability(raw json.RawMessage, _ time.Time) error {
	var o workersObservability
	if err := workersDecode(raw, &o, "an object"); err != nil {
		ws.Observability = nil
		return workersNullOK(err)
	}
	rates := []*float64{o.HeadSamplingRate}
	switch {
	case o.Enabled == nil:
		return fmt.Errorf("enabled is required")
	case o.Logs != nil && (o.Logs.Enabled == nil || o.Logs.InvocationLogs == nil):
		return fmt.Errorf("logs needs enabled and invocation_logs")
	}
	if o.Logs != nil {
		rates = append(rates, o.Logs.HeadSamplingRate)
	}
	if o.Traces != nil {
		rates = append(rates, o.Traces.HeadSamplingRate)
	}
	for _, r := range rates {
		if r != nil && (*r < 0 || *r > 1) {
			return fmt.Errorf("head_sampling_rate %v is out of range: it must be between 0 and 1", *r)
		}
	}
	ws.Observability = append(json.RawMessage(nil), raw...)
	return nil
}

// setPlacement accepts {mode:"smart"}, {mode:"targeted", region}, or one of region
// ("provider:region"), hostname, host. An empty object clears the placement.
func (ws *workersSettings) setPlacement(raw json.RawMessage, _ time.Time) error {
	type placement struct {
		Mode     *string `json:"mode"`
		Region   *string `json:"region"`
		Hostname *string `json:"hostname"`
		Host     *string `json:"host"`
	}
	var p placement
	if err := workersDecode(raw, &p, "an object"); err != nil {
		ws.Placement = nil
		return workersNullOK(err)
	}
	if p == (placement{}) {
		ws.Placement = nil
		return nil
	}
	switch {
	case p.Mode != nil && *p.Mode != "smart" && *p.Mode != "targeted":
		return fmt.Errorf("mode %q is not one of smart, targeted", *p.Mode)
	case p.Mode != nil && *p.Mode == "targeted" && p.Region == nil:
		return fmt.Errorf("targeted placement needs a region")
	case p.Region != nil && !strings.Contains(*p.Region, ":"):
		return fmt.Errorf("region %q must have the form provider:region", *p.Region)
	case p.Hostname != nil && *p.Hostname == "", p.Host != nil && *p.Host == "":
		return fmt.Errorf("hostname and host cannot be empty")
	}
	ws.Placement = append(json.RawMessage(nil), raw...)
	return nil
}
