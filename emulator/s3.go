package emulator

import (
	"encoding/xml"
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
	if e.status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1") // the per-key write limit is one second
	}
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
