package wrangler

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/monotask/flareops/reconciler/workerset"
)

// Fragments: what a Worker deployed with wrangler must carry in its wrangler configuration
// for its deploys to keep what flareops declares on it. flareops never writes such a Worker
// (the next `wrangler deploy` would undo the write); plans and drift reports show these
// fragments instead, for the team to add to the Worker's file.

// Formats are the configuration formats Fragment writes, in the order plans show them.
var Formats = []string{"toml", "jsonc"}

// FileName is the wrangler file of a format: "wrangler.toml" or "wrangler.jsonc".
func FileName(format string) string { return "wrangler." + format }

// Fragment returns the lines to add to a Worker's wrangler configuration, in format ("toml"
// or "jsonc"), so that its deploys carry want: its CPU limit (`[limits] cpu_ms`), its
// observability settings (`[observability]`, `[observability.logs]`), `logpush = true`,
// its cron triggers (`[triggers] crons`) and its bindings, each under the key wrangler
// reads it from (`[[analytics_engine_datasets]]`, `[[kv_namespaces]]`, ...). A binding of
// a type wrangler declares in a way flareops does not write is named in a comment. The
// TOML fragment puts top-level keys first (they must come before the file's first table);
// the JSONC one is an object whose keys go into the file's top-level object. "" when want
// is empty, or format unknown.
func Fragment(format string, want workerset.Want) string {
	if want.Empty() {
		return ""
	}
	doc := document(want)
	switch format {
	case "toml":
		return doc.toml()
	case "jsonc":
		return doc.jsonc()
	}
	return ""
}

// entry is one key of a table: its value already encoded (JSON is also valid TOML for
// strings, numbers, booleans and arrays of them).
type entry struct{ key, value string }

// table is one table of the fragment: [limits], or one element of an array of tables
// ([[kv_namespaces]]) when array is set. path is its dotted key ("observability.logs").
type table struct {
	path    string
	array   bool
	entries []entry
	comment string // a note in place of the entries (a binding flareops cannot write)
}

type doc struct {
	top    []entry // top-level keys (logpush)
	tables []table
}

func document(w workerset.Want) doc {
	var d doc
	if w.Logpush {
		d.top = append(d.top, entry{"logpush", "true"})
	}
	if w.CPUMs != 0 {
		d.tables = append(d.tables, table{path: "limits", entries: []entry{{"cpu_ms", strconv.FormatInt(w.CPUMs, 10)}}})
	}
	if o := w.Observability; o != nil {
		d.tables = append(d.tables, table{path: "observability", entries: []entry{
			{"enabled", strconv.FormatBool(o.Enabled)},
			{"head_sampling_rate", number(o.HeadSamplingRate)},
		}})
		if l := o.Logs; l != nil {
			d.tables = append(d.tables, table{path: "observability.logs", entries: []entry{
				{"enabled", strconv.FormatBool(l.Enabled)},
				{"invocation_logs", strconv.FormatBool(l.InvocationLogs)},
				{"head_sampling_rate", number(l.HeadSamplingRate)},
			}})
		}
	}
	if len(w.Crons) > 0 {
		crons := append([]string(nil), w.Crons...)
		sort.Strings(crons)
		d.tables = append(d.tables, table{path: "triggers", entries: []entry{{"crons", quoteList(crons)}}})
	}
	// Bindings by table then name, so that the elements of one array of tables are
	// together; those flareops cannot write come last, as comments.
	var bindings, notes []table
	var vars []entry
	for _, b := range w.Bindings {
		switch t := bindingTable(b); {
		case b.Type == "plain_text":
			vars = append(vars, entry{tomlKey(b.Name), quote(field(b, "text"))})
		case t.comment != "":
			notes = append(notes, t)
		default:
			bindings = append(bindings, t)
		}
	}
	sort.SliceStable(bindings, func(i, j int) bool {
		if bindings[i].path != bindings[j].path {
			return bindings[i].path < bindings[j].path
		}
		return bindings[i].entries[0].value < bindings[j].entries[0].value
	})
	sort.Slice(vars, func(i, j int) bool { return vars[i].key < vars[j].key })
	sort.Slice(notes, func(i, j int) bool { return notes[i].comment < notes[j].comment })
	d.tables = append(d.tables, bindings...)
	if len(vars) > 0 {
		d.tables = append(d.tables, table{path: "vars", entries: vars})
	}
	d.tables = append(d.tables, notes...)
	return d
}

// tomlKey writes a key bare where TOML allows it, quoted otherwise.
func tomlKey(k string) string {
	for _, r := range k {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return quote(k)
		}
	}
	return k
}

