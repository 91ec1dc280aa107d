package emulator_test

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/emulator"
)

// newS3Client is an aws-sdk-go-v2 S3 client for the emulator at url, configured as for
// R2 (region auto, path style, static credentials), without reading the environment.
// Checksums are on "when supported", the default config.LoadDefaultConfig would set,
// so requests carry x-amz-checksum-* headers (or trailers over TLS) as in production.
func newS3Client(url, region string, hc *http.Client) *s3.Client {
	cfg := aws.Config{
		Region:                     region,
		Credentials:                credentials.NewStaticCredentialsProvider("k", "s", ""),
		RetryMaxAttempts:           1,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}
	if hc != nil {
		cfg.HTTPClient = hc
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(url)
		o.UsePathStyle = true
	})
}

func s3Put(t *testing.T, c *s3.Client, bucket, key, body string) *s3.PutObjectOutput {
	t.Helper()
	out, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)})
	if err != nil {
		t.Fatalf("PutObject %s/%s: %v", bucket, key, err)
	}
	return out
}

func s3GetBody(t *testing.T, c *s3.Client, bucket, key string) string {
	t.Helper()
	out, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	return string(b)
}

// s3ErrOf is the S3 error code and HTTP status of an SDK error ("" and 0 if none).
func s3ErrOf(err error) (string, int) {
	var coded interface{ ErrorCode() string }
	var withStatus interface{ HTTPStatusCode() int }
	code, status := "", 0
	if errors.As(err, &coded) {
		code = coded.ErrorCode()
	}
	if errors.As(err, &withStatus) {
		status = withStatus.HTTPStatusCode()
	}
	return code, status
}

func s3WantErr(t *testing.T, err error, status int, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want S3 error %d %s, got success", status, code)
	}
	if gotCode, gotStatus := s3ErrOf(err); gotCode != code || gotStatus != status {
		t.Fatalf("want S3 error %d %s, got %d %q: %v", status, code, gotStatus, gotCode, err)
	}
}

func s3Keys(t *testing.T, c *s3.Client, bucket, prefix string) []string {
	t.Helper()
	out, err := c.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatalf("ListObjectsV2 %s: %v", bucket, err)
	}
	keys := []string{}
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

func TestS3Buckets(t *testing.T) {
	f := newR2Fixture(t, emulator.Options{})
	ctx := t.Context()
	c := f.s3
	f.create("from-rest")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("from-s3")}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("from-rest")}); err != nil {
		t.Errorf("HeadBucket of a REST bucket: %v", err)
	}
	list, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("ListBuckets: %v", err)
	}
	var names []string
	for _, b := range list.Buckets {
		names = append(names, aws.ToString(b.Name))
	}
	if diff := cmp.Diff([]string{"from-rest", "from-s3"}, names); diff != "" {
		t.Errorf("ListBuckets (-want +got):\n%s", diff)
	}
	// The S3-created bucket is a REST bucket too.
	names, _ = r2ListPage(t, f, r2ListParams())
	if diff := cmp.Diff([]string{"from-rest", "from-s3"}, names); diff != "" {
		t.Errorf("REST list (-want +got):\n%s", diff)
	}

	s3Put(t, c, "from-s3", "k", "v")
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("from-s3")})
	s3WantErr(t, err, 409, "BucketNotEmpty")
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("from-s3"), Key: aws.String("k")}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("from-s3")}); err != nil {
		t.Fatalf("DeleteBucket: %v", err)
	}

	tests := []struct {
		name   string
		call   func() error
		status int
		code   string
	}{
		{"head unknown bucket", func() error {
			_, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("from-s3")})
			return err
		}, 404, "NotFound"},
		{"create invalid name", func() error {
			_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("Bad.Name")})
			return err
		}, 400, "InvalidBucketName"},
		{"create existing", func() error {
			_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("from-rest")})
			return err
		}, 409, "BucketConflict"},
		{"delete unknown bucket", func() error {
			_, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("from-s3")})
			return err
		}, 404, "NoSuchBucket"},
		{"list unknown bucket", func() error {
			_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("from-s3")})
			return err
		}, 404, "NoSuchBucket"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { s3WantErr(t, tc.call(), tc.status, tc.code) })
	}
}

