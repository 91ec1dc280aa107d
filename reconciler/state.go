package reconciler

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/monotask/flareops/internal/jsonstream"
)

// State is the inventory of what flareops manages in one target and workspace: address →
// live id. It is what lets a plan prune removed blocks and follow renames; it never decides
// drift (drift is always live vs desired). It holds no secrets: ids, names, hashes and the
// last applied specs with their sensitive fields removed.
type State struct {
	Version int `json:"version"`
	Serial  int `json:"serial"`
	// Target is the account (and workspace) the state describes. A state is never read or
	// written for another target.
	Target    *Target                `json:"target,omitempty"`
	Resources map[string]*StateEntry `json:"resources"`

	mu   sync.Mutex
	path string
	// existed says the file was there when read, and loadedSum is the SHA-256 of what
	// was read: at the first write of this process the file, still as read, becomes the
	// backup, so the backup is the state as it was before the command (as Terraform's
	// terraform.tfstate.backup is). It is not kept in memory meanwhile.
	existed   bool
	loadedSum [sha256.Size]byte
	backedUp  bool
	// remote, when set, is the R2 object the state is written to instead of path.
	remote *remoteStore
}

// StateEntry is one managed object.
type StateEntry struct {
	Kind string `json:"kind"`
	ID   string `json:"id,omitempty"`
	Key  string `json:"key"`
	// Pending marks a create that was started but not confirmed in this state's target: if
	// an object with Key appears there, it is ours (its creation's answer was lost). No
	// other object is ever adopted by name.
	Pending bool `json:"pending,omitempty"`
	// PendingSince is when the pending create was sent: a killed process's request may
	// still be carried out by the server after it died, so a marker is kept (never
	// forgotten) for PendingGrace after it.
	PendingSince   time.Time `json:"pending_since,omitzero"`
	Deps           []string  `json:"deps,omitempty"`
	PreventDestroy bool      `json:"prevent_destroy,omitempty"`
	// Hash is the hash of the last applied desired spec.
	Hash string `json:"hash,omitempty"`
	// Applied is the last applied desired spec, with sensitive fields emptied. The planner
	// compares it with the live object to tell changes made outside flareops from changes
	// in the configuration.
	Applied json.RawMessage `json:"applied,omitempty"`
	// Remote is Cloudflare's own id of an object whose ID is a name (a webhook destination:
	// see RemoteIdentifier): an object under that name with another remote id is someone
	// else's. Empty for other kinds, and in entries written before it was recorded.
	Remote string `json:"remote_id,omitempty"`
}

// stateVersion 2 records the target; version 1 files did not.
const stateVersion = 2

// StateDir is the directory, beside the configuration, that holds state and local data.
const StateDir = ".flareops"

// DefaultWorkspace is the workspace used when none is selected.
const DefaultWorkspace = "default"

var workspaceRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// CheckWorkspace validates a workspace name.
func CheckWorkspace(name string) error {
	if !workspaceRE.MatchString(name) {
		return fmt.Errorf("workspace %q: use 1 to 64 letters, digits, '-' and '_', starting with a letter or digit", name)
	}
	return nil
}

// LocalDataDir is where the built-in local Cloudflare of a configuration directory keeps
// its data, relative to that directory.
var LocalDataDir = filepath.Join(StateDir, "local")

// localStateDir holds the states of the built-in local Cloudflare, beside its data.
var localStateDir = filepath.Join(StateDir, "local-state")

// StatePath returns the state file of target t for the configuration directory dir. The
// built-in local Cloudflare's states live apart (.flareops/local-state/), so they never
// mix with an account's; other workspaces live under workspaces/NAME/.
func StatePath(dir string, t Target) string {
	base := filepath.Join(dir, StateDir)
	if t.Kind == "local" {
		base = filepath.Join(dir, localStateDir)
	}
	if t.Workspace != "" && t.Workspace != DefaultWorkspace {
		base = filepath.Join(base, "workspaces", t.Workspace)
	}
	return filepath.Join(base, "state.json")
}

