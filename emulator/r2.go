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
// the S3-compatible API (s3.go, s3_multipart.go), on one store. A bucket created with
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

// r2LifecycleRule is one object lifecycle rule (GO r2.BucketLifecycleGetResponseRule);
// the same type is read from PUT bodies, hence the pointers for required fields.
type r2LifecycleRule struct {
	ID                              string                     `json:"id"`
	Enabled                         *bool                      `json:"enabled"`
	Conditions                      *r2LifecycleConditions     `json:"conditions"`
	DeleteObjectsTransition         *r2LifecycleTransition     `json:"deleteObjectsTransition,omitempty"`
	AbortMultipartUploadsTransition *r2LifecycleTransition     `json:"abortMultipartUploadsTransition,omitempty"`
	StorageClassTransitions         []r2StorageClassTransition `json:"storageClassTransitions,omitempty"`
}

type r2LifecycleConditions struct {
	Prefix string `json:"prefix,omitempty"`
}

type r2LifecycleTransition struct {
	Condition *r2LifecycleCondition `json:"condition"`
}

type r2StorageClassTransition struct {
	Condition    *r2LifecycleCondition `json:"condition"`
	StorageClass string                `json:"storageClass"`
}

// r2LifecycleCondition is {type:"Age", maxAge:<seconds>} or {type:"Date", date}.
type r2LifecycleCondition struct {
	Type   string     `json:"type"`
	MaxAge *int64     `json:"maxAge,omitempty"`
	Date   *time.Time `json:"date,omitempty"`
}

// due is when the condition fires for something created at created.
func (c *r2LifecycleCondition) due(created time.Time) time.Time {
	if c.Type == "Date" {
		return *c.Date
	}
	return created.Add(time.Duration(*c.MaxAge) * time.Second)
}

func (c *r2LifecycleCondition) validate(what string, dateAllowed bool) string {
	switch {
	case c == nil:
		return what + ".condition is required"
	case c.Type == "Age" && c.MaxAge != nil && *c.MaxAge > 0:
		return ""
	case c.Type == "Date" && dateAllowed && c.Date != nil:
		return ""
	case dateAllowed:
		return what + ".condition must be {type: Age, maxAge > 0} or {type: Date, date}"
	default:
		return what + ".condition must be {type: Age, maxAge > 0}"
	}
}

// r2ValidateLifecycle returns what is wrong with a lifecycle configuration, or "".
// Unknown upstream: upper bounds of maxAge are undocumented; we only require > 0.
func r2ValidateLifecycle(rules []r2LifecycleRule) string {
	if len(rules) > 1000 {
		return "a lifecycle configuration has at most 1000 rules"
	}
	ids := map[string]bool{}
	for i, rule := range rules {
		at := "rules[" + strconv.Itoa(i) + "]"
		switch {
		case rule.ID == "" || ids[rule.ID]:
			return at + ".id is required and must be unique"
		case rule.Enabled == nil:
			return at + ".enabled is required"
		case rule.Conditions == nil:
			return at + ".conditions is required"
		}
		ids[rule.ID] = true
		if t := rule.DeleteObjectsTransition; t != nil {
			if msg := t.Condition.validate(at+".deleteObjectsTransition", true); msg != "" {
				return msg
			}
		}
		if t := rule.AbortMultipartUploadsTransition; t != nil {
			if msg := t.Condition.validate(at+".abortMultipartUploadsTransition", false); msg != "" {
				return msg
			}
		}
		for _, t := range rule.StorageClassTransitions {
			if msg := t.Condition.validate(at+".storageClassTransitions[]", true); msg != "" {
				return msg
			}
			if t.StorageClass != "InfrequentAccess" {
				return at + ".storageClassTransitions[].storageClass must be InfrequentAccess"
			}
		}
	}
	return ""
}

func (s *Server) r2GetLifecycle(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.r2RESTBucket(w, r); b != nil {
		writeResult(w, map[string]any{"rules": r2NonNil(b.Lifecycle)})
	}
}

// r2PutLifecycle replaces the whole configuration (the default rule too, if the new
// one leaves it out) and answers result {}.
func (s *Server) r2PutLifecycle(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Rules []r2LifecycleRule `json:"rules"`
	}
	if !decodeJSON(w, r, &body) {
		return
	}
	if msg := r2ValidateLifecycle(body.Rules); msg != "" {
		writeError(w, http.StatusBadRequest, r2CodeInvalidArgument, msg)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.r2RESTBucket(w, r); b != nil {
		b.Lifecycle = r2NonNil(body.Rules)
		writeResult(w, map[string]any{})
	}
}

// r2CORSRule is one CORS rule (GO r2.BucketCORSGetResponseRule).
type r2CORSRule struct {
	ID            string         `json:"id,omitempty"`
	Allowed       *r2CORSAllowed `json:"allowed"`
	ExposeHeaders []string       `json:"exposeHeaders,omitempty"`
	MaxAgeSeconds *float64       `json:"maxAgeSeconds,omitempty"`
}

