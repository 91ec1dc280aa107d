package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
)

// Validation of Logpush job bodies (GO logpush/job.go; OAS logpush_* schemas). Error
// messages never quote destination_conf: it holds a secret.

// logpushMaxName is the name's maxLength.
const logpushMaxName = 512

// logpushNameRe is the name pattern (OAS logpush_name).
var logpushNameRe = regexp.MustCompile(`^[a-zA-Z0-9._-]*$`)

// logpushAccountDatasets are the account-scoped datasets (GO LogpushJobDataset, without
// the zone-scoped ones: http_requests, firewall_events, dns_logs, nel_reports,
// page_shield_events, spectrum_events, zaraz_events). A zone dataset on an account job
// is refused.
var logpushAccountDatasets = []string{
	"access_requests", "audit_logs", "audit_logs_v2", "biso_user_actions", "casb_findings",
	"device_posture_results", "dex_application_tests", "dex_device_state_events",
	"dlp_forensic_copies", "dns_firewall_logs", "email_security_alerts",
	"email_security_post_delivery_events", "gateway_dns", "gateway_http", "gateway_network",
	"ipsec_logs", "magic_ids_detections", "mcp_portal_logs", "network_analytics_logs",
	"sinkhole_http_logs", "ssh_logs", "warp_config_changes", "warp_toggle_changes",
	"workers_trace_events", "zero_trust_network_sessions",
}

// logpushDatasetFields lists the fields of the datasets whose fields the emulator knows
// (DOCS logs/reference/log-fields/account/workers_trace_events). field_names and filter
// keys of those datasets must be among them; other datasets' fields are not checked.
var logpushDatasetFields = map[string][]string{
	"workers_trace_events": {
		"CPUTimeMs", "DispatchNamespace", "Entrypoint", "Event", "EventTimestampMs", "EventType",
		"Exceptions", "Logs", "Outcome", "ScriptName", "ScriptTags", "ScriptVersion", "WallTimeMs",
	},
}

// logpushField applies one body field to a job; JSON null resets it.
type logpushField struct {
	name string
	set  func(j *logpushJob, raw json.RawMessage) error
}

// logpushFields are the writable fields, in the order errors are reported. dataset is
// handled by apply; ownership_challenge is accepted and ignored (R2 destinations need
// none, cloudflare-api.md §11).
var logpushFields = []logpushField{
	{"name", func(j *logpushJob, raw json.RawMessage) error { return logpushString(raw, &j.Name, logpushCheckName) }},
	{"kind", func(j *logpushJob, raw json.RawMessage) error { return logpushString(raw, &j.Kind, logpushCheckKind) }},
	{"enabled", func(j *logpushJob, raw json.RawMessage) error { return logpushBool(raw, &j.Enabled) }},
	{"destination_conf", func(j *logpushJob, raw json.RawMessage) error {
		return logpushString(raw, &j.DestinationConf, func(s string) error { _, err := logpushParseR2(s); return err })
	}},
	{"filter", func(j *logpushJob, raw json.RawMessage) error { return logpushString(raw, &j.Filter, nil) }},
	{"output_options", func(j *logpushJob, raw json.RawMessage) error { return j.setOutputOptions(raw) }},
	{"max_upload_bytes", func(j *logpushJob, raw json.RawMessage) error {
		return logpushInt(raw, &j.MaxUploadBytes, 5_000_000, 1_000_000_000)
	}},
	{"max_upload_interval_seconds", func(j *logpushJob, raw json.RawMessage) error {
		return logpushInt(raw, &j.MaxUploadIntervalSeconds, 30, 300)
	}},
	{"max_upload_records", func(j *logpushJob, raw json.RawMessage) error {
		return logpushInt(raw, &j.MaxUploadRecords, 1000, 1_000_000)
	}},
	{"frequency", func(j *logpushJob, raw json.RawMessage) error {
		return logpushString(raw, &j.Frequency, logpushCheckFrequency)
	}},
	{"logpull_options", func(j *logpushJob, raw json.RawMessage) error { return logpushString(raw, &j.LogpullOptions, nil) }},
}