// bindingTable is how wrangler declares one binding: the array of tables its type lives
// in, with `binding = NAME` and the type's own keys.
func bindingTable(b workerset.Binding) table {
	t := table{array: true, entries: []entry{{"binding", quote(b.Name)}}}
	add := func(key, apiField string) {
		if v := field(b, apiField); v != "" {
			t.entries = append(t.entries, entry{key, quote(v)})
		}
	}
	switch b.Type {
	case "analytics_engine":
		t.path = "analytics_engine_datasets"
		add("dataset", "dataset")
	case "kv_namespace":
		t.path = "kv_namespaces"
		add("id", "namespace_id")
	case "r2_bucket":
		t.path = "r2_buckets"
		add("bucket_name", "bucket_name")
		add("jurisdiction", "jurisdiction")
	case "d1":
		t.path = "d1_databases"
		add("database_id", "id")
	case "service":
		t.path = "services"
		add("service", "service")
		add("environment", "environment")
	case "queue":
		t.path = "queues.producers"
		add("queue", "queue_name")
	default:
		return table{comment: fmt.Sprintf("binding %s (type %s): declare it as wrangler's documentation says for that type", b.Name, b.Type)}
	}
	return t
}

func field(b workerset.Binding, name string) string {
	s, _ := b.Fields[name].(string)
	return s
}

// number writes a sampling rate as both TOML and JSON read it: 0.1, 1.
func number(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// quote writes a string as JSON does, which TOML's basic strings also read (\uXXXX
// escapes, never Go's \x00).
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func quoteList(ss []string) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = quote(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (d doc) toml() string {
	var b strings.Builder
	for _, e := range d.top {
		fmt.Fprintf(&b, "%s = %s\n", e.key, e.value)
	}
	for _, t := range d.tables {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		if t.comment != "" {
			fmt.Fprintf(&b, "# %s\n", t.comment)
			continue
		}
		if t.array {
			fmt.Fprintf(&b, "[[%s]]\n", t.path)
		} else {
			fmt.Fprintf(&b, "[%s]\n", t.path)
		}
		for _, e := range t.entries {
			fmt.Fprintf(&b, "%s = %s\n", e.key, e.value)
		}
	}
	return b.String()
}

// jsonc writes the fragment as one JSON object, two-space indented, nested as the dotted
// table paths say; the elements of arrays of tables of one path form one array.
func (d doc) jsonc() string {
	root := &object{}
	for _, e := range d.top {
		root.set(e.key, e.value)
	}
	for _, t := range d.tables {
		if t.comment != "" {
			root.comments = append(root.comments, t.comment)
			continue
		}
		parts := strings.Split(t.path, ".")
		parent := root
		for _, p := range parts[:len(parts)-1] {
			parent = parent.child(p)
		}
		last := parts[len(parts)-1]
		el := &object{}
		for _, e := range t.entries {
			el.set(e.key, e.value)
		}
		if t.array {
			parent.push(last, el)
		} else {
			parent.merge(last, el)
		}
	}
	var b strings.Builder
	root.write(&b, 0)
	b.WriteByte('\n')
	return b.String()
}

// object is an ordered JSON object under construction.
type object struct {
	keys     []string
	values   map[string]any // string (encoded), *object or []*object
	comments []string
}

func (o *object) put(key string, v any) {
	if o.values == nil {
		o.values = map[string]any{}
	}
	if _, ok := o.values[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.values[key] = v
}

func (o *object) set(key, encoded string) {
	k := key
	if !strings.HasPrefix(k, `"`) {
		k = quote(k)
	}
	o.put(k, encoded)
}

func (o *object) child(key string) *object {
	if c, ok := o.values[quote(key)].(*object); ok {
		return c
	}
	c := &object{}
	o.put(quote(key), c)
	return c
}

func (o *object) merge(key string, c *object) {
	dst := o.child(key)
	for _, k := range c.keys {
		dst.put(k, c.values[k])
	}
}

func (o *object) push(key string, el *object) {
	list, _ := o.values[quote(key)].([]*object)
	o.put(quote(key), append(list, el))
}

func (o *object) write(b *strings.Builder, depth int) {
	pad := strings.Repeat("  ", depth+1)
	b.WriteString("{\n")
	for _, c := range o.comments {
		fmt.Fprintf(b, "%s// %s\n", pad, c)
	}
	for i, k := range o.keys {
		b.WriteString(pad + k + ": ")
		switch v := o.values[k].(type) {
		case string:
			b.WriteString(v)
		case *object:
			v.write(b, depth+1)
		case []*object:
			b.WriteString("[\n")
			for j, el := range v {
				b.WriteString(pad + "  ")
				el.write(b, depth+2)
				if j < len(v)-1 {
					b.WriteByte(',')
				}
				b.WriteByte('\n')
			}
			b.WriteString(pad + "]")
		}
		if i < len(o.keys)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(strings.Repeat("  ", depth) + "}")
}
