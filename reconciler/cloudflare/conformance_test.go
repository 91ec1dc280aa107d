package cloudflare

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/monotask/flareops/emulator"
)

// The conformance tests of this package go over HTTP to the local Cloudflare (the
// emulator). Those named TestConformance… are written on conformanceAccount and run
// unchanged against a real account when FLAREOPS_LIVE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN
// are set (CLOUDFLARE_BASE_URL optionally points at another API root): every object they
// make is named flareops-live-<random>-… (a.name) and removed when the test ends
// (t.Cleanup, a 404 tolerated), and none assumes an empty account (lists are filtered to
// the test's own objects, counts are relative, paging runs on a few objects with smaller
// pages), so that anyone with an account can show where the emulator differs from
// Cloudflare:
//
//	FLAREOPS_LIVE_ACCOUNT_ID=... CLOUDFLARE_API_TOKEN=... go test -count=1 -v -run Conformance ./reconciler/cloudflare/
//
// Live-capable: queues (list, name taken), KV (namespaces and their paging, keys,
// values, bulk), Workers (script list, settings with bindings of every kind, CPU limit,
// observability, cron triggers), Logpush jobs, R2 buckets and lifecycle rules, R2
// objects and streamed uploads (S3 API), notification webhooks and policies, D1, and
// containers applications. Three families need more than the token: R2 objects need
// R2_ACCESS_KEY_ID and R2_SECRET_ACCESS_KEY (and FLAREOPS_R2_ENDPOINT, default
// https://<account>.r2.cloudflarestorage.com), as does the Logpush lifecycle (its R2
// destination is written to); containers need FLAREOPS_LIVE_CONTAINER_IMAGE, an image of
// the account's registry. Without them those tests skip, saying so.
//
// Emulator only: whole tests that need its hooks skip against a live account, saying why
// (emulatorOnly): fault injection and request counters (retries, lost answers, R2's
// SlowDown, pacing), a refused token, the analytics data it is seeded with (GraphQL,
// Analytics Engine). Within live-capable tests, a few checks run on the emulator only
// (a.live() is false): its fixed clock (exact script times), an account that starts
// empty, its forced cron limit, a secret's stored value, its containers usage limits
// and a seeded PagerDuty service. Without the live settings, TestLiveConformanceSettings
// skips, saying how to run them live.
//
// The local Cloudflare can stand in for the account, to check the live mode itself
// (README.md, Checking the local Cloudflare against a real account).

// liveSettings returns the live account's settings, if the environment gives them.
func liveSettings() (baseURL, token, account string, ok bool) {
	account, token = os.Getenv("FLAREOPS_LIVE_ACCOUNT_ID"), os.Getenv("CLOUDFLARE_API_TOKEN")
	return os.Getenv("CLOUDFLARE_BASE_URL"), token, account, account != "" && token != ""
}

// TestLiveConformanceSettings reports, as a visible skip, that the conformance tests ran
// against the emulator only, and how to run them against a real account.
func TestLiveConformanceSettings(t *testing.T) {
	base, _, account, ok := liveSettings()
	if !ok {
		t.Skip("FLAREOPS_LIVE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN are not both set: the conformance tests ran against the local Cloudflare only (set them to run them against a real account; see README.md, Checking the local Cloudflare against a real account)")
	}
	if base == "" {
		base = DefaultBaseURL
	}
	t.Logf("conformance tests run against account %s at %s", account, base)
}

// emulatorOnly skips a test against a live account: it needs a hook that only the
// emulator has.
func emulatorOnly(t testing.TB, why string) {
	t.Helper()
	if _, _, _, live := liveSettings(); live {
		t.Skipf("emulator only (%s): not run against the live account", why)
	}
}

// conformanceAccount is where a conformance test runs: the live account, or a fresh
// emulator (srv is nil live).
type conformanceAccount struct {
	c      *Client
	srv    *emulator.Server
	prefix string // "" on the emulator

	objects *R2 // the R2 object client, once a.r2 made it (bucket cleanup empties with it)
}

func newConformanceAccount(t *testing.T, opts emulator.Options) *conformanceAccount {
	t.Helper()
	return newConformanceAccountConfig(t, opts, Config{})
}

// newConformanceAccountConfig is newConformanceAccount whose emulator client is built
// with cfg (e.g. MaxRetries -1). Live, cfg is not used: the client has the defaults a
// real account needs (retries on Cloudflare's 429s).
func newConformanceAccountConfig(t *testing.T, opts emulator.Options, cfg Config) *conformanceAccount {
	t.Helper()
	base, token, account, live := liveSettings()
	if !live {
		c, srv, _ := emulatorClient(t, opts, cfg)
		return &conformanceAccount{c: c, srv: srv}
	}
	c, err := New(Config{BaseURL: base, Token: token, AccountID: account})
	if err != nil {
		t.Fatalf("live account: %v", err)
	}
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return &conformanceAccount{c: c, prefix: "flareops-live-" + hex.EncodeToString(b) + "-"}
}

