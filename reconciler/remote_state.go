package reconciler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// Remote state: the state of a configuration in an object of an R2 bucket, declared by
// `flareops { backend "r2" { bucket = "..." key = "..." } }`, so that CI runners and
// laptops share it. Each workspace has its own object (Backend.StateKey); beside it,
// KEY.backup holds the previous version (copied from KEY before each write of KEY, only
// while KEY is still the writer's own version) and KEY.lock the lock (remote_lock.go).
//
// R2 takes about one write per second to one key, so writes are coalesced: a change is
// recorded in memory at once and a writer flushes the whole state at most once per
// RemoteWriteInterval, and once more when the command ends. A pending-create marker is
// the exception that keeps the ownership promise: Put of a pending entry returns only once
// a flush that includes it is stored, so no create is ever sent before its marker is
// durable (markers of many creates share one flush). Other changes (a create recorded, a
// delete forgotten) may be lost by a SIGKILL before their flush; the marker left behind
// lets the next plan find and adopt the object, and a forgotten delete is seen as gone.

// Backend says where a configuration's state lives when it is not a file under .flareops.
type Backend struct {
	Type   string // "r2", the only remote backend
	Bucket string
	Key    string
	// WriteInterval is the least time between two writes of one object (0:
	// RemoteWriteInterval, R2's limit). A compatible server with another limit sets it.
	WriteInterval time.Duration
}

func (b Backend) interval() time.Duration {
	if b.WriteInterval > 0 {
		return b.WriteInterval
	}
	return RemoteWriteInterval
}

// StateKey is the object holding workspace ws's state: KEY for the default workspace,
// KEY/workspaces/NAME for the others.
func (b Backend) StateKey(ws string) string {
	if ws == "" || ws == DefaultWorkspace {
		return b.Key
	}
	return b.Key + "/workspaces/" + ws
}

// URL names workspace ws's state for people: r2://bucket/key.
func (b Backend) URL(ws string) string { return "r2://" + b.Bucket + "/" + b.StateKey(ws) }

// Objects is what remote state needs of R2; *cloudflare.R2 has it.
type Objects interface {
	Put(ctx context.Context, bucket, key string, body []byte, opt cloudflare.PutOptions) (cloudflare.R2Object, error)
	// Copy copies srcKey to dstKey in bucket on the server; with opt.SourceIfMatch, only
	// if srcKey's ETag is still that one (ErrPreconditionFailed otherwise).
	Copy(ctx context.Context, bucket, srcKey, dstKey string, opt cloudflare.CopyOptions) (cloudflare.R2Object, error)
	GetBytes(ctx context.Context, bucket, key string, max int64) ([]byte, cloudflare.R2Object, error)
	Delete(ctx context.Context, bucket, key string) error
}

// RemoteWriteInterval is the least time between two writes of one state object: R2's
// limit of about one write per second to one key.
var RemoteWriteInterval = time.Second

// maxStateBytes bounds the state object read back.
const maxStateBytes = 256 << 20

// remoteTimeout bounds one write of the state (its retries included), so that a command
// ending after an interrupt still stores what it did.
const remoteTimeout = 2 * time.Minute

