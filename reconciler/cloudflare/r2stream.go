package cloudflare

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Streamed R2 transfers (backups, restores of buckets): an upload of any length holds one
// chunk in memory; reads stream.

// Chunk sizes of a multipart upload: R2 wants every part but the last at least 5 MiB and
// all of the same size.
const (
	MinUploadChunk     = 5 << 20
	DefaultUploadChunk = 8 << 20
)

// UploadOptions describe a streamed write.
type UploadOptions struct {
	ContentType string
	Metadata    map[string]string
	// Chunk is the multipart part size (default DefaultUploadChunk, at least
	// MinUploadChunk); memory use is one chunk.
	Chunk int
	// SizeHint, when positive, is the body's expected length: a body shorter than a chunk
	// then takes a buffer of its own size.
	SizeHint int64
}

// Upload writes body to key: in one PutObject when it fits in one chunk, else as a
// multipart upload of Chunk-sized parts. On failure a started multipart upload is aborted,
// so nothing is left under key.
func (r *R2) Upload(ctx context.Context, bucket, key string, body io.Reader, opt UploadOptions) (R2Object, error) {
	chunk := opt.Chunk
	if chunk == 0 {
		chunk = DefaultUploadChunk
	}
	if chunk < MinUploadChunk {
		return R2Object{}, fmt.Errorf("write r2://%s/%s: chunk of %d bytes is below R2's 5 MiB part minimum", bucket, key, chunk)
	}
	bufSize := chunk
	if opt.SizeHint > 0 && opt.SizeHint < int64(chunk) {
		bufSize = int(opt.SizeHint) + 1 // one more byte to see the end
	}
	buf := make([]byte, bufSize)
	n, err := io.ReadFull(body, buf)
	if err == nil && bufSize < chunk { // longer than its hint: read on to a whole chunk
		buf = append(buf, make([]byte, chunk-bufSize)...)
		var m int
		m, err = io.ReadFull(body, buf[n:])
		n += m
	}
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return R2Object{}, fmt.Errorf("write r2://%s/%s: %w", bucket, key, err)
	}
	if n < len(buf) { // all of it fits in one request
		in := &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(buf[:n]),
			ContentLength: aws.Int64(int64(n)), Metadata: opt.Metadata,
		}
		if opt.ContentType != "" {
			in.ContentType = aws.String(opt.ContentType)
		}
		out, err := r.s3.PutObject(ctx, in)
		if err != nil {
			return R2Object{}, r2Error(err, "write", bucket, key)
		}
		return R2Object{Key: key, Size: int64(n), ETag: aws.ToString(out.ETag), Metadata: opt.Metadata}, nil
	}
	create := &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), Metadata: opt.Metadata}
	if opt.ContentType != "" {
		create.ContentType = aws.String(opt.ContentType)
	}
	mp, err := r.s3.CreateMultipartUpload(ctx, create)
	if err != nil {
		return R2Object{}, r2Error(err, "start multipart write", bucket, key)
	}
	obj, err := r.uploadParts(ctx, bucket, key, aws.ToString(mp.UploadId), buf, n, body)
	if err != nil {
		// A background context: the abort must happen even when ctx was cancelled.
		_, aerr := r.s3.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: mp.UploadId})
		if aerr != nil {
			return R2Object{}, errors.Join(err, r2Error(aerr, "abort multipart write", bucket, key))
		}
		return R2Object{}, err
	}
	obj.Metadata = opt.Metadata
	return obj, nil
}

func (r *R2) uploadParts(ctx context.Context, bucket, key, id string, buf []byte, n int, body io.Reader) (R2Object, error) {
	var parts []types.CompletedPart
	var size int64
	for num := int32(1); n > 0; num++ {
		out, err := r.s3.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id),
			PartNumber: aws.Int32(num), Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n)),
		})
		if err != nil {
			return R2Object{}, r2Error(err, fmt.Sprintf("write part %d of", num), bucket, key)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})
		size += int64(n)
		var rerr error
		n, rerr = io.ReadFull(body, buf)
		if rerr != nil && !errors.Is(rerr, io.ErrUnexpectedEOF) && !errors.Is(rerr, io.EOF) {
			return R2Object{}, fmt.Errorf("write r2://%s/%s: %w", bucket, key, rerr)
		}
	}
	out, err := r.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return R2Object{}, r2Error(err, "complete multipart write", bucket, key)
	}
	return R2Object{Key: key, Size: size, ETag: aws.ToString(out.ETag)}, nil
}

// Open opens an object for streaming with its content type; the caller closes the body.
func (r *R2) Open(ctx context.Context, bucket, key string) (io.ReadCloser, R2Object, string, error) {
	out, err := r.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, R2Object{}, "", r2Error(err, "read", bucket, key)
	}
	return out.Body, R2Object{
		Key: key, Size: aws.ToInt64(out.ContentLength), ETag: aws.ToString(out.ETag),
		LastModified: aws.ToTime(out.LastModified), Metadata: out.Metadata,
	}, aws.ToString(out.ContentType), nil
}

// DeleteKeys removes objects, up to 1,000 per request; keys that are gone count as deleted.
func (r *R2) DeleteKeys(ctx context.Context, bucket string, keys []string) error {
	for len(keys) > 0 {
		n := min(len(keys), 1000)
		ids := make([]types.ObjectIdentifier, n)
		for i, k := range keys[:n] {
			ids[i] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		out, err := r.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return r2Error(err, "delete objects of", bucket, keys[0])
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("delete r2://%s/%s: %s %s (and %d more)", bucket, aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message), len(out.Errors)-1)
		}
		keys = keys[n:]
	}
	return nil
}

// CreateBucket creates a bucket through the S3 API (for scratch restores); one that
// already exists is an error.
func (r *R2) CreateBucket(ctx context.Context, bucket string) error {
	if _, err := r.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return r2Error(err, "create bucket", bucket, "")
	}
	return nil
}

// DeleteBucket deletes an empty bucket; deleting one that is gone succeeds.
func (r *R2) DeleteBucket(ctx context.Context, bucket string) error {
	_, err := r.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
	var ae smithy.APIError
	if err != nil && !(errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucket") {
		return r2Error(err, "delete bucket", bucket, "")
	}
	return nil
}

// BucketExists reports whether bucket exists.
func (r *R2) BucketExists(ctx context.Context, bucket string) (bool, error) {
	_, err := r.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	if err == nil {
		return true, nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchBucket" || ae.ErrorCode() == "NotFound") {
		return false, nil
	}
	return false, r2Error(err, "describe bucket", bucket, "")
}

// ListBuckets lists the buckets the S3 credentials reach.
func (r *R2) ListBuckets(ctx context.Context) ([]string, error) {
	out, err := r.s3.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		return nil, fmt.Errorf("list R2 buckets: %w", err)
	}
	names := make([]string, 0, len(out.Buckets))
	for _, b := range out.Buckets {
		names = append(names, aws.ToString(b.Name))
	}
	return names, nil
}
