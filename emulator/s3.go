package emulator

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The R2 S3-compatible API (DOCS r2/api/s3/api.mdx), path style: /{bucket}/{key...}.
// It shares the store with the REST API (r2.go). It behaves like R2, not like AWS:
// no versioning, no S3 object lock, no ACLs, policies or tagging (501 NotImplemented),
// conditional PutObject (If-Match / If-None-Match) evaluated atomically under s.mu, and
// R2 bucket locks enforced on overwrite and delete.
//
// S3 requests bypass the REST machinery of server.go (token auth, rate limit, faults,
// counters), as R2's S3 endpoint is a different host with different credentials.

// s3Error is an S3 error answer: <Error><Code>…</Code><Message>…</Message></Error>.
type s3Error struct {
	status int
	code   string
	msg    string
}

func s3Err(status int, code, msg string) *s3Error { return &s3Error{status, code, msg} }

var (
	s3ErrNoSuchBucket  = s3Err(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist.")
	s3ErrNoSuchKey     = s3Err(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
	s3ErrNoSuchUpload  = s3Err(http.StatusNotFound, "NoSuchUpload", "The specified multipart upload does not exist.")
	s3ErrPrecondition  = s3Err(http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.")
	s3ErrNotModified   = s3Err(http.StatusNotModified, "", "")
	s3ErrMalformedXML  = s3Err(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
	s3ErrBucketInvalid = s3Err(http.StatusBadRequest, "InvalidBucketName", "The specified bucket name is not valid.")
	s3ErrBadMethod     = s3Err(http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
)

func s3ErrLocked(rule string) *s3Error {
	return s3Err(http.StatusForbidden, "ObjectLockedByBucketPolicy", "Object is protected by bucket lock rule "+strconv.Quote(rule)+" and cannot be modified or deleted.")
}

func s3ErrInternal(err error) *s3Error {
	return s3Err(http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again. ("+err.Error()+")")
}

func s3ErrNotImplemented(what string) *s3Error {
	return s3Err(http.StatusNotImplemented, "NotImplemented", what+" is not implemented.")
}

func s3ErrInvalidArgument(msg string) *s3Error {
	return s3Err(http.StatusBadRequest, "InvalidArgument", msg)
}

func s3WriteError(w http.ResponseWriter, r *http.Request, e *s3Error) {
	if e.status == http.StatusNotModified {
		w.WriteHeader(e.status)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(e.status)
	if r.Method == http.MethodHead {
		return
	}
	_ = xml.NewEncoder(w).Encode(struct { // a failed write means the client went away
		XMLName xml.Name `xml:"Error"`
		Code    string
		Message string
	}{Code: e.code, Message: e.msg})
}

func s3WriteXML(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(v) // a failed write means the client went away
}

const s3XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"

func s3Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// s3Req is one S3 request, split into its parts.
type s3Req struct {
	w            http.ResponseWriter
	r            *http.Request
	q            url.Values
	bucket, key  string
	account      string // from the Host, or empty
	jurisdiction string
}

func (s *Server) serveS3(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amz-request-id", newHexID()[:16])
	if e := s.s3Authenticate(r); e != nil {
		s3WriteError(w, r, e)
		return
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	x := &s3Req{w: w, r: r, q: r.URL.Query(), bucket: bucket, key: key}
	x.account, x.jurisdiction = s3HostScope(r.Host)
	e := s3Unsupported(x)
	if e == nil {
		switch {
		case bucket == "":
			e = s.s3Service(x)
		case key == "":
			e = s.s3BucketOp(x)
		default:
			e = s.s3ObjectOp(x)
		}
	}
	if e != nil {
		s3WriteError(w, r, e)
	}
}

// s3HostScope reads the account and jurisdiction from a Host of the form R2 uses,
// <account_id>[.eu|.fedramp].r2.cloudflarestorage.com (or any domain after the same
// labels, e.g. <account_id>.localhost). Any other Host addresses the default
// jurisdiction of every account.
func s3HostScope(host string) (account, jurisdiction string) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	labels := strings.Split(host, ".")
	if len(labels) < 2 || !accountIDRe.MatchString(labels[0]) {
		return "", "default"
	}
	if labels[1] == "eu" || labels[1] == "fedramp" {
		return labels[0], labels[1]
	}
	return labels[0], "default"
}

// s3Unimplemented are S3 sub-resources R2 does not implement: versioning, S3 object
// lock, ACLs, policies, tagging, replication, website, notification, logging and the
// rest (DOCS r2/api/s3/api.mdx). cors and lifecycle are implemented by R2 but not
// emulated through S3 (use the REST API); they answer 501 too.
var s3Unimplemented = []string{
	"versioning", "versions", "versionId", "object-lock", "retention", "legal-hold",
	"acl", "policy", "policyStatus", "tagging", "replication", "website", "notification",
	"logging", "accelerate", "analytics", "inventory", "metrics", "intelligent-tiering",
	"ownershipControls", "publicAccessBlock", "requestPayment", "restore", "select",
	"torrent", "attributes", "cors", "lifecycle",
}

func s3Unsupported(x *s3Req) *s3Error {
	for _, sub := range s3Unimplemented {
		if x.q.Has(sub) {
			return s3ErrNotImplemented("The ?" + sub + " sub-resource")
		}
	}
	if x.q.Has("partNumber") && !x.q.Has("uploadId") {
		return s3ErrNotImplemented("Reading one part of an object (partNumber)")
	}
	for name := range x.r.Header {
		if strings.HasPrefix(strings.ToLower(name), "x-amz-object-lock-") {
			return s3ErrNotImplemented("S3 object lock (" + name + "); use R2 bucket locks")
		}
	}
	if x.r.Header.Get("x-amz-server-side-encryption") == "aws:kms" {
		return s3ErrNotImplemented("SSE-KMS")
	}
	if x.r.Header.Get("x-amz-server-side-encryption-customer-algorithm") != "" {
		// R2 supports SSE-C; the emulator does not.
		return s3ErrNotImplemented("SSE-C (in the emulator)")
	}
	return nil
}

var (
	s3SigRe  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	s3DateRe = regexp.MustCompile(`^[0-9]{8}$`)
)

// s3Authenticate requires AWS Signature Version 4, in the Authorization header or a
// pre-signed query. The signature itself is NOT verified (any key pair is accepted),
// but a malformed header or query, another algorithm, another service or a region
// other than auto (or its aliases us-east-1 and empty) is rejected as R2 does.
func (s *Server) s3Authenticate(r *http.Request) *s3Error {
	if h := r.Header.Get("Authorization"); h != "" {
		return s3CheckAuthHeader(r, h)
	}
	if q := r.URL.Query(); q.Has("X-Amz-Algorithm") {
		return s3CheckPresigned(q, s.Now())
	}
	return s3Err(http.StatusForbidden, "AccessDenied", "Access Denied: requests must be signed with AWS Signature Version 4.")
}

func s3CheckAuthHeader(r *http.Request, h string) *s3Error {
	malformed := func(why string) *s3Error {
		return s3Err(http.StatusBadRequest, "AuthorizationHeaderMalformed", "The authorization header is malformed; "+why)
	}
	alg, rest, _ := strings.Cut(h, " ")
	if alg != "AWS4-HMAC-SHA256" {
		return s3Err(http.StatusBadRequest, "InvalidRequest", "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return malformed("expected Credential=..., SignedHeaders=..., Signature=...")
		}
		fields[k] = v
	}
	if e := s3CheckCredential(fields["Credential"], malformed); e != nil {
		return e
	}
	if !slices.Contains(strings.Split(fields["SignedHeaders"], ";"), "host") {
		return malformed("SignedHeaders must include host")
	}
	if !s3SigRe.MatchString(fields["Signature"]) {
		return malformed("Signature must be 64 lower-case hex digits")
	}
	if r.Header.Get("x-amz-date") == "" && r.Header.Get("Date") == "" {
		return s3Err(http.StatusForbidden, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")
	}
	if r.Header.Get("x-amz-content-sha256") == "" {
		return s3Err(http.StatusBadRequest, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
	}
	return nil
}

// s3CheckCredential checks <key id>/<yyyymmdd>/<region>/s3/aws4_request.
func s3CheckCredential(cred string, bad func(string) *s3Error) *s3Error {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" || !s3DateRe.MatchString(parts[1]) || parts[3] != "s3" || parts[4] != "aws4_request" {
		return bad(`the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`)
	}
	switch parts[2] {
	case "auto", "us-east-1", "":
		return nil
	default:
		return bad("the region '" + parts[2] + "' is wrong; expecting 'auto'")
	}
}

// s3CheckPresigned checks a pre-signed query. Expiry is judged on the emulator clock.
func s3CheckPresigned(q url.Values, now time.Time) *s3Error {
	bad := func(why string) *s3Error {
		return s3Err(http.StatusBadRequest, "AuthorizationQueryParametersError", "Query-string authentication is malformed: "+why)
	}
	if q.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" {
		return bad("X-Amz-Algorithm must be AWS4-HMAC-SHA256")
	}
	if e := s3CheckCredential(q.Get("X-Amz-Credential"), bad); e != nil {
		return e
	}
	if !s3SigRe.MatchString(q.Get("X-Amz-Signature")) || q.Get("X-Amz-SignedHeaders") == "" {
		return bad("X-Amz-Signature and X-Amz-SignedHeaders are required")
	}
	signed, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		return bad("X-Amz-Date must be of the form 20060102T150405Z")
	}
	secs, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || secs < 1 || secs > 604800 {
		return bad("X-Amz-Expires must be between 1 and 604800 seconds")
	}
	if now.After(signed.Add(time.Duration(secs) * time.Second)) {
		return s3Err(http.StatusBadRequest, "ExpiredRequest", "Request has expired")
	}
	return nil
}

// s3Bucket finds the request's bucket. The caller holds s.mu.
func (s *Server) s3Bucket(x *s3Req) (*r2Bucket, *s3Error) {
	b := s.st.R2.Buckets[r2BucketKey(x.jurisdiction, x.bucket)]
	if b == nil || (x.account != "" && !r2Visible(b, x.account)) {
		return nil, s3ErrNoSuchBucket
	}
	return b, nil
}

// s3Commit persists a change (outside s.mu), then deletes the blobs it made garbage:
// deleting them only after the store no longer refers to them means a crash in between
// leaves an orphan blob, never a dangling reference.
func (s *Server) s3Commit(garbage []string) *s3Error {
	if err := s.persist(); err != nil {
		return s3ErrInternal(err)
	}
	if len(garbage) > 0 {
		s.mu.Lock()
		s.r2CollectLocked(garbage)
		s.mu.Unlock()
	}
	return nil
}

// s3Service serves GET / (ListBuckets): prefix, max-buckets (1–10000), continuation-token.
func (s *Server) s3Service(x *s3Req) *s3Error {
	if x.r.Method != http.MethodGet {
		return s3ErrBadMethod
	}
	maxBuckets := 10000
	if v := x.q.Get("max-buckets"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return s3ErrInvalidArgument("max-buckets must be an integer between 1 and 10000")
		}
		maxBuckets = n
	}
	after, e := s3DecodeToken(x.q.Get("continuation-token"))
	if e != nil {
		return e
	}
	type bucket struct {
		Name         string
		CreationDate string
	}
	type result struct {
		XMLName           xml.Name `xml:"ListAllMyBucketsResult"`
		Xmlns             string   `xml:"xmlns,attr"`
		Owner             s3Owner
		Buckets           []bucket `xml:"Buckets>Bucket"`
		ContinuationToken string   `xml:",omitempty"`
		Prefix            string   `xml:",omitempty"`
	}
	out := result{Xmlns: s3XMLNS, Owner: s3DefaultOwner(x.account), Prefix: x.q.Get("prefix")}
	s.mu.Lock()
	var names []string
	for _, b := range s.st.R2.Buckets {
		if b.Jurisdiction == x.jurisdiction && (x.account == "" || r2Visible(b, x.account)) &&
			strings.HasPrefix(b.Name, out.Prefix) && b.Name > after {
			names = append(names, b.Name)
		}
	}
	slices.Sort(names)
	for _, n := range names[:min(maxBuckets, len(names))] {
		out.Buckets = append(out.Buckets, bucket{n, s3Time(s.st.R2.Buckets[r2BucketKey(x.jurisdiction, n)].Created)})
	}
	s.mu.Unlock()
	if len(names) > maxBuckets {
		out.ContinuationToken = s3EncodeToken(names[maxBuckets-1])
	}
	s3WriteXML(x.w, out)
	return nil
}

type s3Owner struct {
	ID          string
	DisplayName string
}

func s3DefaultOwner(account string) s3Owner {
	if account == "" {
		account = "flareops-emulator"
	}
	return s3Owner{ID: account, DisplayName: account}
}

func s3EncodeToken(marker string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(marker))
}

func s3DecodeToken(token string) (string, *s3Error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", s3ErrInvalidArgument("The continuation token provided is incorrect")
	}
	return string(b), nil
}

// s3BucketOp routes the requests on /{bucket}.
func (s *Server) s3BucketOp(x *s3Req) *s3Error {
	switch x.r.Method {
	case http.MethodGet:
		switch {
		case x.q.Has("location"):
			return s.s3GetBucketLocation(x)
		case x.q.Has("encryption"):
			return s.s3GetBucketEncryption(x)
		case x.q.Has("uploads"):
			return s.s3ListUploads(x)
		default:
			return s.s3ListObjects(x)
		}
	case http.MethodHead:
		s.mu.Lock()
		_, e := s.s3Bucket(x)
		s.mu.Unlock()
		if e == nil {
			x.w.Header().Set("x-amz-bucket-region", "auto")
		}
		return e
	case http.MethodPut:
		return s.s3CreateBucket(x)
	case http.MethodDelete:
		return s.s3DeleteBucket(x)
	case http.MethodPost:
		if x.q.Has("delete") {
			return s.s3DeleteObjects(x)
		}
	}
	return s3ErrBadMethod
}

// s3CreateBucket creates a bucket (in the Host's jurisdiction, owned by the Host's
// account if it names one). The body, if any, is a CreateBucketConfiguration whose
// LocationConstraint is ignored, as R2 places buckets itself.
func (s *Server) s3CreateBucket(x *s3Req) *s3Error {
	if !r2BucketNameRe.MatchString(x.bucket) {
		return s3ErrBucketInvalid
	}
	s.mu.Lock()
	if s.st.R2.Buckets[r2BucketKey(x.jurisdiction, x.bucket)] != nil {
		s.mu.Unlock()
		// The R2 error table names the S3 code of 10073 BucketConflict; AWS would say
		// BucketAlreadyOwnedByYou. We follow the R2 docs.
		return s3Err(http.StatusConflict, "BucketConflict", "The bucket you tried to create already exists, and you own it.")
	}
	s.st.R2.newBucket(x.account, x.jurisdiction, x.bucket, r2DefaultLocation(x.jurisdiction), "Standard", s.Now())
	s.mu.Unlock()
	if e := s.s3Commit(nil); e != nil {
		return e
	}
	x.w.Header().Set("Location", "/"+x.bucket)
	x.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) s3DeleteBucket(x *s3Req) *s3Error {
	s.mu.Lock()
	b, e := s.s3Bucket(x)
	if e != nil {
		s.mu.Unlock()
		return e
	}
	garbage := s.r2SweepBucket(b, s.Now())
	if len(b.Objects) > 0 {
		s.mu.Unlock()
		return s3Err(http.StatusConflict, "BucketNotEmpty", "The bucket you tried to delete is not empty.")
	}
	for _, u := range b.Uploads {
		garbage = append(garbage, u.blobs()...)
	}
	delete(s.st.R2.Buckets, r2BucketKey(b.Jurisdiction, b.Name))
	s.mu.Unlock()
	if e := s.s3Commit(garbage); e != nil {
		return e
	}
	x.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) s3GetBucketLocation(x *s3Req) *s3Error {
	s.mu.Lock()
	_, e := s.s3Bucket(x)
	s.mu.Unlock()
	if e != nil {
		return e
	}
	s3WriteXML(x.w, struct {
		XMLName xml.Name `xml:"LocationConstraint"`
		Xmlns   string   `xml:"xmlns,attr"`
		Value   string   `xml:",chardata"`
	}{Xmlns: s3XMLNS, Value: "auto"})
	return nil
}

// s3GetBucketEncryption answers R2's fixed configuration: every object is encrypted
// at rest with AES-256.
func (s *Server) s3GetBucketEncryption(x *s3Req) *s3Error {
	s.mu.Lock()
	_, e := s.s3Bucket(x)
	s.mu.Unlock()
	if e != nil {
		return e
	}
	type byDefault struct {
		SSEAlgorithm string
	}
	type rule struct {
		ApplyServerSideEncryptionByDefault byDefault
		BucketKeyEnabled                   bool
	}
	s3WriteXML(x.w, struct {
		XMLName xml.Name `xml:"ServerSideEncryptionConfiguration"`
		Xmlns   string   `xml:"xmlns,attr"`
		Rule    rule
	}{Xmlns: s3XMLNS, Rule: rule{ApplyServerSideEncryptionByDefault: byDefault{"AES256"}}})
	return nil
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

// r2SweepLocked is the lazy lifecycle pass run by S3 reads and writes, so that a test
// that advanced the clock sees expired objects gone. It reports whether it changed
// anything. The caller holds s.mu.
func (s *Server) r2SweepLocked(b *r2Bucket, now time.Time) bool {
	garbage := s.r2SweepBucket(b, now)
	s.r2CollectLocked(garbage)
	return len(garbage) > 0
}

// s3ObjectOp routes the requests on /{bucket}/{key}.
func (s *Server) s3ObjectOp(x *s3Req) *s3Error {
	if len(x.key) > 1024 {
		return s3Err(http.StatusBadRequest, "InvalidObjectName", "The object key is too long: the maximum is 1024 bytes.")
	}
	switch x.r.Method {
	case http.MethodGet:
		if x.q.Has("uploadId") {
			return s.s3ListParts(x)
		}
		return s.s3GetObject(x)
	case http.MethodHead:
		return s.s3GetObject(x)
	case http.MethodPut:
		switch {
		case x.q.Has("uploadId"):
			return s.s3UploadPart(x)
		case x.r.Header.Get("x-amz-copy-source") != "":
			return s.s3CopyObject(x)
		default:
			return s.s3PutObject(x)
		}
	case http.MethodDelete:
		if x.q.Has("uploadId") {
			return s.s3AbortUpload(x)
		}
		return s.s3DeleteObject(x)
	case http.MethodPost:
		if x.q.Has("uploads") {
			return s.s3CreateUpload(x)
		}
		if x.q.Has("uploadId") {
			return s.s3CompleteUpload(x)
		}
	}
	return s3ErrBadMethod
}

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

// s3Listing is one page of a bucket listing.
type s3Listing struct {
	objects   []r2Object
	prefixes  []string
	truncated bool
	last      string // the last key or common prefix returned: the next marker
}

// s3List lists b's keys under prefix after marker, rolling keys up to the first
// delimiter after the prefix into common prefixes (each counts as one entry).
// The caller holds s.mu.
func s3List(b *r2Bucket, prefix, delim, marker string, maxKeys int) s3Listing {
	keys := make([]string, 0, len(b.Objects))
	for k := range b.Objects {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var l s3Listing
	for _, k := range keys {
		cp := ""
		if i := strings.Index(k[len(prefix):], delim); delim != "" && i >= 0 {
			cp = k[:len(prefix)+i+len(delim)]
		}
		if k <= marker || (cp != "" && cp <= marker) || (cp != "" && cp == l.last) {
			continue
		}
		if len(l.objects)+len(l.prefixes) == maxKeys {
			l.truncated = true
			break
		}
		if cp != "" {
			l.prefixes, l.last = append(l.prefixes, cp), cp
		} else {
			l.objects, l.last = append(l.objects, *b.Objects[k]), k
		}
	}
	return l
}

type s3Content struct {
	Key          string
	LastModified string
	ETag         string
	Size         int64
	StorageClass string
}

type s3CommonPrefix struct{ Prefix string }

// s3ListResult is ListObjects (v1) and ListObjectsV2 (list-type=2) in one shape; the
// fields of the other version are left empty and omitted.
type s3ListResult struct {
	XMLName               xml.Name `xml:"ListBucketResult"`
	Xmlns                 string   `xml:"xmlns,attr"`
	Name                  string
	Prefix                string
	Delimiter             string `xml:",omitempty"`
	Marker                *string
	NextMarker            string `xml:",omitempty"`
	StartAfter            string `xml:",omitempty"`
	ContinuationToken     string `xml:",omitempty"`
	NextContinuationToken string `xml:",omitempty"`
	KeyCount              *int
	MaxKeys               int
	EncodingType          string `xml:",omitempty"`
	IsTruncated           bool
	Contents              []s3Content
	CommonPrefixes        []s3CommonPrefix
}

// s3ListObjects serves ListObjectsV2 (prefix, delimiter, max-keys ≤ 1000,
// continuation-token, start-after, encoding-type=url) and ListObjects v1 (marker).
func (s *Server) s3ListObjects(x *s3Req) *s3Error {
	q, v2 := x.q, x.q.Get("list-type") == "2"
	maxKeys := 1000
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return s3ErrInvalidArgument("max-keys must be a non-negative integer")
		}
		maxKeys = min(n, 1000)
	}
	enc := q.Get("encoding-type")
	if enc != "" && enc != "url" {
		return s3ErrInvalidArgument("Invalid Encoding Method specified in Request")
	}
	out := s3ListResult{Xmlns: s3XMLNS, Name: x.bucket, Prefix: q.Get("prefix"), Delimiter: q.Get("delimiter"), MaxKeys: maxKeys, EncodingType: enc}
	marker := q.Get("marker")
	if v2 {
		out.StartAfter, out.ContinuationToken = q.Get("start-after"), q.Get("continuation-token")
		marker = out.StartAfter
		if out.ContinuationToken != "" {
			m, e := s3DecodeToken(out.ContinuationToken)
			if e != nil {
				return e
			}
			marker = max(m, marker)
		}
	} else {
		out.Marker = &marker
	}
	s.mu.Lock()
	b, e := s.s3Bucket(x)
	if e != nil {
		s.mu.Unlock()
		return e
	}
	changed := s.r2SweepLocked(b, s.Now())
	l := s3List(b, out.Prefix, out.Delimiter, marker, maxKeys)
	s.mu.Unlock()
	if changed {
		if e := s.s3Commit(nil); e != nil {
			return e
		}
	}
	s3FillListing(&out, l, v2)
	s3WriteXML(x.w, out)
	return nil
}

func s3FillListing(out *s3ListResult, l s3Listing, v2 bool) {
	esc := func(v string) string { return v }
	if out.EncodingType == "url" {
		esc = url.QueryEscape
	}
	for _, o := range l.objects {
		out.Contents = append(out.Contents, s3Content{esc(o.Key), s3Time(o.Uploaded), s3Quote(o.ETag), o.Size, s3ClassName(o.StorageClass)})
	}
	for _, p := range l.prefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, s3CommonPrefix{esc(p)})
	}
	out.Prefix, out.Delimiter, out.StartAfter = esc(out.Prefix), esc(out.Delimiter), esc(out.StartAfter)
	out.IsTruncated = l.truncated
	if v2 {
		n := len(l.objects) + len(l.prefixes)
		out.KeyCount = &n
		if l.truncated {
			out.NextContinuationToken = s3EncodeToken(l.last)
		}
	} else if l.truncated && out.Delimiter != "" {
		out.NextMarker = esc(l.last)
	}
}
