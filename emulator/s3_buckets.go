package emulator

import (
	"encoding/xml"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

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
