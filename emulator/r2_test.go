package emulator_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/r2"
	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/emulator"
)

const r2Account = "0123456789abcdef0123456789abcdef"

// r2Fixture is an emulator behind httptest with the R2 REST client and an S3 client.
type r2Fixture struct {
	t       *testing.T
	srv     *emulator.Server
	url     string
	buckets *r2.BucketService
	s3      *s3.Client
}

func newR2Fixture(t *testing.T, opts emulator.Options) *r2Fixture {
	t.Helper()
	srv, err := emulator.New(opts)
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	hs := httptest.NewServer(srv)
	srv.SetBaseURL(hs.URL)
	t.Cleanup(func() {
		hs.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("emulator Close: %v", err)
		}
	})
	bs := r2.NewBucketService(option.WithBaseURL(hs.URL+"/client/v4/"), option.WithAPIToken("t"), option.WithMaxRetries(0))
	return &r2Fixture{t: t, srv: srv, url: hs.URL, buckets: bs, s3: newS3Client(hs.URL, "auto", nil)}
}

// create makes a bucket through the REST API in the default jurisdiction.
func (f *r2Fixture) create(name string) *r2.Bucket {
	f.t.Helper()
	p := r2.BucketNewParams{}
	setField(&p.AccountID, r2Account)
	setField(&p.Name, name)
	b, err := f.buckets.New(f.t.Context(), p)
	if err != nil {
		f.t.Fatalf("create bucket %s: %v", name, err)
	}
	return b
}

// r2WantErr asserts err is a Cloudflare API error with this HTTP status and code.
func r2WantErr(t *testing.T, err error, status int, code int64) {
	t.Helper()
	var apiErr *r2.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("want Cloudflare API error %d/%d, got %v", status, code, err)
	}
	if len(apiErr.Errors) == 0 || apiErr.StatusCode != status || apiErr.Errors[0].Code != code {
		t.Fatalf("want HTTP %d code %d, got %v", status, code, err)
	}
}

// r2Summary is the comparable part of a REST bucket (creation_date varies).
type r2Summary struct{ Name, Location, Jurisdiction, StorageClass string }

func r2Summarize(b *r2.Bucket) r2Summary {
	return r2Summary{b.Name, string(b.Location), string(b.Jurisdiction), string(b.StorageClass)}
}

// r2ListPage lists one page of buckets: their names and result_info.cursor. It reads
// the SDK's own envelope type, so result_info is checked to parse too.
func r2ListPage(t *testing.T, f *r2Fixture, p r2.BucketListParams) ([]string, string) {
	t.Helper()
	var env r2.BucketListResponseEnvelope
	if _, err := f.buckets.List(t.Context(), p, option.WithResponseBodyInto(&env)); err != nil {
		t.Fatalf("List: %v", err)
	}
	if want := p.PerPage.Value; p.PerPage.Present && env.ResultInfo.PerPage != want {
		t.Errorf("result_info.per_page = %v, want %v", env.ResultInfo.PerPage, want)
	}
	names := []string{}
	for _, b := range env.Result.Buckets {
		names = append(names, b.Name)
	}
	return names, env.ResultInfo.Cursor
}

func r2ListParams() r2.BucketListParams {
	p := r2.BucketListParams{}
	setField(&p.AccountID, r2Account)
	return p
}

