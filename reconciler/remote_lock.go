package reconciler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// The lock of a remote state is the object KEY.lock, taken by a conditional write
// (analytics.md §4): If-None-Match * creates it only if absent. It says who holds it, from
// where and since when. It is released, or broken by `flareops state unlock`, by a
// compare-and-swap write (If-Match the ETag last seen) of a tombstone, a lock object
// marked released, since R2 has no conditional delete: release and break each replace
// only the very lock they saw. A tombstone is free: taking the lock replaces it, again by
// compare-and-swap.
//
// No lease: a holder that dies leaves its lock until someone breaks it, after seeing who
// held it and since when. A lock broken under a live holder cannot make two writers of the
// state: every state write is conditional on the state object being the one its writer
// last read or wrote, so the holder whose lock was broken fails its next write instead of
// overwriting the other's.

// LockInfo is the content of a lock object.
type LockInfo struct {
	// ID identifies one holding of the lock (random): a holder whose acquiring write's
	// answer was lost recognizes its own lock by it.
	ID      string    `json:"id"`
	Who     string    `json:"who"`     // user@host
	PID     int       `json:"pid"`     // of the holder's process on that host
	Command string    `json:"command"` // what holds it: "flareops apply"
	Dir     string    `json:"dir"`     // the configuration directory, absolute
	Since   time.Time `json:"since"`
	// Released marks a tombstone: the lock is free. ReleasedBy says how ("released",
	// or "broken by alice@ci-7").
	Released   bool   `json:"released,omitempty"`
	ReleasedBy string `json:"released_by,omitempty"`
}

// Describe says who holds the lock, from where and since when, and the lock's id (what
// `flareops state unlock -id` takes).
func (l LockInfo) Describe(now time.Time) string {
	if l.ID == "" {
		return l.Who // a lock object flareops did not write: Who says what it is
	}
	return fmt.Sprintf("%s (pid %d), running `%s` in %s, since %s (%s ago), lock id %s",
		l.Who, l.PID, l.Command, l.Dir, l.Since.UTC().Format(time.RFC3339), now.Sub(l.Since).Round(time.Second), l.ID)
}

// UnlockCommand is unlock (the command line that breaks a lock) naming this lock by its
// id, so that only this holding is broken. An id that is empty or would need quoting in
// a shell (a lock object not written by flareops) is left out.
func (l LockInfo) UnlockCommand(unlock string) string {
	if l.ID == "" || strings.Trim(l.ID, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != "" {
		return unlock
	}
	return unlock + " -id " + l.ID
}

// LockedError is the answer to taking a lock someone else holds.
type LockedError struct {
	State  string // r2://bucket/key
	Holder LockInfo
	// Unlock is the command that breaks a lock, for the message; it is given the
	// holder's lock id there.
	Unlock string
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("the state %s is locked by %s. Wait for it to finish; if that process is gone (killed, or its runner lost), break the lock with `%s`",
		e.State, e.Holder.Describe(time.Now()), e.Holder.UnlockCommand(e.Unlock))
}

// RemoteLock is a held lock of a remote state.
type RemoteLock struct {
	objs        Objects
	bucket, key string
	url         string
	interval    time.Duration
	info        LockInfo
	etag        string
	wrote       time.Time // when this process last wrote the lock object
}

// lockKey is the lock object of the state object key.
func lockKey(stateKey string) string { return stateKey + ".lock" }

// AcquireRemoteLock takes the lock of workspace ws's state in b, failing at once with a
// *LockedError when someone holds it. info.ID must be unique to this holding.
func AcquireRemoteLock(ctx context.Context, objs Objects, b Backend, ws string, info LockInfo, unlockCommand string) (*RemoteLock, error) {
	l := &RemoteLock{objs: objs, bucket: b.Bucket, key: lockKey(b.StateKey(ws)), url: b.URL(ws), interval: b.interval(), info: info}
	body, err := json.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("cannot encode the lock: %w", err)
	}
	opt := cloudflare.PutOptions{IfNoneMatch: "*", ContentType: "application/json"}
	for attempt := 1; attempt <= 5; attempt++ {
		obj, err := putPaced(ctx, objs, l.bucket, l.key, body, opt, l.interval)
		l.wrote = time.Now()
		switch {
		case err == nil:
			l.etag = obj.ETag
			return l, nil
		case errors.Is(err, cloudflare.ErrNoSuchBucket):
			return nil, &missingBucketError{what: "lock state", url: l.url, bucket: b.Bucket}
		case !errors.Is(err, cloudflare.ErrPreconditionFailed):
			return nil, fmt.Errorf("cannot lock state %s: %w", l.url, err)
		}
		cur, etag, found, err := l.read(ctx)
		switch {
		case err != nil:
			return nil, fmt.Errorf("cannot lock state %s: %w", l.url, err)
		case !found: // released and deleted meanwhile: try again
			opt = cloudflare.PutOptions{IfNoneMatch: "*", ContentType: "application/json"}
		case cur.ID == info.ID && !cur.Released:
			// Our own write, whose answer was lost and which the client sent again.
			l.etag = etag
			return l, nil
		case cur.Released:
			opt = cloudflare.PutOptions{IfMatch: etag, ContentType: "application/json"}
		default:
			return nil, &LockedError{State: l.url, Holder: cur, Unlock: unlockCommand}
		}
	}
	return nil, fmt.Errorf("cannot lock state %s: the lock kept changing while it was being taken; try again", l.url)
}

// read returns the lock object's content and ETag; found is false when there is none.
func (l *RemoteLock) read(ctx context.Context) (LockInfo, string, bool, error) {
	return readLock(ctx, l.objs, l.bucket, l.key)
}