// apply sets the fields present in body and checks the job as a whole. On create the
// dataset and destination_conf are required; afterwards the dataset cannot change.
func (j *logpushJob) apply(body map[string]json.RawMessage, create bool) error {
	if raw, ok := body["dataset"]; ok {
		var ds string
		if err := json.Unmarshal(raw, &ds); err != nil {
			return fmt.Errorf("dataset must be a string")
		}
		switch {
		case create:
			j.Dataset = ds
		case ds != j.Dataset:
			return fmt.Errorf("dataset cannot be changed (the job pushes %s): create a new job", j.Dataset)
		}
	}
	for _, f := range logpushFields {
		raw, ok := body[f.name]
		if !ok {
			continue
		}
		if err := f.set(j, raw); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	switch {
	case j.Dataset == "":
		return fmt.Errorf("dataset is required")
	case !slices.Contains(logpushAccountDatasets, j.Dataset):
		return fmt.Errorf("dataset %q is not an account-scoped Logpush dataset", j.Dataset)
	case j.DestinationConf == "":
		return fmt.Errorf("destination_conf is required")
	}
	if err := logpushCheckFilter(j.Filter, logpushDatasetFields[j.Dataset]); err != nil {
		return fmt.Errorf("filter: %w", err)
	}
	return logpushCheckOutputFields(j.OutputOptions, logpushDatasetFields[j.Dataset])
}

var errLogpushNull = errors.New("null")

func logpushDecode(raw json.RawMessage, v any, want string) error {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return errLogpushNull
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("must be %s", want)
	}
	return nil
}

func logpushString(raw json.RawMessage, dst *string, check func(string) error) error {
	var s string
	if err := logpushDecode(raw, &s, "a string"); err != nil {
		*dst = ""
		return logpushNullOK(err)
	}
	if check != nil && s != "" {
		if err := check(s); err != nil {
			return err
		}
	}
	*dst = s
	return nil
}

func logpushBool(raw json.RawMessage, dst *bool) error {
	var b bool
	err := logpushDecode(raw, &b, "a boolean")
	*dst = b
	return logpushNullOK(err)
}

// logpushInt accepts 0 (no limit) or an integer in [lo, hi].
func logpushInt(raw json.RawMessage, dst *int64, lo, hi int64) error {
	var n int64
	if err := logpushDecode(raw, &n, "an integer"); err != nil {
		*dst = 0
		return logpushNullOK(err)
	}
	if n != 0 && (n < lo || n > hi) {
		return fmt.Errorf("%d is out of range: it must be between %d and %d, or 0 to disable it", n, lo, hi)
	}
	*dst = n
	return nil
}

func logpushNullOK(err error) error {
	if errors.Is(err, errLogpushNull) {
		return nil
	}
	return err
}

func logpushCheckName(s string) error {
	switch {
	case len(s) > logpushMaxName:
		return fmt.Errorf("longer than %d characters", logpushMaxName)
	case !logpushNameRe.MatchString(s):
		return fmt.Errorf("%q may only contain letters, digits, '.', '_' and '-'", s)
	}
	return nil
}

// logpushCheckKind refuses every non-empty kind: "edge" (Instant Logs) jobs are
// zone-scoped, and an account job has kind "".
func logpushCheckKind(s string) error {
	if s == "edge" {
		return fmt.Errorf(`edge jobs (Instant Logs) are zone-scoped; an account job has kind ""`)
	}
	return fmt.Errorf(`%q is not "" or "edge"`, s)
}

func logpushCheckFrequency(s string) error {
	if s != "high" && s != "low" {
		return fmt.Errorf("%q is not high or low", s)
	}
	return nil
}

// logpushFilterOperators are the filter operators (DOCS logs/reference/filters).
var logpushFilterOperators = []string{
	"eq", "!eq", "neq", "lt", "leq", "gt", "geq", "startsWith", "endsWith", "!startsWith",
	"!endsWith", "contains", "!contains", "in", "!in", "value_in", "!value_in",
}

