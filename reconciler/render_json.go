package reconciler

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
)

// DriftFormatVersion versions the JSON drift report schema (see RenderDriftJSON).
const DriftFormatVersion = "2.0"

// RenderJSON writes the plan as JSON for programs: `flareops plan -format=json`.
// The annotated example below shows the schema (comments are not part of the output).
//
// The schema is versioned by "format_version". Within one major version keys are only
// added, never removed, renamed or given another meaning; readers must ignore keys they
// do not know. Every key below is always present, in this order; output is indented
// with two spaces and ends with a newline, and the same plan always gives byte-identical
// output.
//
//	{
//	  "format_version": "2.0",
//	  "target": {               // what the plan was made against
//	    "kind": "account",      // "account" (a Cloudflare account) or "local" (the built-in local Cloudflare)
//	    "account_id": "…",      // "" for local
//	    "base_url": "…",        // the API base URL; "" when not set
//	    "data_dir": "",         // where the local Cloudflare keeps its data; "" for an account
//	    "workspace": "default"
//	  },
//	  "summary": {              // number of changes per action; "update" excludes adopt
//	    "create": 1, "update": 2, "replace": 0, "delete": 1,
//	    "adopt": 0, "forget": 0, "no_op": 5,
//	    "changed_outside": 1    // changes whose origin is "outside" or "both"
//	  },
//	  "warnings": ["…"],        // to read before approving, one sentence each; [] when none
//	  "config_hash": "…",       // hash of the configuration the plan was made from
//	  "live_hash": "…",         // hash of the account as observed
//	  "changes": [              // every change, no-ops included, in the order apply walks
//	    {
//	      "address": "queue.agent_jobs",     // KIND.NAME
//	      "kind": "queue",
//	      "name": "agent_jobs",
//	      "action": "update",  // no-op | create | update | replace | delete | adopt | forget
//	      "origin": "outside", // why the change exists: "config" (the configuration changed
//	                           // since the last apply), "outside" (the account was changed
//	                           // outside flareops; this change sets it back) or "both";
//	                           // null for a no-op. An object deleted outside flareops is a
//	                           // create with origin "outside".
//	      "id": "…",           // live id; "" when the object does not exist yet (create)
//	      "key": "…",          // the object's name in the account once applied
//	                           // (delete, forget: the name it has or last had)
//	      "live_key": "…",     // its name in the account now; "" when it does not exist;
//	                           // differs from "key" when the change renames it
//	      "fields": [          // changed attributes, sorted by path; [] when none
//	        {
//	          "path": "consumer[\"agent-worker\"].max_retries",
//	          "attribute": "max_retries", // its name inside its innermost block
//	          "blocks": [      // the nested blocks holding it, outermost first; [] when none
//	            {"type": "consumer", "key": "agent-worker"}
//	          ],               // key: tells blocks of one type apart (for a queue consumer,
//	                           // the Worker name, or "http_pull" for a pull consumer)
//	          "origin": "outside", // as the change's, for this attribute alone
//	          "old": 0,        // the value in the account now
//	          "new": 3,        // the value once applied
//	          "applied": 3,    // the value flareops last applied, for origin outside or both
//	          "old_set": true, // false where the attribute (or its block) is absent on that side
//	          "new_set": true,
//	          "applied_set": true, // false where absent, or origin is "config"
//	          "sensitive": false
//	        }
//	      ],
//	      "impact": ["…"],     // what the change does operationally, one line each; [] when none
//	      "reason": "",        // why this action, when a reader might not expect it
//	      "depends_on": []     // addresses of the changes apply finishes first
//	    }
//	  ]
//	}
//
// Values are typed as users write them in the configuration: numbers as JSON numbers,
// booleans as booleans, strings as strings, lists as arrays, durations as strings
// ("30s", in the spelling of the configuration where it means the same). A few
// attributes name their zero value with a word, given as a string: "automatic"
// (max_concurrency: the platform decides), "(none)" (dead_letter_queue: no dead-letter
// queue). A value is null when it is unset (its "_set" key is false) and whenever the
// attribute is sensitive: secrets never appear in plan JSON, "sensitive": true says one
// changed.
func RenderJSON(w io.Writer, p *Plan) error {
	if p == nil {
		return errNoPlan
	}
	n := p.Summary()
	out := planJSON{
		FormatVersion: PlanFormatVersion,
		Target:        targetJSON(p.Target),
		Summary: summaryJSON{
			Create: n[Create], Update: n[Update], Replace: n[Replace], Delete: n[Delete],
			Adopt: n[Adopt], Forget: n[Forget], NoOp: n[NoOp], ChangedOutside: len(OutsideChanges(p)),
		},
		Warnings:   nonNil(p.Warnings),
		ConfigHash: p.ConfigHash,
		LiveHash:   p.LiveHash,
		Changes:    make([]changeJSON, 0, len(p.Changes)),
	}
	for _, c := range p.Changes {
		cj := changeJSON{
			Address: c.Address, Kind: c.Kind, Name: c.Name, Action: c.Action, Origin: originJSON(c),
			ID: c.ID, Key: c.Key, LiveKey: c.LiveKey,
			Fields: make([]fieldJSON, 0, len(c.Fields)), Impact: nonNil(c.Impact),
			Reason: c.Reason, DependsOn: nonNil(c.DependsOn),
		}
		for _, f := range c.Fields {
			origin := fieldOrigin(c, f)
			applied, appliedSet := appliedValue(f, origin)
			if !isOutside(origin) {
				applied, appliedSet = "", false
			}
			cj.Fields = append(cj.Fields, fieldJSON{
				Path: f.Path, Attribute: f.Attr(), Blocks: blocksJSON(f), Origin: origin,
				Old: jsonValue(f, f.Old, f.OldSet), New: jsonValue(f, f.New, f.NewSet), Applied: jsonValue(f, applied, appliedSet),
				OldSet: f.OldSet, NewSet: f.NewSet, AppliedSet: appliedSet, Sensitive: f.Sensitive,
			})
		}
		out.Changes = append(out.Changes, cj)
	}
	return writeJSON(w, out)
}