// Describe names a target for people: "account 0123… at https://…", "the local
// Cloudflare in .flareops/local", with the workspace when it is not the default.
// A field a state or plan file left empty is said so; one that is not plain text is
// quoted (PlainOrQuoted), as a file may have been edited by hand.
func (t Target) Describe() string {
	var s string
	switch {
	case t.Kind == "local":
		s = "the built-in local Cloudflare"
		if t.DataDir != "" {
			s += " in " + PlainOrQuoted(t.DataDir)
		}
	case t.AccountID == "":
		s = "an account with no id"
	default:
		s = "account " + PlainOrQuoted(t.AccountID)
	}
	if t.Kind != "local" {
		switch {
		case t.BaseURL != "":
			s += " at " + PlainOrQuoted(t.BaseURL)
		case t.AccountID == "":
			s += " and no API URL"
		default:
			s += " with no API URL"
		}
	}
	if t.Workspace != "" && t.Workspace != DefaultWorkspace {
		s += ", workspace " + PlainOrQuoted(t.Workspace)
	}
	return s
}

// Same reports whether two targets are the same account and workspace.
func (t Target) Same(o Target) bool {
	norm := func(x Target) Target {
		x.BaseURL = strings.TrimRight(x.BaseURL, "/")
		if x.Workspace == "" {
			x.Workspace = DefaultWorkspace
		}
		if x.Kind == "local" {
			x.AccountID, x.BaseURL = "", ""
		}
		return x
	}
	return norm(t) == norm(o)
}

// LoadState reads the state of target t for the configuration in dir; a missing file is
// an empty state bound to t. A state bound to another target is refused, naming both.
func LoadState(dir string, t Target) (*State, error) {
	p := StatePath(dir, t)
	st := &State{Version: stateVersion, Target: &t, Resources: map[string]*StateEntry{}, path: p}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read state: %w", err)
	}
	defer f.Close()
	sum := sha256.New()
	onDisk, err := decodeState(io.TeeReader(f, sum), t, "state file "+p, func(err error) error { return corruptState(dir, p, err) })
	if err != nil {
		return nil, err
	}
	st.Serial, st.Resources, st.existed = onDisk.Serial, onDisk.Resources, true
	sum.Sum(st.loadedSum[:0])
	return st, nil
}

// decodeState decodes a stored state (what names it for people, "state file F" or
// "state r2://…") and checks it describes target t; corrupt makes the error of an
// undecodable one. It reads r as a stream, an entry at a time, so that a large state is
// never held whole in memory beside its decoded entries.
func decodeState(r io.Reader, t Target, what string, corrupt func(error) error) (*State, error) {
	onDisk, err := streamState(r)
	if err != nil {
		return nil, corrupt(err)
	}
	if onDisk.Version > stateVersion {
		return nil, fmt.Errorf("%s was written by a newer flareops (version %d): upgrade flareops", what, onDisk.Version)
	}
	if onDisk.Resources == nil {
		onDisk.Resources = map[string]*StateEntry{}
	}
	switch {
	case onDisk.Target == nil && len(onDisk.Resources) > 0:
		return nil, fmt.Errorf("%s was written by an older flareops that did not record which account it describes, so it cannot be used safely for %s. If it describes that account, delete it and bring each object back with `flareops import ADDRESS NAME`", what, t.Describe())
	case onDisk.Target != nil && !onDisk.Target.Same(t):
		return nil, fmt.Errorf("%s describes %s, not %s: refusing to use it. Check CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_BASE_URL and -workspace", what, onDisk.Target.Describe(), t.Describe())
	}
	if err := checkEntries(onDisk.Resources); err != nil {
		return nil, corrupt(err)
	}
	return onDisk, nil
}

// stateAddressRE is an address in a state: a kind and a name of letters, digits, '_'
// and '-' (an HCL identifier; the configuration names blocks more strictly, config's
// blockNamePattern).
var stateAddressRE = regexp.MustCompile(`^[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*$`)

// checkEntries refuses what flareops never writes: an address (or a dependency) that is
// not KIND.NAME, a null entry, an entry whose kind is not its address's. Such a file was
// edited by hand or tampered with. The first offending address in order is named, quoted:
// it may hold anything, terminal escapes included.
func checkEntries(entries map[string]*StateEntry) error {
	var first string
	var firstErr error
	for addr, e := range entries {
		if firstErr != nil && addr > first {
			continue
		}
		if err := checkEntry(addr, e); err != nil {
			first, firstErr = addr, err
		}
	}
	return firstErr
}