// logpushCheckFilter checks a filter: "" for none, or JSON {"where": <node>}, where a node
// is {"and": [nodes]}, {"or": [nodes]} or {"key", "operator", "value"}. With fields
// known, keys must be among them.
func logpushCheckFilter(filter string, fields []string) error {
	if filter == "" {
		return nil
	}
	var f struct {
		Where json.RawMessage `json:"where"`
	}
	if err := json.Unmarshal([]byte(filter), &f); err != nil || f.Where == nil {
		return fmt.Errorf(`must be JSON of the form {"where": {...}}`)
	}
	return logpushCheckFilterNode(f.Where, fields, 0)
}

func logpushCheckFilterNode(raw json.RawMessage, fields []string, depth int) error {
	if depth > 10 {
		return fmt.Errorf("nested too deeply")
	}
	var n struct {
		And      []json.RawMessage `json:"and"`
		Or       []json.RawMessage `json:"or"`
		Key      *string           `json:"key"`
		Operator *string           `json:"operator"`
		Value    json.RawMessage   `json:"value"`
	}
	if err := json.Unmarshal(raw, &n); err != nil {
		return fmt.Errorf("a condition must be an object")
	}
	if list := append(n.And, n.Or...); len(list) > 0 {
		if n.And != nil && n.Or != nil || n.Key != nil {
			return fmt.Errorf("a condition has either and, or, or key/operator/value")
		}
		for _, c := range list {
			if err := logpushCheckFilterNode(c, fields, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	switch {
	case n.Key == nil || n.Operator == nil || n.Value == nil:
		return fmt.Errorf("a condition needs key, operator and value (or a non-empty and/or list)")
	case !slices.Contains(logpushFilterOperators, *n.Operator):
		return fmt.Errorf("unknown operator %q", *n.Operator)
	case fields != nil && !slices.Contains(fields, *n.Key):
		return fmt.Errorf("%q is not a field of the dataset", *n.Key)
	}
	return nil
}

// logpushOutputOptions are the output_options fields the emulator checks; others are
// kept as sent.
type logpushOutputOptions struct {
	FieldNames      []string `json:"field_names"`
	OutputType      *string  `json:"output_type"`
	TimestampFormat *string  `json:"timestamp_format"`
	SampleRate      *float64 `json:"sample_rate"`
}

// setOutputOptions replaces output_options (null or {} clears it) and keeps it as sent.
func (j *logpushJob) setOutputOptions(raw json.RawMessage) error {
	var o logpushOutputOptions
	if err := logpushDecode(raw, &o, "an object"); err != nil {
		j.OutputOptions = nil
		return logpushNullOK(err)
	}
	switch {
	case o.OutputType != nil && *o.OutputType != "ndjson" && *o.OutputType != "csv":
		return fmt.Errorf("output_type %q is not ndjson or csv", *o.OutputType)
	case o.TimestampFormat != nil && !slices.Contains([]string{"unixnano", "unix", "rfc3339", "rfc3339ms", "rfc3339ns"}, *o.TimestampFormat):
		return fmt.Errorf("timestamp_format %q is not one of unixnano, unix, rfc3339, rfc3339ms, rfc3339ns", *o.TimestampFormat)
	case o.SampleRate != nil && (*o.SampleRate <= 0 || *o.SampleRate > 1):
		return fmt.Errorf("sample_rate %v is out of range: it must be above 0 and at most 1", *o.SampleRate)
	}
	var compact bytes.Buffer
	_ = json.Compact(&compact, raw) // raw decoded above, so it is valid JSON
	j.OutputOptions = compact.Bytes()
	if compact.String() == "{}" {
		j.OutputOptions = nil
	}
	return nil
}

// logpushCheckOutputFields checks field_names: no duplicates, and known fields when the
// dataset's fields are known.
func logpushCheckOutputFields(oo json.RawMessage, fields []string) error {
	if oo == nil {
		return nil
	}
	var o logpushOutputOptions
	_ = json.Unmarshal(oo, &o) // validated by setOutputOptions
	seen := map[string]bool{}
	for _, f := range o.FieldNames {
		switch {
		case seen[f]:
			return fmt.Errorf("output_options: field %q is listed twice", f)
		case fields != nil && !slices.Contains(fields, f):
			return fmt.Errorf("output_options: %q is not a field of the dataset", f)
		}
		seen[f] = true
	}
	return nil
}
