package emulator

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// s3StoredHeaders are the standard headers stored with an object and served back.
var s3StoredHeaders = []string{"Content-Type", "Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires"}

// s3ObjectAttrs reads the stored headers, the user metadata (x-amz-meta-*, at most
// 8192 bytes of names and values) and the storage class of a write.
func s3ObjectAttrs(h http.Header, bucketClass string) (headers, meta map[string]string, class string, e *s3Error) {
	headers, meta = map[string]string{}, map[string]string{}
	for _, name := range s3StoredHeaders {
		if v := h.Get(name); v != "" {
			headers[name] = v
		}
	}
	if enc, ok := headers["Content-Encoding"]; ok {
		if enc = s3StripChunked(enc); enc == "" {
			delete(headers, "Content-Encoding")
		} else {
			headers["Content-Encoding"] = enc
		}
	}
	size := 0
	for name, vs := range h {
		if k, ok := strings.CutPrefix(strings.ToLower(name), "x-amz-meta-"); ok {
			meta[k] = strings.Join(vs, ",")
			size += len(k) + len(meta[k])
		}
	}
	if size > 8192 {
		return nil, nil, "", s3Err(http.StatusBadRequest, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size (8192 bytes).")
	}
	class, e = s3StorageClass(h.Get("x-amz-storage-class"), bucketClass)
	return headers, meta, class, e
}

func s3StorageClass(v, bucketClass string) (string, *s3Error) {
	switch v {
	case "":
		return bucketClass, nil
	case "STANDARD":
		return "Standard", nil
	case "STANDARD_IA":
		return "InfrequentAccess", nil
	}
	return "", s3Err(http.StatusBadRequest, "InvalidStorageClass", "The storage class you specified is not valid")
}

func s3ClassName(c string) string {
	if c == "InfrequentAccess" {
		return "STANDARD_IA"
	}
	return "STANDARD"
}

// s3StoreLocked writes obj into b after the lazy lifecycle sweep, the write
// preconditions (headers prefix+If-*) and the bucket locks. With body non-nil it stores
// the body as obj's blob; otherwise obj.Blob is already set. It returns the blobs the
// write may have made garbage. The caller holds s.mu: the check and the write are one
// atomic step, which is what makes conditional writes safe for a state lock.
func (s *Server) s3StoreLocked(b *r2Bucket, obj *r2Object, body []byte, h http.Header, prefix string) ([]string, *s3Error) {
	now := s.Now()
	s.r2SweepLocked(b, now)
	cur := b.Objects[obj.Key]
	if e := s3WritePreconditions(h, prefix, cur); e != nil {
		return nil, e
	}
	if cur != nil {
		if rule := b.r2Lock(cur, now); rule != "" {
			return nil, s3ErrLocked(rule)
		}
	}
	// R2's one write per second to one key (keywrites.go), for every write that would
	// otherwise succeed.
	if wait := s.keyWrites.allow("r2", b.Account+"\x00"+b.Jurisdiction+"\x00"+b.Name+"\x00"+obj.Key, now); wait > 0 {
		return nil, s3ErrSlowDown
	}
	if body != nil {
		k, err := s.r2PutBlob(body)
		if err != nil {
			return nil, s3ErrInternal(err)
		}
		obj.Blob = k
	}
	obj.Uploaded = now
	b.Objects[obj.Key] = obj
	if cur != nil {
		return []string{cur.Blob}, nil
	}
	return nil, nil
}

// s3ErrSlowDown is R2's answer to a second write to one key within a second (10058
// TooManyRequests, cloudflare-api.md §7), with Retry-After (s3WriteError).
var s3ErrSlowDown = s3Err(http.StatusTooManyRequests, "TooManyRequests", "Reduce your concurrent request rate for the same object.")

func s3Quote(etag string) string { return `"` + etag + `"` }

func s3MD5Hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// s3MaxPut is R2's largest single PutObject (and part): 5 GiB.
const s3MaxPut = 5 << 30

func (s *Server) s3PutObject(x *s3Req) *s3Error {
	body, e := s3ReadBody(x.r, s3MaxPut)
	if e != nil {
		return e
	}
	s.mu.Lock()
	b, e := s.s3Bucket(x)
	if e != nil {
		s.mu.Unlock()
		return e
	}
	headers, meta, class, e := s3ObjectAttrs(x.r.Header, b.StorageClass)
	if e != nil {
		s.mu.Unlock()
		return e
	}
	obj := &r2Object{Key: x.key, Size: int64(len(body)), ETag: s3MD5Hex(body), StorageClass: class, Headers: headers, Metadata: meta}
	garbage, e := s.s3StoreLocked(b, obj, body, x.r.Header, "")
	expiration := s3Expiration(b, obj)
	s.mu.Unlock()
	if e != nil {
		return e
	}
	if e := s.s3Commit(garbage); e != nil {
		return e
	}
	x.w.Header().Set("ETag", s3Quote(obj.ETag))
	if expiration != "" {
		x.w.Header().Set("x-amz-expiration", expiration)
	}
	x.w.WriteHeader(http.StatusOK)
	return nil
}

// s3Expiration is the x-amz-expiration header for obj, or "" when no rule deletes it.
// The caller holds s.mu.
func s3Expiration(b *r2Bucket, obj *r2Object) string {
	at, rule, ok := b.r2Expiry(obj)
	if !ok {
		return ""
	}
	return `expiry-date="` + at.UTC().Format(http.TimeFormat) + `", rule-id="` + rule + `"`
}

// s3GetObject serves GetObject and HeadObject: conditional headers (304/412), a single
// Range (206, or 416 InvalidRange) and the response-* overrides.
func (s *Server) s3GetObject(x *s3Req) *s3Error {
	s.mu.Lock()
	b, e := s.s3Bucket(x)
	if e != nil {
		s.mu.Unlock()
		return e
	}
	changed := s.r2SweepLocked(b, s.Now())
	var (
		obj        r2Object
		body       []byte
		err        error
		expiration string
	)
	cur := b.Objects[x.key]
	if cur != nil {
		obj, expiration = *cur, s3Expiration(b, cur)
		if x.r.Method == http.MethodGet {
			body, err = s.r2GetBlob(cur.Blob)
		}
	}
	s.mu.Unlock()
	if changed {
		if e := s.s3Commit(nil); e != nil {
			return e
		}
	}
	switch {
	case cur == nil:
		return s3ErrNoSuchKey
	case err != nil:
		return s3ErrInternal(err)
	}
	h := x.w.Header()
	h.Set("ETag", s3Quote(obj.ETag))
	h.Set("Last-Modified", obj.Uploaded.Format(http.TimeFormat))
	if e := s3ReadPreconditions(x.r.Header, "", &obj, s3ErrNotModified); e != nil {
		return e
	}
	start, end, partial, e := s3Range(x.r.Header.Get("Range"), obj.Size)
	if e != nil {
		h.Set("Content-Range", "bytes */"+strconv.FormatInt(obj.Size, 10))
		return e
	}
	s3SetObjectHeaders(h, &obj, expiration, x.q)
	h.Set("Content-Length", strconv.FormatInt(end-start, 10))
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, obj.Size))
	}
	x.w.WriteHeader(status)
	if x.r.Method == http.MethodGet {
		_, _ = x.w.Write(body[start:end]) // a failed write means the client went away
	}
	return nil
}