func checkEntry(addr string, e *StateEntry) error {
	if !stateAddressRE.MatchString(addr) {
		return fmt.Errorf("resources: %s is not an address (KIND.NAME, e.g. queue.agent_jobs)", strconv.Quote(addr))
	}
	if e == nil {
		return fmt.Errorf("resources: entry %s is null", strconv.Quote(addr))
	}
	if kind, _, _ := strings.Cut(addr, "."); e.Kind != kind {
		return fmt.Errorf("resources: entry %s has kind %s, not %s", strconv.Quote(addr), strconv.Quote(e.Kind), kind)
	}
	for _, d := range e.Deps {
		if !stateAddressRE.MatchString(d) {
			return fmt.Errorf("resources: entry %s depends on %s, which is not an address", strconv.Quote(addr), strconv.Quote(d))
		}
	}
	return nil
}

// streamState decodes a state as json.Unmarshal would (keys matched without regard to
// case, unknown keys ignored, nothing after the object), with the resources decoded one
// entry at a time.
func streamState(r io.Reader) (*State, error) {
	dec := json.NewDecoder(r)
	var st State
	if err := jsonstream.Delim(dec, '{'); err != nil {
		return nil, err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		switch strings.ToLower(key) {
		case "version":
			err = dec.Decode(&st.Version)
		case "serial":
			err = dec.Decode(&st.Serial)
		case "target":
			st.Target = nil
			err = dec.Decode(&st.Target)
		case "resources":
			st.Resources, err = streamEntries(dec)
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", PlainOrQuoted(key), err)
		}
	}
	if err := jsonstream.Delim(dec, '}'); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("invalid data after the state's object")
		}
		return nil, err
	}
	return &st, nil
}

// streamEntries reads the resources object (or null) an entry at a time.
func streamEntries(dec *json.Decoder) (map[string]*StateEntry, error) {
	if null, err := jsonstream.OpenOrNull(dec, '{'); err != nil || null {
		return nil, err
	}
	out := map[string]*StateEntry{}
	var compact bytes.Buffer
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		addr, _ := tok.(string)
		var e *StateEntry
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("%s: %w", strconv.Quote(addr), err)
		}
		if e != nil && len(e.Applied) > 0 {
			// The file is indented and RawMessage keeps the bytes as read: compact them, as
			// the planner writes them (appliedJSON), so an unchanged entry is seen as the
			// same (sameEntry) and held once, and each holds no indentation.
			compact.Reset()
			if err := json.Compact(&compact, e.Applied); err != nil {
				return nil, fmt.Errorf("%s: applied: %w", strconv.Quote(addr), err)
			}
			e.Applied = bytes.Clone(compact.Bytes())
		}
		out[addr] = e
	}
	return out, jsonstream.Delim(dec, '}')
}

func corruptState(dir, p string, err error) error {
	backup := p + ".backup"
	if _, serr := os.Stat(backup); serr == nil {
		return fmt.Errorf("state file %s is corrupt (%v). The state before the last command that changed it is in %s: check it, then `cp %s %s` and run `flareops plan -dir %s`; or delete %s and bring each object back with `flareops import -dir %s ADDRESS NAME`", p, err, backup, backup, p, dir, p, dir)
	}
	return fmt.Errorf("state file %s is corrupt (%v) and there is no backup of it. Restore it from your own backups, or delete it and bring each object back with `flareops import -dir %s ADDRESS NAME`", p, err, dir)
}

// NewMemoryState is a state that is never written (tests, provider).
func NewMemoryState() *State {
	return &State{Version: stateVersion, Resources: map[string]*StateEntry{}}
}

// Path is the file the state is written to ("" for a memory state).
func (s *State) Path() string { return s.path }

// entry returns the state's own entry for addr (&noEntry when there is none), shared: its
// holder must not change it. Put stores a new entry rather than change one, so an entry
// once returned stays as it was.
func (s *State) entry(addr string) (*StateEntry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.Resources[addr]
	if !ok || e == nil {
		return &noEntry, false
	}
	return e, true
}

// noEntry stands for the entry of an address the state does not have; never changed.
var noEntry StateEntry

// Get returns a copy of the entry for addr.
func (s *State) Get(addr string) (StateEntry, bool) {
	e, ok := s.entry(addr)
	return *e, ok
}

