package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/r2"
)

// R2 buckets through the v4 REST API (cloudflare-api.md §7): list, get, create, and the
// bucket's object lifecycle rules, which the API reads and writes as one whole list (PUT
// replaces every rule). Objects are in r2objects.go.

// R2Bucket is a bucket as the REST API describes it.
type R2Bucket struct {
	Name         string
	Location     string
	Jurisdiction string
	StorageClass string
	Created      string // creation_date as the API gives it
}

// CodeR2BucketConflict is R2's "the bucket you tried to create already exists" (10073,
// BucketConflict).
const CodeR2BucketConflict = 10073

// IsR2BucketTaken reports whether err says a bucket name is in use.
func IsR2BucketTaken(err error) bool { return hasCode(err, CodeR2BucketConflict) }

// r2BucketPageSize is the largest page the bucket list allows (per_page 1–1000).
const r2BucketPageSize = 1000

// r2 returns the SDK's bucket service with this client's transport, budget and retry
// policy (the same options New gives every service).
func (c *Client) r2() *r2.BucketService {
	return r2.NewBucketService(
		option.WithBaseURL(c.baseURL+"/"),
		option.WithAPIToken(c.token),
		option.WithHTTPClient(c.http),
		option.WithMaxRetries(0),
	)
}

// ListR2Buckets returns every bucket of the account (default jurisdiction), sorted by
// name: one request per 1,000. The SDK's List drops result_info, so pages are followed
// with start_after (the last name seen) rather than the cursor.
func (c *Client) ListR2Buckets(ctx context.Context) ([]R2Bucket, error) {
	out := []R2Bucket{}
	after := ""
	for {
		var p r2.BucketListParams
		set(&p.AccountID, c.accountID)
		set(&p.PerPage, float64(r2BucketPageSize))
		set(&p.Order, r2.BucketListParamsOrderName)
		if after != "" {
			set(&p.StartAfter, after)
		}
		res, err := c.r2().List(ctx, p)
		if err != nil {
			return nil, failed("list R2 buckets", err)
		}
		for _, b := range res.Buckets {
			out = append(out, bucketFrom(b))
		}
		if len(res.Buckets) < r2BucketPageSize {
			return out, nil
		}
		next := res.Buckets[len(res.Buckets)-1].Name
		if next <= after {
			return nil, fmt.Errorf("cannot list R2 buckets: the API repeated bucket %q", next)
		}
		after = next
	}
}

// R2Bucket returns the bucket named name; found is false when there is none.
func (c *Client) R2Bucket(ctx context.Context, name string) (b R2Bucket, found bool, err error) {
	var p r2.BucketGetParams
	set(&p.AccountID, c.accountID)
	res, err := c.r2().Get(ctx, name, p)
	if err != nil {
		if err = apiError(err); IsNotFound(err) {
			return R2Bucket{}, false, nil
		}
		return R2Bucket{}, false, fmt.Errorf("cannot read R2 bucket %s: %w", name, err)
	}
	return bucketFrom(*res), true, nil
}

// CreateR2Bucket creates a bucket with R2's defaults (location near the caller, Standard
// storage class). A name in use is an error for which IsR2BucketTaken is true; an answer
// that was lost is an *AmbiguousError (a create is never retried blindly).
func (c *Client) CreateR2Bucket(ctx context.Context, name string) (R2Bucket, error) {
	var p r2.BucketNewParams
	set(&p.AccountID, c.accountID)
	set(&p.Name, name)
	res, err := c.r2().New(ctx, p)
	if err != nil {
		return R2Bucket{}, failedCreate(fmt.Sprintf("create R2 bucket %q", name), err)
	}
	return bucketFrom(*res), nil
}

func bucketFrom(b r2.Bucket) R2Bucket {
	return R2Bucket{Name: b.Name, Location: string(b.Location), Jurisdiction: string(b.Jurisdiction), StorageClass: string(b.StorageClass), Created: b.CreationDate}
}

// LifecycleRule is one object lifecycle rule of a bucket. The typed fields are what
// flareops reasons about; Raw is the rule exactly as the API returned it, and a rule
// with Raw is written back as those bytes, so that a rule flareops does not own survives
// a rewrite of the list unchanged, whatever fields it has.
type LifecycleRule struct {
	ID      string
	Enabled bool
	Prefix  string // conditions.prefix: the rule applies to keys that start with it
	// DeleteAfter is the age at which objects are deleted (deleteObjectsTransition with
	// an Age condition); DeleteOn the date (a Date condition). Both zero: none.
	DeleteAfter time.Duration
	DeleteOn    time.Time
	// AbortUploadsAfter aborts multipart uploads older than it (0: none).
	AbortUploadsAfter time.Duration
	// Transitions counts the storage class transitions (flareops writes none).
	Transitions int
	Raw         json.RawMessage
}

// Deletes reports whether the rule deletes objects.
func (r LifecycleRule) Deletes() bool { return r.DeleteAfter > 0 || !r.DeleteOn.IsZero() }

