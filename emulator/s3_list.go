package emulator

import (
	"encoding/base64"
	"encoding/xml"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

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
