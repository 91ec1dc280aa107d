package reconciler

import (
	"bytes"
	"encoding/json"
	"io"
)

// DriftFormatVersion versions the JSON drift report schema (see RenderDriftJSON).
const DriftFormatVersion = "1.0"

// RenderJSON writes the plan as JSON for programs: `flareops plan -format=json`.
// The annotated example below shows the schema (comments are not part of the output).
//
// The schema is versioned by "format_version" (PlanFormatVersion). Within one major
// version keys are only added, never removed, renamed or given another meaning; readers
// must ignore keys they do not know. Every key below is always present, in this order;
// output is indented with two spaces and ends with a newline, and the same plan always
// gives byte-identical output.
//
//	{
//	  "format_version": "1.0",
//	  "summary": {              // number of changes per action; "update" excludes adopt
//	    "create": 1, "update": 2, "replace": 0, "delete": 1,
//	    "adopt": 0, "forget": 0, "no_op": 5
//	  },
//	  "config_hash": "…",       // hash of the configuration the plan was made from
//	  "live_hash": "…",         // hash of the account as observed
//	  "changes": [              // every change, no-ops included, in the order apply walks
//	    {
//	      "address": "queue.agent_jobs",     // KIND.NAME
//	      "kind": "queue",
//	      "name": "agent_jobs",
//	      "action": "update",  // no-op | create | update | replace | delete | adopt | forget
//	      "id": "…",           // live id; "" when the object does not exist yet (create)
//	      "key": "…",          // the object's name in the account
//	      "fields": [          // changed leaves, sorted by path; [] when none
//	        {
//	          "path": "consumer[\"agent-worker\"].max_retries",
//	          "old": "3",      // as users write it ("30s", "\"name\"", "3"); null when unset
//	          "new": "0",
//	          "old_set": true, // false where the field (or its block) is absent on that side
//	          "new_set": true,
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
// A sensitive field's values are always "(sensitive)": secrets never appear in plan JSON.
// The plan target (local emulator or account) is not part of the schema yet: RenderJSON
// has no RenderOptions to take it from.
func RenderJSON(w io.Writer, p *Plan) error {
	if p == nil {
		return errNoPlan
	}
	n := p.Summary()
	out := planJSON{
		FormatVersion: PlanFormatVersion,
		Summary: summaryJSON{
			Create: n[Create], Update: n[Update], Replace: n[Replace], Delete: n[Delete],
			Adopt: n[Adopt], Forget: n[Forget], NoOp: n[NoOp],
		},
		ConfigHash: p.ConfigHash,
		LiveHash:   p.LiveHash,
		Changes:    make([]changeJSON, 0, len(p.Changes)),
	}
	for _, c := range p.Changes {
		cj := changeJSON{
			Address: c.Address, Kind: c.Kind, Name: c.Name, Action: c.Action, ID: c.ID, Key: c.Key,
			Fields: make([]fieldJSON, 0, len(c.Fields)), Impact: nonNil(c.Impact),
			Reason: c.Reason, DependsOn: nonNil(c.DependsOn),
		}
		for _, f := range c.Fields {
			old, new := shownValues(f)
			cj.Fields = append(cj.Fields, fieldJSON{
				Path: f.Path, Old: valueIf(f.OldSet, old), New: valueIf(f.NewSet, new),
				OldSet: f.OldSet, NewSet: f.NewSet, Sensitive: f.Sensitive,
			})
		}
		out.Changes = append(out.Changes, cj)
	}
	return writeJSON(w, out)
}

// RenderDriftJSON writes the drift report as JSON for programs: `flareops drift
// -format=json`. Versioned by "format_version" (DriftFormatVersion) with the same
// compatibility rules as RenderJSON; every key is always present, in this order.
//
//	{
//	  "format_version": "1.0",
//	  "drift": true,            // false: the account matches the configuration
//	  "objects": [              // objects that differ, in plan order; [] when none
//	    {
//	      "address": "queue.agent_jobs",
//	      "action": "update",   // what apply would do, and so what the drift is:
//	                            //   create  = missing from the account
//	                            //   delete  = still in the account, removed from the configuration
//	                            //   update, replace, adopt = fields differ
//	      "id": "…",            // live id; "" when missing from the account
//	      "fields": [           // every differing leaf, sorted by path; [] when none
//	        {
//	          "path": "consumer[\"agent-worker\"].max_retries",
//	          "live": "3",      // null when absent from the account
//	          "desired": "0",   // null when absent from the configuration
//	          "sensitive": false
//	        }
//	      ]
//	    }
//	  ]
//	}
//
// Objects are those of Drifted: a state entry whose object is gone from both the account
// and the configuration (forget) is not drift. Sensitive values are "(sensitive)".
func RenderDriftJSON(w io.Writer, p *Plan) error {
	if p == nil {
		return errNoPlan
	}
	objs := Drifted(p)
	out := driftJSON{FormatVersion: DriftFormatVersion, Drift: len(objs) > 0, Objects: make([]driftObjectJSON, 0, len(objs))}
	for _, c := range objs {
		o := driftObjectJSON{Address: c.Address, Action: c.Action, ID: c.ID, Fields: make([]driftFieldJSON, 0, len(c.Fields))}
		for _, f := range c.Fields {
			live, desired := shownValues(f)
			o.Fields = append(o.Fields, driftFieldJSON{
				Path: f.Path, Live: valueIf(f.OldSet, live), Desired: valueIf(f.NewSet, desired), Sensitive: f.Sensitive,
			})
		}
		out.Objects = append(out.Objects, o)
	}
	return writeJSON(w, out)
}

// The JSON shapes are their own types, not Plan's: the schema is a promise to users'
// programs and must not move when an engine struct does. Field order is key order.
type planJSON struct {
	FormatVersion string       `json:"format_version"`
	Summary       summaryJSON  `json:"summary"`
	ConfigHash    string       `json:"config_hash"`
	LiveHash      string       `json:"live_hash"`
	Changes       []changeJSON `json:"changes"`
}

type summaryJSON struct {
	Create  int `json:"create"`
	Update  int `json:"update"`
	Replace int `json:"replace"`
	Delete  int `json:"delete"`
	Adopt   int `json:"adopt"`
	Forget  int `json:"forget"`
	NoOp    int `json:"no_op"`
}

type changeJSON struct {
	Address   string      `json:"address"`
	Kind      string      `json:"kind"`
	Name      string      `json:"name"`
	Action    Action      `json:"action"`
	ID        string      `json:"id"`
	Key       string      `json:"key"`
	Fields    []fieldJSON `json:"fields"`
	Impact    []string    `json:"impact"`
	Reason    string      `json:"reason"`
	DependsOn []string    `json:"depends_on"`
}

type fieldJSON struct {
	Path      string  `json:"path"`
	Old       *string `json:"old"`
	New       *string `json:"new"`
	OldSet    bool    `json:"old_set"`
	NewSet    bool    `json:"new_set"`
	Sensitive bool    `json:"sensitive"`
}

type driftJSON struct {
	FormatVersion string            `json:"format_version"`
	Drift         bool              `json:"drift"`
	Objects       []driftObjectJSON `json:"objects"`
}

type driftObjectJSON struct {
	Address string           `json:"address"`
	Action  Action           `json:"action"`
	ID      string           `json:"id"`
	Fields  []driftFieldJSON `json:"fields"`
}

type driftFieldJSON struct {
	Path      string  `json:"path"`
	Live      *string `json:"live"`
	Desired   *string `json:"desired"`
	Sensitive bool    `json:"sensitive"`
}

func valueIf(set bool, v string) *string {
	if !set {
		return nil
	}
	return &v
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
