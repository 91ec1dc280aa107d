package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Validation of the Worker setting fields. Each setter validates one field of a PATCH
// body or upload metadata; JSON null resets the field to its default.

// workersBindingRequired lists, per binding type, the fields a binding must carry
// (GO ScriptScriptAndVersionSettingEditParamsSettingsBindings*: fields marked required).
// "a|b" means at least one of them (d1's `id` is the deprecated name of `database_id`;
// a Durable Object binding names its class or an existing namespace).
var workersBindingRequired = map[string][]string{
	"ai": nil, "ai_search": {"instance_name"}, "ai_search_namespace": {"namespace"},
	"analytics_engine": {"dataset"}, "assets": nil, "browser": nil, "d1": {"database_id|id"},
	"data_blob": {"part"}, "dispatch_namespace": {"namespace"},
	"durable_object_namespace": {"class_name|namespace_id"}, "flagship": {"app_id"},
	"hyperdrive": {"id"}, "images": nil, "inherit": nil, "json": {"json"},
	"kv_namespace": {"namespace_id"}, "media": nil, "mtls_certificate": {"certificate_id"},
	"pipelines": {"pipeline"}, "plain_text": {"text"}, "queue": {"queue_name"},
	"r2_bucket": {"bucket_name"}, "ratelimit": {"namespace_id", "simple"},
	"secret_key": {"algorithm", "format", "usages"}, "secret_text": {"text"},
	"secrets_store_secret": {"secret_name", "store_id"}, "send_email": nil,
	"service": {"service"}, "text_blob": {"part"}, "vectorize": {"index_name"},
	"version_metadata": nil, "vpc_network": {"network_id|tunnel_id"},
	"vpc_service": {"service_id"}, "wasm_module": {"part"}, "workflow": {"workflow_name"},
}

// Environment variables per Worker on Paid (DOCS workers limits): plain_text, secret_text
// and json bindings count against it.
const workersMaxEnvVars = 128

var errWorkersNull = errors.New("null")

// workersDecode decodes raw into v, reporting JSON null as errWorkersNull.
func workersDecode(raw json.RawMessage, v any, want string) error {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return errWorkersNull
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("must be %s", want)
	}
	return nil
}

func (ws *workersSettings) setBindings(raw json.RawMessage, _ time.Time) error {
	var list []map[string]any
	if err := workersDecode(raw, &list, "an array of binding objects"); err != nil {
		ws.Bindings = nil
		return workersNullOK(err)
	}
	names, envVars := map[string]bool{}, 0
	for i, b := range list {
		name, _ := b["name"].(string)
		typ, _ := b["type"].(string)
		if name == "" || typ == "" {
			return fmt.Errorf("binding #%d needs a non-empty name and type", i)
		}
		if names[name] {
			return fmt.Errorf("binding name %q is used more than once", name)
		}
		names[name] = true
		if err := workersCheckBinding(b, typ); err != nil {
			return fmt.Errorf("binding %q: %w", name, err)
		}
		if typ == "plain_text" || typ == "secret_text" || typ == "json" {
			envVars++
		}
	}
	if envVars > workersMaxEnvVars {
		return fmt.Errorf("%d environment variables exceed the limit of %d per Worker", envVars, workersMaxEnvVars)
	}
	ws.Bindings = list
	return nil
}

func workersCheckBinding(b map[string]any, typ string) error {
	required, known := workersBindingRequired[typ]
	if !known {
		return fmt.Errorf("unknown binding type %q", typ)
	}
	for _, req := range required {
		if !workersHasAny(b, strings.Split(req, "|")) {
			return fmt.Errorf("binding of type %s needs %s", typ, strings.ReplaceAll(req, "|", " or "))
		}
	}
	return nil
}

// workersHasAny reports whether one of the fields is present and not null; identifier
// fields (all but the free-form `text` and `json`) must also be non-empty strings.
func workersHasAny(b map[string]any, fields []string) bool {
	for _, f := range fields {
		v, ok := b[f]
		if !ok || v == nil {
			continue
		}
		if s, isString := v.(string); isString && s == "" && f != "text" && f != "json" {
			continue
		}
		return true
	}
	return false
}

// workersRedactBindings drops secret material from bindings in answers.
func workersRedactBindings(list []map[string]any) []map[string]any {
	out := make([]map[string]any, 0, len(list))
	for _, b := range list {
		c := make(map[string]any, len(b))
		for k, v := range b {
			c[k] = v
		}
		switch c["type"] {
		case "secret_text":
			delete(c, "text")
		case "secret_key":
			delete(c, "key_base64")
			delete(c, "key_jwk")
		}
		out = append(out, c)
	}
	return out
}

// workersKeepBindings adds to next the bindings of prev whose type is in keep and whose
// name next does not use (upload metadata `keep_bindings`).
func workersKeepBindings(next, prev []map[string]any, keep []string) []map[string]any {
	used := map[string]bool{}
	for _, b := range next {
		used[b["name"].(string)] = true
	}
	for _, b := range prev {
		typ, _ := b["type"].(string)
		if name, _ := b["name"].(string); !used[name] && slices.Contains(keep, typ) {
			next = append(next, b)
		}
	}
	return next
}