func TestR2BucketCRUD(t *testing.T) {
	f := newR2Fixture(t, emulator.Options{})
	ctx := t.Context()

	p := r2.BucketNewParams{}
	setField(&p.AccountID, r2Account)
	setField(&p.Name, "logs-1")
	setField(&p.LocationHint, r2.BucketNewParamsLocationHintWeur)
	setField(&p.StorageClass, r2.BucketNewParamsStorageClassInfrequentAccess)
	created, err := f.buckets.New(ctx, p)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	want := r2Summary{"logs-1", "weur", "default", "InfrequentAccess"}
	if diff := cmp.Diff(want, r2Summarize(created)); diff != "" {
		t.Errorf("created bucket (-want +got):\n%s", diff)
	}
	if created.CreationDate == "" {
		t.Errorf("creation_date is empty")
	}

	gp := r2.BucketGetParams{}
	setField(&gp.AccountID, r2Account)
	got, err := f.buckets.Get(ctx, "logs-1", gp)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := cmp.Diff(want, r2Summarize(got)); diff != "" {
		t.Errorf("got bucket (-want +got):\n%s", diff)
	}

	ep := r2.BucketEditParams{}
	setField(&ep.AccountID, r2Account)
	setField(&ep.StorageClass, r2.BucketEditParamsCfR2StorageClassStandard)
	edited, err := f.buckets.Edit(ctx, "logs-1", ep)
	if err != nil {
		t.Fatalf("Edit: %v", err)
	}
	if edited.StorageClass != r2.BucketStorageClassStandard {
		t.Errorf("storage class after PATCH = %q, want Standard", edited.StorageClass)
	}

	lp := r2.BucketListParams{}
	setField(&lp.AccountID, r2Account)
	list, err := f.buckets.List(ctx, lp)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(list.Buckets) != 1 || list.Buckets[0].Name != "logs-1" {
		t.Errorf("List = %+v, want [logs-1]", list.Buckets)
	}

	dp := r2.BucketDeleteParams{}
	setField(&dp.AccountID, r2Account)
	if _, err := f.buckets.Delete(ctx, "logs-1", dp); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err = f.buckets.Get(ctx, "logs-1", gp)
	r2WantErr(t, err, http.StatusNotFound, 10006)
}

