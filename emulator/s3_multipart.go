package emulator

import (
	"bytes"
	"cmp"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Multipart uploads (R2: Create, UploadPart, UploadPartCopy, Complete, Abort, ListParts,
// ListMultipartUploads). R2's rules: parts are at least 5 MiB except the last
// (EntityTooSmall) and all non-trailing parts have the same size (InvalidPart, 10048).

// r2Upload is an incomplete multipart upload.
type r2Upload struct {
	ID           string            `json:"id"`
	Key          string            `json:"key"`
	Initiated    time.Time         `json:"initiated"`
	StorageClass string            `json:"storage_class"`
	Headers      map[string]string `json:"headers,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	Parts        map[int]*r2Part   `json:"parts"`
}

type r2Part struct {
	Blob     string    `json:"blob"`
	Size     int64     `json:"size"`
	ETag     string    `json:"etag"` // MD5 hex, without quotes
	Uploaded time.Time `json:"uploaded"`
}

func (u *r2Upload) blobs() []string {
	out := make([]string, 0, len(u.Parts))
	for _, p := range u.Parts {
		out = append(out, p.Blob)
	}
	return out
}

const s3MinPartSize = 5 << 20

// s3UploadLocked finds the request's upload (?uploadId) for its key. The caller holds s.mu.
func (s *Server) s3UploadLocked(x *s3Req) (*r2Bucket, *r2Upload, *s3Error) {
	b, e := s.s3Bucket(x)
	if e != nil {
		return nil, nil, e
	}
	s.r2SweepLocked(b, s.Now())
	u := b.Uploads[x.q.Get("uploadId")]
	if u == nil || u.Key != x.key {
		return nil, nil, s3ErrNoSuchUpload
	}
	return b, u, nil
}

// s3CreateUpload is POST /{bucket}/{key}?uploads. R2 evaluates the conditional headers
// here as well as on completion.
func (s *Server) s3CreateUpload(x *s3Req) *s3Error {
	s.mu.Lock()
	b, e := s.s3Bucket(x)
	if e != nil {
		s.mu.Unlock()
		return e
	}
	s.r2SweepLocked(b, s.Now())
	headers, meta, class, e := s3ObjectAttrs(x.r.Header, b.StorageClass)
	if e == nil {
		e = s3WritePreconditions(x.r.Header, "", b.Objects[x.key])
	}
	if e != nil {
		s.mu.Unlock()
		return e
	}
	u := &r2Upload{ID: newHexID() + newHexID(), Key: x.key, Initiated: s.Now(), StorageClass: class, Headers: headers, Metadata: meta, Parts: map[int]*r2Part{}}
	b.Uploads[u.ID] = u
	s.mu.Unlock()
	if e := s.s3Commit(nil); e != nil {
		return e
	}
	s3WriteXML(x.w, struct {
		XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
		Xmlns    string   `xml:"xmlns,attr"`
		Bucket   string
		Key      string
		UploadId string
	}{Xmlns: s3XMLNS, Bucket: x.bucket, Key: x.key, UploadId: u.ID})
	return nil
}

// s3UploadPart is PUT ?partNumber&uploadId, with a body or (UploadPartCopy) an
// x-amz-copy-source and optional x-amz-copy-source-range.
func (s *Server) s3UploadPart(x *s3Req) *s3Error {
	n, err := strconv.Atoi(x.q.Get("partNumber"))
	if err != nil || n < 1 || n > 10000 {
		return s3ErrInvalidArgument("Part number must be an integer between 1 and 10000, inclusive")
	}
	copying := x.r.Header.Get("x-amz-copy-source") != ""
	var body []byte
	if !copying {
		var e *s3Error
		if body, e = s3ReadBody(x.r, s3MaxPut); e != nil {
			return e
		}
	}
	s.mu.Lock()
	part, garbage, e := s.s3PutPartLocked(x, n, body, copying)
	s.mu.Unlock()
	if e != nil {
		return e
	}
	if e := s.s3Commit(garbage); e != nil {
		return e
	}
	if copying {
		s3WriteXML(x.w, struct {
			XMLName      xml.Name `xml:"CopyPartResult"`
			ETag         string
			LastModified string
		}{ETag: s3Quote(part.ETag), LastModified: s3Time(part.Uploaded)})
		return nil
	}
	x.w.Header().Set("ETag", s3Quote(part.ETag))
	x.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) s3PutPartLocked(x *s3Req, n int, body []byte, copying bool) (*r2Part, []string, *s3Error) {
	_, u, e := s.s3UploadLocked(x)
	if e != nil {
		return nil, nil, e
	}
	if copying {
		_, src, e := s.s3SourceLocked(x)
		if e != nil {
			return nil, nil, e
		}
		if body, e = s3CopyRange(x.r.Header.Get("x-amz-copy-source-range"), src); e != nil {
			return nil, nil, e
		}
	}
	k, err := s.r2PutBlob(body)
	if err != nil {
		return nil, nil, s3ErrInternal(err)
	}
	var garbage []string
	if old := u.Parts[n]; old != nil {
		garbage = append(garbage, old.Blob)
	}
	p := &r2Part{Blob: k, Size: int64(len(body)), ETag: s3MD5Hex(body), Uploaded: s.Now()}
	u.Parts[n] = p
	return p, garbage, nil
}

// s3CopyRange cuts x-amz-copy-source-range (bytes=first-last, both required) out of src.
func s3CopyRange(v string, src []byte) ([]byte, *s3Error) {
	if v == "" {
		return src, nil
	}
	first, last, ok := strings.Cut(strings.TrimPrefix(v, "bytes="), "-")
	a, errA := strconv.ParseInt(first, 10, 64)
	b, errB := strconv.ParseInt(last, 10, 64)
	if !strings.HasPrefix(v, "bytes=") || !ok || errA != nil || errB != nil || a < 0 || b < a || b >= int64(len(src)) {
		return nil, s3ErrInvalidArgument("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
	}
	return src[a : b+1], nil
}

// s3CompleteUpload is POST ?uploadId: it checks the part list, the part sizes, the
// conditional headers and the bucket locks, then writes the object with the composite
// ETag "<md5 of the parts' md5s>-<n>".
func (s *Server) s3CompleteUpload(x *s3Req) *s3Error {
	raw, e := s3ReadBody(x.r, 4<<20)
	if e != nil {
		return e
	}
	var req struct {
		Parts []struct {
			PartNumber int
			ETag       string
		} `xml:"Part"`
	}
	if err := xml.Unmarshal(raw, &req); err != nil || len(req.Parts) == 0 {
		return s3ErrMalformedXML
	}
	s.mu.Lock()
	obj, garbage, e := s.s3CompleteLocked(x, req.Parts)
	s.mu.Unlock()
	if e != nil {
		return e
	}
	if e := s.s3Commit(garbage); e != nil {
		return e
	}
	s3WriteXML(x.w, struct {
		XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
		Xmlns    string   `xml:"xmlns,attr"`
		Location string
		Bucket   string
		Key      string
		ETag     string
	}{Xmlns: s3XMLNS, Location: s.externalURL(x.r) + "/" + x.bucket + "/" + x.key, Bucket: x.bucket, Key: x.key, ETag: s3Quote(obj.ETag)})
	return nil
}

func (s *Server) s3CompleteLocked(x *s3Req, list []struct {
	PartNumber int
	ETag       string
}) (*r2Object, []string, *s3Error) {
	b, u, e := s.s3UploadLocked(x)
	if e != nil {
		return nil, nil, e
	}
	parts := make([]*r2Part, len(list))
	for i, lp := range list {
		if i > 0 && lp.PartNumber <= list[i-1].PartNumber {
			return nil, nil, s3Err(http.StatusBadRequest, "InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number.")
		}
		p := u.Parts[lp.PartNumber]
		if p == nil || strings.Trim(lp.ETag, `"`) != p.ETag {
			return nil, nil, s3Err(http.StatusBadRequest, "InvalidPart", "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
		}
		parts[i] = p
	}
	if e := s3CheckPartSizes(parts); e != nil {
		return nil, nil, e
	}
	var body bytes.Buffer
	var sums []byte
	for _, p := range parts {
		b, err := s.r2GetBlob(p.Blob)
		if err != nil {
			return nil, nil, s3ErrInternal(err)
		}
		body.Write(b)
		sum, _ := hex.DecodeString(p.ETag) // our own hex, always valid
		sums = append(sums, sum...)
	}
	composite := md5.Sum(sums)
	obj := &r2Object{
		Key: u.Key, Size: int64(body.Len()), ETag: hex.EncodeToString(composite[:]) + "-" + strconv.Itoa(len(parts)),
		StorageClass: u.StorageClass, Headers: u.Headers, Metadata: u.Metadata, PartsCount: len(parts),
	}
	garbage, e := s.s3StoreLocked(b, obj, body.Bytes(), x.r.Header, "")
	if e != nil {
		return nil, nil, e
	}
	delete(b.Uploads, u.ID)
	return obj, append(garbage, u.blobs()...), nil
}

// s3CheckPartSizes applies R2's part size rules to the parts being completed.
func s3CheckPartSizes(parts []*r2Part) *s3Error {
	for i, p := range parts[:len(parts)-1] {
		if p.Size < s3MinPartSize {
			return s3Err(http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size: every part but the last must be at least 5 MiB.")
		}
		if i > 0 && p.Size != parts[0].Size {
			return s3Err(http.StatusBadRequest, "InvalidPart", "All non-trailing parts must have the same length.")
		}
	}
	return nil
}

// s3AbortUpload is DELETE ?uploadId: 204, or 404 NoSuchUpload.
func (s *Server) s3AbortUpload(x *s3Req) *s3Error {
	s.mu.Lock()
	b, u, e := s.s3UploadLocked(x)
	if e == nil {
		delete(b.Uploads, u.ID)
	}
	s.mu.Unlock()
	if e != nil {
		return e
	}
	if e := s.s3Commit(u.blobs()); e != nil {
		return e
	}
	x.w.WriteHeader(http.StatusNoContent)
	return nil
}

type s3PartJSON struct {
	PartNumber   int
	LastModified string
	ETag         string
	Size         int64
}

// s3ListParts is GET ?uploadId: max-parts (≤ 1000), part-number-marker.
func (s *Server) s3ListParts(x *s3Req) *s3Error {
	maxParts, err := strconv.Atoi(x.q.Get("max-parts"))
	if x.q.Get("max-parts") == "" {
		maxParts, err = 1000, nil
	}
	marker, errM := strconv.Atoi(x.q.Get("part-number-marker"))
	if x.q.Get("part-number-marker") == "" {
		marker, errM = 0, nil
	}
	if err != nil || errM != nil || maxParts < 0 || marker < 0 {
		return s3ErrInvalidArgument("max-parts and part-number-marker must be non-negative integers")
	}
	out := struct {
		XMLName              xml.Name `xml:"ListPartsResult"`
		Xmlns                string   `xml:"xmlns,attr"`
		Bucket, Key          string
		UploadId             string
		PartNumberMarker     int
		NextPartNumberMarker int
		MaxParts             int
		IsTruncated          bool
		StorageClass         string
		Initiator, Owner     s3Owner
		Parts                []s3PartJSON `xml:"Part"`
	}{Xmlns: s3XMLNS, Bucket: x.bucket, Key: x.key, UploadId: x.q.Get("uploadId"), PartNumberMarker: marker, MaxParts: min(maxParts, 1000)}
	out.Initiator, out.Owner = s3DefaultOwner(x.account), s3DefaultOwner(x.account)
	s.mu.Lock()
	_, u, e := s.s3UploadLocked(x)
	if e != nil {
		s.mu.Unlock()
		return e
	}
	out.StorageClass = s3ClassName(u.StorageClass)
	numbers := make([]int, 0, len(u.Parts))
	for n := range u.Parts {
		if n > marker {
			numbers = append(numbers, n)
		}
	}
	slices.Sort(numbers)
	for _, n := range numbers {
		if len(out.Parts) == out.MaxParts {
			out.IsTruncated = true
			break
		}
		p := u.Parts[n]
		out.Parts = append(out.Parts, s3PartJSON{n, s3Time(p.Uploaded), s3Quote(p.ETag), p.Size})
		out.NextPartNumberMarker = n
	}
	s.mu.Unlock()
	s3WriteXML(x.w, out)
	return nil
}

// s3ListUploads is GET /{bucket}?uploads: prefix, key-marker, upload-id-marker,
// max-uploads (≤ 1000). Unknown upstream: the delimiter parameter; we answer 501
// (the emulator does not roll uploads up into common prefixes).
func (s *Server) s3ListUploads(x *s3Req) *s3Error {
	if x.q.Get("delimiter") != "" {
		return s3ErrNotImplemented("ListMultipartUploads with a delimiter (in the emulator)")
	}
	maxUploads := 1000
	if v := x.q.Get("max-uploads"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return s3ErrInvalidArgument("max-uploads must be a non-negative integer")
		}
		maxUploads = min(n, 1000)
	}
	type upload struct {
		Key, UploadId    string
		Initiated        string
		StorageClass     string
		Initiator, Owner s3Owner
	}
	out := struct {
		XMLName                           xml.Name `xml:"ListMultipartUploadsResult"`
		Xmlns                             string   `xml:"xmlns,attr"`
		Bucket, KeyMarker, UploadIdMarker string
		NextKeyMarker, NextUploadIdMarker string
		Prefix                            string
		MaxUploads                        int
		IsTruncated                       bool
		Uploads                           []upload `xml:"Upload"`
	}{Xmlns: s3XMLNS, Bucket: x.bucket, KeyMarker: x.q.Get("key-marker"), UploadIdMarker: x.q.Get("upload-id-marker"), Prefix: x.q.Get("prefix"), MaxUploads: maxUploads}
	s.mu.Lock()
	b, e := s.s3Bucket(x)
	if e != nil {
		s.mu.Unlock()
		return e
	}
	s.r2SweepLocked(b, s.Now())
	var list []*r2Upload
	for _, u := range b.Uploads {
		after := u.Key > out.KeyMarker || (u.Key == out.KeyMarker && out.UploadIdMarker != "" && u.ID > out.UploadIdMarker)
		if strings.HasPrefix(u.Key, out.Prefix) && (out.KeyMarker == "" || after) {
			list = append(list, u)
		}
	}
	slices.SortFunc(list, func(a, b *r2Upload) int {
		return cmp.Or(strings.Compare(a.Key, b.Key), strings.Compare(a.ID, b.ID))
	})
	owner := s3DefaultOwner(x.account)
	for _, u := range list {
		if len(out.Uploads) == maxUploads {
			out.IsTruncated = true
			break
		}
		out.Uploads = append(out.Uploads, upload{u.Key, u.ID, s3Time(u.Initiated), s3ClassName(u.StorageClass), owner, owner})
		out.NextKeyMarker, out.NextUploadIdMarker = u.Key, u.ID
	}
	s.mu.Unlock()
	s3WriteXML(x.w, out)
	return nil
}

// s3ReadBody reads a request body of at most limit bytes, decoding aws-chunked framing
// (Content-Encoding: aws-chunked or x-amz-content-sha256: STREAMING-..., including the
// STREAMING-UNSIGNED-PAYLOAD-TRAILER variant the v2 SDKs send over TLS), and checks
// what the client declared: x-amz-decoded-content-length, a hex x-amz-content-sha256,
// Content-MD5 and x-amz-checksum-{crc32,crc32c,sha1,sha256} (header or trailer).
// Chunk signatures are not verified, like the request signature.
func s3ReadBody(r *http.Request, limit int64) ([]byte, *s3Error) {
	tooLarge := s3Err(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.")
	if r.ContentLength > limit+(limit>>4)+(1<<20) { // room for chunk framing
		return nil, tooLarge
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, limit+(limit>>4)+(1<<20)+1))
	if err != nil {
		return nil, s3Err(http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header: "+err.Error())
	}
	sha := r.Header.Get("x-amz-content-sha256")
	body, trailers := raw, http.Header{}
	if strings.HasPrefix(sha, "STREAMING-") || strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") {
		if body, trailers, err = s3DecodeChunked(raw); err != nil {
			return nil, s3Err(http.StatusBadRequest, "IncompleteBody", "The aws-chunked body is malformed: "+err.Error())
		}
		if v := r.Header.Get("x-amz-decoded-content-length"); v != "" && v != strconv.Itoa(len(body)) {
			return nil, s3Err(http.StatusBadRequest, "IncompleteBody", "The decoded body length does not match x-amz-decoded-content-length.")
		}
	} else if s3SigRe.MatchString(sha) {
		if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != sha {
			return nil, s3Err(http.StatusBadRequest, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
		}
	}
	if int64(len(body)) > limit {
		return nil, tooLarge
	}
	if e := s3CheckDigests(body, r.Header, trailers); e != nil {
		return nil, e
	}
	return body, nil
}

// s3DecodeChunked decodes aws-chunked framing: chunks "<hex size>[;chunk-signature=…]
// CRLF <data> CRLF", a zero-size chunk, then optional "name:value" trailer lines and a
// final CRLF.
func s3DecodeChunked(raw []byte) ([]byte, http.Header, error) {
	var out bytes.Buffer
	rest := raw
	for {
		line, after, ok := bytes.Cut(rest, []byte("\r\n"))
		if !ok {
			return nil, nil, errors.New("truncated chunk header")
		}
		size, _, _ := strings.Cut(string(line), ";")
		n, err := strconv.ParseInt(strings.TrimSpace(size), 16, 64)
		if err != nil || n < 0 {
			return nil, nil, fmt.Errorf("bad chunk size %q", size)
		}
		rest = after
		if n == 0 {
			break
		}
		if int64(len(rest)) < n+2 || string(rest[n:n+2]) != "\r\n" {
			return nil, nil, errors.New("truncated chunk")
		}
		out.Write(rest[:n])
		rest = rest[n+2:]
	}
	trailers := http.Header{}
	for len(rest) > 0 {
		line, after, _ := bytes.Cut(rest, []byte("\r\n"))
		rest = after
		if len(line) == 0 {
			continue
		}
		k, v, ok := strings.Cut(string(line), ":")
		if !ok {
			return nil, nil, fmt.Errorf("bad trailer line %q", line)
		}
		trailers.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	return out.Bytes(), trailers, nil
}

// s3StripChunked removes aws-chunked from a Content-Encoding list.
func s3StripChunked(enc string) string {
	var keep []string
	for _, e := range strings.Split(enc, ",") {
		if e = strings.TrimSpace(e); e != "" && e != "aws-chunked" {
			keep = append(keep, e)
		}
	}
	return strings.Join(keep, ",")
}

// s3Checksums compute the base64 checksums S3 clients send. CRC64NVME is accepted
// without being verified.
var s3Checksums = map[string]func([]byte) []byte{
	"x-amz-checksum-crc32": func(b []byte) []byte { return binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(b)) },
	"x-amz-checksum-crc32c": func(b []byte) []byte {
		return binary.BigEndian.AppendUint32(nil, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
	},
	"x-amz-checksum-sha1":   func(b []byte) []byte { s := sha1.Sum(b); return s[:] },
	"x-amz-checksum-sha256": func(b []byte) []byte { s := sha256.Sum256(b); return s[:] },
}

func s3CheckDigests(body []byte, h, trailers http.Header) *s3Error {
	if v := h.Get("Content-MD5"); v != "" {
		want, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(want) != md5.Size {
			return s3Err(http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified was invalid.")
		}
		if sum := md5.Sum(body); !bytes.Equal(sum[:], want) {
			return s3Err(http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.")
		}
	}
	for name, sum := range s3Checksums {
		v := h.Get(name)
		if v == "" {
			v = trailers.Get(name)
		}
		if v == "" {
			continue
		}
		if want, err := base64.StdEncoding.DecodeString(v); err != nil || !bytes.Equal(want, sum(body)) {
			return s3Err(http.StatusBadRequest, "BadDigest", "The "+strings.TrimPrefix(name, "x-amz-checksum-")+" checksum you specified did not match what we received.")
		}
	}
	return nil
}
