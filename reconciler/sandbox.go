package reconciler

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sync"
	"time"

	"github.com/monotask/flareops/reconciler/cloudflare"
	"github.com/monotask/flareops/reconciler/opsdoc"
	"github.com/monotask/flareops/reconciler/sandbox"
	"github.com/monotask/flareops/reconciler/workerset"
)

// SandboxKind is the `sandbox` block: the Worker that runs sandboxes (its CPU limit and a
// cleanup cron trigger), the existing containers application the sandboxes run in (its
// instance size and max instances), and the timeouts the sandbox lifecycle code enforces,
// published with the other limits as a policy document in the ops KV namespace
// (reconciler/sandbox).
//
// A sandbox has no object of its own in Cloudflare: it is entries in objects others own.
// Its identity is its policy document, flareops/sandbox/<name>, which only flareops
// writes. A sandbox flareops manages always exists (what is missing of it shows as
// fields to set again); a declared one it does not manage exists when its document does.
type SandboxKind struct {
	Workers    *workerset.Set
	Docs       *opsdoc.Store
	Containers ContainersAPI
	Settings   Settings

	run *sandboxRun
}

// ContainersAPI is what the sandbox kind needs of the containers applications API;
// *cloudflare.Client implements it.
type ContainersAPI interface {
	ContainerApplications(ctx context.Context) ([]cloudflare.ContainerApplication, error)
	ResizeContainerApplication(ctx context.Context, id string, size cloudflare.ContainerSize) error
}

// NewSandboxKind wires the kind for one run: the run's Worker set and document store,
// shared with the other kinds.
func NewSandboxKind(ws *workerset.Set, docs *opsdoc.Store, containers ContainersAPI, s Settings) SandboxKind {
	return SandboxKind{Workers: ws, Docs: docs, Containers: containers, Settings: s, run: &sandboxRun{crons: map[string][]string{}, applied: map[string]*SandboxSpec{}}}
}

// sandboxRun is what the kind remembers during one run: the applications list (one
// request serves the plan's checks and observation; writes drop it) and the crons each
// Worker had when observed (plan text counts the crons a change keeps).
type sandboxRun struct {
	mu    sync.Mutex
	apps  []cloudflare.ContainerApplication
	fresh bool
	crons map[string][]string
	// applied is each managed sandbox's spec as last applied (the state), by name: what
	// the plan's impact lines know of what it owns on its Worker.
	applied map[string]*SandboxSpec
}

// sandboxPrivate is what observation keeps of a live sandbox: the spec last applied, which
// says what of its Worker is its own (the CPU limit it set), where the live spec says only
// what the Worker has now.
type sandboxPrivate struct {
	applied *SandboxSpec
}

// SandboxSpec is the normalized, comparable form of a sandbox.
type SandboxSpec struct {
	Name             string                      `diff:"name"`
	Worker           string                      `diff:"worker"`
	CPUMs            int64                       `diff:"cpu_ms,omitzero,zero=(not set)"`
	CleanupEvery     string                      `diff:"cleanup_every,omitzero,zero=(none)"`
	ExecutionTimeout int64                       `diff:"execution_timeout,s,zero=(not published)"`
	IdleTimeout      int64                       `diff:"idle_timeout,s,zero=(not published)"`
	Container        map[string]SandboxContainer `diff:"container"`
	// Policy is the published document's hash, "sha256:" and 16 hex digits; "" when the
	// document is missing. Only flareops writes it, so any other value is an edit.
	Policy string `diff:"policy_document,zero=(missing)"`
}

// SandboxContainer is the part of a containers application flareops manages, keyed by the
// application's name. Zero fields are not managed.
type SandboxContainer struct {
	Application  string  `diff:"application"`
	InstanceType string  `diff:"instance_type,omitzero"`
	VCPU         float64 `diff:"vcpu,omitzero"`
	MemoryMiB    int64   `diff:"memory_mib,omitzero"`
	MaxInstances int64   `diff:"max_instances,omitzero"`
}