func TestR2ListBucketsCursor(t *testing.T) {
	f := newR2Fixture(t, emulator.Options{})
	for _, n := range []string{"alpha", "bravo", "charlie", "delta", "echo"} {
		f.create(n)
	}
	// Walk all pages of two.
	var all []string
	cursor := ""
	for page := 0; page < 10; page++ {
		p := r2.BucketListParams{}
		setField(&p.AccountID, r2Account)
		setField(&p.PerPage, 2.0)
		if cursor != "" {
			setField(&p.Cursor, cursor)
		}
		names, next := r2ListPage(t, f, p)
		if len(names) > 2 {
			t.Fatalf("page of %d buckets with per_page=2", len(names))
		}
		all = append(all, names...)
		if cursor = next; cursor == "" {
			break
		}
	}
	if diff := cmp.Diff([]string{"alpha", "bravo", "charlie", "delta", "echo"}, all); diff != "" {
		t.Errorf("paged listing (-want +got):\n%s", diff)
	}

	tests := []struct {
		name string
		mod  func(*r2.BucketListParams)
		want []string
	}{
		{"name_contains", func(p *r2.BucketListParams) { setField(&p.NameContains, "ha") }, []string{"alpha", "charlie"}},
		{"start_after", func(p *r2.BucketListParams) { setField(&p.StartAfter, "charlie") }, []string{"delta", "echo"}},
		{"desc", func(p *r2.BucketListParams) {
			setField(&p.Order, r2.BucketListParamsOrderName)
			setField(&p.Direction, r2.BucketListParamsDirectionDesc)
		}, []string{"echo", "delta", "charlie", "bravo", "alpha"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := r2.BucketListParams{}
			setField(&p.AccountID, r2Account)
			tc.mod(&p)
			got, _ := r2ListPage(t, f, p)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestR2BucketErrors(t *testing.T) {
	f := newR2Fixture(t, emulator.Options{})
	ctx := t.Context()
	f.create("taken")
	f.create("full")
	s3Put(t, f.s3, "full", "k", "v")

	newBucket := func(name string, mod func(*r2.BucketNewParams)) error {
		p := r2.BucketNewParams{}
		setField(&p.AccountID, r2Account)
		setField(&p.Name, name)
		if mod != nil {
			mod(&p)
		}
		_, err := f.buckets.New(ctx, p)
		return err
	}
	get := func(name string) error {
		p := r2.BucketGetParams{}
		setField(&p.AccountID, r2Account)
		_, err := f.buckets.Get(ctx, name, p)
		return err
	}
	del := func(name string) error {
		p := r2.BucketDeleteParams{}
		setField(&p.AccountID, r2Account)
		_, err := f.buckets.Delete(ctx, name, p)
		return err
	}
	tests := []struct {
		name   string
		call   func() error
		status int
		code   int64
	}{
		{"name with underscore", func() error { return newBucket("bad_name", nil) }, 400, 10005},
		{"name too short", func() error { return newBucket("ab", nil) }, 400, 10005},
		{"name too long", func() error { return newBucket(strings.Repeat("a", 64), nil) }, 400, 10005},
		{"name ends with dash", func() error { return newBucket("abc-", nil) }, 400, 10005},
		{"name upper case", func() error { return newBucket("Abc", nil) }, 400, 10005},
		{"existing name", func() error { return newBucket("taken", nil) }, 409, 10073},
		{"unknown location hint", func() error {
			return newBucket("fine", func(p *r2.BucketNewParams) { setField(&p.LocationHint, "mars") })
		}, 400, 10040},
		{"unknown storage class", func() error {
			return newBucket("fine", func(p *r2.BucketNewParams) { setField(&p.StorageClass, "Glacier") })
		}, 400, 10040},
		{"unknown jurisdiction", func() error {
			return newBucket("fine", func(p *r2.BucketNewParams) { setField(&p.Jurisdiction, "mars") })
		}, 400, 10040},
		{"get unknown bucket", func() error { return get("nope") }, 404, 10006},
		{"get other account's bucket", func() error {
			p := r2.BucketGetParams{}
			setField(&p.AccountID, "fedcba9876543210fedcba9876543210")
			_, err := f.buckets.Get(ctx, "taken", p)
			return err
		}, 404, 10006},
		{"delete unknown bucket", func() error { return del("nope") }, 404, 10006},
		{"delete non-empty bucket", func() error { return del("full") }, 409, 10008},
		{"per_page above 1000", func() error {
			p := r2.BucketListParams{}
			setField(&p.AccountID, r2Account)
			setField(&p.PerPage, 1001.0)
			_, err := f.buckets.List(ctx, p)
			return err
		}, 400, 10040},
		{"per_page zero", func() error {
			p := r2.BucketListParams{}
			setField(&p.AccountID, r2Account)
			setField(&p.PerPage, 0.0)
			_, err := f.buckets.List(ctx, p)
			return err
		}, 400, 10040},
		{"patch without cf-r2-storage-class", func() error {
			p := r2.BucketEditParams{}
			setField(&p.AccountID, r2Account)
			_, err := f.buckets.Edit(ctx, "taken", p)
			return err
		}, 400, 10040},
		{"patch unknown bucket", func() error {
			p := r2.BucketEditParams{}
			setField(&p.AccountID, r2Account)
			setField(&p.StorageClass, r2.BucketEditParamsCfR2StorageClassStandard)
			_, err := f.buckets.Edit(ctx, "nope", p)
			return err
		}, 404, 10006},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r2WantErr(t, tc.call(), tc.status, tc.code)
		})
	}
	if err := get("full"); err != nil {
		t.Errorf("the non-empty bucket must survive the failed delete: %v", err)
	}
}

func TestR2Jurisdictions(t *testing.T) {
	f := newR2Fixture(t, emulator.Options{})
	ctx := t.Context()
	p := r2.BucketNewParams{}
	setField(&p.AccountID, r2Account)
	setField(&p.Name, "shared-name")
	setField(&p.Jurisdiction, r2.BucketNewParamsCfR2JurisdictionEu)
	eu, err := f.buckets.New(ctx, p)
	if err != nil {
		t.Fatalf("New in eu: %v", err)
	}
	if eu.Jurisdiction != r2.BucketJurisdictionEu {
		t.Errorf("jurisdiction = %q, want eu", eu.Jurisdiction)
	}
	// The same name is free in the default jurisdiction, and the EU bucket is only
	// found with the header.
	gp := r2.BucketGetParams{}
	setField(&gp.AccountID, r2Account)
	_, err = f.buckets.Get(ctx, "shared-name", gp)
	r2WantErr(t, err, 404, 10006)
	f.create("shared-name")
	setField(&gp.Jurisdiction, r2.BucketGetParamsCfR2JurisdictionEu)
	got, err := f.buckets.Get(ctx, "shared-name", gp)
	if err != nil || got.Jurisdiction != r2.BucketJurisdictionEu {
		t.Fatalf("Get with cf-r2-jurisdiction: eu = %+v, %v", got, err)
	}
}

// r2Rule is a lifecycle rule in a comparable form, built into SDK params and read back
// from the SDK's GET result. Zero durations and dates mean "no such transition".
type r2Rule struct {
	ID, Prefix string
	Disabled   bool
	DeleteAge  int64 // seconds
	DeleteDate time.Time
	AbortAge   int64
	IAAge      int64
}

func (rr r2Rule) param() r2.BucketLifecycleUpdateParamsRule {
	var p r2.BucketLifecycleUpdateParamsRule
	setField(&p.ID, rr.ID)
	setField(&p.Enabled, !rr.Disabled)
	var cond r2.BucketLifecycleUpdateParamsRulesConditions
	setField(&cond.Prefix, rr.Prefix)
	setField(&p.Conditions, cond)
	var del r2.BucketLifecycleUpdateParamsRulesDeleteObjectsTransition
	switch {
	case rr.DeleteAge != 0:
		var c r2.BucketLifecycleUpdateParamsRulesDeleteObjectsTransitionConditionR2LifecycleAgeCondition
		setField(&c.Type, "Age")
		setField(&c.MaxAge, rr.DeleteAge)
		setField(&del.Condition, c)
		setField(&p.DeleteObjectsTransition, del)
	case !rr.DeleteDate.IsZero():
		var c r2.BucketLifecycleUpdateParamsRulesDeleteObjectsTransitionConditionR2LifecycleDateCondition
		setField(&c.Type, "Date")
		setField(&c.Date, rr.DeleteDate)
		setField(&del.Condition, c)
		setField(&p.DeleteObjectsTransition, del)
	}
	if rr.AbortAge != 0 {
		var c r2.BucketLifecycleUpdateParamsRulesAbortMultipartUploadsTransitionCondition
		setField(&c.Type, "Age")
		setField(&c.MaxAge, rr.AbortAge)
		var abort r2.BucketLifecycleUpdateParamsRulesAbortMultipartUploadsTransition
		setField(&abort.Condition, c)
		setField(&p.AbortMultipartUploadsTransition, abort)
	}
	if rr.IAAge != 0 {
		var c r2.BucketLifecycleUpdateParamsRulesStorageClassTransitionsConditionR2LifecycleAgeCondition
		setField(&c.Type, "Age")
		setField(&c.MaxAge, rr.IAAge)
		var tr r2.BucketLifecycleUpdateParamsRulesStorageClassTransition
		setField(&tr.Condition, c)
		setField(&tr.StorageClass, "InfrequentAccess")
		setField(&p.StorageClassTransitions, []r2.BucketLifecycleUpdateParamsRulesStorageClassTransition{tr})
	}
	return p
}

func r2RuleOf(g r2.BucketLifecycleGetResponseRule) r2Rule {
	rr := r2Rule{ID: g.ID, Prefix: g.Conditions.Prefix, Disabled: !g.Enabled, AbortAge: g.AbortMultipartUploadsTransition.Condition.MaxAge}
	switch c := g.DeleteObjectsTransition.Condition.AsUnion().(type) {
	case r2.BucketLifecycleGetResponseRulesDeleteObjectsTransitionConditionR2LifecycleAgeCondition:
		rr.DeleteAge = c.MaxAge
	case r2.BucketLifecycleGetResponseRulesDeleteObjectsTransitionConditionR2LifecycleDateCondition:
		rr.DeleteDate = c.Date.UTC()
	}
	for _, tr := range g.StorageClassTransitions {
		rr.IAAge = tr.Condition.MaxAge
	}
	return rr
}

// setLifecycle replaces the bucket's lifecycle rules through the REST API.
func (f *r2Fixture) setLifecycle(bucket string, rules ...r2Rule) error {
	p := r2.BucketLifecycleUpdateParams{}
	setField(&p.AccountID, r2Account)
	ps := []r2.BucketLifecycleUpdateParamsRule{}
	for _, rr := range rules {
		ps = append(ps, rr.param())
	}
	setField(&p.Rules, ps)
	_, err := f.buckets.Lifecycle.Update(f.t.Context(), bucket, p)
	return err
}

func (f *r2Fixture) lifecycle(bucket string) ([]r2Rule, error) {
	p := r2.BucketLifecycleGetParams{}
	setField(&p.AccountID, r2Account)
	res, err := f.buckets.Lifecycle.Get(f.t.Context(), bucket, p)
	if err != nil {
		return nil, err
	}
	out := []r2Rule{}
	for _, g := range res.Rules {
		out = append(out, r2RuleOf(g))
	}
	return out, nil
}

func TestR2LifecycleConfig(t *testing.T) {
	f := newR2Fixture(t, emulator.Options{})
	f.create("life")

	got, err := f.lifecycle("life")
	if err != nil {
		t.Fatalf("Get lifecycle: %v", err)
	}
	def := r2Rule{ID: "Default Multipart Abort Rule", AbortAge: 7 * 24 * 3600}
	if diff := cmp.Diff([]r2Rule{def}, got); diff != "" {
		t.Errorf("a new bucket's lifecycle (-want +got):\n%s", diff)
	}

	rules := []r2Rule{
		def,
		{ID: "expire-tmp", Prefix: "tmp/", DeleteAge: 86400},
		{ID: "expire-2019", Prefix: "2019/", DeleteDate: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)},
		{ID: "cool-logs", Prefix: "logs/", IAAge: 30 * 86400, Disabled: true},
	}
	if err := f.setLifecycle("life", rules...); err != nil {
		t.Fatalf("Update lifecycle: %v", err)
	}
	if got, err = f.lifecycle("life"); err != nil {
		t.Fatalf("Get lifecycle: %v", err)
	}
	if diff := cmp.Diff(rules, got); diff != "" {
		t.Errorf("lifecycle after PUT (-want +got):\n%s", diff)
	}

	many := make([]r2Rule, 1001)
	for i := range many {
		many[i] = r2Rule{ID: fmt.Sprint("r", i), DeleteAge: 60}
	}
	tests := []struct {
		name   string
		bucket string
		rules  []r2Rule
		status int
		code   int64
	}{
		{"maxAge negative", "life", []r2Rule{{ID: "x", DeleteAge: -1}}, 400, 10040},
		{"duplicate ids", "life", []r2Rule{{ID: "x", DeleteAge: 60}, {ID: "x", DeleteAge: 60}}, 400, 10040},
		{"more than 1000 rules", "life", many, 400, 10040},
		{"id longer than 255", "life", []r2Rule{{ID: strings.Repeat("i", 256), DeleteAge: 60}}, 400, 10040},
		{"prefix longer than a key", "life", []r2Rule{{ID: "x", Prefix: strings.Repeat("p/", 513), DeleteAge: 60}}, 400, 10040},
		{"unknown bucket", "nope", []r2Rule{{ID: "x", DeleteAge: 60}}, 404, 10006},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r2WantErr(t, f.setLifecycle(tc.bucket, tc.rules...), tc.status, tc.code)
		})
	}
	_, err = f.lifecycle("nope")
	r2WantErr(t, err, 404, 10006)

	// conditions.prefix is always in the answer (the SDK requires it), "" for the whole
	// bucket, as Cloudflare lists the default rule.
	res, err := f.buckets.Lifecycle.Get(f.t.Context(), "life", func() r2.BucketLifecycleGetParams {
		p := r2.BucketLifecycleGetParams{}
		setField(&p.AccountID, r2Account)
		return p
	}())
	if err != nil {
		t.Fatal(err)
	}
	if raw := res.Rules[0].JSON.RawJSON(); !strings.Contains(raw, `"conditions":{"prefix":""}`) {
		t.Errorf("the default rule's conditions lack prefix: %s", raw)
	}
}