// RenderDriftJSON writes the drift report as JSON for programs: `flareops drift
// -format=json`. Versioned by "format_version" with the same compatibility rules and
// the same typed values as the plan JSON; every key is always present, in this order.
//
//	{
//	  "format_version": "2.0",
//	  "target": {…},            // as in the plan JSON
//	  "drift": true,            // false: the account matches the configuration
//	  "changed_outside": true,  // something was changed outside flareops
//	  "pending_config": false,  // some configuration changes are not applied yet
//	  "warnings": [],
//	  "objects": [              // objects that differ, in plan order; [] when none
//	    {
//	      "address": "queue.agent_jobs",
//	      "kind": "queue",
//	      "name": "agent_jobs",
//	      "action": "update",   // what apply would do, and so what the drift is:
//	                            //   create  = missing from the account
//	                            //   delete  = still in the account, removed from the configuration
//	                            //   update, replace, adopt = fields differ
//	      "origin": "outside",  // "config", "outside" or "both", as in the plan JSON
//	      "id": "…",            // live id; "" when missing from the account
//	      "key": "…",           // the name the configuration gives it
//	      "live_key": "…",      // its name in the account; "" when missing
//	      "reason": "",         // e.g. "deleted outside flareops; it will be created again"
//	      "fields": [           // every differing attribute, sorted by path; [] when none
//	        {
//	          "path": "paused",
//	          "attribute": "paused",
//	          "blocks": [],
//	          "origin": "outside",
//	          "live": true,     // null when absent from the account, or sensitive
//	          "desired": false, // null when absent from the configuration, or sensitive
//	          "applied": false, // what flareops last applied; null unless origin outside or both
//	          "live_set": true,
//	          "desired_set": true,
//	          "applied_set": true,
//	          "sensitive": false
//	        }
//	      ]
//	    }
//	  ]
//	}
//
// Objects are every drifted change: a state entry whose object is gone from both the
// account and the configuration (forget) is not drift. "changed_outside" is true when an
// object has origin "outside" or "both"; "pending_config" when one has origin "config",
// or origin "both" with attributes changed in the configuration alone.
func RenderDriftJSON(w io.Writer, p *Plan) error {
	if p == nil {
		return errNoPlan
	}
	objs := Drifted(p)
	out := driftJSON{
		FormatVersion: DriftFormatVersion, Target: targetJSON(p.Target), Drift: len(objs) > 0,
		ChangedOutside: len(OutsideChanges(p)) > 0, PendingConfig: len(configSection(p)) > 0,
		Warnings: nonNil(p.Warnings), Objects: make([]driftObjectJSON, 0, len(objs)),
	}
	for _, c := range objs {
		o := driftObjectJSON{
			Address: c.Address, Kind: c.Kind, Name: c.Name, Action: c.Action, Origin: changeOrigin(c),
			ID: c.ID, Key: c.Key, LiveKey: c.LiveKey, Reason: c.Reason,
			Fields: make([]driftFieldJSON, 0, len(c.Fields)),
		}
		for _, f := range c.Fields {
			origin := fieldOrigin(c, f)
			applied, appliedSet := appliedValue(f, origin)
			if !isOutside(origin) {
				applied, appliedSet = "", false
			}
			o.Fields = append(o.Fields, driftFieldJSON{
				Path: f.Path, Attribute: f.Attr(), Blocks: blocksJSON(f), Origin: origin,
				Live: jsonValue(f, f.Old, f.OldSet), Desired: jsonValue(f, f.New, f.NewSet), Applied: jsonValue(f, applied, appliedSet),
				LiveSet: f.OldSet, DesiredSet: f.NewSet, AppliedSet: appliedSet, Sensitive: f.Sensitive,
			})
		}
		out.Objects = append(out.Objects, o)
	}
	return writeJSON(w, out)
}

