package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/emulator"
)

// TestConformanceR2BucketsListGetCreate: buckets are listed 1,000 per request, sorted by
// name (1,003 on the emulator; live, 8 of the test's own among the account's), read one
// by one, and a taken or invalid name is a definite refusal.
func TestConformanceR2BucketsListGetCreate(t *testing.T) {
	a := newConformanceAccountConfig(t, emulator.Options{RateLimit: 1_000_000}, Config{MaxRetries: -1})
	c := a.c
	ctx := context.Background()
	got, err := c.ListR2Buckets(ctx)
	if err != nil || got == nil || (!a.live() && len(got) != 0) {
		t.Fatalf("empty account: %#v, %v; want an empty list", got, err)
	}
	before := len(got)
	n := 1003
	if a.live() {
		n = 8
	}
	var want []string
	for i := 0; i < n; i++ {
		name := a.name(fmt.Sprintf("bucket-%04d", i))
		b, err := c.CreateR2Bucket(ctx, name)
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		a.removeBucket(t, name)
		if b.Name != name || b.StorageClass != "Standard" || b.Location == "" || b.Created == "" {
			t.Fatalf("create answer %+v", b)
		}
		want = append(want, name)
	}
	var list []R2Bucket
	pages := int64((before+n)/r2BucketPageSize + 1) // a full last page costs an empty one after it
	if k := countRequests(t, c, func() (err error) { list, err = c.ListR2Buckets(ctx); return err }); k != pages {
		t.Errorf("ListR2Buckets of %d sent %d requests, want %d", before+n, k, pages)
	}
	if len(list) != before+n {
		t.Errorf("%d buckets listed, want %d", len(list), before+n)
	}
	names := make([]string, 0, len(list))
	for _, b := range mine(a, list, func(b R2Bucket) bool { return a.ours(b.Name) }) {
		names = append(names, b.Name)
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("bucket names (-want +got):\n%s", diff)
	}

	b, found, err := c.R2Bucket(ctx, a.name("bucket-0007"))
	if err != nil || !found || b.Name != a.name("bucket-0007") || b.Jurisdiction != "default" {
		t.Errorf("R2Bucket(bucket-0007) = %+v, %v, %v", b, found, err)
	}
	if _, found, err := c.R2Bucket(ctx, a.name("no-such-bucket")); err != nil || found {
		t.Errorf("R2Bucket(no-such-bucket) = found %v, %v; want not found and no error", found, err)
	}
	taken := a.name("bucket-0001")
	_, err = c.CreateR2Bucket(ctx, taken)
	if !IsR2BucketTaken(err) || MayHaveApplied(err) || !strings.Contains(err.Error(), fmt.Sprintf("cannot create R2 bucket %q", taken)) {
		t.Errorf("taken name: %v, want IsR2BucketTaken naming the operation", err)
	}
	if _, err = c.CreateR2Bucket(ctx, a.name("Not_A_Bucket")); err == nil || MayHaveApplied(err) {
		a.removeBucket(t, a.name("Not_A_Bucket"))
		t.Errorf("invalid name: %v, want a definite refusal", err)
	}
}

// foreignRules are rules someone else set on a bucket, with fields flareops never writes
// (storage class transitions, a date condition).
const foreignRules = `[
 {"id":"Default Multipart Abort Rule","enabled":true,"conditions":{"prefix":""},"abortMultipartUploadsTransition":{"condition":{"type":"Age","maxAge":604800}}},
 {"id":"logs-expire","enabled":true,"conditions":{"prefix":"logs/"},"deleteObjectsTransition":{"condition":{"type":"Age","maxAge":1209600}},"storageClassTransitions":[{"condition":{"type":"Age","maxAge":259200},"storageClass":"InfrequentAccess"}]},
 {"id":"tmp-until","enabled":false,"conditions":{"prefix":"tmp/"},"deleteObjectsTransition":{"condition":{"type":"Date","date":"2027-01-01T00:00:00Z"}}}
]`