func r2CORSRule(id string, maxAge float64, methods ...string) r2.BucketCORSUpdateParamsRule {
	var allowed r2.BucketCORSUpdateParamsRulesAllowed
	ms := []r2.BucketCORSUpdateParamsRulesAllowedMethod{}
	for _, m := range methods {
		ms = append(ms, r2.BucketCORSUpdateParamsRulesAllowedMethod(m))
	}
	setField(&allowed.Methods, ms)
	setField(&allowed.Origins, []string{"https://app.example.com"})
	setField(&allowed.Headers, []string{"x-requested-with"})
	var rule r2.BucketCORSUpdateParamsRule
	setField(&rule.ID, id)
	setField(&rule.Allowed, allowed)
	setField(&rule.ExposeHeaders, []string{"ETag"})
	setField(&rule.MaxAgeSeconds, maxAge)
	return rule
}

func TestR2CORSConfig(t *testing.T) {
	f := newR2Fixture(t, emulator.Options{})
	f.create("web")
	ctx := t.Context()
	gp := r2.BucketCORSGetParams{}
	setField(&gp.AccountID, r2Account)
	put := func(bucket string, rules ...r2.BucketCORSUpdateParamsRule) error {
		p := r2.BucketCORSUpdateParams{}
		setField(&p.AccountID, r2Account)
		setField(&p.Rules, rules)
		_, err := f.buckets.CORS.Update(ctx, bucket, p)
		return err
	}

	_, err := f.buckets.CORS.Get(ctx, "web", gp)
	r2WantErr(t, err, 404, 10059)

	if err := put("web", r2CORSRule("site", 3600, "GET", "HEAD")); err != nil {
		t.Fatalf("Update CORS: %v", err)
	}
	got, err := f.buckets.CORS.Get(ctx, "web", gp)
	if err != nil {
		t.Fatalf("Get CORS: %v", err)
	}
	type rule struct {
		ID             string
		Methods        []r2.BucketCORSGetResponseRulesAllowedMethod
		Origins        []string
		Headers, Endpt []string
		MaxAge         float64
	}
	var gotRules []rule
	for _, r := range got.Rules {
		gotRules = append(gotRules, rule{r.ID, r.Allowed.Methods, r.Allowed.Origins, r.Allowed.Headers, r.ExposeHeaders, r.MaxAgeSeconds})
	}
	want := []rule{{"site", []r2.BucketCORSGetResponseRulesAllowedMethod{"GET", "HEAD"}, []string{"https://app.example.com"}, []string{"x-requested-with"}, []string{"ETag"}, 3600}}
	if diff := cmp.Diff(want, gotRules); diff != "" {
		t.Errorf("CORS rules (-want +got):\n%s", diff)
	}

	r2WantErr(t, put("web", r2CORSRule("slow", 86401, "GET")), 400, 10040)
	r2WantErr(t, put("web", r2CORSRule("patch", 60, "PATCH")), 400, 10040)
	r2WantErr(t, put("nope", r2CORSRule("site", 60, "GET")), 404, 10006)

	dp := r2.BucketCORSDeleteParams{}
	setField(&dp.AccountID, r2Account)
	if _, err := f.buckets.CORS.Delete(ctx, "web", dp); err != nil {
		t.Fatalf("Delete CORS: %v", err)
	}
	_, err = f.buckets.CORS.Get(ctx, "web", gp)
	r2WantErr(t, err, 404, 10059)
}

