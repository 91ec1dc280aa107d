package sandbox

import (
	"encoding/json"
	"fmt"
	"strings"
)

// PolicySchema names the format of the policy document, version 1 (docs/cli/sandbox-policy.md).
// A change that a reader of v1 would misread gets a new version; fields may be added
// within a version (readers ignore fields they do not know).
const PolicySchema = "flareops.sandbox-policy/v1"

// Policy is the sandbox policy document: the limits the sandbox lifecycle code enforces
// at runtime (timeouts, cleanup), and the limits Cloudflare enforces (the Worker's CPU
// limit, the container size and count), which the code reads to report utilization.
// Every duration is in milliseconds, as JavaScript counts time. Omitted fields are not
// managed by flareops.
type Policy struct {
	SchemaName         string           `json:"schema"`
	Sandbox            string           `json:"sandbox"`
	Worker             string           `json:"worker"`
	CPUMs              int64            `json:"cpu_ms,omitempty"`
	ExecutionTimeoutMs int64            `json:"execution_timeout_ms"`
	IdleTimeoutMs      int64            `json:"idle_timeout_ms"`
	Cleanup            *PolicyCleanup   `json:"cleanup,omitempty"`
	Container          *PolicyContainer `json:"container,omitempty"`
}

// PolicyCleanup is the cleanup schedule: the cron trigger on the Worker and its interval.
type PolicyCleanup struct {
	Cron       string `json:"cron"`
	IntervalMs int64  `json:"interval_ms"`
}

// PolicyContainer is the containers application the sandboxes run in. VCPU, MemoryMiB
// and DiskMB are resolved from a predefined instance type, so the reader needs no table.
type PolicyContainer struct {
	Application  string  `json:"application"`
	InstanceType string  `json:"instance_type,omitempty"`
	VCPU         float64 `json:"vcpu,omitempty"`
	MemoryMiB    int64   `json:"memory_mib,omitempty"`
	DiskMB       int64   `json:"disk_mb,omitempty"`
	MaxInstances int64   `json:"max_instances,omitempty"`
}

// Schema is the document's schema, for reconciler/opsdoc.
func (Policy) Schema() string { return PolicySchema }

// ParsePolicy reads a stored policy document of version 1.
func ParsePolicy(b []byte) (Policy, error) {
	var p Policy
	if err := json.Unmarshal(b, &p); err != nil {
		return Policy{}, fmt.Errorf("not a sandbox policy document: %w", err)
	}
	if p.SchemaName != PolicySchema {
		name, _, _ := strings.Cut(p.SchemaName, "/")
		if name == strings.Split(PolicySchema, "/")[0] {
			return Policy{}, fmt.Errorf("sandbox policy document of schema %q: this flareops reads %q", p.SchemaName, PolicySchema)
		}
		return Policy{}, fmt.Errorf("not a sandbox policy document (schema %q)", p.SchemaName)
	}
	return p, nil
}