func (c SandboxContainer) managesSize() bool { return c.InstanceType != "" || c.VCPU != 0 }

// workerNamePattern is Cloudflare's rule for Worker script names; a sandbox's name follows
// it too, since it defaults to the Worker's.
var workerNamePattern = regexp.MustCompile(`^[a-z0-9_-]{1,63}$`)

const workerNameRule = "1 to 63 lowercase letters, digits, `-` and `_`"

var sandboxSchema = BlockSchema{
	Attrs: []Attr{
		{Name: "name", Type: String, ForceNew: true, MaxLen: 63, Pattern: workerNamePattern, PatternText: workerNameRule,
			Description: "Name of the sandbox: its policy document is `flareops/sandbox/<name>` in the ops KV namespace, where the sandbox code reads it. Default: the name of the Worker. Changing it replaces the sandbox (its document moves)."},
		{Name: "worker", Type: String, Required: true, MaxLen: 63, Pattern: workerNamePattern, PatternText: workerNameRule,
			Description: "Name of the existing Worker script that runs the sandboxes. flareops sets its CPU limit and adds the cleanup cron trigger; its code, bindings, other crons and other settings are left as they are. On a Worker that a `worker_settings` block says wrangler deploys, flareops writes neither: plan and drift show the `wrangler.toml` / `wrangler.jsonc` lines that give them to its deploys."},
		{Name: "cpu_ms", Type: Int, Min: 1, Max: 300000,
			Description: "CPU time limit of one invocation of the Worker, in milliseconds (1 to 300000, i.e. 5 minutes; Cloudflare's default is 30000). Unset: the sandbox does not manage the Worker's CPU limit."},
		{Name: "cleanup_every", Type: String, Enum: sandbox.CleanupIntervals,
			Description: "How often the sandbox code cleans up idle, timed-out and orphaned sandboxes: a cron trigger added to the Worker, e.g. `\"5m\"` becomes `*/5 * * * *`, `\"2h\"` becomes `0 */2 * * *`, `\"1d\"` becomes `0 0 * * *`. One of " + sandbox.CleanupRule + ". The Worker's other crons are kept. Unset: no cron trigger."},
		{Name: "execution_timeout", Type: Duration, Unit: time.Second, Required: true, Min: 1, Max: 86400,
			Description: "Longest a sandbox may run one execution before the sandbox code stops it, e.g. `\"30m\"` (1s to 24h). Published in the policy document."},
		{Name: "idle_timeout", Type: Duration, Unit: time.Second, Min: 1, Max: 86400, Default: int64(600),
			Description: "How long an idle sandbox is kept before the sandbox code stops it, e.g. `\"10m\"` (1s to 24h; default 10m). Published in the policy document."},
	},
	Blocks: []NestedBlock{{
		Name:     "container",
		MaxItems: 1,
		Description: "The existing containers application the sandboxes run in, by name. flareops never creates or deletes an application: it sets only its max instances and instance size, " +
			"each only when given. Removing the block leaves the application as it is.",
		Schema: BlockSchema{Attrs: []Attr{
			{Name: "application", Type: String, Required: true, MaxLen: 256, Description: "Name of the containers application (`wrangler containers list` shows it)."},
			{Name: "instance_type", Type: String, Enum: sandbox.InstanceTypeNames,
				Description: "Predefined instance size: `lite` (1/16 vCPU, 256 MiB), `basic` (1/4 vCPU, 1 GiB), `standard-1` (1/2 vCPU, 4 GiB), `standard-2` (1 vCPU, 6 GiB), `standard-3` (2 vCPU, 8 GiB) or `standard-4` (4 vCPU, 12 GiB). Or set `vcpu` and `memory_mib` instead."},
			{Name: "vcpu", Type: Float, FloatBounded: true, FloatMin: sandbox.MinCustomVCPU, FloatMax: sandbox.MaxCustomVCPU,
				Description: "vCPUs of a custom instance size (1 to 4), with `memory_mib`; instead of `instance_type`."},
			{Name: "memory_mib", Type: Int, Min: 1, Max: sandbox.MaxCustomMemoryMiB,
				Description: "Memory of a custom instance size in MiB (at most 12288, and at least 3072 per vCPU), with `vcpu`; instead of `instance_type`."},
			{Name: "max_instances", Type: Int, Min: 1,
				Description: "Most instances of the application running at once, i.e. concurrent sandboxes. Unset: left as it is."},
		}},
	}},
}

