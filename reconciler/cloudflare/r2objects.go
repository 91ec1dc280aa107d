package cloudflare

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// R2 objects, through R2's S3-compatible API and the aws-sdk-go-v2 S3 client: the one way
// flareops reads and writes objects (remote state and its lock, backups and their
// manifests, drill history). Buckets themselves (create, lifecycle rules) go through the
// v4 REST API like every other object of the account.

// Environment variables that say where R2's S3 API is and as whom to call it. The CLI
// reads them (R2ConfigFromEnv); the engine never does.
const (
	EnvR2AccessKeyID     = "R2_ACCESS_KEY_ID"
	EnvR2SecretAccessKey = "R2_SECRET_ACCESS_KEY"
	EnvR2Endpoint        = "FLAREOPS_R2_ENDPOINT"
)

// R2Config says where R2's S3 API is and with which credentials to sign requests. The
// secret is never logged: R2Config's String omits it.
type R2Config struct {
	// Endpoint is the S3 API root: https://<account>.r2.cloudflarestorage.com for an
	// account (R2Endpoint), or the local Cloudflare's address (it serves S3 at its root).
	Endpoint        string
	AccessKeyID     string
	SecretAccessKey string
	// Transport to send requests with (default http.DefaultTransport).
	Transport http.RoundTripper
	// MaxAttempts per request, retries included (0: the SDK's default of 3). The SDK
	// retries 5xx, dropped connections and throttling (R2 answers 429 to writes faster
	// than about one per second to one key) with backoff. A conditional write that is
	// retried after a lost answer may find its own write and fail its precondition: the
	// callers that write conditionally (the state lock) check what is there.
	MaxAttempts int
	// NoSlowDownRetry returns R2's 429 at once (ErrSlowDown) instead of letting the SDK
	// back off for seconds: for callers that pace their writes to one key themselves
	// (remote state and its lock), for which a second is always enough.
	NoSlowDownRetry bool
}

// String describes the configuration without its secret.
func (c R2Config) String() string {
	return fmt.Sprintf("R2 S3 API at %s (access key %s)", c.Endpoint, c.AccessKeyID)
}

// GoString is String, so that %#v cannot print the secret either.
func (c R2Config) GoString() string { return c.String() }

// R2Endpoint is the S3 API root of an account's R2.
func R2Endpoint(accountID string) string {
	return "https://" + accountID + ".r2.cloudflarestorage.com"
}

// R2ConfigFromEnv reads R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY and FLAREOPS_R2_ENDPOINT
// (default: the account's endpoint). A missing credential is an error that names it and
// says what needs it (why, e.g. "remote state in R2").
func R2ConfigFromEnv(getenv func(string) string, accountID, why string) (R2Config, error) {
	c := R2Config{
		Endpoint:        strings.TrimRight(getenv(EnvR2Endpoint), "/"),
		AccessKeyID:     getenv(EnvR2AccessKeyID),
		SecretAccessKey: getenv(EnvR2SecretAccessKey),
	}
	var missing []string
	if c.AccessKeyID == "" {
		missing = append(missing, EnvR2AccessKeyID)
	}
	if c.SecretAccessKey == "" {
		missing = append(missing, EnvR2SecretAccessKey)
	}
	if len(missing) > 0 {
		return R2Config{}, fmt.Errorf("%s reaches R2 objects through R2's S3 API, which needs an R2 API token's S3 credentials: set %s (create them under R2 > Manage API tokens)", why, strings.Join(missing, " and "))
	}
	if c.Endpoint == "" {
		c.Endpoint = R2Endpoint(accountID)
	}
	return c, nil
}

// R2 reads and writes objects of an account's R2 buckets.
type R2 struct {
	s3  *s3.Client
	cfg R2Config
}

