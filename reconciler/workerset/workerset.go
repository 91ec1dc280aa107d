// Package workerset is the one place where flareops writes to Workers.
//
// Several kinds put things on one Worker (an analytics dataset a binding, a sandbox a cron
// and a CPU limit, worker settings its observability), and Cloudflare keeps them in whole
// lists that a PATCH or PUT replaces. So every kind says what it wants on a Worker (a
// Want), and the Set reads the Worker, changes only those entries and writes back, keeping
// every other binding, cron and setting exactly as it was. Writes to one Worker are
// serialized and each merges into a fresh read, so two kinds changing one Worker in one
// apply never lose each other's change, whatever the parallelism.
//
// Reads for planning are cached for the run: a plan reads each Worker it touches once,
// whatever the number of kinds on it.
package workerset

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// API is what the Set needs from Cloudflare; *cloudflare.Client implements it.
type API interface {
	WorkerSettings(ctx context.Context, script string) (cloudflare.WorkerSettings, error)
	SetWorkerSettings(ctx context.Context, script string, s cloudflare.WorkerSettings) error
	WorkerCrons(ctx context.Context, script string) ([]string, error)
	SetWorkerCrons(ctx context.Context, script string, crons []string) error
}

// Binding is one binding of a Worker: its name, its type, and its other fields as the API
// shows them ("dataset" for analytics_engine).
type Binding struct {
	Name   string
	Type   string
	Fields map[string]any
}

// Equal reports whether two bindings are the same binding.
func (b Binding) Equal(o Binding) bool {
	if b.Name != o.Name || b.Type != o.Type || len(b.Fields) != len(o.Fields) {
		return false
	}
	x, _ := json.Marshal(b.Fields)
	y, _ := json.Marshal(o.Fields)
	return string(x) == string(y)
}

// raw encodes the binding for a write. Secret bindings, whose values are never read, are
// written as `inherit`, which keeps them exactly as they are.
func (b Binding) raw() (json.RawMessage, error) {
	if b.Type == "secret_text" || b.Type == "secret_key" {
		return json.Marshal(map[string]any{"type": "inherit", "name": b.Name})
	}
	m := make(map[string]any, len(b.Fields)+2)
	for k, v := range b.Fields {
		m[k] = v
	}
	m["name"], m["type"] = b.Name, b.Type
	return json.Marshal(m)
}

func parseBinding(raw json.RawMessage) (Binding, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return Binding{}, fmt.Errorf("cannot read a binding: %w", err)
	}
	b := Binding{Fields: map[string]any{}}
	b.Name, _ = m["name"].(string)
	b.Type, _ = m["type"].(string)
	for k, v := range m {
		if k != "name" && k != "type" {
			b.Fields[k] = v
		}
	}
	return b, nil
}

// Want is what one declaration wants on one Worker: the entries it owns there.
type Want struct {
	Bindings []Binding
	Crons    []string
	// CPUMs is the CPU limit (0: this declaration sets none).
	CPUMs int64
	// Observability, when set, is the Worker's observability settings.
	Observability *cloudflare.Observability
	// Logpush is true when the declaration needs the Worker's trace events pushed.
	Logpush bool
}

// Empty reports whether w wants nothing.
func (w Want) Empty() bool {
	return len(w.Bindings) == 0 && len(w.Crons) == 0 && w.CPUMs == 0 && w.Observability == nil && !w.Logpush
}

// Worker is a Worker as the Set reads it.
type Worker struct {
	Script string
	// Exists is false when there is no such script.
	Exists   bool
	Settings cloudflare.WorkerSettings
	Bindings []Binding
}

// Binding returns the Worker's binding named name.
func (w Worker) Binding(name string) (Binding, bool) {
	for _, b := range w.Bindings {
		if b.Name == name {
			return b, true
		}
	}
	return Binding{}, false
}

// Set reads and writes the Workers of one run. It is safe for concurrent use.
type Set struct {
	api API

	mu       sync.Mutex
	workers  map[string]*cached
	locks    map[string]*sync.Mutex
	deployed map[string]string          // Worker → the tool that deploys it (and would undo our writes)
	first    map[string]Worker          // Worker → as this run first read it, before any write of the run
	cpu      map[string][]int64         // Worker → CPU limits that declarations flareops manages applied there
	wrote    map[string]map[string]bool // Worker → names of the bindings this run wrote there

	scriptsOnce sync.Once
	lastFrom    map[string]string // Worker → the client that last deployed it (Cloudflare's last_deployed_from)
	scriptsErr  error
}

