package cloudflare

import "encoding/json"

// WorkerSettings is what flareops reads and writes of a Worker's settings.
type WorkerSettings struct {
	Bindings      []json.RawMessage
	CPUMs         int64
	Logpush       bool
	Observability *Observability
}

// Observability is a Worker's observability settings.
type Observability struct {
	Enabled          bool
	HeadSamplingRate float64
	Logs             *ObservabilityLogs
}

// ObservabilityLogs is the Workers Logs part of Observability.
type ObservabilityLogs struct {
	Enabled          bool
	InvocationLogs   bool
	HeadSamplingRate float64
}