// r2Lock is a bucket lock rule: maxAge seconds, or until date, or indefinite.
type r2Lock struct {
	ID, Prefix string
	MaxAge     int64
	Date       time.Time
	Indefinite bool
}

func (l r2Lock) param() r2.BucketLockUpdateParamsRule {
	var p r2.BucketLockUpdateParamsRule
	setField(&p.ID, l.ID)
	setField(&p.Enabled, true)
	setField(&p.Prefix, l.Prefix)
	switch {
	case l.Indefinite:
		var c r2.BucketLockUpdateParamsRulesConditionR2LockRuleIndefiniteCondition
		setField(&c.Type, "Indefinite")
		setField(&p.Condition, c)
	case !l.Date.IsZero():
		var c r2.BucketLockUpdateParamsRulesConditionR2LockRuleDateCondition
		setField(&c.Type, "Date")
		setField(&c.Date, l.Date)
		setField(&p.Condition, c)
	default:
		var c r2.BucketLockUpdateParamsRulesConditionR2LockRuleAgeCondition
		setField(&c.Type, "Age")
		setField(&c.MaxAgeSeconds, l.MaxAge)
		setField(&p.Condition, c)
	}
	return p
}

func (f *r2Fixture) setLocks(bucket string, locks ...r2Lock) error {
	p := r2.BucketLockUpdateParams{}
	setField(&p.AccountID, r2Account)
	ps := []r2.BucketLockUpdateParamsRule{}
	for _, l := range locks {
		ps = append(ps, l.param())
	}
	setField(&p.Rules, ps)
	_, err := f.buckets.Locks.Update(f.t.Context(), bucket, p)
	return err
}