// jsonValue turns a rendering as users write it ("30s", "\"slack\"", "3", "true") into
// a typed JSON value. Nil when unset or sensitive, whatever the rendering holds.
func jsonValue(f FieldChange, s string, set bool) any {
	if !set || f.Sensitive {
		return nil
	}
	switch {
	case s == "true" || s == "false":
		return s == "true"
	case strings.HasPrefix(s, `"`):
		if u, err := strconv.Unquote(s); err == nil {
			return u
		}
	case strings.HasPrefix(s, "["):
		if list, ok := listValue(f, s); ok {
			return list
		}
		if json.Valid([]byte(s)) {
			return json.RawMessage(s)
		}
	case s != "" && (s[0] == '-' || s[0] >= '0' && s[0] <= '9'):
		if _, err := strconv.ParseFloat(s, 64); err == nil && json.Valid([]byte(s)) {
			return json.Number(s)
		}
	}
	return s
}

// listValue reads a list as render writes it, ["a", "b"] with Go-quoted strings (which
// JSON cannot always read: "\x00"), into its elements, each typed as jsonValue types a
// value.
func listValue(f FieldChange, s string) ([]any, bool) {
	rest, ok := strings.CutPrefix(s, "[")
	out := []any{}
	for ok && !strings.HasPrefix(rest, "]") {
		if len(out) > 0 {
			if rest, ok = strings.CutPrefix(rest, ", "); !ok {
				return nil, false
			}
		}
		elem := rest
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, false
			}
			elem = q
		} else if i := strings.IndexAny(rest, ",]"); i >= 0 {
			elem = rest[:i]
		}
		out, rest = append(out, jsonValue(f, elem, true)), rest[len(elem):]
	}
	return out, ok && rest == "]"
}

func originJSON(c Change) *string {
	if c.Action == NoOp {
		return nil
	}
	o := changeOrigin(c)
	return &o
}

func targetJSON(t Target) targetOut {
	return targetOut{Kind: t.Kind, AccountID: t.AccountID, BaseURL: t.BaseURL, DataDir: t.DataDir, Workspace: t.Workspace}
}

