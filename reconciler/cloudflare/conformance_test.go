package cloudflare

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/monotask/flareops/emulator"
)

// The conformance tests of this package go over HTTP to the local Cloudflare (the
// emulator). Those written on conformanceAccount run unchanged against a real account
// when FLAREOPS_LIVE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN are set (CLOUDFLARE_BASE_URL
// optionally points at another API root): every object they make is named
// flareops-live-<random>-… and removed when the test ends (t.Cleanup), so that anyone with
// an account can show where the emulator differs from Cloudflare:
//
//	FLAREOPS_LIVE_ACCOUNT_ID=... CLOUDFLARE_API_TOKEN=... go test -v -run Conformance ./reconciler/cloudflare/
//
// Tests that need the emulator's own hooks (fault injection, request counters, its clock,
// its limits) skip against a live account, saying why (emulatorOnly); without the live
// settings, TestLiveConformanceSettings skips, saying how to run them live.

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
}

func newConformanceAccount(t *testing.T, opts emulator.Options) *conformanceAccount {
	t.Helper()
	base, token, account, live := liveSettings()
	if !live {
		c, srv, _ := emulatorClient(t, opts, Config{})
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
	name := a.name(base)
	if err := a.c.UploadScript(context.Background(), name, "export default { async queue(batch) { batch.ackAll(); } };\n"); err != nil {
		t.Fatalf("deploy Worker %s: %v", name, err)
	}
	t.Cleanup(func() {
		_, err := a.c.Raw().Do(context.Background(), http.MethodDelete, fmt.Sprintf("accounts/%s/workers/scripts/%s", a.c.AccountID(), name), nil, nil, nil)
		if err != nil && !isNotFound(err) {
			t.Errorf("cleanup: delete Worker %s: %v", name, err)
		}
	})
	return name
}

func isNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}