// NewR2 builds an R2 object client. It never reads the environment.
func NewR2(cfg R2Config) (*R2, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("R2: no S3 endpoint")
	}
	if cfg.AccessKeyID == "" || cfg.SecretAccessKey == "" {
		return nil, errors.New("R2: no S3 credentials")
	}
	hc := &http.Client{Transport: cfg.Transport}
	if hc.Transport == nil {
		hc.Transport = http.DefaultTransport
	}
	ac := aws.Config{
		Region:      "auto", // R2's only region
		Credentials: credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, ""),
		HTTPClient:  hc,
		// R2 validates checksums when sent; send them only where an operation requires
		// one, so that streamed bodies need no second pass.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if cfg.MaxAttempts > 0 {
		ac.RetryMaxAttempts = cfg.MaxAttempts
	}
	if cfg.NoSlowDownRetry {
		ac.Retryer = func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
					var re interface{ HTTPStatusCode() int }
					if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusTooManyRequests {
						return aws.FalseTernary
					}
					return aws.UnknownTernary
				})}, o.Retryables...)
			})
		}
	}
	c := s3.NewFromConfig(ac, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(cfg.Endpoint)
		o.UsePathStyle = true // bucket names as path segments: works for R2 and the local Cloudflare
	})
	return &R2{s3: c, cfg: cfg}, nil
}

// S3 is the underlying client, for streamed and multipart transfers.
func (r *R2) S3() *s3.Client { return r.s3 }

// Endpoint is the S3 API root this client talks to.
func (r *R2) Endpoint() string { return r.cfg.Endpoint }

// R2Object describes a stored object.
type R2Object struct {
	Key          string
	Size         int64
	ETag         string // quoted, as R2 returns it
	LastModified time.Time
	Metadata     map[string]string
}

// ErrPreconditionFailed is wrapped by a conditional write whose condition did not hold
// (412 PreconditionFailed, R2 code 10031).
var ErrPreconditionFailed = errors.New("precondition failed")

// ErrNoSuchKey is wrapped when the object (or its bucket) does not exist.
var ErrNoSuchKey = errors.New("no such object")

// ErrNoSuchBucket is wrapped, besides ErrNoSuchKey, when the bucket does not exist.
var ErrNoSuchBucket = errors.New("no such bucket")

// ErrSlowDown is wrapped when R2 refused a request as too fast: 429 (10058
// TooManyRequests), as a second write to one key within a second is. Wait a second and
// try again.
var ErrSlowDown = errors.New("too many writes to one key: at most one per second")

// ErrTooLarge is wrapped by GetBytes when the object is larger than asked for; the
// object's description (its ETag) is returned with it.
var ErrTooLarge = errors.New("object too large")

// PutOptions are the conditions and metadata of a write.
type PutOptions struct {
	// IfNoneMatch "*" writes only if the key is absent (take a lock, create once).
	IfNoneMatch string
	// IfMatch writes only if the current ETag is this one (compare-and-swap).
	IfMatch     string
	ContentType string
	Metadata    map[string]string
}

