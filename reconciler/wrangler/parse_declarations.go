package wrangler

import "strings"

// bindingLists are wrangler's lists of bindings, with the field that names each binding
// (wrangler's configuration reference, "Bindings").
var bindingLists = []struct{ key, field string }{
	{"analytics_engine_datasets", "binding"},
	{"d1_databases", "binding"},
	{"dispatch_namespaces", "binding"},
	{"durable_objects.bindings", "name"},
	{"hyperdrive", "binding"},
	{"kv_namespaces", "binding"},
	{"mtls_certificates", "binding"},
	{"queues.producers", "binding"},
	{"r2_buckets", "binding"},
	{"send_email", "name"},
	{"services", "binding"},
	{"vectorize", "binding"},
}

// bindingTables are the bindings of which a Worker has at most one, each a table whose
// `binding` field names it.
var bindingTables = []string{"ai", "assets", "browser"}

// declarations lists what the section t (the top level, or an environment) puts on its
// Worker, in a fixed order: bindings, vars, crons, queue consumers, settings.
func (r reader) declarations(t *node) ([]Declaration, error) {
	var out []Declaration
	add := func(k Kind, name, key string, line int) {
		out = append(out, Declaration{Kind: k, Name: name, Key: key, Pos: r.pos(line)})
	}
	for _, b := range bindingLists {
		items, err := r.tables(t, b.key)
		if err != nil {
			return nil, err
		}
		for i, item := range items {
			name, err := r.str(item, b.field)
			if err != nil {
				return nil, err
			}
			if name == nil {
				return nil, r.errorf(item.line, "%s[%d]: %s is required: the name the Worker's code uses for the binding", r.at(b.key), i, b.field)
			}
			add(Binding, name.val.str, b.key, name.line)
		}
	}
	for _, key := range bindingTables {
		tbl, err := r.object(t, key)
		if err != nil || tbl == nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		name, err := r.str(tbl, "binding")
		if err != nil {
			return nil, err
		}
		if name != nil {
			add(Binding, name.val.str, key, name.line)
		}
	}
	vars, err := r.object(t, "vars")
	if err != nil {
		return nil, err
	}
	if vars != nil {
		for _, m := range vars.members {
			add(Binding, m.key, "vars", m.line)
		}
	}
	crons, err := r.crons(t)
	if err != nil {
		return nil, err
	}
	for _, c := range crons {
		add(Cron, c.str, "triggers.crons", c.line)
	}
	consumers, err := r.tables(t, "queues.consumers")
	if err != nil {
		return nil, err
	}
	for i, c := range consumers {
		queue, err := r.str(c, "queue")
		if err != nil {
			return nil, err
		}
		if queue == nil {
			return nil, r.errorf(c.line, "%s[%d]: queue is required: the name of the queue the Worker consumes", r.at("queues.consumers"), i)
		}
		// A pull consumer is on no Worker: nothing is declared on this one.
		if typ, err := r.str(c, "type"); err != nil {
			return nil, err
		} else if typ != nil && typ.val.str == "http_pull" {
			continue
		}
		add(QueueConsumer, queue.val.str, "queues.consumers", queue.line)
	}
	limits, err := r.object(t, "limits")
	if err != nil {
		return nil, err
	}
	if limits != nil {
		if m := limits.member("cpu_ms"); m != nil {
			add(Setting, "cpu_ms", "limits.cpu_ms", m.line)
		}
	}
	if _, err := r.object(t, "observability"); err != nil {
		return nil, err
	}
	if m := t.member("observability"); m != nil {
		add(Setting, "observability", "observability", m.line)
	}
	return out, nil
}

// crons are the expressions of triggers.crons.
func (r reader) crons(t *node) ([]*node, error) {
	triggers, err := r.object(t, "triggers")
	if err != nil || triggers == nil {
		return nil, err
	}
	m := triggers.member("crons")
	if m == nil {
		return nil, nil
	}
	if m.val.kind != arrayNode {
		return nil, r.errorf(m.line, "%s must be an array of cron expressions, not %s", r.at("triggers.crons"), m.val.describe(r.aTable()))
	}
	for i, c := range m.val.items {
		if c.kind != stringNode {
			return nil, r.errorf(c.line, "%s[%d] must be a string (a cron expression), not %s", r.at("triggers.crons"), i, c.describe(r.aTable()))
		}
	}
	return m.val.items, nil
}

// lookup follows a dotted key ("queues.consumers") through tables; nil when absent.
func (r reader) lookup(t *node, key string) (*member, error) {
	parts := strings.Split(key, ".")
	for i, part := range parts {
		m := t.member(part)
		if m == nil {
			return nil, nil
		}
		if i == len(parts)-1 {
			return m, nil
		}
		if m.val.kind != objectNode {
			return nil, r.errorf(m.line, "%s must be %s, not %s", r.at(strings.Join(parts[:i+1], ".")), r.aTable(), m.val.describe(r.aTable()))
		}
		t = m.val
	}
	return nil, nil
}

// object is the table at key, nil when absent.
func (r reader) object(t *node, key string) (*node, error) {
	m, err := r.lookup(t, key)
	if err != nil || m == nil {
		return nil, err
	}
	if m.val.kind != objectNode {
		return nil, r.errorf(m.line, "%s must be %s, not %s", r.at(key), r.aTable(), m.val.describe(r.aTable()))
	}
	return m.val, nil
}

// tables is the array of tables at key, nil when absent.
func (r reader) tables(t *node, key string) ([]*node, error) {
	m, err := r.lookup(t, key)
	if err != nil || m == nil {
		return nil, err
	}
	if m.val.kind != arrayNode {
		return nil, r.errorf(m.line, "%s must be an array of %ss, not %s", r.at(key), r.table, m.val.describe(r.aTable()))
	}
	for i, item := range m.val.items {
		if item.kind != objectNode {
			return nil, r.errorf(item.line, "%s[%d] must be %s, not %s", r.at(key), i, r.aTable(), item.describe(r.aTable()))
		}
	}
	return m.val.items, nil
}

// str is the string member key of t, nil when absent.
func (r reader) str(t *node, key string) (*member, error) {
	m := t.member(key)
	if m == nil {
		return nil, nil
	}
	if m.val.kind != stringNode {
		return nil, r.errorf(m.line, "%s must be a string, not %s", key, m.val.describe(r.aTable()))
	}
	return m, nil
}
