package emulator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/monotask/flareops/emulator/graphql"
)

// state is everything the emulator stores, one field per API family. Each family file
// declares its own state type and owns it; all of it is guarded by Server.mu and
// persisted as one JSON document.
type state struct {
	Version    int             `json:"version"`
	Queues     queuesState     `json:"queues"`
	Workers    workersState    `json:"workers"`
	Alerting   alertingState   `json:"alerting"`
	KV         kvState         `json:"kv"`
	R2         r2State         `json:"r2"`
	D1         d1State         `json:"d1"`
	Containers containersState `json:"containers"`
	Analytics  analyticsState  `json:"analytics"`
	Logpush    logpushState    `json:"logpush"`
	GraphQL    graphql.Events  `json:"graphql"`
}

const stateVersion = 1

func newState() *state {
	st := &state{Version: stateVersion}
	st.init()
	return st
}

// init makes every family's maps non-nil (after New or after loading an older file).
func (st *state) init() {
	st.Queues.init()
	st.Workers.init()
	st.Alerting.init()
	st.KV.init()
	st.R2.init()
	st.D1.init()
	st.Containers.init()
	st.Analytics.init()
	st.Logpush.init()
}

const stateFile = "state.json"

// load reads the persisted store, if there is one.
func (s *Server) load() error {
	b, err := os.ReadFile(filepath.Join(s.dataDir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot read emulator store: %w", err)
	}
	st := &state{}
	if err := json.Unmarshal(b, st); err != nil {
		return fmt.Errorf("emulator store %s is unreadable: %w", filepath.Join(s.dataDir, stateFile), err)
	}
	st.init()
	s.st = st
	return nil
}

// persist writes the whole store to DataDir atomically (temp file + rename), so a SIGKILL
// at any moment leaves either the previous or the new store, never a torn one. It does
// not fsync: a killed process loses nothing the kernel already has; a power cut may lose
// the last writes, which is acceptable for a local emulator.
func (s *Server) persist() error {
	if s.tempDir {
		return nil
	}
	s.persistMu.Lock()
	defer s.persistMu.Unlock()
	s.mu.Lock()
	b, err := json.Marshal(s.st)
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("cannot encode emulator store: %w", err)
	}
	return writeFileAtomic(filepath.Join(s.dataDir, stateFile), b)
}

func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}

// blobStore holds large immutable byte strings (R2 object bodies, uploaded files) by
// content hash, outside the JSON store. A blob is written before the store refers to it.
type blobStore interface {
	put(b []byte) (key string, err error)
	get(key string) ([]byte, error)
	del(key string) error
}

func blobKey(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

type memBlobs struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newMemBlobs() *memBlobs { return &memBlobs{m: map[string][]byte{}} }

func (m *memBlobs) put(b []byte) (string, error) {
	k := blobKey(b)
	m.mu.Lock()
	m.m[k] = bytes.Clone(b)
	m.mu.Unlock()
	return k, nil
}

func (m *memBlobs) get(k string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.m[k]
	if !ok {
		return nil, fmt.Errorf("blob %s: %w", k, fs.ErrNotExist)
	}
	return b, nil
}

func (m *memBlobs) del(k string) error {
	m.mu.Lock()
	delete(m.m, k)
	m.mu.Unlock()
	return nil
}

type fileBlobs struct{ dir string }

func (f *fileBlobs) path(k string) string { return filepath.Join(f.dir, k[:2], k) }

func (f *fileBlobs) put(b []byte) (string, error) {
	k := blobKey(b)
	p := f.path(k)
	if _, err := os.Stat(p); err == nil {
		return k, nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", fmt.Errorf("cannot store blob: %w", err)
	}
	return k, writeFileAtomic(p, b)
}

func (f *fileBlobs) get(k string) ([]byte, error) {
	if len(k) < 2 {
		return nil, fmt.Errorf("blob %q: %w", k, fs.ErrNotExist)
	}
	b, err := os.ReadFile(f.path(k))
	if err != nil {
		return nil, fmt.Errorf("cannot read blob: %w", err)
	}
	return b, nil
}

// del removes a blob. Blobs are content-addressed and may be shared by several objects,
// so families call it only when no object refers to the key any more.
func (f *fileBlobs) del(k string) error {
	if len(k) < 2 {
		return nil
	}
	if err := os.Remove(f.path(k)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot delete blob: %w", err)
	}
	return nil
}