func TestR2LockConfig(t *testing.T) {
	f := newR2Fixture(t, emulator.Options{})
	f.create("vault")
	gp := r2.BucketLockGetParams{}
	setField(&gp.AccountID, r2Account)
	get := func() []r2Lock {
		t.Helper()
		res, err := f.buckets.Locks.Get(t.Context(), "vault", gp)
		if err != nil {
			t.Fatalf("Get locks: %v", err)
		}
		out := []r2Lock{}
		for _, r := range res.Rules {
			l := r2Lock{ID: r.ID, Prefix: r.Prefix}
			switch c := r.Condition.AsUnion().(type) {
			case r2.BucketLockGetResponseRulesConditionR2LockRuleAgeCondition:
				l.MaxAge = c.MaxAgeSeconds
			case r2.BucketLockGetResponseRulesConditionR2LockRuleDateCondition:
				l.Date = c.Date.UTC()
			case r2.BucketLockGetResponseRulesConditionR2LockRuleIndefiniteCondition:
				l.Indefinite = true
			}
			out = append(out, l)
		}
		return out
	}
	if diff := cmp.Diff([]r2Lock{}, get()); diff != "" {
		t.Errorf("a new bucket's locks (-want +got):\n%s", diff)
	}
	locks := []r2Lock{
		{ID: "logs-7d", Prefix: "logs/", MaxAge: 7 * 86400},
		{ID: "until-2030", Prefix: "audit/", Date: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)},
		{ID: "forever", Prefix: "images/", Indefinite: true},
	}
	if err := f.setLocks("vault", locks...); err != nil {
		t.Fatalf("Update locks: %v", err)
	}
	if diff := cmp.Diff(locks, get()); diff != "" {
		t.Errorf("locks after PUT (-want +got):\n%s", diff)
	}
	r2WantErr(t, f.setLocks("vault", r2Lock{ID: "bad", MaxAge: -5}), 400, 10040)
	r2WantErr(t, f.setLocks("vault", r2Lock{ID: "a", MaxAge: 5}, r2Lock{ID: "a", MaxAge: 5}), 400, 10040)
	r2WantErr(t, f.setLocks("nope", r2Lock{ID: "a", MaxAge: 5}), 404, 10006)
}