func readLock(ctx context.Context, objs Objects, bucket, key string) (LockInfo, string, bool, error) {
	b, obj, err := objs.GetBytes(ctx, bucket, key, 1<<20)
	if errors.Is(err, cloudflare.ErrNoSuchKey) {
		return LockInfo{}, "", false, nil
	}
	if errors.Is(err, cloudflare.ErrTooLarge) && obj.ETag != "" {
		// Not a lock flareops wrote: shown as held by an unknown holder, breakable.
		return LockInfo{Who: "an unreadable lock object (" + err.Error() + ")"}, obj.ETag, true, nil
	}
	if err != nil {
		return LockInfo{}, "", false, err
	}
	var info LockInfo
	if err := json.Unmarshal(b, &info); err != nil {
		// Not ours to interpret: shown as held by an unknown holder, breakable.
		return LockInfo{Who: "an unreadable lock object (" + err.Error() + ")"}, obj.ETag, true, nil
	}
	if info.ID == "" && !info.Released {
		// Valid JSON but not a lock ("null", "{}"): shown for what it is, breakable.
		shown := string(b)
		if len(shown) > 100 {
			shown = shown[:100] + "…"
		}
		return LockInfo{Who: fmt.Sprintf("a lock object flareops did not write (%q)", shown)}, obj.ETag, true, nil
	}
	return info, obj.ETag, true, nil
}

// Info is the lock as this process wrote it.
func (l *RemoteLock) Info() LockInfo { return l.info }

// Release frees the lock by a compare-and-swap tombstone. When the lock is no longer the
// one this process took (it was broken), it is left alone and the error says so.
func (l *RemoteLock) Release(ctx context.Context) error {
	if wait := time.Until(l.wrote.Add(l.interval)); wait > 0 {
		time.Sleep(wait) // one write per second to the lock object
	}
	tomb := l.info
	tomb.Released, tomb.ReleasedBy = true, "released"
	return swapTombstone(ctx, l.objs, l.bucket, l.key, l.url, l.etag, tomb, l.info.ID, l.interval)
}

// swapTombstone replaces the lock object whose ETag is etag with tomb. A lost answer
// retried finds the tombstone (412): it is success when the object is that tombstone.
func swapTombstone(ctx context.Context, objs Objects, bucket, key, url, etag string, tomb LockInfo, id string, interval time.Duration) error {
	body, err := json.Marshal(tomb)
	if err != nil {
		return fmt.Errorf("cannot encode the lock: %w", err)
	}
	_, err = putPaced(ctx, objs, bucket, key, body, cloudflare.PutOptions{IfMatch: etag, ContentType: "application/json"}, interval)
	if errors.Is(err, cloudflare.ErrPreconditionFailed) || errors.Is(err, cloudflare.ErrNoSuchKey) {
		cur, _, found, rerr := readLock(ctx, objs, bucket, key)
		if rerr == nil && found && cur.Released && cur.ID == id && cur.ReleasedBy == tomb.ReleasedBy {
			return nil
		}
		if rerr == nil && found && !cur.Released {
			return fmt.Errorf("the lock of %s changed since it was read: it is now held by %s; it was left alone", url, cur.Describe(time.Now()))
		}
		return fmt.Errorf("the lock of %s changed since it was read; it was left alone", url)
	}
	if err != nil {
		return fmt.Errorf("cannot release the lock of %s: %w", url, err)
	}
	return nil
}

// HeldLock is a lock as found by ReadRemoteLock, to show before breaking it.
type HeldLock struct {
	Info             LockInfo
	etag             string
	objs             Objects
	bucket, key, url string
	interval         time.Duration
}

// ReadRemoteLock returns the lock of workspace ws's state in b; nil when it is free.
func ReadRemoteLock(ctx context.Context, objs Objects, b Backend, ws string) (*HeldLock, error) {
	key := lockKey(b.StateKey(ws))
	info, etag, found, err := readLock(ctx, objs, b.Bucket, key)
	if err != nil {
		return nil, fmt.Errorf("cannot read the lock of %s: %w", b.URL(ws), err)
	}
	if !found || info.Released {
		return nil, nil
	}
	return &HeldLock{Info: info, etag: etag, objs: objs, bucket: b.Bucket, key: key, url: b.URL(ws), interval: b.interval()}, nil
}

// Break frees the lock h shows, and only it: if it changed since it was read (released,
// or taken again), nothing is done and the error says so. by names who breaks it.
func (h *HeldLock) Break(ctx context.Context, by string) error {
	tomb := h.Info
	tomb.Released, tomb.ReleasedBy = true, "broken by "+by
	return swapTombstone(ctx, h.objs, h.bucket, h.key, h.url, h.etag, tomb, h.Info.ID, h.interval)
}

// CheckID says whether h is the holding named id (the lock id that a refused command and
// `flareops state unlock` print): an error naming the lock there is when it is not.
func (h *HeldLock) CheckID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("no lock id given for the lock of %s; it was left alone", h.url)
	case h.Info.ID == id:
		return nil
	}
	if h.Info.ID == "" {
		return fmt.Errorf("the lock of %s is not lock %s: it is %s, which has no lock id; it was left alone", h.url, id, h.Info.Describe(time.Now()))
	}
	return fmt.Errorf("the lock of %s is not lock %s: it is held by %s; it was left alone", h.url, id, h.Info.Describe(time.Now()))
}

// BreakID is Break, only if h is the holding named id: a lock released and taken again
// since the id was shown (by the same holder or another) is left alone, and so is one
// that changes between this read and the break (Break's compare-and-swap).
func (h *HeldLock) BreakID(ctx context.Context, id, by string) error {
	if err := h.CheckID(id); err != nil {
		return err
	}
	return h.Break(ctx, by)
}