func TestS3ObjectRoundTrip(t *testing.T) {
	f := newR2Fixture(t, emulator.Options{})
	ctx := t.Context()
	c := f.s3
	f.create("objs")
	body := "hello, world"
	sum := md5.Sum([]byte(body))
	put, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("objs"), Key: aws.String("dir/greeting.txt"), Body: strings.NewReader(body),
		ContentType: aws.String("text/plain"), CacheControl: aws.String("max-age=60"),
		ContentMD5: aws.String(base64.StdEncoding.EncodeToString(sum[:])),
		Metadata:   map[string]string{"owner": "ops", "Run-Id": "42"},
	})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	wantETag := `"` + hex.EncodeToString(sum[:]) + `"`
	if aws.ToString(put.ETag) != wantETag {
		t.Errorf("PutObject ETag = %s, want %s", aws.ToString(put.ETag), wantETag)
	}
	get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("objs"), Key: aws.String("dir/greeting.txt")})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	got, _ := io.ReadAll(get.Body)
	get.Body.Close()
	type view struct {
		Body, ETag, ContentType, CacheControl string
		Length                                int64
		Metadata                              map[string]string
	}
	want := view{body, wantETag, "text/plain", "max-age=60", int64(len(body)), map[string]string{"owner": "ops", "run-id": "42"}}
	gotView := view{string(got), aws.ToString(get.ETag), aws.ToString(get.ContentType), aws.ToString(get.CacheControl), aws.ToInt64(get.ContentLength), get.Metadata}
	if diff := cmp.Diff(want, gotView); diff != "" {
		t.Errorf("GetObject (-want +got):\n%s", diff)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("objs"), Key: aws.String("dir/greeting.txt")})
	if err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	if aws.ToInt64(head.ContentLength) != int64(len(body)) || aws.ToString(head.ETag) != wantETag || head.Metadata["owner"] != "ops" {
		t.Errorf("HeadObject = length %d etag %s metadata %v", aws.ToInt64(head.ContentLength), aws.ToString(head.ETag), head.Metadata)
	}

	// DeleteObject is idempotent.
	for i := 0; i < 2; i++ {
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("objs"), Key: aws.String("dir/greeting.txt")}); err != nil {
			t.Fatalf("DeleteObject #%d: %v", i+1, err)
		}
	}

	tests := []struct {
		name   string
		call   func() error
		status int
		code   string
	}{
		{"get deleted key", func() error {
			_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("objs"), Key: aws.String("dir/greeting.txt")})
			return err
		}, 404, "NoSuchKey"},
		{"head deleted key", func() error {
			_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("objs"), Key: aws.String("dir/greeting.txt")})
			return err
		}, 404, "NotFound"},
		{"put into unknown bucket", func() error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("nope"), Key: aws.String("k"), Body: strings.NewReader("x")})
			return err
		}, 404, "NoSuchBucket"},
		{"wrong Content-MD5", func() error {
			other := md5.Sum([]byte("other"))
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("objs"), Key: aws.String("k"), Body: strings.NewReader("x"),
				ContentMD5: aws.String(base64.StdEncoding.EncodeToString(other[:]))})
			return err
		}, 400, "BadDigest"},
		{"metadata over 8192 bytes", func() error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("objs"), Key: aws.String("k"), Body: strings.NewReader("x"),
				Metadata: map[string]string{"big": strings.Repeat("m", 8190)}})
			return err
		}, 400, "MetadataTooLarge"},
		{"key over 1024 bytes", func() error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("objs"), Key: aws.String(strings.Repeat("k", 1025)), Body: strings.NewReader("x")})
			return err
		}, 400, "InvalidObjectName"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { s3WantErr(t, tc.call(), tc.status, tc.code) })
	}
}

func TestS3Ranges(t *testing.T) {
	f := newR2Fixture(t, emulator.Options{})
	f.create("ranges")
	s3Put(t, f.s3, "ranges", "digits", "0123456789")
	tests := []struct {
		rng, want, contentRange string
		status                  int // for errors
	}{
		{rng: "bytes=0-3", want: "0123", contentRange: "bytes 0-3/10"},
		{rng: "bytes=7-", want: "789", contentRange: "bytes 7-9/10"},
		{rng: "bytes=-2", want: "89", contentRange: "bytes 8-9/10"},
		{rng: "bytes=5-100", want: "56789", contentRange: "bytes 5-9/10"},
		{rng: "bytes=10-12", status: 416},
		{rng: "bytes=4-2", status: 416},
		{rng: "bytes=0-1,4-5", status: 416},
	}
	for _, tc := range tests {
		t.Run(tc.rng, func(t *testing.T) {
			out, err := f.s3.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("ranges"), Key: aws.String("digits"), Range: aws.String(tc.rng)})
			if tc.status != 0 {
				s3WantErr(t, err, tc.status, "InvalidRange")
				return
			}
			if err != nil {
				t.Fatalf("GetObject: %v", err)
			}
			b, _ := io.ReadAll(out.Body)
			out.Body.Close()
			if string(b) != tc.want || aws.ToString(out.ContentRange) != tc.contentRange {
				t.Errorf("got %q (Content-Range %q), want %q (%q)", b, aws.ToString(out.ContentRange), tc.want, tc.contentRange)
			}
		})
	}
}