func (SandboxKind) Name() string        { return "sandbox" }
func (SandboxKind) KeyAttr() string     { return "name" }
func (SandboxKind) Schema() BlockSchema { return sandboxSchema }

// Build checks the instance size (cleanup_every's values are the schema's Enum, checked by
// both front ends) and that the configuration has an ops KV namespace to
// publish the policy in (last, so that the provider, which learns the namespace only at
// plan time, can validate everything else first).
func (k SandboxKind) Build(v Values) (Object, error) {
	spec := SandboxSpec{Name: v.str("name"), Worker: v.str("worker"), CleanupEvery: v.str("cleanup_every"), Container: map[string]SandboxContainer{}}
	if spec.Name == "" {
		spec.Name = spec.Worker
	}
	spec.CPUMs, _ = v.int("cpu_ms")
	spec.ExecutionTimeout, _ = v.int("execution_timeout")
	spec.IdleTimeout, _ = v.int("idle_timeout")
	for _, cv := range v.blocks("container") {
		c, err := buildContainer(cv)
		if err != nil {
			return Object{}, err
		}
		spec.Container[c.Application] = c
	}
	hash, err := opsdoc.Hash(spec.policy())
	if err != nil {
		return Object{}, err
	}
	spec.Policy = shortHash(hash)
	if err := k.Settings.NeedOpsKV("a sandbox publishes its policy document in the ops KV namespace"); err != nil {
		return Object{}, err
	}
	return Object{Key: spec.Name, Spec: spec}, nil
}

func buildContainer(v Values) (SandboxContainer, error) {
	c := SandboxContainer{Application: v.str("application"), InstanceType: v.str("instance_type")}
	c.MaxInstances, _ = v.int("max_instances")
	vcpu, hasCPU := v.float("vcpu")
	mem, hasMem := v.int("memory_mib")
	switch {
	case c.InstanceType != "" && (hasCPU || hasMem):
		return c, fmt.Errorf("container: set instance_type, or vcpu and memory_mib, not both")
	case hasCPU != hasMem:
		return c, fmt.Errorf("container: a custom instance size needs both vcpu and memory_mib (or set instance_type instead)")
	case hasCPU:
		if err := sandbox.CheckCustom(vcpu, mem); err != nil {
			return c, fmt.Errorf("container: %w", err)
		}
		c.VCPU, c.MemoryMiB = vcpu, mem
	case c.InstanceType == "" && c.MaxInstances == 0:
		return c, fmt.Errorf("container: set max_instances, instance_type, or vcpu and memory_mib: flareops manages nothing else of application %s", c.Application)
	}
	return c, nil
}

// Flatten turns a sandbox spec back into block values.
func (SandboxKind) Flatten(spec any) Values {
	s := spec.(SandboxSpec)
	v := Values{"name": s.Name, "worker": s.Worker, "execution_timeout": s.ExecutionTimeout, "idle_timeout": s.IdleTimeout}
	if s.CPUMs != 0 {
		v["cpu_ms"] = s.CPUMs
	}
	if s.CleanupEvery != "" {
		v["cleanup_every"] = s.CleanupEvery
	}
	for _, app := range sortedKeys(s.Container) {
		c := s.Container[app]
		cv := Values{"application": c.Application}
		if c.InstanceType != "" {
			cv["instance_type"] = c.InstanceType
		}
		if c.VCPU != 0 {
			cv["vcpu"], cv["memory_mib"] = c.VCPU, c.MemoryMiB
		}
		if c.MaxInstances != 0 {
			cv["max_instances"] = c.MaxInstances
		}
		v["container"] = []Values{cv}
	}
	return v
}