// s3Range parses a Range header into [start, end) of an object of size bytes. Only a
// single bytes range is supported; unknown upstream: a multi-range or malformed Range
// header, which we answer 416 InvalidRange (strictest), as for an unsatisfiable one.
func s3Range(v string, size int64) (start, end int64, partial bool, e *s3Error) {
	if v == "" {
		return 0, size, false, nil
	}
	bad := s3Err(http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range is not satisfiable")
	spec, ok := strings.CutPrefix(v, "bytes=")
	first, last, dash := strings.Cut(spec, "-")
	if !ok || !dash || strings.Contains(spec, ",") {
		return 0, 0, false, bad
	}
	if first == "" { // suffix range: the last n bytes
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n <= 0 || size == 0 {
			return 0, 0, false, bad
		}
		return max(0, size-n), size, true, nil
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 || start >= size {
		return 0, 0, false, bad
	}
	end = size
	if last != "" {
		l, err := strconv.ParseInt(last, 10, 64)
		if err != nil || l < start {
			return 0, 0, false, bad
		}
		end = min(l+1, size)
	}
	return start, end, true, nil
}

// s3ResponseOverrides are GetObject's response-* query parameters.
var s3ResponseOverrides = map[string]string{
	"response-content-type":        "Content-Type",
	"response-content-language":    "Content-Language",
	"response-expires":             "Expires",
	"response-cache-control":       "Cache-Control",
	"response-content-disposition": "Content-Disposition",
	"response-content-encoding":    "Content-Encoding",
}

func s3SetObjectHeaders(h http.Header, obj *r2Object, expiration string, q url.Values) {
	h.Set("Content-Type", "application/octet-stream")
	for k, v := range obj.Headers {
		h.Set(k, v)
	}
	for k, v := range obj.Metadata {
		h.Set("x-amz-meta-"+k, v)
	}
	for param, header := range s3ResponseOverrides {
		if v := q.Get(param); v != "" {
			h.Set(header, v)
		}
	}
	h.Set("Accept-Ranges", "bytes")
	h.Set("x-amz-storage-class", s3ClassName(obj.StorageClass))
	if expiration != "" {
		h.Set("x-amz-expiration", expiration)
	}
}

// s3DeleteObject deletes a key; deleting a missing key succeeds (204), as in S3.
// Unknown upstream: R2 does not list conditional DeleteObject; we refuse If-* headers
// with 501 rather than ignore them, so a lock release never deletes a lock it does not
// hold by mistake.
func (s *Server) s3DeleteObject(x *s3Req) *s3Error {
	for _, name := range []string{"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"} {
		if x.r.Header.Get(name) != "" {
			return s3ErrNotImplemented("Conditional DeleteObject (" + name + ")")
		}
	}
	s.mu.Lock()
	garbage, e := s.s3DeleteLocked(x, x.key)
	s.mu.Unlock()
	if e != nil {
		return e
	}
	if e := s.s3Commit(garbage); e != nil {
		return e
	}
	x.w.WriteHeader(http.StatusNoContent)
	return nil
}

// s3DeleteLocked deletes key from the request's bucket unless a bucket lock retains it.
// The caller holds s.mu.
func (s *Server) s3DeleteLocked(x *s3Req, key string) ([]string, *s3Error) {
	b, e := s.s3Bucket(x)
	if e != nil {
		return nil, e
	}
	now := s.Now()
	s.r2SweepLocked(b, now)
	obj := b.Objects[key]
	if obj == nil {
		return nil, nil
	}
	if rule := b.r2Lock(obj, now); rule != "" {
		return nil, s3ErrLocked(rule)
	}
	delete(b.Objects, key)
	return []string{obj.Blob}, nil
}

// s3DeleteObjects is POST /{bucket}?delete: up to 1000 keys, each deleted or reported.
func (s *Server) s3DeleteObjects(x *s3Req) *s3Error {
	raw, e := s3ReadBody(x.r, 4<<20)
	if e != nil {
		return e
	}
	var req struct {
		Quiet   bool
		Objects []struct {
			Key       string
			VersionId string
		} `xml:"Object"`
	}
	if err := xml.Unmarshal(raw, &req); err != nil || len(req.Objects) == 0 || len(req.Objects) > 1000 {
		return s3ErrMalformedXML
	}
	type deleted struct{ Key string }
	type failed struct{ Key, Code, Message string }
	out := struct {
		XMLName xml.Name  `xml:"DeleteResult"`
		Xmlns   string    `xml:"xmlns,attr"`
		Deleted []deleted `xml:"Deleted"`
		Errors  []failed  `xml:"Error"`
	}{Xmlns: s3XMLNS}
	var garbage []string
	s.mu.Lock()
	for _, o := range req.Objects {
		var g []string
		e := s3ErrNotImplemented("Versioning (VersionId)")
		if o.VersionId == "" {
			g, e = s.s3DeleteLocked(x, o.Key)
		}
		switch {
		case e == s3ErrNoSuchBucket:
			s.mu.Unlock()
			return e
		case e != nil:
			out.Errors = append(out.Errors, failed{o.Key, e.code, e.msg})
		case !req.Quiet:
			out.Deleted = append(out.Deleted, deleted{o.Key})
		}
		garbage = append(garbage, g...)
	}
	s.mu.Unlock()
	if e := s.s3Commit(garbage); e != nil {
		return e
	}
	s3WriteXML(x.w, out)
	return nil
}
