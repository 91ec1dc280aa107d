package reconciler

import (
	"context"

	"github.com/monotask/flareops/reconciler/cloudflare"
	"github.com/monotask/flareops/reconciler/opsdoc"
	"github.com/monotask/flareops/reconciler/workerset"
)

var (
	_ opsdoc.API    = (*cloudflare.Client)(nil)
	_ workerset.API = (*cloudflare.Client)(nil)
	_ ContainersAPI = (*cloudflare.Client)(nil)
)

// Kinds is KindsWith(client, Settings{}): the kinds of a configuration that sets nothing,
// e.g. for commands that only need the language (validate's schemas, docs).
func Kinds(client *cloudflare.Client) *Registry { return KindsWith(client, Settings{}) }

// KindsWith is the registry of every kind flareops supports, wired to client and given the
// configuration's settings. Both front ends take their kinds from here, so they cannot
// disagree on what exists. A nil client gives kinds for commands that never call the API
// (validate, schema, docs); their Build still checks what the settings must provide.
//
// One registry serves one run: state that kinds share for the run lives as long as it,
// and is built once here: the Worker set (reconciler/workerset), through which every kind
// that puts something on a Worker reads and writes it, and the ops KV document store
// (reconciler/opsdoc), where the kinds that publish documents publish them.
func KindsWith(client *cloudflare.Client, s Settings) *Registry {
	var (
		queues     QueueAPI
		containers ContainersAPI
		logpush    LogpushAPI
		alerts     AlertingAPI
		account    string         // the account in the R2 destinations of Logpush jobs
		buckets    BucketFinder   // nil without a client (an untyped nil: never a nil *Client)
		workers    *workerset.Set // the one Worker merge of the run, shared by every Worker-side kind
		docs       *opsdoc.Store  // the one document store of the run, shared by every kind that publishes
	)
	if client != nil {
		queues, containers, logpush, alerts = client, client, client, client
		account = client.AccountID()
		buckets = client
		workers = workerset.New(client)
		docs = opsdoc.New(client, s.OpsKVNamespace)
	}
	alertRun := newAlertingRun() // the webhook and PagerDuty lists of the run, shared by both alerting kinds
	r, err := NewRegistry(
		QueueKind{API: queues},
		DatasetKind{Workers: workers},
		WorkerSettingsKind{Workers: workers, Logpush: logpush, AccountID: account, Buckets: buckets},
		NewSandboxKind(workers, docs, containers, s),
		AlertDestinationKind{API: alerts, run: alertRun},
		AlertRuleKind{API: alerts, Docs: docs, Settings: s, run: alertRun},
		SLOKind{Docs: docs, Settings: s},
		newBackupKind(client, workers),
	)
	if err != nil {
		panic(err) // a programming error: kind names are constants
	}
	r.Workers = workers
	return r
}

// newBackupKind wires the backup kind to client (nil: the language only).
func newBackupKind(client *cloudflare.Client, workers *workerset.Set) BackupKind {
	if client == nil {
		return NewBackupKind(nil, workers)
	}
	k := NewBackupKind(client, workers)
	k.FindD1 = func(ctx context.Context, name string) error {
		_, err := client.FindD1Database(ctx, name)
		return err
	}
	return k
}
