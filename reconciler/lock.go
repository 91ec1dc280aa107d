package reconciler

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Lock is an exclusive lock on one state file, held by one process. It is an flock, so
// the kernel releases it if the holder dies.
type Lock struct{ f *os.File }

// LockState takes the lock of the state of target t in dir, failing at once if another
// process holds it, and removes temp files left by a killed writer.
func LockState(dir string, t Target) (*Lock, error) {
	sp := StatePath(dir, t)
	d := filepath.Dir(sp)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", d, err)
	}
	l, err := lockFile(filepath.Join(d, "state.lock"))
	if err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("the state %s is locked by another flareops process (apply, destroy, import or state rm); wait for it to finish", sp)
		}
		return nil, fmt.Errorf("cannot lock state: %w", err)
	}
	removeStaleTemps(sp)
	return l, nil
}

// LockDir takes an exclusive lock on dir/.lock without waiting (EWOULDBLOCK, wrapped,
// when another process holds it).
func LockDir(dir string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", dir, err)
	}
	return lockFile(filepath.Join(dir, ".lock"))
}

func lockFile(p string) (*Lock, error) {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", p, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot lock %s: %w", p, err)
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
