package emulator

import (
	"net/http"
	"strings"
	"time"
)

// s3WritePreconditions evaluates R2's conditional write headers against the current
// object (nil when absent): If-Match (* or ETags) fails when the key is absent or the
// ETag differs; If-None-Match (* or ETags) fails when the key exists and matches.
// Unknown upstream: If-Unmodified-Since and If-Modified-Since on an absent key; we
// choose to fail both (strictest).
func s3WritePreconditions(h http.Header, prefix string, cur *r2Object) *s3Error {
	if v := h.Get(prefix + "If-Match"); v != "" && (cur == nil || !s3ETagMatch(v, cur.ETag)) {
		return s3ErrPrecondition
	}
	if v := h.Get(prefix + "If-None-Match"); v != "" && cur != nil && s3ETagMatch(v, cur.ETag) {
		return s3ErrPrecondition
	}
	if t, ok := s3HeaderTime(h, prefix+"If-Unmodified-Since"); ok && (cur == nil || s3Modified(cur).After(t)) {
		return s3ErrPrecondition
	}
	if t, ok := s3HeaderTime(h, prefix+"If-Modified-Since"); ok && (cur == nil || !s3Modified(cur).After(t)) {
		return s3ErrPrecondition
	}
	return nil
}

// s3ReadPreconditions evaluates conditional read headers in the order of RFC 9110
// §13.2.2 (which is also S3's: If-Match wins over If-Unmodified-Since, If-None-Match
// over If-Modified-Since); notModified is what a failed If-None-Match or
// If-Modified-Since answers (304 for GET and HEAD, 412 for a copy source).
func s3ReadPreconditions(h http.Header, prefix string, obj *r2Object, notModified *s3Error) *s3Error {
	if v := h.Get(prefix + "If-Match"); v != "" {
		if !s3ETagMatch(v, obj.ETag) {
			return s3ErrPrecondition
		}
	} else if t, ok := s3HeaderTime(h, prefix+"If-Unmodified-Since"); ok && s3Modified(obj).After(t) {
		return s3ErrPrecondition
	}
	if v := h.Get(prefix + "If-None-Match"); v != "" {
		if s3ETagMatch(v, obj.ETag) {
			return notModified
		}
	} else if t, ok := s3HeaderTime(h, prefix+"If-Modified-Since"); ok && !s3Modified(obj).After(t) {
		return notModified
	}
	return nil
}

// s3ETagMatch reports whether a header list of ETags (quoted or not, or *) names etag.
func s3ETagMatch(list, etag string) bool {
	for _, v := range strings.Split(list, ",") {
		v = strings.Trim(strings.TrimPrefix(strings.TrimSpace(v), "W/"), `"`)
		if v == "*" || v == etag {
			return true
		}
	}
	return false
}

// s3HeaderTime parses an HTTP-date header; an unparsable date is ignored, as HTTP says.
func s3HeaderTime(h http.Header, name string) (time.Time, bool) {
	t, err := http.ParseTime(h.Get(name))
	return t, err == nil
}

// s3Modified is the object's Last-Modified at the one-second precision of HTTP dates.
func s3Modified(obj *r2Object) time.Time { return obj.Uploaded.Truncate(time.Second) }
