package emulator

import (
	"net/http"
	"slices"
	"strconv"
	"time"
)

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

// r2LifecycleConditions always carries prefix in answers ("" for the whole bucket): the
// SDK marks conditions.prefix required (GO r2.BucketLifecycleGetResponseRulesConditions),
// and Cloudflare lists the default rule with "prefix": "". A PUT that leaves it out means
// the whole bucket.
type r2LifecycleConditions struct {
	Prefix string `json:"prefix"`
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
		// Unknown upstream: R2's limits on a rule's id and prefix are undocumented; we
		// choose S3's (an id of at most 255 characters, a prefix no longer than a key).
		if len(rule.ID) > 255 {
			return at + ".id must be at most 255 characters"
		}
		if len(rule.Conditions.Prefix) > 1024 {
			return at + ".conditions.prefix must be at most 1024 bytes"
		}
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