type r2CORSAllowed struct {
	Methods []string `json:"methods"`
	Origins []string `json:"origins"`
	Headers []string `json:"headers,omitempty"`
}

var r2CORSMethods = []string{"GET", "PUT", "POST", "DELETE", "HEAD"}

// r2ValidateCORS returns what is wrong with a CORS configuration, or "".
// Unknown upstream: R2's rule count limit; we choose S3's 100.
func r2ValidateCORS(rules []r2CORSRule) string {
	if len(rules) > 100 {
		return "a CORS configuration has at most 100 rules"
	}
	for i, rule := range rules {
		at := "rules[" + strconv.Itoa(i) + "]"
		if rule.Allowed == nil || len(rule.Allowed.Origins) == 0 || len(rule.Allowed.Methods) == 0 {
			return at + ".allowed.origins and .allowed.methods are required"
		}
		for _, m := range rule.Allowed.Methods {
			if !slices.Contains(r2CORSMethods, m) {
				return at + ".allowed.methods may only contain GET, PUT, POST, DELETE and HEAD"
			}
		}
		if a := rule.MaxAgeSeconds; a != nil && (*a < 0 || *a > 86400) {
			return at + ".maxAgeSeconds must be between 0 and 86400"
		}
	}
	return ""
}

func (s *Server) r2GetCORS(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.r2RESTBucket(w, r)
	if b == nil {
		return
	}
	if len(b.CORS) == 0 {
		writeError(w, http.StatusNotFound, r2CodeNoCORS, "The CORS configuration does not exist.")
		return
	}
	writeResult(w, map[string]any{"rules": b.CORS})
}

// r2PutCORS replaces the CORS configuration; an empty rule list removes it.
func (s *Server) r2PutCORS(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Rules []r2CORSRule `json:"rules"`
	}
	if !decodeJSON(w, r, &body) {
		return
	}
	if msg := r2ValidateCORS(body.Rules); msg != "" {
		writeError(w, http.StatusBadRequest, r2CodeInvalidArgument, msg)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.r2RESTBucket(w, r); b != nil {
		b.CORS = body.Rules
		writeResult(w, map[string]any{})
	}
}

// r2DeleteCORS removes the CORS configuration; it succeeds when there is none.
func (s *Server) r2DeleteCORS(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.r2RESTBucket(w, r); b != nil {
		b.CORS = nil
		writeResult(w, map[string]any{})
	}
}

// r2LockRule is one bucket lock (retention) rule (GO r2.BucketLockGetResponseRule).
type r2LockRule struct {
	ID        string           `json:"id"`
	Enabled   *bool            `json:"enabled"`
	Prefix    string           `json:"prefix,omitempty"`
	Condition *r2LockCondition `json:"condition"`
}

// r2LockCondition is {type:"Age", maxAgeSeconds}, {type:"Date", date} or {type:"Indefinite"}.
type r2LockCondition struct {
	Type          string     `json:"type"`
	MaxAgeSeconds *int64     `json:"maxAgeSeconds,omitempty"`
	Date          *time.Time `json:"date,omitempty"`
}

// r2ValidateLocks returns what is wrong with a bucket lock configuration, or "".
func r2ValidateLocks(rules []r2LockRule) string {
	if len(rules) > 1000 {
		return "a bucket lock configuration has at most 1000 rules"
	}
	ids := map[string]bool{}
	for i, rule := range rules {
		at := "rules[" + strconv.Itoa(i) + "]"
		if rule.ID == "" || ids[rule.ID] {
			return at + ".id is required and must be unique"
		}
		ids[rule.ID] = true
		if rule.Enabled == nil {
			return at + ".enabled is required"
		}
		c := rule.Condition
		ok := c != nil && ((c.Type == "Age" && c.MaxAgeSeconds != nil && *c.MaxAgeSeconds > 0) ||
			(c.Type == "Date" && c.Date != nil) || c.Type == "Indefinite")
		if !ok {
			return at + ".condition must be {type: Age, maxAgeSeconds > 0}, {type: Date, date} or {type: Indefinite}"
		}
	}
	return ""
}

func (s *Server) r2GetLock(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.r2RESTBucket(w, r); b != nil {
		writeResult(w, map[string]any{"rules": r2NonNil(b.Locks)})
	}
}

// r2PutLock replaces the bucket lock configuration. Per the docs, a successful update is
// the enforcement boundary: every later overwrite or delete is checked against it.
func (s *Server) r2PutLock(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Rules []r2LockRule `json:"rules"`
	}
	if !decodeJSON(w, r, &body) {
		return
	}
	if msg := r2ValidateLocks(body.Rules); msg != "" {
		writeError(w, http.StatusBadRequest, r2CodeInvalidArgument, msg)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.r2RESTBucket(w, r); b != nil {
		b.Locks = body.Rules
		writeResult(w, map[string]any{})
	}
}

func r2NonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

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