func rawLifecycle(t *testing.T, c *Client, bucket string) []map[string]any {
	t.Helper()
	var out struct {
		Rules []map[string]any `json:"rules"`
	}
	if _, err := c.Raw().Do(context.Background(), http.MethodGet, "accounts/"+c.AccountID()+"/r2/buckets/"+bucket+"/lifecycle", nil, nil, &out); err != nil {
		t.Fatal(err)
	}
	return out.Rules
}

// TestConformanceR2LifecycleKeepsForeignRulesByteForByte: rules someone else set are read
// into LifecycleRule and written back unchanged beside ours; a bad list is refused.
func TestConformanceR2LifecycleKeepsForeignRulesByteForByte(t *testing.T) {
	a := newConformanceAccountConfig(t, emulator.Options{}, Config{MaxRetries: -1})
	c := a.c
	ctx := context.Background()
	backups := a.bucket(t, "backups")
	var foreign []json.RawMessage
	if err := json.Unmarshal([]byte(foreignRules), &foreign); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Raw().Do(ctx, http.MethodPut, "accounts/"+c.AccountID()+"/r2/buckets/"+backups+"/lifecycle", nil, map[string]any{"rules": foreign}, nil); err != nil {
		t.Fatal(err)
	}
	before := rawLifecycle(t, c, backups)

	rules, err := c.R2Lifecycle(ctx, backups)
	if err != nil {
		t.Fatal(err)
	}
	wantTyped := []LifecycleRule{
		{ID: "Default Multipart Abort Rule", Enabled: true, AbortUploadsAfter: 7 * 24 * time.Hour},
		{ID: "logs-expire", Enabled: true, Prefix: "logs/", DeleteAfter: 14 * 24 * time.Hour, Transitions: 1},
		{ID: "tmp-until", Prefix: "tmp/", DeleteOn: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	if diff := cmp.Diff(wantTyped, rules, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Raw" }, cmp.Ignore())); diff != "" {
		t.Errorf("typed rules (-want +got):\n%s", diff)
	}
	if !rules[1].Deletes() || rules[0].Deletes() {
		t.Errorf("Deletes: logs-expire %v, default %v; want true, false", rules[1].Deletes(), rules[0].Deletes())
	}

	ours := LifecycleRule{ID: "flareops-backup:d1/tasks:daily", Enabled: true, Prefix: "d1/tasks/daily/", DeleteAfter: 30 * 24 * time.Hour}
	if err := c.PutR2Lifecycle(ctx, backups, append(rules, ours)); err != nil {
		t.Fatal(err)
	}
	after := rawLifecycle(t, c, backups)
	if len(after) != 4 {
		t.Fatalf("after the write: %d rules, want 4: %v", len(after), after)
	}
	if diff := cmp.Diff(before, after[:3]); diff != "" {
		t.Errorf("foreign rules changed by the rewrite (-before +after):\n%s", diff)
	}
	wantOurs := map[string]any{"id": "flareops-backup:d1/tasks:daily", "enabled": true, "conditions": map[string]any{"prefix": "d1/tasks/daily/"},
		"deleteObjectsTransition": map[string]any{"condition": map[string]any{"type": "Age", "maxAge": float64(30 * 24 * 3600)}}}
	if diff := cmp.Diff(wantOurs, after[3]); diff != "" {
		t.Errorf("our rule (-want +got):\n%s", diff)
	}

	// Cloudflare's answer to a bad list is a definite refusal that names the rule.
	bad := LifecycleRule{ID: strings.Repeat("x", 256), Enabled: true, DeleteAfter: time.Hour}
	if err := c.PutR2Lifecycle(ctx, backups, []LifecycleRule{bad}); err == nil || MayHaveApplied(err) || !strings.Contains(err.Error(), "rules[0].id") {
		t.Errorf("rule id of 256 characters: %v, want a refusal naming rules[0].id", err)
	}
	if _, err := c.R2Lifecycle(ctx, a.name("no-such-bucket")); !IsNotFound(err) {
		t.Errorf("lifecycle of a missing bucket: %v, want a 404", err)
	}
}