// live reports whether the test runs against a live account (no emulator hooks).
func (a *conformanceAccount) live() bool { return a.srv == nil }

// mine is list as the test may compare it: whole on the emulator (a fresh account holds
// only what the test made), and only the elements keep accepts (the test's own objects)
// on a live account, which has objects of its own.
func mine[T any](a *conformanceAccount, list []T, keep func(T) bool) []T {
	if !a.live() {
		return list
	}
	out := make([]T, 0, len(list))
	for _, x := range list {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

// ours reports whether name is one the test made (it has the test's prefix). On the
// emulator every name is.
func (a *conformanceAccount) ours(name string) bool { return strings.HasPrefix(name, a.prefix) }

// smallerPages sets *size to n for the test on a live account, so that paging is
// exercised with a few objects instead of hundreds (and restores it at the end); on the
// emulator the page size stays the API's, and the test makes the objects it takes.
func (a *conformanceAccount) smallerPages(t *testing.T, size *int, n int) {
	if !a.live() {
		return
	}
	old := *size
	*size = n
	t.Cleanup(func() { *size = old })
}

// name is base, prefixed on a live account.
func (a *conformanceAccount) name(base string) string { return a.prefix + base }

// queue creates the queue a.name(base), to be removed (with its consumers) at the end.
func (a *conformanceAccount) queue(t *testing.T, base string) Queue {
	t.Helper()
	q, err := a.c.CreateQueue(context.Background(), a.name(base))
	if err != nil {
		t.Fatalf("create queue %s: %v", a.name(base), err)
	}
	a.removeQueue(t, q.ID)
	return q
}

// removeQueue deletes the queue id and its consumers when the test ends.
func (a *conformanceAccount) removeQueue(t *testing.T, id string) {
	t.Cleanup(func() {
		ctx := context.Background()
		qs, err := a.c.ListQueues(ctx)
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		for _, q := range qs {
			if q.ID != id {
				continue
			}
			for _, con := range q.Consumers {
				if err := a.c.DeleteConsumer(ctx, id, con.ID); err != nil && !isNotFound(err) {
					t.Errorf("cleanup: delete consumer %s of %s: %v", con.ID, q.Name, err)
				}
			}
			if err := a.c.DeleteQueue(ctx, id); err != nil && !isNotFound(err) {
				t.Errorf("cleanup: delete queue %s: %v", q.Name, err)
			}
		}
	})
}

// worker deploys the Worker a.name(base) that accepts every batch, to be removed at the
// end (a worker consumer needs its Worker, on Cloudflare as on the emulator).
func (a *conformanceAccount) worker(t *testing.T, base string) string {
	t.Helper()
	return a.script(t, base, "export default { async queue(batch) { batch.ackAll(); } };\n")
}

func isNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// script deploys the module Worker a.name(base) with code, to be removed at the end.
func (a *conformanceAccount) script(t *testing.T, base, code string) string {
	t.Helper()
	name := a.name(base)
	if err := a.c.UploadScript(context.Background(), name, code); err != nil {
		t.Fatalf("deploy Worker %s: %v", name, err)
	}
	a.removeScript(t, name)
	return name
}

// removeScript deletes the Worker name when the test ends (force: a service binding to
// it from another of the test's Workers does not keep it).
func (a *conformanceAccount) removeScript(t *testing.T, name string) {
	t.Cleanup(func() {
		_, err := a.c.Raw().Do(context.Background(), http.MethodDelete, fmt.Sprintf("accounts/%s/workers/scripts/%s", a.c.AccountID(), name), url.Values{"force": {"true"}}, nil, nil)
		if err != nil && !isNotFound(err) {
			t.Errorf("cleanup: delete Worker %s: %v", name, err)
		}
	})
}

// kvNamespace creates the KV namespace titled a.name(base), to be removed at the end.
func (a *conformanceAccount) kvNamespace(t *testing.T, base string) KVNamespace {
	t.Helper()
	ns, err := a.c.CreateKVNamespace(context.Background(), a.name(base))
	if err != nil {
		t.Fatalf("create KV namespace %s: %v", a.name(base), err)
	}
	a.removeKVNamespace(t, ns.ID)
	return ns
}

// removeLater deletes what (e.g. "KV namespace <id>") with del when the test ends; gone
// already is fine.
func (a *conformanceAccount) removeLater(t *testing.T, what string, del func(context.Context) error) {
	t.Cleanup(func() {
		if err := del(context.Background()); err != nil && !isNotFound(err) {
			t.Errorf("cleanup: delete %s: %v", what, err)
		}
	})
}

// removeKVNamespace deletes the KV namespace id when the test ends.
func (a *conformanceAccount) removeKVNamespace(t *testing.T, id string) {
	a.removeLater(t, "KV namespace "+id, func(ctx context.Context) error { return a.c.DeleteKVNamespace(ctx, id) })
}

// bucket creates the R2 bucket a.name(base), to be removed at the end with what the
// test put in it (through a.r2, if the test made the S3 client).
func (a *conformanceAccount) bucket(t *testing.T, base string) string {
	t.Helper()
	name := a.name(base)
	if _, err := a.c.CreateR2Bucket(context.Background(), name); err != nil {
		t.Fatalf("create R2 bucket %s: %v", name, err)
	}
	a.removeBucket(t, name)
	return name
}

// removeBucket empties (when the test has an S3 client) and deletes the R2 bucket name
// when the test ends.
func (a *conformanceAccount) removeBucket(t *testing.T, name string) {
	t.Cleanup(func() {
		ctx := context.Background()
		if a.objects != nil {
			var keys []string
			err := a.objects.List(ctx, name, "", func(o R2Object) error { keys = append(keys, o.Key); return nil })
			if err == nil && len(keys) > 0 {
				err = a.objects.DeleteKeys(ctx, name, keys)
			}
			if err != nil && !errors.Is(err, ErrNoSuchKey) {
				t.Errorf("cleanup: empty R2 bucket %s: %v", name, err)
			}
		}
		_, err := a.c.Raw().Do(ctx, http.MethodDelete, "accounts/"+a.c.AccountID()+"/r2/buckets/"+name, nil, nil, nil)
		if err != nil && !isNotFound(err) {
			t.Errorf("cleanup: delete R2 bucket %s: %v", name, err)
		}
	})
}

// r2 is the account's R2 object client (R2's S3 API). On the emulator it is the local
// Cloudflare's S3 endpoint, any key, one attempt per request. Live it takes the S3
// credentials from R2_ACCESS_KEY_ID and R2_SECRET_ACCESS_KEY and the endpoint from
// FLAREOPS_R2_ENDPOINT (default https://<account>.r2.cloudflarestorage.com), as the CLI
// does (with more attempts, see below), and skips the test when they are missing.
func (a *conformanceAccount) r2(t *testing.T) *R2 {
	t.Helper()
	cfg := R2Config{Endpoint: strings.TrimSuffix(a.c.baseURL, emulator.APIPrefix), AccessKeyID: "k", SecretAccessKey: "s", MaxAttempts: 1}
	if a.live() {
		var err error
		if cfg, err = R2ConfigFromEnv(os.Getenv, a.c.AccountID(), "this live conformance test"); err != nil {
			t.Skipf("skipped against the live account: %v", err)
		}
		// R2 allows about one write a second to one key, and the tests rewrite keys at
		// once: enough attempts that the SDK's backoff outlasts the second.
		cfg.MaxAttempts = 10
	}
	r, err := NewR2(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.objects = r
	return r
}

// d1 creates the D1 database a.name(base), to be removed at the end.
func (a *conformanceAccount) d1(t *testing.T, base string) D1Database {
	t.Helper()
	db, err := a.c.CreateD1Database(context.Background(), a.name(base))
	if err != nil {
		t.Fatalf("create D1 database %s: %v", a.name(base), err)
	}
	a.removeLater(t, "D1 database "+db.Name, func(ctx context.Context) error { return a.c.DeleteD1Database(ctx, db.UUID) })
	return db
}

// removeLogpushJob deletes the Logpush job id when the test ends.
func (a *conformanceAccount) removeLogpushJob(t *testing.T, id int64) {
	a.removeLater(t, fmt.Sprintf("Logpush job %d", id), func(ctx context.Context) error { return a.c.DeleteLogpushJob(ctx, id) })
}

// removeApplication deletes the containers application id when the test ends.
func (a *conformanceAccount) removeApplication(t *testing.T, id string) {
	a.removeLater(t, "containers application "+id, func(ctx context.Context) error { return a.c.Raw().DeleteApplication(ctx, a.c.AccountID(), id) })
}

// removeAlertPolicy and removeAlertWebhook delete a notification policy or webhook when
// the test ends (policies first: t.Cleanup runs in reverse, and a test registers the
// webhook before the policy that uses it).
func (a *conformanceAccount) removeAlertPolicy(t *testing.T, id string) {
	a.removeLater(t, "alert policy "+id, func(ctx context.Context) error { return a.c.DeleteAlertPolicy(ctx, id) })
}

func (a *conformanceAccount) removeAlertWebhook(t *testing.T, id string) {
	a.removeLater(t, "alert webhook "+id, func(ctx context.Context) error { return a.c.DeleteAlertWebhook(ctx, id) })
}
