package emulator

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// r2Lock returns the id of an enabled bucket lock rule that retains obj at now, or "".
// Locks protect existing objects from overwrite and delete; they never block creation.
func (b *r2Bucket) r2Lock(obj *r2Object, now time.Time) string {
	for _, rule := range b.Locks {
		if !*rule.Enabled || !strings.HasPrefix(obj.Key, rule.Prefix) {
			continue
		}
		c := rule.Condition
		switch {
		case c.Type == "Indefinite",
			c.Type == "Age" && now.Before(obj.Uploaded.Add(time.Duration(*c.MaxAgeSeconds)*time.Second)),
			c.Type == "Date" && now.Before(*c.Date):
			return rule.ID
		}
	}
	return ""
}

// r2Expiry returns when lifecycle rules delete obj (the earliest matching enabled rule)
// and that rule's id; ok is false when no rule deletes it.
func (b *r2Bucket) r2Expiry(obj *r2Object) (at time.Time, ruleID string, ok bool) {
	for _, rule := range b.Lifecycle {
		t := rule.DeleteObjectsTransition
		if !*rule.Enabled || t == nil || !strings.HasPrefix(obj.Key, rule.Conditions.Prefix) {
			continue
		}
		if due := t.Condition.due(obj.Uploaded); !ok || due.Before(at) {
			at, ruleID, ok = due, rule.ID, true
		}
	}
	return at, ruleID, ok
}

// r2Transitioned reports whether a storage class transition rule has moved obj to
// InfrequentAccess by now.
func (b *r2Bucket) r2Transitioned(obj *r2Object, now time.Time) bool {
	for _, rule := range b.Lifecycle {
		if !*rule.Enabled || !strings.HasPrefix(obj.Key, rule.Conditions.Prefix) {
			continue
		}
		for _, t := range rule.StorageClassTransitions {
			if !now.Before(t.Condition.due(obj.Uploaded)) {
				return true
			}
		}
	}
	return false
}

// r2AbortDue reports whether an abortMultipartUploadsTransition rule has expired u by now.
func (b *r2Bucket) r2AbortDue(u *r2Upload, now time.Time) bool {
	for _, rule := range b.Lifecycle {
		t := rule.AbortMultipartUploadsTransition
		if *rule.Enabled && t != nil && strings.HasPrefix(u.Key, rule.Conditions.Prefix) && !now.Before(t.Condition.due(u.Initiated)) {
			return true
		}
	}
	return false
}

// r2SweepBucket applies the lifecycle rules at now: deletes expired objects (unless a
// bucket lock retains them: locks take precedence), moves objects to InfrequentAccess
// and aborts stale multipart uploads. It returns the blobs that may now be unreferenced.
//
// Cloudflare deletes expired objects "within 24 h"; the emulator deletes them as soon
// as the clock passes the expiry, so tests should advance the clock generously (past
// the expiry) rather than to the exact second. The caller holds s.mu.
func (s *Server) r2SweepBucket(b *r2Bucket, now time.Time) (garbage []string) {
	for key, obj := range b.Objects {
		if at, _, ok := b.r2Expiry(obj); ok && !now.Before(at) && b.r2Lock(obj, now) == "" {
			delete(b.Objects, key)
			garbage = append(garbage, obj.Blob)
			continue
		}
		if obj.StorageClass == "Standard" && b.r2Transitioned(obj, now) {
			obj.StorageClass = "InfrequentAccess"
		}
	}
	for id, u := range b.Uploads {
		if b.r2AbortDue(u, now) {
			delete(b.Uploads, id)
			garbage = append(garbage, u.blobs()...)
		}
	}
	return garbage
}

// r2Sweep is the clock-driven lifecycle pass over every bucket (registered with onTick,
// so it runs with s.mu held).
func (s *Server) r2Sweep(now time.Time) {
	var garbage []string
	for _, b := range s.st.R2.Buckets {
		garbage = append(garbage, s.r2SweepBucket(b, now)...)
	}
	s.r2CollectLocked(garbage)
}

// r2SweepLocked is the lazy lifecycle pass run by S3 reads and writes, so that a test
// that advanced the clock sees expired objects gone. It reports whether it changed
// anything. The caller holds s.mu.
func (s *Server) r2SweepLocked(b *r2Bucket, now time.Time) bool {
	garbage := s.r2SweepBucket(b, now)
	s.r2CollectLocked(garbage)
	return len(garbage) > 0
}

// r2CollectLocked deletes the candidate blobs that no object or upload part refers to
// any more. Blobs are content addressed and shared, so a blob is only deleted once
// nothing in R2 refers to it; the check and the deletion happen under s.mu, which every
// writer also holds from blob put to reference, so no writer can lose its blob. The
// caller holds s.mu.
func (s *Server) r2CollectLocked(candidates []string) {
	if len(candidates) == 0 {
		return
	}
	dead := map[string]bool{}
	for _, k := range candidates {
		dead[k] = true
	}
	for _, b := range s.st.R2.Buckets {
		for _, obj := range b.Objects {
			delete(dead, obj.Blob)
		}
		for _, u := range b.Uploads {
			for _, k := range u.blobs() {
				delete(dead, k)
			}
		}
	}
	for k := range dead {
		// A failed delete only leaves an orphan blob behind; nothing refers to it.
		_ = s.blobs.del(k)
	}
}

// r2BlobTag prefixes every R2 body in s.blobs. Blobs are content addressed and shared
// by all families; the tag keeps R2's keys apart from other families' blobs of the
// same bytes, so that R2 deleting an unreferenced body never deletes theirs.
const r2BlobTag = "flareops-r2-object\n"

// r2PutBlob stores a body. The caller holds s.mu until the store refers to the key, so
// that no concurrent garbage collection can delete it in between.
func (s *Server) r2PutBlob(body []byte) (string, error) {
	b := make([]byte, 0, len(r2BlobTag)+len(body))
	k, err := s.blobs.put(append(append(b, r2BlobTag...), body...))
	if err != nil {
		return "", fmt.Errorf("cannot store R2 object body: %w", err)
	}
	return k, nil
}

func (s *Server) r2GetBlob(key string) ([]byte, error) {
	b, err := s.blobs.get(key)
	if err != nil {
		return nil, fmt.Errorf("cannot read R2 object body: %w", err)
	}
	return bytes.TrimPrefix(b, []byte(r2BlobTag)), nil
}
