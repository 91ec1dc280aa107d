package emulator_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/cloudflare/cloudflare-go/v6/kv"

	"github.com/monotask/flareops/emulator"
)

// R2 takes one write per second to one key (10058 TooManyRequests, 429 with Retry-After),
// through every S3 write (PutObject, CopyObject, CompleteMultipartUpload); other keys, and
// writes refused by their precondition, are not held back.
func TestR2OneWritePerSecondPerKey(t *testing.T) {
	f := newR2Fixture(t, emulator.Options{})
	f.create("state")
	ctx := t.Context()
	s3Put(t, f.s3, "state", "prod.json", "v1")
	_, err := f.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("state"), Key: aws.String("prod.json"), Body: strings.NewReader("v2")})
	s3WantErr(t, err, 429, "TooManyRequests")
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.Response.Header.Get("Retry-After") != "1" {
		t.Errorf("a refused write must carry Retry-After: 1; got %v", err)
	}
	// A precondition that fails answers 412, not 429: nothing would be written.
	_, err = f.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("state"), Key: aws.String("prod.json"), Body: strings.NewReader("v2"), IfNoneMatch: aws.String("*")})
	s3WantErr(t, err, 412, "PreconditionFailed")
	s3Put(t, f.s3, "state", "prod.json.backup", "other key") // another key: not limited
	_, err = f.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("state"), Key: aws.String("prod.json"), CopySource: aws.String("state/prod.json.backup")})
	s3WantErr(t, err, 429, "TooManyRequests")
	up, err := f.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("state"), Key: aws.String("prod.json")})
	if err != nil {
		t.Fatal(err)
	}
	part, err := f.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("state"), Key: aws.String("prod.json"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("v3")})
	if err != nil {
		t.Fatal(err)
	}
	complete := func() error {
		_, err := f.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("state"), Key: aws.String("prod.json"), UploadId: up.UploadId,
			MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}}})
		return err
	}
	s3WantErr(t, complete(), 429, "TooManyRequests")
	if got := f.srv.Counts().KeyWritesLimited["r2"]; got != 3 {
		t.Errorf("counted %d refused R2 writes, want 3", got)
	}
	f.srv.Advance(time.Second)
	if err := complete(); err != nil {
		t.Fatalf("a second later the write must pass: %v", err)
	}
	if got := s3GetBody(t, f.s3, "state", "prod.json"); got != "v3" {
		t.Errorf("prod.json = %q, want v3", got)
	}
}

// KV takes one write per second to one key: 429, code 10048, with Retry-After.
func TestKVOneWritePerSecondPerKey(t *testing.T) {
	f := newKVFixture(t)
	ns := f.create(t, "ops")
	if err := f.put(ns, "doc", "v1", nil); err != nil {
		t.Fatal(err)
	}
	err := f.put(ns, "doc", "v2", nil)
	kvWantErr(t, err, 429, 10048)
	var apiErr *kv.Error
	if !errors.As(err, &apiErr) || apiErr.Response == nil || apiErr.Response.Header.Get("Retry-After") != "1" {
		t.Errorf("a refused write must carry Retry-After: 1; got %v", err)
	}
	if err := f.put(ns, "other", "v1", nil); err != nil {
		t.Fatalf("another key is not limited: %v", err)
	}
	if got := f.srv.Counts().KeyWritesLimited["kv"]; got != 1 {
		t.Errorf("counted %d refused KV writes, want 1", got)
	}
	f.srv.Advance(time.Second)
	if err := f.put(ns, "doc", "v2", nil); err != nil {
		t.Fatalf("a second later the write must pass: %v", err)
	}
}
