package cloudflare

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/monotask/flareops/emulator"
)

// r2Conformance is an R2 object client and a REST client on one account, with a bucket
// made through the REST API as flareops makes buckets (a.name(base); removed, emptied,
// at the end). On the emulator its write rate per key is not R2's (one per second): these
// tests are about conditions and round trips; TestR2SlowDown is about the rate. Live,
// the S3 client retries R2's 429s; without R2's S3 credentials the test skips.
func r2Conformance(t *testing.T, base string) (*conformanceAccount, *R2, string) {
	t.Helper()
	a := newConformanceAccountConfig(t, emulator.Options{KeyWriteInterval: time.Nanosecond}, Config{MaxRetries: -1})
	r := a.r2(t)
	return a, r, a.bucket(t, base)
}

// r2EmulatorWith is an R2 object client and a REST client on the emulator, with a bucket.
func r2EmulatorWith(t *testing.T, bucket string, opts emulator.Options) (*R2, *Client, *emulator.Server) {
	t.Helper()
	c, srv := workersEmulator(t, opts)
	if _, err := c.CreateR2Bucket(context.Background(), bucket); err != nil {
		t.Fatal(err)
	}
	root := strings.TrimSuffix(c.baseURL, "/client/v4")
	r, err := NewR2(R2Config{Endpoint: root, AccessKeyID: "k", SecretAccessKey: "s", MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return r, c, srv
}

// A second write to one key within a second is R2's 429, ErrSlowDown, and with
// NoSlowDownRetry it comes back at once (one request) instead of after the SDK's backoff.
// Emulator only: it counts the requests the emulator received.
func TestR2SlowDown(t *testing.T) {
	emulatorOnly(t, "it counts the S3 requests the emulator received")
	r, _, srv := r2EmulatorWith(t, "state", emulator.Options{})
	slow, err := NewR2(R2Config{Endpoint: r.Endpoint(), AccessKeyID: "k", SecretAccessKey: "s", NoSlowDownRetry: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := slow.Put(t.Context(), "state", "s.json", []byte("1"), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	srv.ResetCounts()
	_, err = slow.Put(t.Context(), "state", "s.json", []byte("2"), PutOptions{})
	if !errors.Is(err, ErrSlowDown) {
		t.Fatalf("second write within a second = %v, want ErrSlowDown", err)
	}
	if n := srv.Counts().ByRoute["S3 PUT"]; n != 1 {
		t.Errorf("the refused write was sent %d times, want once (no SDK retry)", n)
	}
}

// TestConformanceR2ObjectsRoundTripAndConditions: create-once and compare-and-swap writes
// (the state lock), reads, heads, a bounded read, listing by prefix, idempotent deletes.
func TestConformanceR2ObjectsRoundTripAndConditions(t *testing.T) {
	a, r, state := r2Conformance(t, "state")
	ctx := t.Context()

	first, err := r.Put(ctx, state, "lock", []byte("one"), PutOptions{IfNoneMatch: "*", Metadata: map[string]string{"holder": "ci"}})
	if err != nil {
		t.Fatalf("first create-once write: %v", err)
	}
	if _, err := r.Put(ctx, state, "lock", []byte("two"), PutOptions{IfNoneMatch: "*"}); !errors.Is(err, ErrPreconditionFailed) {
		t.Fatalf("second create-once write = %v, want ErrPreconditionFailed", err)
	}
	if _, err := r.Put(ctx, state, "lock", []byte("two"), PutOptions{IfMatch: `"not-the-etag"`}); !errors.Is(err, ErrPreconditionFailed) {
		t.Fatalf("compare-and-swap with a stale ETag = %v, want ErrPreconditionFailed", err)
	}
	if _, err := r.Put(ctx, state, "lock", []byte("three"), PutOptions{IfMatch: first.ETag}); err != nil {
		t.Fatalf("compare-and-swap with the current ETag: %v", err)
	}
	b, obj, err := r.GetBytes(ctx, state, "lock", 1<<10)
	if err != nil || string(b) != "three" {
		t.Fatalf("GetBytes = %q, %v; want three", b, err)
	}
	if obj.ETag == first.ETag {
		t.Errorf("ETag did not change with the content: %s", obj.ETag)
	}
	head, err := r.Head(ctx, state, "lock")
	if err != nil || head.ETag != obj.ETag || head.Size != 5 {
		t.Errorf("Head = %+v, %v; want ETag %s and size 5", head, err, obj.ETag)
	}
	if _, _, err := r.GetBytes(ctx, state, "lock", 2); err == nil {
		t.Error("GetBytes accepted an object larger than its bound")
	}

	for _, k := range []string{"a/1", "a/2", "b/1"} {
		if _, err := r.Put(ctx, state, k, []byte(k), PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var keys []string
	if err := r.List(ctx, state, "a/", func(o R2Object) error { keys = append(keys, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(keys, ",") != "a/1,a/2" {
		t.Errorf("List a/ = %v", keys)
	}

	if err := r.Delete(ctx, state, "lock"); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, state, "lock"); err != nil {
		t.Errorf("deleting what is gone: %v", err)
	}
	if _, _, err := r.Get(ctx, state, "lock"); !errors.Is(err, ErrNoSuchKey) {
		t.Errorf("Get after delete = %v, want ErrNoSuchKey", err)
	}
	if _, err := r.Head(ctx, state, "lock"); !errors.Is(err, ErrNoSuchKey) {
		t.Errorf("Head after delete = %v, want ErrNoSuchKey", err)
	}
	if _, _, err := r.Get(ctx, a.name("no-such-bucket"), "k"); !errors.Is(err, ErrNoSuchKey) {
		t.Errorf("Get from a missing bucket = %v, want ErrNoSuchKey", err)
	}
	body, _, err := r.Get(ctx, state, "a/1")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(body)
	body.Close()
	if string(got) != "a/1" {
		t.Errorf("Get a/1 = %q", got)
	}
}

// TestConformanceR2ObjectsCopyIfMatch: a copy conditional on the source's ETag (remote
// state keeps its previous version so, only while it is still the writer's own) copies
// that version with its metadata, and copies nothing once the source changed or is gone.
// Keys that need escaping in x-amz-copy-source round-trip.
func TestConformanceR2ObjectsCopyIfMatch(t *testing.T) {
	_, r, state := r2Conformance(t, "state")
	ctx := t.Context()
	for _, key := range []string{"team/state.json", "team state/ü+x%20y?.json", "a/../b#c"} {
		v1, err := r.Put(ctx, state, key, []byte("v1"), PutOptions{ContentType: "application/json", Metadata: map[string]string{"serial": "1"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Copy(ctx, state, key, key+".backup", CopyOptions{SourceIfMatch: v1.ETag}); err != nil {
			t.Fatalf("%q: copy while the source is the version held: %v", key, err)
		}
		got, obj, err := r.GetBytes(ctx, state, key+".backup", 1<<10)
		if err != nil || string(got) != "v1" || obj.Metadata["serial"] != "1" {
			t.Fatalf("%q: copy = %q %+v (%v), want v1 with its metadata", key, got, obj.Metadata, err)
		}
		if _, err := r.Put(ctx, state, key, []byte("v2"), PutOptions{IfMatch: v1.ETag}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Copy(ctx, state, key, key+".backup", CopyOptions{SourceIfMatch: v1.ETag}); !errors.Is(err, ErrPreconditionFailed) {
			t.Fatalf("%q: copy of a source that changed = %v, want ErrPreconditionFailed", key, err)
		}
		if got, _, _ := r.GetBytes(ctx, state, key+".backup", 1<<10); string(got) != "v1" {
			t.Errorf("%q: a refused copy wrote %q", key, got)
		}
		if err := r.Delete(ctx, state, key); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Copy(ctx, state, key, key+".backup", CopyOptions{SourceIfMatch: v1.ETag}); !errors.Is(err, ErrNoSuchKey) {
			t.Errorf("%q: copy of a missing source = %v, want ErrNoSuchKey", key, err)
		}
	}
}

func TestR2ConfigFromEnvNamesWhatIsMissingAndHidesTheSecret(t *testing.T) {
	env := map[string]string{EnvR2AccessKeyID: "AKID"}
	_, err := R2ConfigFromEnv(func(k string) string { return env[k] }, "0123456789abcdef0123456789abcdef", "remote state in R2")
	if err == nil || !strings.Contains(err.Error(), EnvR2SecretAccessKey) || strings.Contains(err.Error(), EnvR2AccessKeyID+" and") {
		t.Fatalf("error = %v, want one naming only %s", err, EnvR2SecretAccessKey)
	}
	env[EnvR2SecretAccessKey] = "very-secret"
	cfg, err := R2ConfigFromEnv(func(k string) string { return env[k] }, "0123456789abcdef0123456789abcdef", "remote state in R2")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Endpoint != "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com" {
		t.Errorf("default endpoint = %s", cfg.Endpoint)
	}
	for _, s := range []string{cfg.String(), cfg.GoString()} {
		if strings.Contains(s, "very-secret") {
			t.Errorf("config text shows the secret: %s", s)
		}
	}
	env[EnvR2Endpoint] = "http://127.0.0.1:8787/"
	cfg, _ = R2ConfigFromEnv(func(k string) string { return env[k] }, "x", "backups")
	if cfg.Endpoint != "http://127.0.0.1:8787" {
		t.Errorf("endpoint from %s = %s", EnvR2Endpoint, cfg.Endpoint)
	}
}