func TestS3ConditionalGet(t *testing.T) {
	f := newR2Fixture(t, emulator.Options{})
	f.create("cond")
	etag := aws.ToString(s3Put(t, f.s3, "cond", "k", "v").ETag)
	past, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	tests := []struct {
		name   string
		in     s3.GetObjectInput
		status int // 0: 200
	}{
		{"If-Match current", s3.GetObjectInput{IfMatch: aws.String(etag)}, 0},
		{"If-Match other", s3.GetObjectInput{IfMatch: aws.String(`"abc"`)}, 412},
		{"If-None-Match current", s3.GetObjectInput{IfNoneMatch: aws.String(etag)}, 304},
		{"If-None-Match other", s3.GetObjectInput{IfNoneMatch: aws.String(`"abc"`)}, 0},
		{"If-Modified-Since past", s3.GetObjectInput{IfModifiedSince: aws.Time(past)}, 0},
		{"If-Modified-Since future", s3.GetObjectInput{IfModifiedSince: aws.Time(future)}, 304},
		{"If-Unmodified-Since past", s3.GetObjectInput{IfUnmodifiedSince: aws.Time(past)}, 412},
		{"If-Unmodified-Since future", s3.GetObjectInput{IfUnmodifiedSince: aws.Time(future)}, 0},
		{"If-Match wins over If-Unmodified-Since", s3.GetObjectInput{IfMatch: aws.String(etag), IfUnmodifiedSince: aws.Time(past)}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Bucket, in.Key = aws.String("cond"), aws.String("k")
			out, err := f.s3.GetObject(t.Context(), &in)
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("GetObject: %v", err)
				}
				out.Body.Close()
				return
			}
			if _, status := s3ErrOf(err); status != tc.status {
				t.Fatalf("want HTTP %d, got %v", tc.status, err)
			}
		})
	}
}

func TestS3ConditionalPut(t *testing.T) {
	f := newR2Fixture(t, emulator.Options{})
	f.create("lock")
	ctx := t.Context()
	put := func(ifMatch, ifNoneMatch *string, body string) (*s3.PutObjectOutput, error) {
		return f.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lock"), Key: aws.String("state.lock"),
			Body: strings.NewReader(body), IfMatch: ifMatch, IfNoneMatch: ifNoneMatch})
	}
	_, err := put(aws.String(`"0123"`), nil, "x")
	s3WantErr(t, err, 412, "PreconditionFailed") // If-Match on a missing key
	first, err := put(nil, aws.String("*"), "holder-a")
	if err != nil {
		t.Fatalf("acquire with If-None-Match: *: %v", err)
	}
	_, err = put(nil, aws.String("*"), "holder-b")
	s3WantErr(t, err, 412, "PreconditionFailed")
	_, err = put(aws.String(`"00000000000000000000000000000000"`), nil, "holder-b")
	s3WantErr(t, err, 412, "PreconditionFailed")
	f.srv.Advance(time.Second) // one write per second to one key
	renewed, err := put(first.ETag, nil, "holder-a-renewed")
	if err != nil {
		t.Fatalf("compare-and-swap with the current ETag: %v", err)
	}
	_, err = put(first.ETag, nil, "holder-a-stale")
	s3WantErr(t, err, 412, "PreconditionFailed")
	if got := s3GetBody(t, f.s3, "lock", "state.lock"); got != "holder-a-renewed" {
		t.Errorf("lock body = %q, want the renewed one", got)
	}
	_ = renewed
}

// TestS3ConditionalPutRace runs writers concurrently: exactly one If-None-Match: *
// acquisition and exactly one If-Match compare-and-swap from the same ETag may win.
func TestS3ConditionalPutRace(t *testing.T) {
	f := newR2Fixture(t, emulator.Options{})
	f.create("race")
	const writers = 16
	race := func(prefix string, in func(i int) *s3.PutObjectInput) (wins int, winner string) {
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			start = make(chan struct{})
		)
		for i := 0; i < writers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := f.s3.PutObject(t.Context(), in(i))
				mu.Lock()
				defer mu.Unlock()
				switch code, status := s3ErrOf(err); {
				case err == nil:
					wins++
					winner = fmt.Sprint(prefix, i)
				case status != 412 || code != "PreconditionFailed":
					t.Errorf("writer %d: want success or 412 PreconditionFailed, got %v", i, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		return wins, winner
	}
	wins, winner := race("writer-", func(i int) *s3.PutObjectInput {
		return &s3.PutObjectInput{Bucket: aws.String("race"), Key: aws.String("lock"), Body: strings.NewReader(fmt.Sprint("writer-", i)), IfNoneMatch: aws.String("*")}
	})
	if wins != 1 {
		t.Fatalf("If-None-Match: * race: %d winners, want exactly 1", wins)
	}
	if got := s3GetBody(t, f.s3, "race", "lock"); got != winner {
		t.Fatalf("lock holds %q, want the winner %q", got, winner)
	}
	head, err := f.s3.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String("race"), Key: aws.String("lock")})
	if err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	f.srv.Advance(time.Second) // one write per second to one key
	wins, winner = race("cas-", func(i int) *s3.PutObjectInput {
		return &s3.PutObjectInput{Bucket: aws.String("race"), Key: aws.String("lock"), Body: strings.NewReader(fmt.Sprint("cas-", i)), IfMatch: head.ETag}
	})
	if wins != 1 {
		t.Fatalf("If-Match race: %d winners, want exactly 1", wins)
	}
	if got := s3GetBody(t, f.s3, "race", "lock"); got != winner {
		t.Fatalf("lock holds %q, want the CAS winner %q", got, winner)
	}
}