// lifecycleJSON is the wire form of a rule (GO r2.BucketLifecycleGetResponseRule).
type lifecycleJSON struct {
	ID                              string                `json:"id"`
	Enabled                         bool                  `json:"enabled"`
	Conditions                      lifecycleConditions   `json:"conditions"`
	DeleteObjectsTransition         *lifecycleTransition  `json:"deleteObjectsTransition,omitempty"`
	AbortMultipartUploadsTransition *lifecycleTransition  `json:"abortMultipartUploadsTransition,omitempty"`
	StorageClassTransitions         []lifecycleTransition `json:"storageClassTransitions,omitempty"`
}

type lifecycleConditions struct {
	Prefix string `json:"prefix"`
}

type lifecycleTransition struct {
	Condition    lifecycleCondition `json:"condition"`
	StorageClass string             `json:"storageClass,omitempty"`
}

type lifecycleCondition struct {
	Type   string     `json:"type"`
	MaxAge int64      `json:"maxAge,omitempty"` // seconds
	Date   *time.Time `json:"date,omitempty"`
}

// R2Lifecycle returns the bucket's lifecycle rules in the API's order.
func (c *Client) R2Lifecycle(ctx context.Context, bucket string) ([]LifecycleRule, error) {
	var p r2.BucketLifecycleGetParams
	set(&p.AccountID, c.accountID)
	res, err := c.r2().Lifecycle.Get(ctx, bucket, p)
	if err != nil {
		return nil, failed(fmt.Sprintf("read the lifecycle rules of R2 bucket %s", bucket), err)
	}
	out := make([]LifecycleRule, 0, len(res.Rules))
	for _, sdkRule := range res.Rules {
		raw := json.RawMessage(sdkRule.JSON.RawJSON())
		var w lifecycleJSON
		if err := json.Unmarshal(raw, &w); err != nil {
			return nil, fmt.Errorf("cannot read the lifecycle rules of R2 bucket %s: rule %q: %w", bucket, sdkRule.ID, err)
		}
		out = append(out, ruleFrom(w, raw))
	}
	return out, nil
}

func ruleFrom(w lifecycleJSON, raw json.RawMessage) LifecycleRule {
	r := LifecycleRule{ID: w.ID, Enabled: w.Enabled, Prefix: w.Conditions.Prefix, Transitions: len(w.StorageClassTransitions), Raw: raw}
	if t := w.DeleteObjectsTransition; t != nil {
		switch {
		case t.Condition.Type == "Age":
			r.DeleteAfter = time.Duration(t.Condition.MaxAge) * time.Second
		case t.Condition.Date != nil:
			r.DeleteOn = *t.Condition.Date
		}
	}
	if t := w.AbortMultipartUploadsTransition; t != nil && t.Condition.Type == "Age" {
		r.AbortUploadsAfter = time.Duration(t.Condition.MaxAge) * time.Second
	}
	return r
}

// wire is the JSON a rule is written as: its Raw bytes when it has them, otherwise its
// typed fields (a rule flareops makes).
func (r LifecycleRule) wire() (json.RawMessage, error) {
	if len(r.Raw) > 0 {
		return r.Raw, nil
	}
	w := lifecycleJSON{ID: r.ID, Enabled: r.Enabled, Conditions: lifecycleConditions{Prefix: r.Prefix}}
	switch {
	case r.DeleteAfter > 0:
		w.DeleteObjectsTransition = &lifecycleTransition{Condition: lifecycleCondition{Type: "Age", MaxAge: int64(r.DeleteAfter / time.Second)}}
	case !r.DeleteOn.IsZero():
		on := r.DeleteOn.UTC()
		w.DeleteObjectsTransition = &lifecycleTransition{Condition: lifecycleCondition{Type: "Date", Date: &on}}
	}
	if r.AbortUploadsAfter > 0 {
		w.AbortMultipartUploadsTransition = &lifecycleTransition{Condition: lifecycleCondition{Type: "Age", MaxAge: int64(r.AbortUploadsAfter / time.Second)}}
	}
	return json.Marshal(w)
}

// PutR2Lifecycle replaces the bucket's whole list of lifecycle rules with rules. Callers
// that own only some rules read the list first and write it back with theirs changed:
// every rule with Raw goes back byte for byte.
func (c *Client) PutR2Lifecycle(ctx context.Context, bucket string, rules []LifecycleRule) error {
	op := fmt.Sprintf("write the lifecycle rules of R2 bucket %s", bucket)
	wire := make([]json.RawMessage, 0, len(rules))
	for _, r := range rules {
		b, err := r.wire()
		if err != nil {
			return fmt.Errorf("cannot %s: rule %q: %w", op, r.ID, err)
		}
		wire = append(wire, b)
	}
	var p r2.BucketLifecycleUpdateParams
	set(&p.AccountID, c.accountID)
	setRaw(&p.Rules, wire)
	if _, err := c.r2().Lifecycle.Update(ctx, bucket, p); err != nil {
		return failed(op, err)
	}
	return nil
}

// setRaw stores v in an SDK request field as a raw value, which the SDK marshals as it
// is (param.Field's Raw; see set for why this goes through reflection).
func setRaw[F any](dst *F, v any) {
	f := reflect.ValueOf(dst).Elem()
	raw, present := f.FieldByName("Raw"), f.FieldByName("Present")
	if !raw.IsValid() || !present.IsValid() {
		panic(fmt.Sprintf("cloudflare: %T is not an SDK request field", dst))
	}
	raw.Set(reflect.ValueOf(v))
	present.SetBool(true)
}