// TestR2LifecycleExpiry checks that lifecycle rules delete objects once the emulator
// clock passes their expiry (Advance runs the sweep), and only under their prefix.
func TestR2LifecycleExpiry(t *testing.T) {
	f := newR2Fixture(t, emulator.Options{})
	f.create("exp")
	day := int64(24 * 3600)
	deadline := f.srv.Now().Add(48 * time.Hour).Truncate(time.Second)
	err := f.setLifecycle("exp",
		r2Rule{ID: "tmp-1d", Prefix: "tmp/", DeleteAge: day},
		r2Rule{ID: "old-by-date", Prefix: "old/", DeleteDate: deadline},
		r2Rule{ID: "off", Prefix: "keep/", DeleteAge: 1, Disabled: true},
		r2Rule{ID: "cool", Prefix: "logs/", IAAge: 2 * day},
	)
	if err != nil {
		t.Fatalf("Update lifecycle: %v", err)
	}
	for _, k := range []string{"tmp/a", "old/b", "keep/c", "logs/d"} {
		s3Put(t, f.s3, "exp", k, k)
	}
	head, err := f.s3.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String("exp"), Key: aws.String("tmp/a")})
	if err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	if exp := aws.ToString(head.Expiration); !strings.Contains(exp, `rule-id="tmp-1d"`) {
		t.Errorf("x-amz-expiration = %q, want the tmp-1d rule", exp)
	}

	steps := []struct {
		advance time.Duration
		want    []string
	}{
		{time.Hour, []string{"keep/c", "logs/d", "old/b", "tmp/a"}},
		{25 * time.Hour, []string{"keep/c", "logs/d", "old/b"}},
		{24 * time.Hour, []string{"keep/c", "logs/d"}},
	}
	for _, st := range steps {
		f.srv.Advance(st.advance)
		if diff := cmp.Diff(st.want, s3Keys(t, f.s3, "exp", "")); diff != "" {
			t.Errorf("after %v more: keys (-want +got):\n%s", st.advance, diff)
		}
	}
	head, err = f.s3.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String("exp"), Key: aws.String("logs/d")})
	if err != nil || head.StorageClass != types.StorageClassStandardIa {
		t.Errorf("logs/d after the transition age: storage class %q, %v; want STANDARD_IA", head.StorageClass, err)
	}
}