func TestS3CopyObject(t *testing.T) {
	f := newR2Fixture(t, emulator.Options{})
	ctx := t.Context()
	f.create("src")
	f.create("dst")
	_, err := f.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("src"), Key: aws.String("a b/c.txt"), Body: strings.NewReader("payload"),
		ContentType: aws.String("text/plain"), Metadata: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	cp, err := f.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy"), CopySource: aws.String("src/a%20b/c.txt")})
	if err != nil {
		t.Fatalf("CopyObject: %v", err)
	}
	head, err := f.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy")})
	if err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	if aws.ToString(head.ETag) != aws.ToString(cp.CopyObjectResult.ETag) || head.Metadata["k"] != "v" || aws.ToString(head.ContentType) != "text/plain" {
		t.Errorf("copy: etag %s (result %s), metadata %v, type %s", aws.ToString(head.ETag), aws.ToString(cp.CopyObjectResult.ETag), head.Metadata, aws.ToString(head.ContentType))
	}
	_, err = f.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("replaced"), CopySource: aws.String("src/a%20b/c.txt"),
		MetadataDirective: types.MetadataDirectiveReplace, Metadata: map[string]string{"new": "yes"}})
	if err != nil {
		t.Fatalf("CopyObject REPLACE: %v", err)
	}
	head, err = f.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dst"), Key: aws.String("replaced")})
	if err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	if diff := cmp.Diff(map[string]string{"new": "yes"}, head.Metadata); diff != "" {
		t.Errorf("REPLACE metadata (-want +got):\n%s", diff)
	}
	if got := s3GetBody(t, f.s3, "dst", "replaced"); got != "payload" {
		t.Errorf("copied body = %q", got)
	}

	tests := []struct {
		name   string
		in     s3.CopyObjectInput
		status int
		code   string
	}{
		{"missing source key", s3.CopyObjectInput{CopySource: aws.String("src/nope")}, 404, "NoSuchKey"},
		{"missing source bucket", s3.CopyObjectInput{CopySource: aws.String("nope/a")}, 404, "NoSuchBucket"},
		{"source If-Match fails", s3.CopyObjectInput{CopySource: aws.String("src/a%20b/c.txt"), CopySourceIfMatch: aws.String(`"abc"`)}, 412, "PreconditionFailed"},
		{"source If-None-Match fails", s3.CopyObjectInput{CopySource: aws.String("src/a%20b/c.txt"), CopySourceIfNoneMatch: cp.CopyObjectResult.ETag}, 412, "PreconditionFailed"},
		{"copy onto itself unchanged", s3.CopyObjectInput{Bucket: aws.String("src"), Key: aws.String("a b/c.txt"), CopySource: aws.String("src/a%20b/c.txt")}, 400, "InvalidRequest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.Bucket == nil {
				in.Bucket, in.Key = aws.String("dst"), aws.String("other")
			}
			_, err := f.s3.CopyObject(ctx, &in)
			s3WantErr(t, err, tc.status, tc.code)
		})
	}
}

func TestS3DeleteObjects(t *testing.T) {
	f := newR2Fixture(t, emulator.Options{})
	f.create("many")
	for _, k := range []string{"a", "b", "c"} {
		s3Put(t, f.s3, "many", k, k)
	}
	out, err := f.s3.DeleteObjects(t.Context(), &s3.DeleteObjectsInput{Bucket: aws.String("many"), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("a")}, {Key: aws.String("b")}, {Key: aws.String("missing")}},
	}})
	if err != nil {
		t.Fatalf("DeleteObjects: %v", err)
	}
	var deleted []string
	for _, d := range out.Deleted {
		deleted = append(deleted, aws.ToString(d.Key))
	}
	if diff := cmp.Diff([]string{"a", "b", "missing"}, deleted); diff != "" || len(out.Errors) != 0 {
		t.Errorf("Deleted (-want +got):\n%s errors: %v", diff, out.Errors)
	}
	if diff := cmp.Diff([]string{"c"}, s3Keys(t, f.s3, "many", "")); diff != "" {
		t.Errorf("remaining keys (-want +got):\n%s", diff)
	}
	_, err = f.s3.DeleteObjects(t.Context(), &s3.DeleteObjectsInput{Bucket: aws.String("nope"), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("a")}}}})
	s3WantErr(t, err, 404, "NoSuchBucket")
}