// policy is the document the sandbox publishes.
func (s SandboxSpec) policy() sandbox.Policy {
	p := sandbox.Policy{SchemaName: sandbox.PolicySchema, Sandbox: s.Name, Worker: s.Worker, CPUMs: s.CPUMs,
		ExecutionTimeoutMs: s.ExecutionTimeout * 1000, IdleTimeoutMs: s.IdleTimeout * 1000}
	if c, err := sandbox.ParseCleanup(s.CleanupEvery); err == nil {
		p.Cleanup = &sandbox.PolicyCleanup{Cron: c.Cron, IntervalMs: c.Interval.Milliseconds()}
	}
	for _, app := range sortedKeys(s.Container) {
		c := s.Container[app]
		pc := &sandbox.PolicyContainer{Application: c.Application, InstanceType: c.InstanceType, VCPU: c.VCPU, MemoryMiB: c.MemoryMiB, MaxInstances: c.MaxInstances}
		if size, ok := sandbox.InstanceTypes[c.InstanceType]; ok {
			pc.VCPU, pc.MemoryMiB, pc.DiskMB = size.VCPU, size.MemoryMiB, size.DiskMB
		}
		p.Container = pc
	}
	return p
}

// specFromPolicy is what a stored document says the sandbox is: what observation reads
// when neither the state nor the configuration says it (import).
func specFromPolicy(name string, p sandbox.Policy) SandboxSpec {
	s := SandboxSpec{Name: name, Worker: p.Worker, CPUMs: p.CPUMs, ExecutionTimeout: p.ExecutionTimeoutMs / 1000, IdleTimeout: p.IdleTimeoutMs / 1000, Container: map[string]SandboxContainer{}}
	if p.Cleanup != nil {
		s.CleanupEvery = FormatDuration(time.Duration(p.Cleanup.IntervalMs) * time.Millisecond)
	}
	if c := p.Container; c != nil {
		sc := SandboxContainer{Application: c.Application, InstanceType: c.InstanceType, MaxInstances: c.MaxInstances}
		if c.InstanceType == "" {
			sc.VCPU, sc.MemoryMiB = c.VCPU, c.MemoryMiB
		}
		s.Container[c.Application] = sc
	}
	return s
}

func shortHash(hash string) string {
	if hash == "" {
		return ""
	}
	return "sha256:" + hash[:min(16, len(hash))]
}

// cron is the sandbox's cleanup cron trigger, "" when it has none.
func (s SandboxSpec) cron() string {
	c, err := sandbox.ParseCleanup(s.CleanupEvery)
	if err != nil {
		return ""
	}
	return c.Cron
}

func (s SandboxSpec) container() (SandboxContainer, bool) {
	for _, c := range s.Container {
		return c, true
	}
	return SandboxContainer{}, false
}

var _ WorkerClaimer = SandboxKind{}

// Claims are the CPU limit and the cleanup cron on the sandbox's Worker, and its policy
// document: two sandboxes on one Worker need names of their own, as a sandbox is named
// after its Worker by default. (ValidateLive finds the same name across Workers.)
func (SandboxKind) Claims(v Values) []Claim {
	doc := "policy document " + opsdoc.Key("sandbox", v.str("name"))
	if v.str("name") == "" {
		doc = "policy document " + opsdoc.Key("sandbox", v.str("worker")) + " (a sandbox without a name is named after its Worker)"
	}
	out := []Claim{{Worker: v.str("worker"), What: doc}}
	if _, ok := v.int("cpu_ms"); ok {
		out = append(out, Claim{Worker: v.str("worker"), What: "cpu_ms"})
	}
	if c, err := sandbox.ParseCleanup(v.str("cleanup_every")); err == nil {
		out = append(out, Claim{Worker: v.str("worker"), What: CronClaim(c.Cron)})
	}
	return out
}

// sameFloat compares vCPU counts as the API's JSON carries them.
func sameFloat(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