// remoteStore is where a remote state is written, and its coalescing writer.
type remoteStore struct {
	objs        Objects
	bucket, key string
	url         string
	interval    time.Duration

	// Guarded by State.mu: whether a change awaits a flush, and the ticket of the flush
	// that will include the changes made now.
	dirty  bool
	next   *flushTicket
	closed bool // no change is accepted after Close

	// Guarded by wmu, held for a whole flush (one writer at a time).
	wmu       sync.Mutex
	etag      string // of the object as last read or written; "" when absent
	current   []byte // the object's content as last read or written; nil when absent
	lastWrite time.Time
	fatal     error // the state was changed by someone else: no further write
	// unsure is the content of a write that failed without a definite answer (its
	// request may have been carried out): finding it later is finding our own write.
	unsure []byte

	errMu   sync.Mutex
	lastErr error // of the last failed flush, until one succeeds

	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

// flushTicket is closed when the flush it names is stored (or failed, err).
type flushTicket struct {
	done chan struct{}
	err  error
}

func newTicket() *flushTicket { return &flushTicket{done: make(chan struct{})} }

// LoadRemoteState reads workspace t.Workspace's state from b through objs; a missing
// object is an empty state bound to t. A state bound to another target is refused,
// naming both. The returned state writes back to the same object (Close to flush).
func LoadRemoteState(ctx context.Context, objs Objects, b Backend, t Target) (*State, error) {
	key := b.StateKey(t.Workspace)
	r := &remoteStore{objs: objs, bucket: b.Bucket, key: key, url: b.URL(t.Workspace), interval: b.interval(), next: newTicket(),
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	st := &State{Version: stateVersion, Target: &t, Resources: map[string]*StateEntry{}, remote: r}
	body, obj, err := objs.GetBytes(ctx, b.Bucket, key, maxStateBytes)
	switch {
	case errors.Is(err, cloudflare.ErrNoSuchBucket):
		return nil, &missingBucketError{what: "read state", url: r.url, bucket: b.Bucket}
	case errors.Is(err, cloudflare.ErrNoSuchKey):
	case err != nil:
		return nil, fmt.Errorf("cannot read state %s: %w", r.url, err)
	default:
		onDisk, derr := decodeState(bytes.NewReader(body), t, r.url, func(err error) error {
			return fmt.Errorf("state %s is corrupt (%v). The previous version is in %s.backup: check it, then copy it over %s (e.g. `aws s3 cp`), or delete %s and bring each object back with `flareops import ADDRESS NAME`", r.url, err, r.url, r.url, r.url)
		})
		if derr != nil {
			return nil, derr
		}
		if onDisk.Version == 0 {
			// Every state flareops writes has a version: this object is something else
			// (another backend key's KEY.lock?), not to be overwritten.
			return nil, fmt.Errorf("%s is not a flareops state (it has no version): check the key of the backend block (KEY.lock, the lock of the backend key KEY, is not a state)", r.url)
		}
		st.Serial, st.Resources = onDisk.Serial, onDisk.Resources
		r.etag, r.current = obj.ETag, body
	}
	go r.run(st)
	return st, nil
}

// missingBucketError is the answer to a backend block whose bucket does not exist; it
// wraps cloudflare.ErrNoSuchBucket, for a caller that can make the bucket (the CLI on the
// built-in local Cloudflare).
type missingBucketError struct {
	what        string // "read state"
	url, bucket string
}

func (e *missingBucketError) Error() string {
	return fmt.Sprintf("cannot %s %s: the bucket %s does not exist: create it (`wrangler r2 bucket create %s`, the Cloudflare API's POST /accounts/{account_id}/r2/buckets, or in the dashboard), or fix the backend block",
		e.what, e.url, e.bucket, e.bucket)
}

func (e *missingBucketError) Unwrap() error { return cloudflare.ErrNoSuchBucket }

// Exists reports whether the remote state object existed when read or has been written
// since; a local state reports whether its file existed when read.
func (s *State) Exists() bool {
	if s.remote == nil {
		return s.existed
	}
	s.remote.wmu.Lock()
	defer s.remote.wmu.Unlock()
	return s.remote.current != nil
}

// Coalesced reports whether the state's writes are coalesced (remote state): only a
// pending marker's Put waits for its write.
func (s *State) Coalesced() bool { return s.remote != nil }

// Location names where the state is stored: its file, or r2://bucket/key.
func (s *State) Location() string {
	if s.remote != nil {
		return s.remote.url
	}
	return s.path
}

// changedLocked notes a change (s.mu held) and returns the ticket of the flush that will
// store it.
func (r *remoteStore) changedLocked() *flushTicket {
	if r.closed {
		t := newTicket()
		t.err = fmt.Errorf("the state %s was closed: the change is not stored", r.url)
		close(t.done)
		return t
	}
	r.dirty = true
	select {
	case r.kick <- struct{}{}:
	default:
	}
	return r.next
}

// settle is what a Put or Remove of remote state returns: for a durable change, the
// outcome of the flush that stores it; otherwise the error of the last failed flush, if
// one is still unresolved.
func (r *remoteStore) settle(t *flushTicket, durable bool) error {
	if t != nil && r.closedTicket(t) {
		return t.err
	}
	if durable {
		<-t.done
		return t.err
	}
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return r.lastErr
}

// closedTicket reports whether t is the answer to a change refused after Close.
func (r *remoteStore) closedTicket(t *flushTicket) bool {
	select {
	case <-t.done:
		return t.err != nil
	default:
		return false
	}
}

// run is the writer: a flush after each change, at most once per interval,
// and a last one when stopped.
func (r *remoteStore) run(s *State) {
	defer close(r.done)
	stopping := false
	for !stopping {
		select {
		case <-r.kick:
		case <-r.stop:
			stopping = true
		}
		r.wmu.Lock()
		next := r.lastWrite.Add(r.interval)
		r.wmu.Unlock()
		if wait := time.Until(next); wait > 0 {
			select {
			case <-time.After(wait):
			case <-r.stop:
				// The last flush too keeps the pace (it is one write like the others).
				stopping = true
				time.Sleep(time.Until(next))
			}
		}
		s.flush()
	}
}

// flush stores the state if it changed since the last flush.
func (s *State) flush() {
	r := s.remote
	r.wmu.Lock()
	defer r.wmu.Unlock()
	s.mu.Lock()
	if !r.dirty {
		s.mu.Unlock()
		return
	}
	t := r.next
	r.next, r.dirty = newTicket(), false
	b, err := s.encodeLocked()
	s.mu.Unlock()
	if err == nil {
		err = r.writeLocked(b)
	}
	if err != nil {
		s.mu.Lock()
		r.dirty = true // what this flush held is written by the next one
		s.mu.Unlock()
	}
	r.errMu.Lock()
	r.lastErr = err
	r.errMu.Unlock()
	t.err = err
	close(t.done)
}

// encodeLocked is the state as written (s.mu held); each write has the next serial.
func (s *State) encodeLocked() ([]byte, error) {
	s.Serial++
	s.Version = stateVersion
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("cannot encode state: %w", err)
	}
	return append(b, '\n'), nil
}

// writeLocked stores b as the state object (r.wmu held): first KEY is copied to
// KEY.backup, on the server and only if KEY is still the version last read or written
// (x-amz-copy-source-if-match its ETag), then b is written under KEY on the same
// condition (If-Match its ETag, or If-None-Match * when there was none). A process whose
// lock was broken therefore fails at the copy and never replaces the backup of the state
// another process wrote since. A kill between the two writes leaves the backup equal to
// the state; each write is whole, so neither is ever half-written. A precondition failure
// of either write goes through conflictLocked: KEY holding b or an earlier write of ours
// is our own; anything else means another process wrote the state (its lock was broken
// while this one held it), and nothing more is written.
func (r *remoteStore) writeLocked(b []byte) error {
	if r.fatal != nil {
		return r.fatal
	}
	ctx, cancel := context.WithTimeout(context.Background(), remoteTimeout)
	defer cancel()
	if r.current != nil && !bytes.Equal(r.current, b) {
		_, err := copyPaced(ctx, r.objs, r.bucket, r.key, r.key+".backup", cloudflare.CopyOptions{SourceIfMatch: r.etag}, r.interval)
		if errors.Is(err, cloudflare.ErrPreconditionFailed) || (errors.Is(err, cloudflare.ErrNoSuchKey) && !errors.Is(err, cloudflare.ErrNoSuchBucket)) {
			return r.conflictLocked(ctx, b)
		}
		if err != nil {
			return fmt.Errorf("cannot keep the previous state in %s.backup: %w", r.url, err)
		}
	}
	opt := cloudflare.PutOptions{IfMatch: r.etag, ContentType: "application/json"}
	if r.etag == "" {
		opt = cloudflare.PutOptions{IfNoneMatch: "*", ContentType: "application/json"}
	}
	obj, err := putPaced(ctx, r.objs, r.bucket, r.key, b, opt, r.interval)
	if errors.Is(err, cloudflare.ErrPreconditionFailed) {
		return r.conflictLocked(ctx, b)
	}
	r.lastWrite = time.Now()
	if err != nil {
		r.unsure = b
		return fmt.Errorf("cannot write state %s: %w", r.url, err)
	}
	r.etag, r.current, r.unsure = obj.ETag, b, nil
	return nil
}

// conflictLocked answers a precondition failure of writeLocked(b) (r.wmu held): KEY is
// not the version this process last read or wrote. Holding b, it is this write, its
// answer lost and the request sent again: done. Holding r.unsure, it is an earlier write
// of ours that seemed to fail but was carried out: the write is made again on top of it.
// Anything else is another process's write, and nothing more is written.
func (r *remoteStore) conflictLocked(ctx context.Context, b []byte) error {
	got, cur, err := r.objs.GetBytes(ctx, r.bucket, r.key, maxStateBytes)
	switch {
	case err == nil && bytes.Equal(got, b):
		r.etag, r.current, r.unsure = cur.ETag, b, nil
		r.lastWrite = time.Now()
		return nil
	case err == nil && r.unsure != nil && bytes.Equal(got, r.unsure):
		r.etag, r.current, r.unsure = cur.ETag, got, nil
		r.lastWrite = time.Now()
		return r.writeLocked(b)
	default:
		r.fatal = fmt.Errorf("cannot write state %s: another process changed it since this one read it (was its lock broken with `flareops state unlock`?). Nothing more is written; run plan again to see where things stand", r.url)
		return r.fatal
	}
}

// putPaced is Put, waiting out R2's 429 for a key written less than a second ago: the
// writer's own pacing avoids it, but the previous command's last write (its final state
// flush, its lock release) may be that recent. It tries again every quarter interval for
// up to five intervals.
func putPaced(ctx context.Context, objs Objects, bucket, key string, body []byte, opt cloudflare.PutOptions, interval time.Duration) (cloudflare.R2Object, error) {
	return paced(ctx, interval, func() (cloudflare.R2Object, error) { return objs.Put(ctx, bucket, key, body, opt) })
}

// copyPaced is Copy paced as putPaced: a copy is a write of its destination.
func copyPaced(ctx context.Context, objs Objects, bucket, src, dst string, opt cloudflare.CopyOptions, interval time.Duration) (cloudflare.R2Object, error) {
	return paced(ctx, interval, func() (cloudflare.R2Object, error) { return objs.Copy(ctx, bucket, src, dst, opt) })
}

func paced(ctx context.Context, interval time.Duration, write func() (cloudflare.R2Object, error)) (cloudflare.R2Object, error) {
	for attempt := 1; ; attempt++ {
		obj, err := write()
		if !errors.Is(err, cloudflare.ErrSlowDown) || attempt == 20 {
			return obj, err
		}
		select {
		case <-time.After(interval / 4):
		case <-ctx.Done():
			return obj, err
		}
	}
}

// Flush stores every change made so far and returns the outcome (remote state; a local
// state is stored by each change already).
func (s *State) Flush() error {
	if s.remote == nil {
		return nil
	}
	s.mu.Lock()
	if !s.remote.dirty {
		s.mu.Unlock()
		// A flush may be storing the last changes: it holds wmu until it is done.
		s.remote.wmu.Lock()
		s.remote.wmu.Unlock() //nolint:staticcheck // an empty critical section: waiting is the point
		return s.remote.settle(nil, false)
	}
	t := s.remote.changedLocked()
	s.mu.Unlock()
	return s.remote.settle(t, true)
}

// Close stores what is left to store and stops the writer; the state is not written
// after. It returns the outcome of the last flush.
func (s *State) Close() error {
	if s.remote == nil {
		return nil
	}
	s.mu.Lock()
	s.remote.closed = true
	s.mu.Unlock()
	select {
	case <-s.remote.stop:
	default:
		close(s.remote.stop)
	}
	<-s.remote.done
	return s.remote.settle(nil, false)
}

// DeleteRemote removes the state object after keeping its content in KEY.backup (state
// migrate -to local, under the lock). The state is not written after.
func (s *State) DeleteRemote(ctx context.Context) error {
	if err := s.Close(); err != nil {
		return err
	}
	r := s.remote
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if r.current == nil {
		return nil
	}
	// R2 has no conditional delete: the backup is copied only if the object is still the
	// one this process read or wrote, so that a state written since by another process
	// (this one's lock was broken) is neither deleted nor its backup replaced.
	_, err := copyPaced(ctx, r.objs, r.bucket, r.key, r.key+".backup", cloudflare.CopyOptions{SourceIfMatch: r.etag}, r.interval)
	switch {
	case errors.Is(err, cloudflare.ErrPreconditionFailed) || (errors.Is(err, cloudflare.ErrNoSuchKey) && !errors.Is(err, cloudflare.ErrNoSuchBucket)):
		return fmt.Errorf("cannot delete %s: another process changed or deleted it since this one read it (was its lock broken with `flareops state unlock`?); it was left alone", r.url)
	case err != nil:
		return fmt.Errorf("cannot keep the state in %s.backup: %w", r.url, err)
	}
	if err := r.objs.Delete(ctx, r.bucket, r.key); err != nil {
		return fmt.Errorf("cannot delete %s: %w", r.url, err)
	}
	r.current, r.etag = nil, ""
	return nil
}
