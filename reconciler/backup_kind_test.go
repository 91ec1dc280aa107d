package reconciler

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/monotask/flareops/reconciler/backup"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

const testRecipient = "age1905z8n4jahl7a5t47z4prx5v77e9rj4a8xs76a4gmr2l7z27sdqslkgp4h"

func backupValues() Values {
	return Values{"d1_database": "monotask-tasks", "schedule": "0 2 * * *", "bucket": "monotask-backups", "prefix": "d1/tasks",
		"encrypt_to": []string{testRecipient}, "rpo": int64(24 * 3600), "rto": int64(3600),
		"retention": []Values{{"daily": int64(30 * 86400), "weekly": int64(90 * 86400), "monthly": int64(365 * 86400)}}}
}

// The contract with `flareops backup`: the desired object's Private is the backup.Job.
func TestBackupBuildJob(t *testing.T) {
	obj, err := BackupKind{}.Build(backupValues())
	if err != nil {
		t.Fatal(err)
	}
	want := backup.Job{
		Source: backup.Source{Kind: backup.SourceD1, Name: "monotask-tasks"}, Schedule: "0 2 * * *", Bucket: "monotask-backups", Prefix: "d1/tasks",
		Retention:  backup.Retention{Daily: 30 * 24 * time.Hour, Weekly: 90 * 24 * time.Hour, Monthly: 365 * 24 * time.Hour},
		Recipients: []string{testRecipient}, RPO: 24 * time.Hour, RTO: time.Hour,
	}
	if diff := cmp.Diff(want, obj.Private); diff != "" {
		t.Errorf("Private (-want +got):\n%s", diff)
	}
	v := backupValues()
	v["schedule"] = "0  2 * * *"
	if _, err := (BackupKind{}).Build(v); err == nil || !strings.Contains(err.Error(), `"0 2 * * *"`) {
		t.Errorf("a schedule with two spaces: %v, want the canonical spelling suggested", err)
	}
	if obj.Key != "d1/tasks" {
		t.Errorf("key %q, want the prefix", obj.Key)
	}
	if got := (BackupKind{}).Flatten(obj.Spec); !cmp.Equal(got["retention"], backupValues()["retention"]) || got["schedule"] != "0 2 * * *" {
		t.Errorf("Flatten = %v", got)
	}
}

func TestBackupRulePrefix(t *testing.T) {
	for id, want := range map[string]string{
		"flareops-backup:d1/tasks:daily":  "d1/tasks",
		"flareops-backup:a:b:monthly":     "a:b",
		"flareops-backup:d1/tasks:hourly": "",
		"flareops-backup::daily":          "",
		"Default Multipart Abort Rule":    "",
		"flareops-backupx:d1/tasks:daily": "",
	} {
		got, ok := backupRulePrefix(id)
		if got != want || ok != (want != "") {
			t.Errorf("backupRulePrefix(%q) = %q, %v; want %q", id, got, ok, want)
		}
	}
}

func TestOverlapping(t *testing.T) {
	day := 24 * time.Hour
	rules := []cloudflare.LifecycleRule{
		{ID: "Default Multipart Abort Rule", Enabled: true, AbortUploadsAfter: 7 * day},                                // aborts only
		{ID: "to-ia", Enabled: true, Prefix: "", Transitions: 1},                                                       // storage class only
		{ID: "off", Enabled: false, Prefix: "", DeleteAfter: day},                                                      // disabled
		{ID: "logs", Enabled: true, Prefix: "logs/", DeleteAfter: day},                                                 // elsewhere
		{ID: "d1-all", Enabled: true, Prefix: "d1/", DeleteAfter: 7 * day},                                             // covers the tiers
		{ID: "inside", Enabled: true, Prefix: "d1/tasks/weekly/2026", DeleteAfter: day},                                // inside a tier
		{ID: "drills", Enabled: true, Prefix: "d1/tasks/drills/", DeleteAfter: day},                                    // not a tier
		{ID: "flareops-backup:d1/tasks:daily", Enabled: true, Prefix: "d1/tasks/daily/", DeleteAfter: 30 * day},        // its own
		{ID: "flareops-backup:d1:daily", Enabled: true, Prefix: "d1/daily/", DeleteAfter: 30 * day},                    // another backup's, elsewhere
		{ID: "flareops-backup:d1/tasks/daily:daily", Enabled: true, Prefix: "d1/tasks/daily/daily/", DeleteAfter: day}, // another backup's, inside
	}
	var got []string
	for _, r := range overlapping(rules, "d1/tasks") {
		got = append(got, r.ID)
	}
	if diff := cmp.Diff([]string{"d1-all", "inside", "flareops-backup:d1/tasks/daily:daily"}, got); diff != "" {
		t.Errorf("overlapping (-want +got):\n%s", diff)
	}
}

// fakeBuckets is an in-memory BackupAPI: the merge logic without HTTP (the HTTP paths are
// tested against the emulator in reconciler/cli and provider).
type fakeBuckets struct {
	rules map[string][]cloudflare.LifecycleRule
	puts  int
}

