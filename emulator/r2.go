package emulator

import (
	"encoding/base64"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The R2 family: buckets through the REST API (cloudflare-api.md §7) and objects through
// the S3-compatible API (s3*.go), on one store. A bucket created with
// either API is visible to the other.
//
// Bucket names are unique per jurisdiction across the whole emulator, not per account:
// path-style S3 URLs on the emulator carry no account id, so this is what lets the S3
// API find a bucket that the REST API created. Each bucket remembers the account that
// created it, and the REST API shows an account only its own buckets (and those created
// through S3 without an account in the Host, which belong to every account).

// R2 REST error codes (DOCS r2/api/error-codes.mdx, cloudflare-api.md §7).
const (
	r2CodeInvalidBucketName = 10005
	r2CodeNoSuchBucket      = 10006
	r2CodeBucketNotEmpty    = 10008
	r2CodeBucketConflict    = 10073
	// Unknown upstream: the code R2 uses for an invalid field or header value is not
	// documented; we choose 10040 (InvalidArgument) for every validation failure other
	// than the bucket name.
	r2CodeInvalidArgument = 10040
	// Unknown upstream (open question 11): GET cors on a bucket without a CORS
	// configuration; we choose 404 with 10059 "The CORS configuration does not exist"
	// (an error rather than an empty rule list: strictest).
	r2CodeNoCORS = 10059
)

// r2State is the R2 family's part of the store.
type r2State struct {
	// Buckets by r2BucketKey(jurisdiction, name).
	Buckets map[string]*r2Bucket `json:"buckets"`
}

func (st *r2State) init() {
	if st.Buckets == nil {
		st.Buckets = map[string]*r2Bucket{}
	}
	for _, b := range st.Buckets {
		if b.Objects == nil {
			b.Objects = map[string]*r2Object{}
		}
		if b.Uploads == nil {
			b.Uploads = map[string]*r2Upload{}
		}
	}
}

type r2Bucket struct {
	Name         string    `json:"name"`
	Account      string    `json:"account,omitempty"` // empty: created through S3 without an account
	Jurisdiction string    `json:"jurisdiction"`
	Location     string    `json:"location"`
	StorageClass string    `json:"storage_class"`
	Created      time.Time `json:"created"`

	Lifecycle []r2LifecycleRule `json:"lifecycle"`
	CORS      []r2CORSRule      `json:"cors,omitempty"` // empty: no CORS configuration
	Locks     []r2LockRule      `json:"locks,omitempty"`

	Objects map[string]*r2Object `json:"objects"`
	Uploads map[string]*r2Upload `json:"uploads"`
}

// r2Object is an object's metadata; its body is the blob Blob in s.blobs.
type r2Object struct {
	Key          string            `json:"key"`
	Blob         string            `json:"blob"`
	Size         int64             `json:"size"`
	ETag         string            `json:"etag"` // without quotes
	Uploaded     time.Time         `json:"uploaded"`
	StorageClass string            `json:"storage_class"`
	Headers      map[string]string `json:"headers,omitempty"`  // Content-Type, Cache-Control, ...
	Metadata     map[string]string `json:"metadata,omitempty"` // x-amz-meta-*, lower-case names
	PartsCount   int               `json:"parts_count,omitempty"`
}

func r2BucketKey(jurisdiction, name string) string { return jurisdiction + "/" + name }

var r2BucketNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

var r2Locations = []string{"apac", "eeur", "enam", "weur", "wnam", "oc"}

// r2DefaultLocation is the location of a bucket created without a hint. Unknown
// upstream: R2 places it near the requester; we choose enam (weur for the EU).
func r2DefaultLocation(jurisdiction string) string {
	if jurisdiction == "eu" {
		return "weur"
	}
	return "enam"
}

func r2ValidStorageClass(c string) bool { return c == "Standard" || c == "InfrequentAccess" }

// r2DefaultLifecycle is the rule every new bucket gets: abort multipart uploads 7 days
// after initiation (DOCS object-lifecycles.mdx; id and shape as listed by wrangler).
func r2DefaultLifecycle() []r2LifecycleRule {
	enabled, week := true, int64(7*24*3600)
	return []r2LifecycleRule{{
		ID:         "Default Multipart Abort Rule",
		Enabled:    &enabled,
		Conditions: &r2LifecycleConditions{},
		AbortMultipartUploadsTransition: &r2LifecycleTransition{
			Condition: &r2LifecycleCondition{Type: "Age", MaxAge: &week},
		},
	}}
}

// newBucket creates a bucket in the store; the caller has validated name and fields.
func (st *r2State) newBucket(account, jurisdiction, name, location, class string, now time.Time) *r2Bucket {
	b := &r2Bucket{
		Name: name, Account: account, Jurisdiction: jurisdiction, Location: location,
		StorageClass: class, Created: now, Lifecycle: r2DefaultLifecycle(),
		Objects: map[string]*r2Object{}, Uploads: map[string]*r2Upload{},
	}
	st.Buckets[r2BucketKey(jurisdiction, name)] = b
	return b
}

func (s *Server) routesR2() {
	base := "/accounts/{account_id}/r2/buckets"
	s.handle("POST "+base, s.r2CreateBucket)
	s.handle("GET "+base, s.r2ListBuckets)
	s.handle("GET "+base+"/{bucket_name}", s.r2GetBucket)
	s.handle("DELETE "+base+"/{bucket_name}", s.r2DeleteBucket)
	s.handle("PATCH "+base+"/{bucket_name}", s.r2PatchBucket)
	s.handle("GET "+base+"/{bucket_name}/lifecycle", s.r2GetLifecycle)
	s.handle("PUT "+base+"/{bucket_name}/lifecycle", s.r2PutLifecycle)
	s.handle("GET "+base+"/{bucket_name}/cors", s.r2GetCORS)
	s.handle("PUT "+base+"/{bucket_name}/cors", s.r2PutCORS)
	s.handle("DELETE "+base+"/{bucket_name}/cors", s.r2DeleteCORS)
	s.handle("GET "+base+"/{bucket_name}/lock", s.r2GetLock)
	s.handle("PUT "+base+"/{bucket_name}/lock", s.r2PutLock)
	s.onTick(s.r2Sweep)
}

// r2Jurisdiction reads the cf-r2-jurisdiction header (absent means default). It answers
// 400 itself on an unknown value.
func r2Jurisdiction(w http.ResponseWriter, r *http.Request) (string, bool) {
	switch j := r.Header.Get("cf-r2-jurisdiction"); j {
	case "", "default":
		return "default", true
	case "eu", "fedramp":
		return j, true
	default:
		writeError(w, http.StatusBadRequest, r2CodeInvalidArgument, "cf-r2-jurisdiction must be default, eu or fedramp")
		return "", false
	}
}

// r2RESTBucket finds the bucket named in the path for the account and jurisdiction of
// the request, answering 404 (10006) itself. The caller holds s.mu.
func (s *Server) r2RESTBucket(w http.ResponseWriter, r *http.Request) *r2Bucket {
	jur, ok := r2Jurisdiction(w, r)
	if !ok {
		return nil
	}
	b := s.st.R2.Buckets[r2BucketKey(jur, r.PathValue("bucket_name"))]
	if b == nil || !r2Visible(b, r.PathValue("account_id")) {
		writeError(w, http.StatusNotFound, r2CodeNoSuchBucket, "The specified bucket does not exist.")
		return nil
	}
	return b
}

func r2Visible(b *r2Bucket, account string) bool { return b.Account == "" || b.Account == account }

// r2BucketJSON is the REST bucket object (GO r2.Bucket).
type r2BucketJSON struct {
	Name         string `json:"name"`
	CreationDate string `json:"creation_date"`
	Location     string `json:"location"`
	Jurisdiction string `json:"jurisdiction"`
	StorageClass string `json:"storage_class"`
}

func (b *r2Bucket) json() r2BucketJSON {
	return r2BucketJSON{Name: b.Name, CreationDate: timestamp(b.Created), Location: b.Location, Jurisdiction: b.Jurisdiction, StorageClass: b.StorageClass}
}

func (s *Server) r2CreateBucket(w http.ResponseWriter, r *http.Request) {
	jur, ok := r2Jurisdiction(w, r)
	if !ok {
		return
	}
	var body struct {
		Name         string `json:"name"`
		LocationHint string `json:"locationHint"`
		StorageClass string `json:"storageClass"`
	}
	if !decodeJSON(w, r, &body) {
		return
	}
	if !r2BucketNameRe.MatchString(body.Name) {
		writeError(w, http.StatusBadRequest, r2CodeInvalidBucketName, "The specified bucket name is not valid.")
		return
	}
	location := body.LocationHint
	if location != "" && !slices.Contains(r2Locations, location) {
		writeError(w, http.StatusBadRequest, r2CodeInvalidArgument, "locationHint must be one of apac, eeur, enam, weur, wnam, oc")
		return
	}
	if location == "" {
		location = r2DefaultLocation(jur)
	}
	class := body.StorageClass
	if class == "" {
		class = "Standard"
	}
	if !r2ValidStorageClass(class) {
		writeError(w, http.StatusBadRequest, r2CodeInvalidArgument, "storageClass must be Standard or InfrequentAccess")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.R2.Buckets[r2BucketKey(jur, body.Name)] != nil {
		writeError(w, http.StatusConflict, r2CodeBucketConflict, "The bucket you tried to create already exists, and you own it.")
		return
	}
	b := s.st.R2.newBucket(r.PathValue("account_id"), jur, body.Name, location, class, s.Now())
	writeResult(w, b.json())
}

// r2ListBuckets is cursor-paginated (cloudflare-api.md §1): per_page 1–1000 (default
// 20), name_contains, start_after, order=name, direction asc|desc. The cursor is the
// last name returned, encoded; result_info.cursor is empty on the last page.
func (s *Server) r2ListBuckets(w http.ResponseWriter, r *http.Request) {
	jur, ok := r2Jurisdiction(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	perPage := 20
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, r2CodeInvalidArgument, "per_page must be an integer between 1 and 1000")
			return
		}
		perPage = n
	}
	if o := q.Get("order"); o != "" && o != "name" {
		writeError(w, http.StatusBadRequest, r2CodeInvalidArgument, "order must be name")
		return
	}
	desc := q.Get("direction") == "desc"
	if d := q.Get("direction"); d != "" && d != "asc" && d != "desc" {
		writeError(w, http.StatusBadRequest, r2CodeInvalidArgument, "direction must be asc or desc")
		return
	}
	after := q.Get("start_after")
	if c := q.Get("cursor"); c != "" {
		dec, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil {
			writeError(w, http.StatusBadRequest, r2CodeInvalidArgument, "cursor is not valid")
			return
		}
		after = string(dec)
	}

	s.mu.Lock()
	names := s.r2BucketNames(r.PathValue("account_id"), jur, q.Get("name_contains"), after, desc)
	out := []r2BucketJSON{}
	for _, n := range names[:min(perPage, len(names))] {
		out = append(out, s.st.R2.Buckets[r2BucketKey(jur, n)].json())
	}
	s.mu.Unlock()
	cursor := ""
	if len(names) > perPage {
		cursor = base64.RawURLEncoding.EncodeToString([]byte(names[perPage-1]))
	}
	writeResultInfo(w, map[string]any{"buckets": out}, resultInfo{"cursor": cursor, "per_page": perPage})
}

