package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"time"

	"github.com/monotask/flareops/reconciler"
	"github.com/monotask/flareops/reconciler/cloudflare"
	"github.com/monotask/flareops/reconciler/config"
)

// stateHandle is a command's state and the locks it holds on it: the flock of a local
// state file, or the lock object of a remote state.
type stateHandle struct {
	st    *reconciler.State
	flock *reconciler.Lock
	rlock *reconciler.RemoteLock
}

// stateOpts say which state a command opens and how.
type stateOpts struct {
	dir     string
	ref     reconciler.Target
	backend *config.Backend
	tgt     *target // needed for a remote state (its R2)
	// lock names the command that takes the state's lock ("apply"); "" takes none.
	lock string
	// unlock is the command line that breaks the lock, for the message of a held one.
	unlock string
	// migrating skips the check that a local state was not left behind (state migrate).
	migrating bool
}

// openState locks (if asked) and loads the state of o.ref: the local file, or the remote
// object the backend block names.
func openState(ctx context.Context, o stateOpts) (*stateHandle, error) {
	if o.backend == nil {
		h := &stateHandle{}
		if o.lock != "" {
			l, err := reconciler.LockState(o.dir, o.ref)
			if err != nil {
				return nil, err
			}
			h.flock = l
		}
		st, err := reconciler.LoadState(o.dir, o.ref)
		if err != nil {
			h.close(nil)
			return nil, err
		}
		h.st = st
		return h, nil
	}
	objs, err := o.tgt.stateR2()
	if err != nil {
		return nil, err
	}
	b := o.backend.Backend
	h := &stateHandle{}
	if o.lock != "" {
		info, err := newLockInfo(o.dir, o.lock)
		if err != nil {
			return nil, err
		}
		err = o.tgt.withStateBucket(ctx, b.Bucket, func() (err error) {
			h.rlock, err = reconciler.AcquireRemoteLock(ctx, objs, b, o.ref.Workspace, info, o.unlock)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	var st *reconciler.State
	err = o.tgt.withStateBucket(ctx, b.Bucket, func() (err error) {
		st, err = reconciler.LoadRemoteState(ctx, objs, b, o.ref)
		return err
	})
	if err != nil {
		h.close(nil)
		return nil, err
	}
	h.st = st
	if !o.migrating && !st.Exists() {
		if local, lerr := reconciler.LoadState(o.dir, o.ref); lerr == nil && local.Len() > 0 {
			h.close(nil)
			return nil, fmt.Errorf("the configuration keeps its state in %s (the backend block at %s), which does not exist yet, but %s holds %d object(s): move it there with `flareops state migrate -to r2`, or remove the backend block to go on using the local file",
				b.URL(o.ref.Workspace), lineOf(o.backend.DeclRange.Filename, o.backend.DeclRange.Start.Line), local.Location(), local.Len())
		}
	}
	return h, nil
}

// stateR2 is the R2 client of remote state: it paces its writes to one key itself, so
// R2's 429 comes back at once instead of after the SDK's backoff.
func (t *target) stateR2() (*cloudflare.R2, error) {
	cfg, err := t.r2("remote state in R2 (the backend block)")
	if err != nil {
		return nil, err
	}
	cfg.NoSlowDownRetry = true
	return cloudflare.NewR2(cfg)
}

// withStateBucket runs f, which reads or writes in the state bucket, and once more after
// creating the bucket when f found it missing on the built-in local Cloudflare.
func (t *target) withStateBucket(ctx context.Context, bucket string, f func() error) error {
	err := f()
	if t.createStateBucket == nil || !errors.Is(err, cloudflare.ErrNoSuchBucket) {
		return err
	}
	if cerr := t.createStateBucket(ctx, bucket); cerr != nil {
		return cerr
	}
	return f()
}

// envR2WriteInterval sets the least time between two writes of one R2 object, for an
// S3-compatible server whose limit is not R2's one write per second to one key.
const envR2WriteInterval = "FLAREOPS_R2_WRITE_INTERVAL"

// remoteBackend is the configuration's backend block (nil: local state) with the write
// interval from the environment.
func remoteBackend(cfg *loaded, io IO) (*config.Backend, error) {
	b := cfg.cfg.Settings.Backend
	v := io.Getenv(envR2WriteInterval)
	if b == nil || v == "" {
		return b, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 10*time.Millisecond {
		return nil, fmt.Errorf("%s=%q: give a duration of at least 10ms, such as 1s", envR2WriteInterval, v)
	}
	c := *b
	c.WriteInterval = d
	return &c, nil
}

func lineOf(file string, line int) string { return fmt.Sprintf("%s:%d", file, line) }

// close stores what is left of the state, then releases the locks; problems are printed
// as warnings to w (when not nil) and returned.
func (h *stateHandle) close(w *IO) error {
	var errs []error
	if h.st != nil {
		if err := h.st.Close(); err != nil {
			errs = append(errs, fmt.Errorf("the last changes could not be stored in %s: %w", h.st.Location(), err))
		}
	}
	if h.rlock != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := h.rlock.Release(ctx); err != nil {
			errs = append(errs, err)
		}
		cancel()
	}
	if h.flock != nil {
		if err := h.flock.Unlock(); err != nil {
			errs = append(errs, err)
		}
	}
	h.st, h.rlock, h.flock = nil, nil, nil // closed once
	err := errors.Join(errs...)
	if err != nil && w != nil {
		fmt.Fprintf(w.Stderr, "Warning: %v\n", err)
	}
	return err
}

// newLockInfo describes this process as a lock holder.
func newLockInfo(dir, command string) (reconciler.LockInfo, error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return reconciler.LockInfo{}, fmt.Errorf("cannot make a lock id: %w", err)
	}
	return reconciler.LockInfo{ID: hex.EncodeToString(id[:]), Who: whoAmI(), PID: os.Getpid(), Command: "flareops " + command, Dir: absDir(dir), Since: time.Now().UTC()}, nil
}

// whoAmI is user@host, for lock holders.
func whoAmI() string {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return name + "@" + host
}

func absDir(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}