func TestS3ListObjects(t *testing.T) {
	f := newR2Fixture(t, emulator.Options{})
	f.create("tree")
	keys := []string{"a/1", "a/2", "a/b/3", "b/1", "c", "d"}
	for _, k := range keys {
		s3Put(t, f.s3, "tree", k, k)
	}
	type page struct {
		Keys, Prefixes []string
		KeyCount       int32
		Truncated      bool
	}
	list := func(in s3.ListObjectsV2Input) (page, *string) {
		t.Helper()
		in.Bucket = aws.String("tree")
		out, err := f.s3.ListObjectsV2(t.Context(), &in)
		if err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		p := page{Keys: []string{}, Prefixes: []string{}, KeyCount: aws.ToInt32(out.KeyCount), Truncated: aws.ToBool(out.IsTruncated)}
		for _, o := range out.Contents {
			p.Keys = append(p.Keys, aws.ToString(o.Key))
		}
		for _, cp := range out.CommonPrefixes {
			p.Prefixes = append(p.Prefixes, aws.ToString(cp.Prefix))
		}
		return p, out.NextContinuationToken
	}
	tests := []struct {
		name string
		in   s3.ListObjectsV2Input
		want page
	}{
		{"all", s3.ListObjectsV2Input{}, page{keys, []string{}, 6, false}},
		{"delimiter", s3.ListObjectsV2Input{Delimiter: aws.String("/")}, page{[]string{"c", "d"}, []string{"a/", "b/"}, 4, false}},
		{"prefix and delimiter", s3.ListObjectsV2Input{Prefix: aws.String("a/"), Delimiter: aws.String("/")}, page{[]string{"a/1", "a/2"}, []string{"a/b/"}, 3, false}},
		{"start-after", s3.ListObjectsV2Input{StartAfter: aws.String("a/b/3")}, page{[]string{"b/1", "c", "d"}, []string{}, 3, false}},
		{"max-keys", s3.ListObjectsV2Input{MaxKeys: aws.Int32(2)}, page{[]string{"a/1", "a/2"}, []string{}, 2, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := list(tc.in)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	// Walk with continuation tokens, two entries a page, rolling up at "/".
	var walked []string
	var token *string
	for i := 0; i < 10; i++ {
		p, next := list(s3.ListObjectsV2Input{Delimiter: aws.String("/"), MaxKeys: aws.Int32(1), ContinuationToken: token})
		walked = append(append(walked, p.Prefixes...), p.Keys...)
		if !p.Truncated {
			break
		}
		token = next
	}
	if diff := cmp.Diff([]string{"a/", "b/", "c", "d"}, walked); diff != "" {
		t.Errorf("paged walk (-want +got):\n%s", diff)
	}

	// ListObjects v1 with a marker.
	v1, err := f.s3.ListObjects(t.Context(), &s3.ListObjectsInput{Bucket: aws.String("tree"), Marker: aws.String("b/1")})
	if err != nil {
		t.Fatalf("ListObjects: %v", err)
	}
	var v1Keys []string
	for _, o := range v1.Contents {
		v1Keys = append(v1Keys, aws.ToString(o.Key))
	}
	if diff := cmp.Diff([]string{"c", "d"}, v1Keys); diff != "" {
		t.Errorf("ListObjects v1 after marker (-want +got):\n%s", diff)
	}
	_, err = f.s3.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String("tree"), ContinuationToken: aws.String("!!not-a-token")})
	s3WantErr(t, err, 400, "InvalidArgument")
}

// TestS3NotImplemented checks that what R2 does not support (versioning, S3 object
// lock, ACLs, tagging, policies) answers 501 NotImplemented, as R2 does.
func TestS3NotImplemented(t *testing.T) {
	f := newR2Fixture(t, emulator.Options{})
	f.create("plain")
	s3Put(t, f.s3, "plain", "k", "v")
	ctx, b, k := t.Context(), aws.String("plain"), aws.String("k")
	calls := map[string]func() error{
		"GetBucketVersioning": func() error {
			_, err := f.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})
			return err
		},
		"PutBucketVersioning": func() error {
			_, err := f.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b, VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
			return err
		},
		"ListObjectVersions": func() error {
			_, err := f.s3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: b})
			return err
		},
		"GetObjectLockConfiguration": func() error {
			_, err := f.s3.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: b})
			return err
		},
		"PutObject with object lock": func() error {
			_, err := f.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: k, Body: strings.NewReader("v"),
				ObjectLockMode: types.ObjectLockModeGovernance, ObjectLockRetainUntilDate: aws.Time(time.Now().Add(time.Hour))})
			return err
		},
		"GetObject versionId": func() error {
			_, err := f.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: k, VersionId: aws.String("v1")})
			return err
		},
		"GetObjectAcl":     func() error { _, err := f.s3.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: b, Key: k}); return err },
		"GetBucketPolicy":  func() error { _, err := f.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b}); return err },
		"GetBucketTagging": func() error { _, err := f.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b}); return err },
		"PutObjectTagging": func() error {
			_, err := f.s3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: b, Key: k, Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}})
			return err
		},
		"conditional DeleteObject": func() error {
			_, err := f.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: k, IfMatch: aws.String(`"x"`)})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) { s3WantErr(t, call(), 501, "NotImplemented") })
	}
	if got := s3GetBody(t, f.s3, "plain", "k"); got != "v" {
		t.Errorf("object changed by rejected requests: %q", got)
	}
}

