package reconciler

import "github.com/monotask/flareops/reconciler/cloudflare"

// Kinds is the registry of every kind flareops supports, wired to client. Both front ends
// take their kinds from here, so they cannot disagree on what exists. A nil client gives
// kinds for commands that never call the API (validate, schema, docs).
func Kinds(client *cloudflare.Client) *Registry {
	var queues QueueAPI
	if client != nil {
		queues = client
	}
	r, err := NewRegistry(QueueKind{API: queues})
	if err != nil {
		panic(err) // a programming error: kind names are constants
	}
	return r
}