// r2Clock is a settable base clock, to move time without Advance (and so without the
// sweep Advance triggers).
type r2Clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *r2Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *r2Clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// TestR2LifecycleLazySweep checks that S3 reads apply expiry themselves, even when no
// clock tick ran the sweep.
func TestR2LifecycleLazySweep(t *testing.T) {
	clock := &r2Clock{now: time.Now()}
	f := newR2Fixture(t, emulator.Options{Now: clock.Now})
	f.create("lazy")
	if err := f.setLifecycle("lazy", r2Rule{ID: "all-1h", DeleteAge: 3600}); err != nil {
		t.Fatalf("Update lifecycle: %v", err)
	}
	s3Put(t, f.s3, "lazy", "k", "v")
	clock.Add(2 * time.Hour)
	_, err := f.s3.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("lazy"), Key: aws.String("k")})
	s3WantErr(t, err, 404, "NoSuchKey")
	if diff := cmp.Diff([]string{}, s3Keys(t, f.s3, "lazy", "")); diff != "" {
		t.Errorf("keys after expiry (-want +got):\n%s", diff)
	}
}

// TestR2DefaultRuleAbortsUploads checks the default rule: incomplete multipart uploads
// are aborted 7 days after initiation.
func TestR2DefaultRuleAbortsUploads(t *testing.T) {
	f := newR2Fixture(t, emulator.Options{})
	f.create("mpu")
	up, err := f.s3.CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("k")})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	list := func() error {
		_, err := f.s3.ListParts(t.Context(), &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("k"), UploadId: up.UploadId})
		return err
	}
	f.srv.Advance(6 * 24 * time.Hour)
	if err := list(); err != nil {
		t.Fatalf("ListParts after 6 days: %v", err)
	}
	f.srv.Advance(25 * time.Hour)
	s3WantErr(t, list(), 404, "NoSuchUpload")
}

// TestR2BucketLockEnforced checks that bucket lock rules block S3 overwrites and
// deletes of matching objects (403 ObjectLockedByBucketPolicy), win over lifecycle
// deletion, and stop applying when their retention ends.
func TestR2BucketLockEnforced(t *testing.T) {
	f := newR2Fixture(t, emulator.Options{})
	ctx := t.Context()
	f.create("vault")
	for _, k := range []string{"locked/a", "free/b", "forever/c"} {
		s3Put(t, f.s3, "vault", k, k)
	}
	if err := f.setLocks("vault", r2Lock{ID: "hold-1h", Prefix: "locked/", MaxAge: 3600}, r2Lock{ID: "legal", Prefix: "forever/", Indefinite: true}); err != nil {
		t.Fatalf("Update locks: %v", err)
	}
	if err := f.setLifecycle("vault", r2Rule{ID: "sweep-all", DeleteAge: 60}); err != nil {
		t.Fatalf("Update lifecycle: %v", err)
	}
	b := aws.String("vault")
	tests := []struct {
		name string
		call func() error
	}{
		{"overwrite", func() error {
			_, err := f.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("locked/a"), Body: strings.NewReader("new")})
			return err
		}},
		{"delete", func() error {
			_, err := f.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("locked/a")})
			return err
		}},
		{"copy onto", func() error {
			_, err := f.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("locked/a"), CopySource: aws.String("vault/free/b")})
			return err
		}},
		{"delete indefinitely locked", func() error {
			_, err := f.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("forever/c")})
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { s3WantErr(t, tc.call(), 403, "ObjectLockedByBucketPolicy") })
	}
	// Locks do not block new keys under their prefix.
	s3Put(t, f.s3, "vault", "locked/new", "n")

	out, err := f.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: b, Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("locked/a")}, {Key: aws.String("free/b")}}}})
	if err != nil {
		t.Fatalf("DeleteObjects: %v", err)
	}
	if len(out.Deleted) != 1 || aws.ToString(out.Deleted[0].Key) != "free/b" ||
		len(out.Errors) != 1 || aws.ToString(out.Errors[0].Code) != "ObjectLockedByBucketPolicy" {
		t.Errorf("DeleteObjects: deleted %v, errors %v; want free/b deleted and locked/a refused", out.Deleted, out.Errors)
	}

	// Lifecycle (60 s) cannot delete what the lock (1 h) retains...
	f.srv.Advance(30 * time.Minute)
	if diff := cmp.Diff([]string{"forever/c", "locked/a", "locked/new"}, s3Keys(t, f.s3, "vault", "")); diff != "" {
		t.Errorf("keys while locked (-want +got):\n%s", diff)
	}
	// ...and deletes it once the retention has passed; the indefinite lock holds.
	f.srv.Advance(2 * time.Hour)
	if diff := cmp.Diff([]string{"forever/c"}, s3Keys(t, f.s3, "vault", "")); diff != "" {
		t.Errorf("keys after the retention (-want +got):\n%s", diff)
	}
}