func TestS3Auth(t *testing.T) {
	f := newR2Fixture(t, emulator.Options{})
	f.create("auth")
	s3Put(t, f.s3, "auth", "k", "v")

	// There is no SDK call for an unsigned or hand-signed request: plain net/http.
	raw := func(auth string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.url+"/auth/k", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
			req.Header.Set("x-amz-date", "20260101T000000Z")
			req.Header.Set("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	sig := strings.Repeat("ab", 32)
	tests := []struct {
		name, auth string
		status     int
		code       string
	}{
		{"unsigned", "", 403, "AccessDenied"},
		{"signature v2", "AWS k:c2lnbmF0dXJl", 400, "InvalidRequest"},
		{"credential without scope", "AWS4-HMAC-SHA256 Credential=k, SignedHeaders=host, Signature=" + sig, 400, "AuthorizationHeaderMalformed"},
		{"wrong service", "AWS4-HMAC-SHA256 Credential=k/20260101/auto/ec2/aws4_request, SignedHeaders=host, Signature=" + sig, 400, "AuthorizationHeaderMalformed"},
		{"bad signature", "AWS4-HMAC-SHA256 Credential=k/20260101/auto/s3/aws4_request, SignedHeaders=host, Signature=zz", 400, "AuthorizationHeaderMalformed"},
		{"well formed", "AWS4-HMAC-SHA256 Credential=k/20260101/auto/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + sig, 200, ""},
		{"empty region", "AWS4-HMAC-SHA256 Credential=k/20260101//s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + sig, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := raw(tc.auth)
			if status != tc.status || !strings.Contains(body, "<Code>"+tc.code+"</Code>") && tc.code != "" {
				t.Errorf("got %d %s, want %d %s", status, body, tc.status, tc.code)
			}
		})
	}

	if got := s3GetBody(t, newS3Client(f.url, "us-east-1", nil), "auth", "k"); got != "v" {
		t.Errorf("region us-east-1: body %q", got)
	}
	_, err := newS3Client(f.url, "eu-west-1", nil).GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("auth"), Key: aws.String("k")})
	s3WantErr(t, err, 400, "AuthorizationHeaderMalformed")

	// Pre-signed URLs work until they expire on the emulator clock.
	ps, err := s3.NewPresignClient(f.s3).PresignGetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("auth"), Key: aws.String("k")}, s3.WithPresignExpires(time.Hour))
	if err != nil {
		t.Fatalf("PresignGetObject: %v", err)
	}
	get := func() int {
		resp, err := http.Get(ps.URL)
		if err != nil {
			t.Fatalf("GET presigned: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status := get(); status != 200 {
		t.Errorf("fresh pre-signed URL: HTTP %d", status)
	}
	f.srv.Advance(2 * time.Hour)
	if status := get(); status != 400 {
		t.Errorf("expired pre-signed URL: HTTP %d, want 400 ExpiredRequest", status)
	}
}

func TestS3Multipart(t *testing.T) {
	f := newR2Fixture(t, emulator.Options{})
	f.create("mpu")
	ctx := t.Context()
	c := f.s3
	create := func(key string) *string {
		t.Helper()
		out, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String(key), ContentType: aws.String("application/x-tar")})
		if err != nil {
			t.Fatalf("CreateMultipartUpload: %v", err)
		}
		return out.UploadId
	}
	part := func(key string, id *string, n int32, body []byte) types.CompletedPart {
		t.Helper()
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String(key), UploadId: id, PartNumber: aws.Int32(n), Body: bytes.NewReader(body)})
		if err != nil {
			t.Fatalf("UploadPart %d: %v", n, err)
		}
		return types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)}
	}
	complete := func(key string, id *string, parts ...types.CompletedPart) (*s3.CompleteMultipartUploadOutput, error) {
		return c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String(key), UploadId: id,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	}
	const mib5 = 5 << 20
	p1, p2, tail := bytes.Repeat([]byte("a"), mib5), bytes.Repeat([]byte("b"), mib5), []byte("tail")

	id := create("big")
	parts := []types.CompletedPart{part("big", id, 1, p1), part("big", id, 2, p2), part("big", id, 3, tail)}
	lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: id})
	if err != nil {
		t.Fatalf("ListParts: %v", err)
	}
	var sizes []int64
	for _, p := range lp.Parts {
		sizes = append(sizes, aws.ToInt64(p.Size))
	}
	if diff := cmp.Diff([]int64{mib5, mib5, 4}, sizes); diff != "" {
		t.Errorf("ListParts sizes (-want +got):\n%s", diff)
	}
	ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("mpu")})
	if err != nil || len(ups.Uploads) != 1 || aws.ToString(ups.Uploads[0].UploadId) != aws.ToString(id) {
		t.Fatalf("ListMultipartUploads = %+v, %v; want the one upload", ups, err)
	}
	done, err := complete("big", id, parts...)
	if err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	var sums []byte
	for _, b := range [][]byte{p1, p2, tail} {
		s := md5.Sum(b)
		sums = append(sums, s[:]...)
	}
	composite := md5.Sum(sums)
	if want := `"` + hex.EncodeToString(composite[:]) + `-3"`; aws.ToString(done.ETag) != want {
		t.Errorf("composite ETag = %s, want %s", aws.ToString(done.ETag), want)
	}
	if got := s3GetBody(t, c, "mpu", "big"); got != string(p1)+string(p2)+string(tail) {
		t.Errorf("completed body differs (len %d)", len(got))
	}

	// UploadPartCopy takes a range of an existing object.
	cid := create("copied")
	cp, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("mpu"), Key: aws.String("copied"), UploadId: cid, PartNumber: aws.Int32(1),
		CopySource: aws.String("mpu/big"), CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", mib5, 2*mib5-1))})
	if err != nil {
		t.Fatalf("UploadPartCopy: %v", err)
	}
	if _, err := complete("copied", cid, types.CompletedPart{ETag: cp.CopyPartResult.ETag, PartNumber: aws.Int32(1)}, part("copied", cid, 2, tail)); err != nil {
		t.Fatalf("complete copied: %v", err)
	}
	if got := s3GetBody(t, c, "mpu", "copied"); got != string(p2)+string(tail) {
		t.Errorf("part-copied body differs (len %d)", len(got))
	}

	small := create("small")
	smallParts := []types.CompletedPart{part("small", small, 1, []byte("x")), part("small", small, 2, []byte("y"))}
	uneven := create("uneven")
	unevenParts := []types.CompletedPart{part("uneven", uneven, 1, p1), part("uneven", uneven, 2, append(p2, 'b')), part("uneven", uneven, 3, tail)}
	aborted := create("aborted")
	part("aborted", aborted, 1, tail)
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("aborted"), UploadId: aborted}); err != nil {
		t.Fatalf("AbortMultipartUpload: %v", err)
	}
	guarded := create("big")
	guardedPart := part("big", guarded, 1, tail)

	tests := []struct {
		name   string
		call   func() error
		status int
		code   string
	}{
		{"part under 5 MiB", func() error { _, err := complete("small", small, smallParts...); return err }, 400, "EntityTooSmall"},
		{"non-trailing parts of different sizes", func() error { _, err := complete("uneven", uneven, unevenParts...); return err }, 400, "InvalidPart"},
		{"wrong part ETag", func() error {
			_, err := complete("small", small, types.CompletedPart{ETag: aws.String(`"00"`), PartNumber: aws.Int32(1)})
			return err
		}, 400, "InvalidPart"},
		{"parts out of order", func() error { _, err := complete("small", small, smallParts[1], smallParts[0]); return err }, 400, "InvalidPartOrder"},
		{"complete aborted upload", func() error { _, err := complete("aborted", aborted, smallParts[0]); return err }, 404, "NoSuchUpload"},
		{"upload part to aborted upload", func() error {
			_, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String("aborted"), UploadId: aborted, PartNumber: aws.Int32(1), Body: bytes.NewReader(tail)})
			return err
		}, 404, "NoSuchUpload"},
		{"list parts of aborted upload", func() error {
			_, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("aborted"), UploadId: aborted})
			return err
		}, 404, "NoSuchUpload"},
		{"complete with If-None-Match on an existing key", func() error {
			_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: guarded,
				IfNoneMatch: aws.String("*"), MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{guardedPart}}})
			return err
		}, 412, "PreconditionFailed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { s3WantErr(t, tc.call(), tc.status, tc.code) })
	}
}

