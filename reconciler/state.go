package reconciler

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
)

// State is the inventory of what flareops manages: address → live id. It is what lets a
// plan prune removed blocks and follow renames; it never decides drift (drift is always
// live vs desired). It holds no secrets: only ids, names and hashes.
type State struct {
	Version   int                    `json:"version"`
	Serial    int                    `json:"serial"`
	Resources map[string]*StateEntry `json:"resources"`

	mu   sync.Mutex
	path string
}

// StateEntry is one managed object.
type StateEntry struct {
	Kind string `json:"kind"`
	ID   string `json:"id,omitempty"`
	Key  string `json:"key"`
	// Pending marks a create that was started but not confirmed: if an object with Key
	// appears, it is ours (its creation's answer was lost).
	Pending        bool     `json:"pending,omitempty"`
	Deps           []string `json:"deps,omitempty"`
	PreventDestroy bool     `json:"prevent_destroy,omitempty"`
	// Hash is the hash of the last applied desired spec.
	Hash string `json:"hash,omitempty"`
}

const stateVersion = 1

// StateDir is the directory, beside the configuration, that holds state and local data.
const StateDir = ".flareops"

// LoadState reads dir/.flareops/state.json; a missing file is an empty state.
func LoadState(dir string) (*State, error) {
	p := filepath.Join(dir, StateDir, "state.json")
	st := &State{Version: stateVersion, Resources: map[string]*StateEntry{}, path: p}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read state: %w", err)
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("state file %s is corrupt (%v): restore it from backup or version control", p, err)
	}
	if st.Version > stateVersion {
		return nil, fmt.Errorf("state file %s was written by a newer flareops (version %d): upgrade flareops", p, st.Version)
	}
	if st.Resources == nil {
		st.Resources = map[string]*StateEntry{}
	}
	st.path = p
	return st, nil
}

// NewMemoryState is a state that is never written (tests, provider).
func NewMemoryState() *State {
	return &State{Version: stateVersion, Resources: map[string]*StateEntry{}}
}

// Get returns a copy of the entry for addr.
func (s *State) Get(addr string) (StateEntry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.Resources[addr]
	if !ok {
		return StateEntry{}, false
	}
	return *e, true
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

// Put records an entry and saves the state.
func (s *State) Put(addr string, e StateEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Resources[addr] = &e
	return s.saveLocked()
}

// Remove forgets addr and saves the state.
func (s *State) Remove(addr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.Resources, addr)
	return s.saveLocked()
}

// Save writes the state.
func (s *State) Save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saveLocked()
}

func (s *State) saveLocked() error {
	if s.path == "" {
		return nil
	}
	s.Serial++
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot encode state: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return fmt.Errorf("cannot write state: %w", err)
	}
	return writeFileAtomic(s.path, append(b, '\n'))
}

// writeFileAtomic replaces path with b so that readers see the old or the new file, never
// a torn one (temp file, fsync, rename).
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-")
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
	return nil
}

// Lock is an exclusive lock on a configuration directory's state, held by one process.
// It is an flock, so the kernel releases it if the holder dies.
type Lock struct{ f *os.File }

// LockState takes the state lock of dir, failing at once if another process holds it.
func LockState(dir string) (*Lock, error) {
	d := filepath.Join(dir, StateDir)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", d, err)
	}
	p := filepath.Join(d, "state.lock")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot open state lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("the state in %s is locked by another flareops process (apply, destroy or import); wait for it to finish", d)
		}
		return nil, fmt.Errorf("cannot lock state: %w", err)
	}
	return &Lock{f: f}, nil
}

// Unlock releases the lock.
func (l *Lock) Unlock() error {
	if err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN); err != nil {
		l.f.Close()
		return fmt.Errorf("cannot unlock state: %w", err)
	}
	return l.f.Close()
}