func (f *fakeBuckets) ListR2Buckets(context.Context) ([]cloudflare.R2Bucket, error) {
	var out []cloudflare.R2Bucket
	for _, b := range sortedKeys(f.rules) {
		out = append(out, cloudflare.R2Bucket{Name: b})
	}
	return out, nil
}
func (f *fakeBuckets) R2Bucket(_ context.Context, name string) (cloudflare.R2Bucket, bool, error) {
	_, ok := f.rules[name]
	return cloudflare.R2Bucket{Name: name}, ok, nil
}
func (f *fakeBuckets) CreateR2Bucket(_ context.Context, name string) (cloudflare.R2Bucket, error) {
	f.rules[name] = []cloudflare.LifecycleRule{}
	return cloudflare.R2Bucket{Name: name}, nil
}
func (f *fakeBuckets) R2Lifecycle(_ context.Context, b string) ([]cloudflare.LifecycleRule, error) {
	r, ok := f.rules[b]
	if !ok {
		return nil, &cloudflare.APIError{Status: 404}
	}
	return append([]cloudflare.LifecycleRule(nil), r...), nil
}
func (f *fakeBuckets) PutR2Lifecycle(_ context.Context, b string, rules []cloudflare.LifecycleRule) error {
	f.puts++
	f.rules[b] = rules
	return nil
}
func (f *fakeBuckets) ListKVNamespaces(context.Context) ([]cloudflare.KVNamespace, error) {
	return nil, nil
}

func TestBackupCreateUpdateDeleteKeepForeignRules(t *testing.T) {
	foreign := []cloudflare.LifecycleRule{
		{ID: "Default Multipart Abort Rule", Enabled: true, AbortUploadsAfter: 7 * 24 * time.Hour, Raw: []byte(`{"id":"Default Multipart Abort Rule"}`)},
		{ID: "logs", Enabled: true, Prefix: "logs/", DeleteAfter: 24 * time.Hour, Raw: []byte(`{"id":"logs"}`)},
	}
	api := &fakeBuckets{rules: map[string][]cloudflare.LifecycleRule{}}
	k := NewBackupKind(api, nil)
	ctx := context.Background()
	obj, err := k.Build(backupValues())
	if err != nil {
		t.Fatal(err)
	}
	// The bucket is missing: Create makes it, then writes the three rules.
	if _, err := k.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	if n := len(api.rules["monotask-backups"]); n != 3 {
		t.Fatalf("after create: %d rules, want 3", n)
	}
	api.rules["monotask-backups"] = append(append([]cloudflare.LifecycleRule{}, foreign...), api.rules["monotask-backups"]...)

	// Update: a shorter daily tier. The foreign rules stay first, as they were.
	want := obj.Spec.(BackupSpec)
	want.Retention.Daily = 7 * 86400
	if err := k.Update(ctx, "d1/tasks", obj, Object{Key: "d1/tasks", Spec: want}); err != nil {
		t.Fatal(err)
	}
	got := api.rules["monotask-backups"]
	if diff := cmp.Diff(foreign, got[:2]); diff != "" {
		t.Errorf("foreign rules after update (-want +got):\n%s", diff)
	}
	if got[2].ID != "flareops-backup:d1/tasks:daily" || got[2].DeleteAfter != 7*24*time.Hour || got[2].Prefix != "d1/tasks/daily/" {
		t.Errorf("daily rule after update: %+v", got[2])
	}
	// An unchanged list is not written again.
	puts := api.puts
	if err := k.writeRules(ctx, "monotask-backups", "d1/tasks", want.Retention); err != nil || api.puts != puts {
		t.Errorf("rewriting the same rules: %v, %d writes, want none", err, api.puts-puts)
	}
	// A foreign rule that would delete the backups refuses the write, which changes nothing.
	api.rules["monotask-backups"] = append(api.rules["monotask-backups"], cloudflare.LifecycleRule{ID: "purge", Enabled: true, DeleteAfter: 24 * time.Hour})
	err = k.Update(ctx, "d1/tasks", Object{Spec: want}, obj)
	if err == nil || MayHaveApplied(err) || !strings.Contains(err.Error(), `lifecycle rule "purge"`) || api.puts != puts {
		t.Errorf("update over a purging rule: %v (%d writes), want a refusal naming it and no write", err, api.puts-puts)
	}
	api.rules["monotask-backups"] = api.rules["monotask-backups"][:len(api.rules["monotask-backups"])-1]

	// Delete takes off only the backup's rules.
	if err := k.Delete(ctx, "d1/tasks", Object{Spec: want}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(foreign, api.rules["monotask-backups"]); diff != "" {
		t.Errorf("after delete (-want +got):\n%s", diff)
	}
	// Deleting what is gone is success, also when the bucket is gone.
	delete(api.rules, "monotask-backups")
	if err := k.Delete(ctx, "d1/tasks", Object{Spec: want}); err != nil {
		t.Errorf("delete with the bucket gone: %v", err)
	}
}

func TestBackupImpact(t *testing.T) {
	obj, err := BackupKind{}.Build(backupValues())
	if err != nil {
		t.Fatal(err)
	}
	s := obj.Spec.(BackupSpec)
	for _, f := range Diff(nil, s) {
		if f.Path == "retention.daily" {
			got := BackupKind{}.Impact(Create, f, nil, s)
			if !strings.HasPrefix(got, "d1/tasks/daily/ objects expire after 30 days") {
				t.Errorf("impact of retention.daily = %q", got)
			}
		}
	}
	del := BackupKind{}.Impact(Delete, FieldChange{Field: "prefix", Path: "prefix"}, s, nil)
	if !strings.Contains(del, "the bucket is kept") || !strings.Contains(del, "no longer expire") {
		t.Errorf("delete impact = %q", del)
	}
}