// ScriptLister lists the account's Workers; *cloudflare.Client implements it. An API that
// also implements it lets the Set say which client last deployed a Worker.
type ScriptLister interface {
	ListScripts(ctx context.Context) ([]cloudflare.Script, error)
}

// LastDeployedFrom is the client that last deployed the Worker as Cloudflare records it
// ("wrangler", "dash", "api", ...; "" when unknown or the Worker does not exist). The
// account's Workers are listed once per run, and only when this is asked.
func (s *Set) LastDeployedFrom(ctx context.Context, script string) (string, error) {
	lister, ok := s.api.(ScriptLister)
	if !ok {
		return "", nil
	}
	s.scriptsOnce.Do(func() {
		scripts, err := lister.ListScripts(ctx)
		if err != nil {
			s.scriptsErr = err
			return
		}
		m := make(map[string]string, len(scripts))
		for _, sc := range scripts {
			m[sc.Name] = sc.LastDeployedFrom
		}
		s.mu.Lock()
		s.lastFrom = m
		s.mu.Unlock()
	})
	if s.scriptsErr != nil {
		return "", s.scriptsErr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastFrom[script], nil
}

// SetDeployedBy records that tool (e.g. "wrangler") deploys the Worker: its next deploy
// would undo anything flareops wrote there, so Change never writes to it. The planner
// learns it from the configuration (worker_settings' deployed_by) before anything is
// written.
func (s *Set) SetDeployedBy(script, tool string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deployed == nil {
		s.deployed = map[string]string{}
	}
	s.deployed[script] = tool
}

// DeployedBy is the tool that deploys the Worker, "" when flareops may write to it.
func (s *Set) DeployedBy(script string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deployed[script]
}

type cached struct {
	once     sync.Once
	read     bool // the read is done (guarded by Set.mu)
	worker   Worker
	err      error
	cronOnce sync.Once
	crons    []string
	cronErr  error
}

// New returns a Set over api.
func New(api API) *Set {
	return &Set{api: api, workers: map[string]*cached{}, locks: map[string]*sync.Mutex{}}
}

func (s *Set) entry(script string) *cached {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.workers[script]
	if !ok {
		c = &cached{}
		s.workers[script] = c
	}
	return c
}

// Read returns the Worker's settings, read once per run (a failed read is not kept).
func (s *Set) Read(ctx context.Context, script string) (Worker, error) {
	c := s.entry(script)
	c.once.Do(func() {
		c.worker, c.err = s.read(ctx, script)
		s.mu.Lock()
		c.read = true
		if _, seen := s.first[script]; !seen && c.err == nil {
			if s.first == nil {
				s.first = map[string]Worker{}
			}
			s.first[script] = c.worker
		}
		s.mu.Unlock()
	})
	if c.err != nil {
		s.forget(script)
	}
	return c.worker, c.err
}

// Cached returns the Worker as this run's last successful Read saw it, without reading:
// ok is false when it was not read (or was written since). For what must not call the API,
// such as a plan's impact lines.
func (s *Set) Cached(script string) (w Worker, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, found := s.workers[script]
	if !found || !c.read || c.err != nil {
		return Worker{}, false
	}
	return c.worker, true
}

// Observed returns the Worker as this run first read it, before anything of the run was
// written to it (Read's cache is dropped by writes; this is not). An entry found there
// that a declaration does not own was made by someone else, whereas one found only after
// a write of this run may be that write's (its answer lost): kinds that refuse to take
// over someone else's entry compare with this.
func (s *Set) Observed(script string) (Worker, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.first[script]
	return w, ok
}

// RecordApplied notes that a declaration flareops manages applied the CPU limit ms to the
// Worker (its state says so): such a limit is flareops's, not someone else's, and another
// declaration may take its place (a sandbox renamed, or cpu_ms moved between blocks).
// Kinds record their state's entries while observing, before anything is applied.
func (s *Set) RecordApplied(script string, ms int64) {
	if ms == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cpu == nil {
		s.cpu = map[string][]int64{}
	}
	if !slices.Contains(s.cpu[script], ms) {
		s.cpu[script] = append(s.cpu[script], ms)
	}
}

// AppliedCPU reports whether a declaration flareops manages applied the CPU limit ms to
// the Worker (RecordApplied).
func (s *Set) AppliedCPU(script string, ms int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.cpu[script], ms)
}

// Crons returns the Worker's cron triggers, read once per run.
func (s *Set) Crons(ctx context.Context, script string) ([]string, error) {
	c := s.entry(script)
	c.cronOnce.Do(func() { c.crons, c.cronErr = s.api.WorkerCrons(ctx, script) })
	if c.cronErr != nil {
		s.forget(script)
		if cloudflare.IsNotFound(c.cronErr) {
			return nil, nil
		}
	}
	return c.crons, c.cronErr
}

