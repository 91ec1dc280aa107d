package emulator

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
)

// s3CopySource parses x-amz-copy-source: [/]bucket/key, URL-encoded.
func s3CopySource(v string) (bucket, key string, e *s3Error) {
	if strings.Contains(v, "?versionId=") {
		return "", "", s3ErrNotImplemented("Versioning (x-amz-copy-source versionId)")
	}
	u, err := url.PathUnescape(v)
	if err == nil {
		bucket, key, _ = strings.Cut(strings.TrimPrefix(u, "/"), "/")
	}
	if bucket == "" || key == "" {
		return "", "", s3ErrInvalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
	}
	return bucket, key, nil
}

// s3SourceLocked finds a copy source in the request's scope and checks the
// x-amz-copy-source-if-* conditions on it. It returns a copy of the object and its
// body. The caller holds s.mu.
func (s *Server) s3SourceLocked(x *s3Req) (r2Object, []byte, *s3Error) {
	bucket, key, e := s3CopySource(x.r.Header.Get("x-amz-copy-source"))
	if e != nil {
		return r2Object{}, nil, e
	}
	b, e := s.s3Bucket(&s3Req{bucket: bucket, account: x.account, jurisdiction: x.jurisdiction})
	if e != nil {
		return r2Object{}, nil, e
	}
	s.r2SweepLocked(b, s.Now())
	src := b.Objects[key]
	if src == nil {
		return r2Object{}, nil, s3ErrNoSuchKey
	}
	if e := s3ReadPreconditions(x.r.Header, "X-Amz-Copy-Source-", src, s3ErrPrecondition); e != nil {
		return r2Object{}, nil, e
	}
	body, err := s.r2GetBlob(src.Blob)
	if err != nil {
		return r2Object{}, nil, s3ErrInternal(err)
	}
	return *src, body, nil
}

// s3CopyObject copies an object (x-amz-metadata-directive COPY or REPLACE). The
// destination honours R2's cf-copy-destination-if-* conditions and bucket locks.
func (s *Server) s3CopyObject(x *s3Req) *s3Error {
	directive := x.r.Header.Get("x-amz-metadata-directive")
	if directive != "" && directive != "COPY" && directive != "REPLACE" {
		return s3ErrInvalidArgument("Unknown metadata directive.")
	}
	s.mu.Lock()
	obj, garbage, e := s.s3CopyLocked(x, directive == "REPLACE")
	s.mu.Unlock()
	if e != nil {
		return e
	}
	if e := s.s3Commit(garbage); e != nil {
		return e
	}
	s3WriteXML(x.w, struct {
		XMLName      xml.Name `xml:"CopyObjectResult"`
		ETag         string
		LastModified string
	}{ETag: s3Quote(obj.ETag), LastModified: s3Time(obj.Uploaded)})
	return nil
}

func (s *Server) s3CopyLocked(x *s3Req, replace bool) (*r2Object, []string, *s3Error) {
	dst, e := s.s3Bucket(x)
	if e != nil {
		return nil, nil, e
	}
	src, body, e := s.s3SourceLocked(x)
	if e != nil {
		return nil, nil, e
	}
	headers, meta, class, e := s3ObjectAttrs(x.r.Header, dst.StorageClass)
	if e != nil {
		return nil, nil, e
	}
	srcBucket, _, _ := s3CopySource(x.r.Header.Get("x-amz-copy-source"))
	if srcBucket == x.bucket && src.Key == x.key && !replace && x.r.Header.Get("x-amz-storage-class") == "" {
		return nil, nil, s3Err(http.StatusBadRequest, "InvalidRequest", "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	if !replace {
		headers, meta = src.Headers, src.Metadata
	}
	obj := &r2Object{Key: x.key, Blob: src.Blob, Size: src.Size, ETag: src.ETag, StorageClass: class, Headers: headers, Metadata: meta}
	if src.PartsCount > 0 { // the copy is a single-part object: its ETag is the MD5
		obj.ETag = s3MD5Hex(body)
	}
	garbage, e := s.s3StoreLocked(dst, obj, nil, x.r.Header, "Cf-Copy-Destination-")
	return obj, garbage, e
}