// workersResolveInherit replaces each `inherit` binding with the previous binding of its
// old_name (default: its own name), renamed. An unresolvable one is dropped, or refused
// when strict (upload query bindings_inherit=strict), as GO ScriptUpdateParams documents.
func workersResolveInherit(next, prev []map[string]any, strict bool) ([]map[string]any, error) {
	out := make([]map[string]any, 0, len(next))
	for _, b := range next {
		if b["type"] != "inherit" {
			out = append(out, b)
			continue
		}
		name := b["name"].(string)
		from, _ := b["old_name"].(string)
		if from == "" {
			from = name
		}
		old := workersFindBinding(prev, from)
		switch {
		case old == nil && strict:
			return nil, fmt.Errorf("inherit binding %q: the previous version has no binding %q", name, from)
		case old == nil:
			continue
		}
		c := make(map[string]any, len(old))
		for k, v := range old {
			c[k] = v
		}
		c["name"] = name
		out = append(out, c)
	}
	return out, nil
}

func workersFindBinding(list []map[string]any, name string) map[string]any {
	for _, b := range list {
		if b["name"] == name {
			return b
		}
	}
	return nil
}

func workersNullOK(err error) error {
	if errors.Is(err, errWorkersNull) {
		return nil
	}
	return err
}

// setCompatibilityDate accepts YYYY-MM-DD, not after today (Cloudflare refuses dates in
// the future, as no runtime behaviour is defined for them yet).
func (ws *workersSettings) setCompatibilityDate(raw json.RawMessage, now time.Time) error {
	var d string
	if err := workersDecode(raw, &d, "a date string"); err != nil {
		ws.CompatibilityDate = ""
		return workersNullOK(err)
	}
	if d != "" {
		t, err := time.Parse(time.DateOnly, d)
		if err != nil {
			return fmt.Errorf("%q is not a date in YYYY-MM-DD form", d)
		}
		if t.After(now) {
			return fmt.Errorf("%s is in the future", d)
		}
	}
	ws.CompatibilityDate = d
	return nil
}

func (ws *workersSettings) setCompatibilityFlags(raw json.RawMessage, _ time.Time) error {
	return workersSetStrings(&ws.CompatibilityFlags, raw, "compatibility flag")
}

func (ws *workersSettings) setTags(raw json.RawMessage, _ time.Time) error {
	return workersSetStrings(&ws.Tags, raw, "tag")
}

func workersSetStrings(dst *[]string, raw json.RawMessage, what string) error {
	var list []string
	if err := workersDecode(raw, &list, "an array of strings"); err != nil {
		*dst = nil
		return workersNullOK(err)
	}
	for _, s := range list {
		if s == "" {
			return fmt.Errorf("a %s cannot be empty", what)
		}
	}
	*dst = list
	return nil
}

// setLimits validates cpu_ms within 10..300000 (absent: Cloudflare's default 30000 applies
// and is not stored) and subrequests ≥ 1. An empty object clears the limits.
func (ws *workersSettings) setLimits(raw json.RawMessage, _ time.Time) error {
	var l struct {
		CPUMs       *int64 `json:"cpu_ms"`
		Subrequests *int64 `json:"subrequests"`
	}
	if err := workersDecode(raw, &l, `an object {"cpu_ms": <integer>}`); err != nil {
		ws.Limits = nil
		return workersNullOK(err)
	}
	next := workersLimits{}
	if l.CPUMs != nil {
		if *l.CPUMs < workersCPUMsMin || *l.CPUMs > workersCPUMsMax {
			return fmt.Errorf("cpu_ms %d is out of range: it must be between %d and %d", *l.CPUMs, workersCPUMsMin, workersCPUMsMax)
		}
		next.CPUMs = *l.CPUMs
	}
	if l.Subrequests != nil {
		if *l.Subrequests < 1 {
			return fmt.Errorf("subrequests must be at least 1")
		}
		next.Subrequests = *l.Subrequests
	}
	ws.Limits = &next
	if next == (workersLimits{}) {
		ws.Limits = nil
	}
	return nil
}

func (ws *workersSettings) setLogpush(raw json.RawMessage, _ time.Time) error {
	var b bool
	err := workersDecode(raw, &b, "a boolean")
	ws.Logpush = b
	return workersNullOK(err)
}

func (ws *workersSettings) setUsageModel(raw json.RawMessage, _ time.Time) error {
	var m string
	if err := workersDecode(raw, &m, "a string"); err != nil {
		ws.UsageModel = ""
		return workersNullOK(err)
	}
	if m != "standard" && m != "bundled" && m != "unbound" {
		return fmt.Errorf("%q is not one of standard, bundled, unbound", m)
	}
	ws.UsageModel = m
	return nil
}

func (ws *workersSettings) setTailConsumers(raw json.RawMessage, _ time.Time) error {
	var list []workersTailConsumer
	if err := workersDecode(raw, &list, `an array of {"service": ...} objects`); err != nil {
		ws.TailConsumers = nil
		return workersNullOK(err)
	}
	for i, tc := range list {
		if tc.Service == "" {
			return fmt.Errorf("tail consumer #%d needs a service", i)
		}
	}
	ws.TailConsumers = list
	return nil
}

// SecretText returns the value of a Worker's secret_text binding, which the API never
// answers: a hook for tests that check an edit kept a secret it could not read.
func (s *Server) SecretText(accountID, script, binding string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.st.Workers.Accounts[accountID][script]
	if sc == nil {
		return "", false
	}
	b := workersFindBinding(sc.Settings.Bindings, binding)
	if b == nil || b["type"] != "secret_text" {
		return "", false
	}
	text, ok := b["text"].(string)
	return text, ok
}