func (s *Set) forget(script string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.workers, script)
}

func (s *Set) read(ctx context.Context, script string) (Worker, error) {
	st, err := s.api.WorkerSettings(ctx, script)
	if cloudflare.IsNotFound(err) {
		return Worker{Script: script}, nil
	}
	if err != nil {
		return Worker{}, err
	}
	w := Worker{Script: script, Exists: true, Settings: st}
	for _, raw := range st.Bindings {
		b, err := parseBinding(raw)
		if err != nil {
			return Worker{}, fmt.Errorf("Worker %s: %w", script, err)
		}
		w.Bindings = append(w.Bindings, b)
	}
	return w, nil
}

func (s *Set) lock(script string) *sync.Mutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.locks[script]
	if !ok {
		l = &sync.Mutex{}
		s.locks[script] = l
	}
	return l
}

// ForeignError is a write refused because the Worker holds an entry of the same name that
// the declaration does not own. Same is set when that entry is exactly the one the
// declaration wants: writing nothing would still take it over (removing the declaration
// would remove it).
type ForeignError struct {
	Script, Binding string
	Same            bool
}

func (e *ForeignError) Error() string {
	if e.Same {
		return fmt.Sprintf("Worker %s already has binding %s, which flareops does not manage; flareops does not take it over (removing the declaration would remove it): rename the binding in the configuration, or remove it from the Worker", e.Script, e.Binding)
	}
	return fmt.Sprintf("Worker %s already has a binding named %s that flareops does not manage; flareops does not replace it: rename the binding in the configuration, or remove it from the Worker", e.Script, e.Binding)
}

// wroteBinding reports whether this run wrote the binding named name to the Worker.
func (s *Set) wroteBinding(script, name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wrote[script][name]
}

// noteWritten records, before they are sent, the bindings a write puts on the Worker: if
// its answer is lost, a retry in this run finds them as its own.
func (s *Set) noteWritten(script string, bs []Binding) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wrote == nil {
		s.wrote = map[string]map[string]bool{}
	}
	if s.wrote[script] == nil {
		s.wrote[script] = map[string]bool{}
	}
	for _, b := range bs {
		s.wrote[script][b.Name] = true
	}
}

// Change turns what a declaration had on the Worker (old, as last applied; empty for a new
// declaration) into what it wants now (next; empty to remove it). It reads the Worker
// afresh under the Worker's lock, changes only those entries, and writes settings and
// crons back only where they changed. Entries someone else changed since (a binding of
// ours now pointing elsewhere) are left alone when removed.
func (s *Set) Change(ctx context.Context, script string, old, next Want) error {
	if s.DeployedBy(script) != "" {
		return nil // another tool deploys it: the plan shows what to add there instead
	}
	l := s.lock(script)
	l.Lock()
	defer l.Unlock()
	s.forget(script)
	cur, err := s.read(ctx, script)
	if err != nil {
		return err
	}
	if !cur.Exists {
		if next.Empty() {
			return nil // nothing to remove from a Worker that is gone
		}
		return fmt.Errorf("Worker %s does not exist: deploy it (flareops never uploads Worker code), or change the configuration", script)
	}
	settings, changed, err := mergeSettings(cur, old, next, func(name string) bool { return s.wroteBinding(script, name) })
	if err != nil {
		return err
	}
	if changed {
		s.noteWritten(script, next.Bindings)
		if err := s.api.SetWorkerSettings(ctx, script, settings); err != nil {
			return err
		}
	}
	if len(old.Crons) > 0 || len(next.Crons) > 0 {
		crons, err := s.api.WorkerCrons(ctx, script)
		if err != nil {
			return err
		}
		if merged := MergeCrons(crons, old.Crons, next.Crons); !slices.Equal(merged, crons) {
			if err := s.api.SetWorkerCrons(ctx, script, merged); err != nil {
				return err
			}
		}
	}
	return nil
}