// Addresses returns the managed addresses, sorted.
func (s *State) Addresses() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.Resources))
	for a := range s.Resources {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// Len is the number of managed addresses.
func (s *State) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.Resources)
}

// Put records an entry and saves the state. A local state is written before Put
// returns. A remote state's writes are coalesced (remote_state.go): Put of a pending
// create's marker returns once a write that includes it is stored, since the create it
// protects may not be sent before; other changes are stored by the next write.
func (s *State) Put(addr string, e StateEntry) error {
	s.mu.Lock()
	s.Resources[addr] = &e
	if s.remote != nil {
		t := s.remote.changedLocked()
		s.mu.Unlock()
		return s.remote.settle(t, e.Pending)
	}
	defer s.mu.Unlock()
	return s.saveLocked()
}

// Remove forgets addr and saves the state (for a remote state, with the next write).
func (s *State) Remove(addr string) error {
	s.mu.Lock()
	delete(s.Resources, addr)
	if s.remote != nil {
		t := s.remote.changedLocked()
		s.mu.Unlock()
		return s.remote.settle(t, false)
	}
	defer s.mu.Unlock()
	return s.saveLocked()
}

// Save writes the state, and returns once it is stored.
func (s *State) Save() error {
	if s.remote != nil {
		s.mu.Lock()
		t := s.remote.changedLocked()
		s.mu.Unlock()
		return s.remote.settle(t, true)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saveLocked()
}

// ReplaceResources makes entries the whole inventory and saves the state (state migrate).
func (s *State) ReplaceResources(entries map[string]StateEntry) error {
	s.mu.Lock()
	s.Resources = make(map[string]*StateEntry, len(entries))
	for a, e := range entries {
		s.Resources[a] = &e
	}
	s.mu.Unlock()
	return s.Save()
}

// Entries returns a copy of every entry.
func (s *State) Entries() map[string]StateEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]StateEntry, len(s.Resources))
	for a, e := range s.Resources {
		out[a] = *e
	}
	return out
}

func (s *State) saveLocked() error {
	if s.path == "" {
		return nil
	}
	s.Serial++
	s.Version = stateVersion
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot encode state: %w", err)
	}
	b = append(b, '\n')
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return fmt.Errorf("cannot write state: %w", err)
	}
	if !s.backedUp && s.existed && sha256.Sum256(b) != s.loadedSum {
		if err := s.keepBackup(); err != nil {
			return err
		}
		s.backedUp = true
	}
	return writeFileAtomic(s.path, b)
}

// keepBackup copies the state file, as it was read, to its .backup. A file that changed
// since it was read was written by another process despite the lock: nothing is
// overwritten then. A file removed since has nothing to keep; the state this process
// holds is written in its place.
func (s *State) keepBackup() error {
	old, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot keep the previous state: %w", err)
	}
	if sha256.Sum256(old) != s.loadedSum {
		return fmt.Errorf("state file %s changed since this command read it (another flareops process wrote it without holding the lock?): refusing to overwrite it; run the command again", s.path)
	}
	if err := writeFileAtomic(s.path+".backup", old); err != nil {
		return fmt.Errorf("cannot keep the previous state: %w", err)
	}
	return nil
}

// writeFileAtomic replaces path with b so that readers see the old or the new file, never
// a torn one (temp file, fsync, rename, fsync of the directory).
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), tmpPrefix(path))
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	cleanup := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if _, err := tmp.Write(b); err != nil {
		return cleanup(err)
	}
	if err := tmp.Sync(); err != nil {
		return cleanup(err)
	}
	if err := tmp.Close(); err != nil {
		return cleanup(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		// Make the rename itself durable; a failure here leaves a correct file that may
		// revert to its previous version after a power loss, which the backup covers.
		_ = d.Sync()
		d.Close()
	}
	return nil
}

func tmpPrefix(path string) string { return ".tmp-" + filepath.Base(path) + "-" }

// removeStaleTemps deletes temp files a killed writer left beside path. Only the holder
// of the state lock calls it, so no live writer owns them.
func removeStaleTemps(path string) {
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), tmpPrefix(path)+"*"))
	more, _ := filepath.Glob(filepath.Join(filepath.Dir(path), tmpPrefix(path+".backup")+"*"))
	for _, m := range append(matches, more...) {
		os.Remove(m)
	}
}
