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

func TestR2BucketsListGetCreate(t *testing.T) {
	c, _ := workersEmulator(t, emulator.Options{RateLimit: 1_000_000})
	ctx := context.Background()
	got, err := c.ListR2Buckets(ctx)
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("empty account: %#v, %v; want an empty list", got, err)
	}
	var want []string
	for i := 0; i < 1003; i++ {
		name := fmt.Sprintf("bucket-%04d", i)
		b, err := c.CreateR2Bucket(ctx, name)
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		if b.Name != name || b.StorageClass != "Standard" || b.Location == "" || b.Created == "" {
			t.Fatalf("create answer %+v", b)
		}
		want = append(want, name)
	}
	var list []R2Bucket
	if n := countRequests(t, c, func() (err error) { list, err = c.ListR2Buckets(ctx); return err }); n != 2 {
		t.Errorf("ListR2Buckets of 1003 sent %d requests, want 2", n)
	}
	names := make([]string, 0, len(list))
	for _, b := range list {
		names = append(names, b.Name)
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("bucket names (-want +got):\n%s", diff)
	}

	b, found, err := c.R2Bucket(ctx, "bucket-0007")
	if err != nil || !found || b.Name != "bucket-0007" || b.Jurisdiction != "default" {
		t.Errorf("R2Bucket(bucket-0007) = %+v, %v, %v", b, found, err)
	}
	if _, found, err := c.R2Bucket(ctx, "no-such-bucket"); err != nil || found {
		t.Errorf("R2Bucket(no-such-bucket) = found %v, %v; want not found and no error", found, err)
	}
	_, err = c.CreateR2Bucket(ctx, "bucket-0001")
	if !IsR2BucketTaken(err) || MayHaveApplied(err) || !strings.Contains(err.Error(), `cannot create R2 bucket "bucket-0001"`) {
		t.Errorf("taken name: %v, want IsR2BucketTaken naming the operation", err)
	}
	if _, err = c.CreateR2Bucket(ctx, "Not_A_Bucket"); err == nil || MayHaveApplied(err) {
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

func TestR2LifecycleKeepsForeignRulesByteForByte(t *testing.T) {
	c, _ := workersEmulator(t, emulator.Options{})
	ctx := context.Background()
	createBucket(t, c, "backups")
	var foreign []json.RawMessage
	if err := json.Unmarshal([]byte(foreignRules), &foreign); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Raw().Do(ctx, http.MethodPut, "accounts/"+c.AccountID()+"/r2/buckets/backups/lifecycle", nil, map[string]any{"rules": foreign}, nil); err != nil {
		t.Fatal(err)
	}
	before := rawLifecycle(t, c, "backups")

	rules, err := c.R2Lifecycle(ctx, "backups")
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
	if err := c.PutR2Lifecycle(ctx, "backups", append(rules, ours)); err != nil {
		t.Fatal(err)
	}
	after := rawLifecycle(t, c, "backups")
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
	if err := c.PutR2Lifecycle(ctx, "backups", []LifecycleRule{bad}); err == nil || MayHaveApplied(err) || !strings.Contains(err.Error(), "rules[0].id") {
		t.Errorf("rule id of 256 characters: %v, want a refusal naming rules[0].id", err)
	}
	if _, err := c.R2Lifecycle(ctx, "no-such-bucket"); !IsNotFound(err) {
		t.Errorf("lifecycle of a missing bucket: %v, want a 404", err)
	}
}