// mergeSettings applies old → next to the Worker's settings. A binding next adds (not in
// old) that the Worker already has is someone else's, unless this run wrote it (wrote):
// an earlier attempt whose answer was lost.
func mergeSettings(cur Worker, old, next Want, wrote func(name string) bool) (cloudflare.WorkerSettings, bool, error) {
	st := cur.Settings
	changed := false
	bindings := slices.Clone(cur.Bindings)
	wanted := map[string]Binding{}
	for _, b := range next.Bindings {
		wanted[b.Name] = b
	}
	// Remove ours that are no longer wanted, where they are still as we left them.
	for _, ob := range old.Bindings {
		if _, keep := wanted[ob.Name]; keep {
			continue
		}
		if i := indexOf(bindings, ob.Name); i >= 0 && bindings[i].Equal(ob) {
			bindings = slices.Delete(bindings, i, i+1)
			changed = true
		}
	}
	owned := map[string]bool{}
	for _, ob := range old.Bindings {
		owned[ob.Name] = true
	}
	for _, nb := range next.Bindings {
		i := indexOf(bindings, nb.Name)
		switch {
		case i < 0:
			bindings = append(bindings, nb)
			changed = true
		case owned[nb.Name] && bindings[i].Equal(nb):
		case bindings[i].Equal(nb) && wrote != nil && wrote(nb.Name):
		case bindings[i].Equal(nb):
			return st, false, &ForeignError{Script: cur.Script, Binding: nb.Name, Same: true}
		case owned[nb.Name]:
			bindings[i] = nb
			changed = true
		default:
			return st, false, &ForeignError{Script: cur.Script, Binding: nb.Name}
		}
	}
	switch {
	case next.CPUMs != 0 && st.CPUMs != next.CPUMs:
		st.CPUMs, changed = next.CPUMs, true
	case next.CPUMs == 0 && old.CPUMs != 0 && st.CPUMs == old.CPUMs:
		st.CPUMs, changed = 0, true // back to the platform default
	}
	switch {
	case next.Observability != nil && !equalObservability(st.Observability, next.Observability):
		st.Observability, changed = mergeObservability(st.Observability, next.Observability), true
	case next.Observability == nil && old.Observability != nil && equalObservability(st.Observability, old.Observability):
		off := mergeObservability(st.Observability, old.Observability)
		off.Enabled = false
		st.Observability, changed = off, true
	}
	switch {
	case next.Logpush && !st.Logpush:
		st.Logpush, changed = true, true
	case !next.Logpush && old.Logpush && st.Logpush:
		st.Logpush, changed = false, true
	}
	if !changed {
		return st, false, nil
	}
	st.Bindings = make([]json.RawMessage, 0, len(bindings))
	for _, b := range bindings {
		raw, err := b.raw()
		if err != nil {
			return st, false, fmt.Errorf("Worker %s: binding %s: %w", cur.Script, b.Name, err)
		}
		st.Bindings = append(st.Bindings, raw)
	}
	return st, true, nil
}

func indexOf(bs []Binding, name string) int {
	for i, b := range bs {
		if b.Name == name {
			return i
		}
	}
	return -1
}

// equalObservability compares the observability fields flareops manages (enabled, head
// sampling, and Workers Logs' enabled, invocation logs and sampling); the others (traces,
// log persistence and destinations) belong to whoever set them.
func equalObservability(live, want *cloudflare.Observability) bool {
	if live == nil || want == nil {
		return live == want
	}
	if live.Enabled != want.Enabled || live.HeadSamplingRate != want.HeadSamplingRate {
		return false
	}
	if want.Logs == nil {
		return true // the declaration leaves Workers Logs alone
	}
	if live.Logs == nil {
		return false
	}
	return live.Logs.Enabled == want.Logs.Enabled && live.Logs.InvocationLogs == want.Logs.InvocationLogs && live.Logs.HeadSamplingRate == want.Logs.HeadSamplingRate
}

// mergeObservability is the live settings with the managed fields of want.
func mergeObservability(live, want *cloudflare.Observability) *cloudflare.Observability {
	out := &cloudflare.Observability{}
	if live != nil {
		*out = *live
		if live.Logs != nil {
			l := *live.Logs
			out.Logs = &l
		}
	}
	out.Enabled, out.HeadSamplingRate = want.Enabled, want.HeadSamplingRate
	if want.Logs != nil {
		if out.Logs == nil {
			out.Logs = &cloudflare.ObservabilityLogs{}
		}
		out.Logs.Enabled, out.Logs.InvocationLogs, out.Logs.HeadSamplingRate = want.Logs.Enabled, want.Logs.InvocationLogs, want.Logs.HeadSamplingRate
	}
	return out
}

// MergeCrons removes old's crons that next does not keep and adds next's missing ones,
// keeping every other cron in its place.
func MergeCrons(cur, old, next []string) []string {
	out := make([]string, 0, len(cur)+len(next))
	for _, c := range cur {
		if slices.Contains(old, c) && !slices.Contains(next, c) {
			continue
		}
		out = append(out, c)
	}
	var add []string
	for _, c := range next {
		if !slices.Contains(out, c) && !slices.Contains(add, c) {
			add = append(add, c)
		}
	}
	sort.Strings(add)
	return append(out, add...)
}