// r2BucketNames lists the names visible to account in jurisdiction, in order, that
// contain contains and come after after in that order. The caller holds s.mu.
func (s *Server) r2BucketNames(account, jur, contains, after string, desc bool) []string {
	var names []string
	for _, b := range s.st.R2.Buckets {
		if b.Jurisdiction != jur || !r2Visible(b, account) || !strings.Contains(b.Name, contains) {
			continue
		}
		if after != "" && ((!desc && b.Name <= after) || (desc && b.Name >= after)) {
			continue
		}
		names = append(names, b.Name)
	}
	slices.Sort(names)
	if desc {
		slices.Reverse(names)
	}
	return names
}

func (s *Server) r2GetBucket(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.r2RESTBucket(w, r); b != nil {
		writeResult(w, b.json())
	}
}

// r2DeleteBucket deletes an empty bucket. Incomplete multipart uploads do not keep a
// bucket from being deleted (the docs only name objects); they are discarded with it.
func (s *Server) r2DeleteBucket(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.r2RESTBucket(w, r)
	if b == nil {
		return
	}
	s.r2SweepLocked(b, s.Now())
	if len(b.Objects) > 0 {
		writeError(w, http.StatusConflict, r2CodeBucketNotEmpty, "The bucket you tried to delete is not empty.")
		return
	}
	var garbage []string
	for _, u := range b.Uploads {
		garbage = append(garbage, u.blobs()...)
	}
	delete(s.st.R2.Buckets, r2BucketKey(b.Jurisdiction, b.Name))
	s.r2CollectLocked(garbage)
	writeResult(w, map[string]any{})
}

// r2PatchBucket changes the default storage class, given in the required
// cf-r2-storage-class header.
func (s *Server) r2PatchBucket(w http.ResponseWriter, r *http.Request) {
	class := r.Header.Get("cf-r2-storage-class")
	if !r2ValidStorageClass(class) {
		writeError(w, http.StatusBadRequest, r2CodeInvalidArgument, "the cf-r2-storage-class header is required and must be Standard or InfrequentAccess")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.r2RESTBucket(w, r); b != nil {
		b.StorageClass = class
		writeResult(w, b.json())
	}
}
