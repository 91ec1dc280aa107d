package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/monotask/flareops/emulator"
)

// A backend block on the built-in local Cloudflare (flareops's own account) needs no
// bucket made by hand: flareops creates the missing state bucket and says so once.
func TestRemoteStateLocalCloudflareCreatesTheBucket(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.flareops.hcl", backendBlock+queuesConfig("localbucket", 2))
	env := map[string]string{} // R2's one write per second to one key, as the local Cloudflare enforces
	code, _, errOut := run(t, env, "apply", "-auto-approve", "-dir", dir)
	if code != 0 || strings.Count(errOut, "created the R2 bucket "+stateBucket) != 1 || strings.Contains(errOut, "does not exist") {
		t.Fatalf("apply on the built-in local Cloudflare with a backend block: exit %d, want 0 and one line saying the bucket was created; stderr:\n%s", code, errOut)
	}
	code, out, errOut := run(t, env, "plan", "-detailed-exitcode", "-dir", dir)
	if code != 0 || strings.Contains(errOut, "created the R2 bucket") {
		t.Fatalf("the next plan: exit %d, want 0 without creating the bucket again\n%s%s", code, out, errOut)
	}
	if out := mustRun(t, 0, env, "state", "list", "-dir", dir); out != "queue.q0\nqueue.q1\n" {
		t.Errorf("state list = %q, want the state in the bucket", out)
	}
}

// In an account, a missing bucket stays an error, not created behind the user's back, and
// says every way to create it.
func TestRemoteStateAccountMissingBucketIsAnError(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	a.env["FLAREOPS_R2_ENDPOINT"] = a.url
	a.env["R2_ACCESS_KEY_ID"] = "test-key"
	a.env["R2_SECRET_ACCESS_KEY"] = "test-secret"
	dir := t.TempDir()
	writeFile(t, dir, "main.flareops.hcl", backendBlock+queuesConfig("nobucket", 1))
	for _, args := range [][]string{{"apply", "-auto-approve"}, {"plan"}} {
		code, _, errOut := run(t, a.env, append(args, "-dir", dir)...)
		for _, want := range []string{"the bucket " + stateBucket + " does not exist", "wrangler r2 bucket create " + stateBucket, "Cloudflare API", "dashboard"} {
			if code != 1 || !strings.Contains(errOut, want) {
				t.Errorf("%s with no state bucket in the account: exit %d, want 1 and %q; stderr:\n%s", args[0], code, want, errOut)
			}
		}
	}
	if _, found, err := a.client(t).R2Bucket(context.Background(), stateBucket); err != nil || found {
		t.Errorf("the state bucket was created in an account (found %v, %v)", found, err)
	}
}