// Put writes a small object in one request.
func (r *R2) Put(ctx context.Context, bucket, key string, body []byte, opt PutOptions) (R2Object, error) {
	in := &s3.PutObjectInput{
		Bucket:        aws.String(bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		Metadata:      opt.Metadata,
	}
	if opt.IfNoneMatch != "" {
		in.IfNoneMatch = aws.String(opt.IfNoneMatch)
	}
	if opt.IfMatch != "" {
		in.IfMatch = aws.String(opt.IfMatch)
	}
	if opt.ContentType != "" {
		in.ContentType = aws.String(opt.ContentType)
	}
	out, err := r.s3.PutObject(ctx, in)
	if err != nil {
		return R2Object{}, r2Error(err, "write", bucket, key)
	}
	return R2Object{Key: key, Size: int64(len(body)), ETag: aws.ToString(out.ETag), Metadata: opt.Metadata}, nil
}

// CopyOptions are the conditions of a copy.
type CopyOptions struct {
	// SourceIfMatch copies only if the source's current ETag is this one
	// (x-amz-copy-source-if-match): the copy is of the very version the caller holds,
	// checked and copied in one step.
	SourceIfMatch string
}

// Copy copies the object srcKey of bucket, with its metadata, to dstKey of the same
// bucket, on the server: the body is not sent again. A source condition that does not
// hold is ErrPreconditionFailed, a missing source ErrNoSuchKey. The copy is a write of
// dstKey, paced like any other (R2's one write per second to one key).
func (r *R2) Copy(ctx context.Context, bucket, srcKey, dstKey string, opt CopyOptions) (R2Object, error) {
	in := &s3.CopyObjectInput{
		Bucket:     aws.String(bucket),
		Key:        aws.String(dstKey),
		CopySource: aws.String(copySource(bucket, srcKey)),
	}
	if opt.SourceIfMatch != "" {
		in.CopySourceIfMatch = aws.String(opt.SourceIfMatch)
	}
	out, err := r.s3.CopyObject(ctx, in)
	if err != nil {
		return R2Object{}, r2Error(err, "copy r2://"+bucket+"/"+srcKey+" to", bucket, dstKey)
	}
	obj := R2Object{Key: dstKey}
	if res := out.CopyObjectResult; res != nil {
		obj.ETag, obj.LastModified = aws.ToString(res.ETag), aws.ToTime(res.LastModified)
	}
	return obj, nil
}

// copySource is x-amz-copy-source, bucket/key URL-encoded: every byte but the unreserved
// ones and the slashes is escaped, so that no server reads a '+' as a space or a '%' as
// an escape.
func copySource(bucket, key string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for _, c := range []byte(bucket + "/" + key) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("-._~/", c) >= 0:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// Get opens an object for reading; the caller closes the body.
func (r *R2) Get(ctx context.Context, bucket, key string) (io.ReadCloser, R2Object, error) {
	out, err := r.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, R2Object{}, r2Error(err, "read", bucket, key)
	}
	return out.Body, R2Object{
		Key: key, Size: aws.ToInt64(out.ContentLength), ETag: aws.ToString(out.ETag),
		LastModified: aws.ToTime(out.LastModified), Metadata: out.Metadata,
	}, nil
}

// GetBytes reads a whole small object, refusing one larger than max bytes.
func (r *R2) GetBytes(ctx context.Context, bucket, key string, max int64) ([]byte, R2Object, error) {
	body, obj, err := r.Get(ctx, bucket, key)
	if err != nil {
		return nil, obj, err
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, max+1))
	if err != nil {
		return nil, obj, fmt.Errorf("read r2://%s/%s: %w", bucket, key, err)
	}
	if int64(len(b)) > max {
		return nil, obj, fmt.Errorf("read r2://%s/%s: %w: larger than %d bytes", bucket, key, ErrTooLarge, max)
	}
	return b, obj, nil
}

// Head describes an object without reading it.
func (r *R2) Head(ctx context.Context, bucket, key string) (R2Object, error) {
	out, err := r.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return R2Object{}, r2Error(err, "describe", bucket, key)
	}
	return R2Object{
		Key: key, Size: aws.ToInt64(out.ContentLength), ETag: aws.ToString(out.ETag),
		LastModified: aws.ToTime(out.LastModified), Metadata: out.Metadata,
	}, nil
}

// Delete removes an object; deleting what is gone is success (S3 semantics).
func (r *R2) Delete(ctx context.Context, bucket, key string) error {
	_, err := r.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return r2Error(err, "delete", bucket, key)
	}
	return nil
}

// List calls fn for every object under prefix, in key order, a page of up to 1,000 per
// request. Metadata is not listed (S3 does not return it): Head an object for it.
func (r *R2) List(ctx context.Context, bucket, prefix string, fn func(R2Object) error) error {
	p := s3.NewListObjectsV2Paginator(r.s3, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return r2Error(err, "list", bucket, prefix+"*")
		}
		for _, o := range page.Contents {
			if err := fn(R2Object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), ETag: aws.ToString(o.ETag), LastModified: aws.ToTime(o.LastModified)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// r2Error adds what was being done and maps the S3 errors callers reason about.
func r2Error(err error, verb, bucket, key string) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "PreconditionFailed":
			return fmt.Errorf("%s r2://%s/%s: %w (%v)", verb, bucket, key, ErrPreconditionFailed, err)
		case "NoSuchBucket":
			return fmt.Errorf("%s r2://%s/%s: %w: %w (%v)", verb, bucket, key, ErrNoSuchBucket, ErrNoSuchKey, err)
		case "NoSuchKey", "NotFound":
			return fmt.Errorf("%s r2://%s/%s: %w (%v)", verb, bucket, key, ErrNoSuchKey, err)
		case "TooManyRequests", "SlowDown":
			return fmt.Errorf("%s r2://%s/%s: %w (%v)", verb, bucket, key, ErrSlowDown, err)
		}
	}
	return fmt.Errorf("%s r2://%s/%s: %w", verb, bucket, key, err)
}