// s3HeaderRecorder records the x-amz-content-sha256 header of every request.
type s3HeaderRecorder struct {
	mu   sync.Mutex
	base http.RoundTripper
	seen []string
}

func (r *s3HeaderRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.seen = append(r.seen, req.Header.Get("x-amz-content-sha256"))
	r.mu.Unlock()
	return r.base.RoundTrip(req)
}

// TestS3AwsChunked covers aws-chunked bodies: the trailing-checksum framing the v2 SDK
// sends over TLS, the signed-chunk framing of other clients, and a bad trailer checksum.
func TestS3AwsChunked(t *testing.T) {
	srv, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	hs := httptest.NewTLSServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	rec := &s3HeaderRecorder{base: hs.Client().Transport}
	c := newS3Client(hs.URL, "auto", &http.Client{Transport: rec})
	ctx := t.Context()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("chunks")}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	body := strings.Repeat("chunked body ", 10000)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("chunks"), Key: aws.String("sdk"), Body: strings.NewReader(body)}); err != nil {
		t.Fatalf("PutObject over TLS: %v", err)
	}
	if last := rec.seen[len(rec.seen)-1]; last != "STREAMING-UNSIGNED-PAYLOAD-TRAILER" {
		t.Fatalf("the SDK sent x-amz-content-sha256 %q; this test expects the trailer variant", last)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("chunks"), Key: aws.String("sdk")})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(got) != body || aws.ToString(out.ContentEncoding) != "" {
		t.Errorf("stored body differs (len %d, want %d) or kept Content-Encoding %q", len(got), len(body), aws.ToString(out.ContentEncoding))
	}

	// No SDK call produces these framings: plain net/http.
	sig := strings.Repeat("cd", 32)
	raw := func(key, sha, payload string, extra map[string]string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPut, hs.URL+"/chunks/"+key, strings.NewReader(payload))
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=k/20260101/auto/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature="+sig)
		req.Header.Set("x-amz-date", "20260101T000000Z")
		req.Header.Set("x-amz-content-sha256", sha)
		req.Header.Set("Content-Encoding", "aws-chunked")
		for k, v := range extra {
			req.Header.Set(k, v)
		}
		resp, err := hs.Client().Do(req)
		if err != nil {
			t.Fatalf("PUT %s: %v", key, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	signed := "5;chunk-signature=" + sig + "\r\nhello\r\n6;chunk-signature=" + sig + "\r\n world\r\n0;chunk-signature=" + sig + "\r\n\r\n"
	if status, body := raw("signed", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", signed, map[string]string{"x-amz-decoded-content-length": "11"}); status != 200 {
		t.Fatalf("signed chunks: HTTP %d %s", status, body)
	}
	if got := s3GetBody(t, c, "chunks", "signed"); got != "hello world" {
		t.Errorf("signed chunks stored %q", got)
	}
	badTrailer := "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"
	status, resp := raw("bad", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", badTrailer, map[string]string{"x-amz-trailer": "x-amz-checksum-crc32"})
	if status != 400 || !strings.Contains(resp, "<Code>BadDigest</Code>") {
		t.Errorf("bad trailing checksum: HTTP %d %s, want 400 BadDigest", status, resp)
	}
	status, resp = raw("short", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "ff\r\nhello", nil)
	if status != 400 || !strings.Contains(resp, "<Code>IncompleteBody</Code>") {
		t.Errorf("truncated chunk: HTTP %d %s, want 400 IncompleteBody", status, resp)
	}
}

// TestS3Persistence checks that S3 writes are persisted with the store and that bodies
// survive a restart on a data directory.
func TestS3Persistence(t *testing.T) {
	dir := t.TempDir()
	start := func() (*emulator.Server, *httptest.Server) {
		srv, err := emulator.New(emulator.Options{DataDir: dir})
		if err != nil {
			t.Fatalf("emulator.New: %v", err)
		}
		return srv, httptest.NewServer(srv)
	}
	srv, hs := start()
	c := newS3Client(hs.URL, "auto", nil)
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String("durable")}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	s3Put(t, c, "durable", "k", "survives")
	s3Put(t, c, "durable", "gone", "deleted before the restart")
	if _, err := c.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String("durable"), Key: aws.String("gone")}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	hs.Close()
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	srv, hs = start()
	t.Cleanup(func() { hs.Close(); srv.Close() })
	c = newS3Client(hs.URL, "auto", nil)
	if got := s3GetBody(t, c, "durable", "k"); got != "survives" {
		t.Errorf("body after restart = %q", got)
	}
	if diff := cmp.Diff([]string{"k"}, s3Keys(t, c, "durable", "")); diff != "" {
		t.Errorf("keys after restart (-want +got):\n%s", diff)
	}
}