func blocksJSON(f FieldChange) []blockJSON {
	out := make([]blockJSON, 0, len(f.Blocks))
	for _, b := range f.Blocks {
		out = append(out, blockJSON{Type: b.Type, Key: b.Key})
	}
	return out
}

// The JSON shapes are their own types, not Plan's: the schema is a promise to users'
// programs and must not move when an engine struct does. Field order is key order.
type planJSON struct {
	FormatVersion string       `json:"format_version"`
	Target        targetOut    `json:"target"`
	Summary       summaryJSON  `json:"summary"`
	Warnings      []string     `json:"warnings"`
	ConfigHash    string       `json:"config_hash"`
	LiveHash      string       `json:"live_hash"`
	Changes       []changeJSON `json:"changes"`
}

type targetOut struct {
	Kind      string `json:"kind"`
	AccountID string `json:"account_id"`
	BaseURL   string `json:"base_url"`
	DataDir   string `json:"data_dir"`
	Workspace string `json:"workspace"`
}

type summaryJSON struct {
	Create         int `json:"create"`
	Update         int `json:"update"`
	Replace        int `json:"replace"`
	Delete         int `json:"delete"`
	Adopt          int `json:"adopt"`
	Forget         int `json:"forget"`
	NoOp           int `json:"no_op"`
	ChangedOutside int `json:"changed_outside"`
}

type changeJSON struct {
	Address   string      `json:"address"`
	Kind      string      `json:"kind"`
	Name      string      `json:"name"`
	Action    Action      `json:"action"`
	Origin    *string     `json:"origin"`
	ID        string      `json:"id"`
	Key       string      `json:"key"`
	LiveKey   string      `json:"live_key"`
	Fields    []fieldJSON `json:"fields"`
	Impact    []string    `json:"impact"`
	Reason    string      `json:"reason"`
	DependsOn []string    `json:"depends_on"`
}

type fieldJSON struct {
	Path       string      `json:"path"`
	Attribute  string      `json:"attribute"`
	Blocks     []blockJSON `json:"blocks"`
	Origin     string      `json:"origin"`
	Old        any         `json:"old"`
	New        any         `json:"new"`
	Applied    any         `json:"applied"`
	OldSet     bool        `json:"old_set"`
	NewSet     bool        `json:"new_set"`
	AppliedSet bool        `json:"applied_set"`
	Sensitive  bool        `json:"sensitive"`
}

type blockJSON struct {
	Type string `json:"type"`
	Key  string `json:"key"`
}

type driftJSON struct {
	FormatVersion  string            `json:"format_version"`
	Target         targetOut         `json:"target"`
	Drift          bool              `json:"drift"`
	ChangedOutside bool              `json:"changed_outside"`
	PendingConfig  bool              `json:"pending_config"`
	Warnings       []string          `json:"warnings"`
	Objects        []driftObjectJSON `json:"objects"`
}

type driftObjectJSON struct {
	Address string           `json:"address"`
	Kind    string           `json:"kind"`
	Name    string           `json:"name"`
	Action  Action           `json:"action"`
	Origin  string           `json:"origin"`
	ID      string           `json:"id"`
	Key     string           `json:"key"`
	LiveKey string           `json:"live_key"`
	Reason  string           `json:"reason"`
	Fields  []driftFieldJSON `json:"fields"`
}

type driftFieldJSON struct {
	Path       string      `json:"path"`
	Attribute  string      `json:"attribute"`
	Blocks     []blockJSON `json:"blocks"`
	Origin     string      `json:"origin"`
	Live       any         `json:"live"`
	Desired    any         `json:"desired"`
	Applied    any         `json:"applied"`
	LiveSet    bool        `json:"live_set"`
	DesiredSet bool        `json:"desired_set"`
	AppliedSet bool        `json:"applied_set"`
	Sensitive  bool        `json:"sensitive"`
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

// writeJSON indents with two spaces and leaves <, > and & as they are: the output is
// read by programs and people, never embedded in HTML.
func writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	return flush(w, &b)
}
