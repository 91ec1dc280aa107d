package reconciler

import (
	"sort"
)

// The Referrer implementations of the kinds that existed when the graph came (see
// Referrer); kinds added since implement it in their own files.

// External is the queue's consumers' Workers and the dead-letter queues named in them
// (a declared queue when one has that name; the graph links to it then).
func (QueueKind) External(spec any) []ExternalRef {
	q, ok := spec.(QueueSpec)
	if !ok {
		return nil
	}
	var out []ExternalRef
	for _, c := range q.Consumers {
		if c.Type != "http_pull" && c.Worker != "" {
			out = append(out, ExternalRef{Kind: "worker", Name: c.Worker, Role: "consumer"})
		}
		if c.DeadLetterQueue != "" {
			out = append(out, ExternalRef{Kind: "queue", Name: c.DeadLetterQueue, Role: "dead-letter queue"})
		}
	}
	return out
}

// External is the Workers the dataset is bound in, one edge per binding name.
func (DatasetKind) External(spec any) []ExternalRef {
	d, ok := spec.(DatasetSpec)
	if !ok {
		return nil
	}
	var out []ExternalRef
	for _, key := range sortedKeys(d.Bindings) {
		b := d.Bindings[key]
		out = append(out, ExternalRef{Kind: "worker", Name: b.Worker, Role: "bound as " + b.Name})
	}
	return out
}

// External is the Worker whose settings these are and, with logpush, the R2 bucket its
// trace events go to.
func (WorkerSettingsKind) External(spec any) []ExternalRef {
	s, ok := spec.(WorkerSettingsSpec)
	if !ok {
		return nil
	}
	out := []ExternalRef{{Kind: "worker", Name: s.Script, Role: "settings of"}}
	if s.Logpush != nil && s.Logpush.Bucket != "" {
		out = append(out, ExternalRef{Kind: "r2_bucket", Name: s.Logpush.Bucket, Role: "logpush to"})
	}
	return out
}

// External is the sandbox's Worker, the containers applications it sizes and the ops KV
// namespace its policy document is published in.
func (k SandboxKind) External(spec any) []ExternalRef {
	s, ok := spec.(SandboxSpec)
	if !ok {
		return nil
	}
	out := []ExternalRef{{Kind: "worker", Name: s.Worker, Role: "runs in"}}
	apps := make([]string, 0, len(s.Container))
	for _, c := range s.Container {
		apps = append(apps, c.Application)
	}
	sort.Strings(apps)
	for _, a := range apps {
		out = append(out, ExternalRef{Kind: "containers_application", Name: a, Role: "sizes"})
	}
	if ns := k.Settings.OpsKVNamespace; ns != "" {
		out = append(out, ExternalRef{Kind: "kv_namespace", Name: ns, Role: "policy document in"})
	}
	return out
}

var (
	_ Referrer = QueueKind{}
	_ Referrer = DatasetKind{}
	_ Referrer = WorkerSettingsKind{}
	_ Referrer = SandboxKind{}
)
