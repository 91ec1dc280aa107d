package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/monotask/flareops/emulator"
)

// A managed webhook destination deleted outside flareops, its name then taken by someone
// else's webhook (another id): flareops must not take it over (update its URL) nor delete
// it on destroy, as with a queue (TestNoTakeoverOfAQueueSomeoneElseCreated).
func TestWebhookReplacedBySomeoneElseIsNotTakenOver(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	env := map[string]string{"FLAREOPS_VAR_secret": "whsec-ours"}
	for k, v := range a.env {
		env[k] = v
	}
	dir := t.TempDir()
	writeFile(t, dir, "main.flareops.hcl", `variable "secret" {
  type      = string
  sensitive = true
}

alert_destination "hook" {
  webhook {
    url    = "https://hooks.example.com/ours"
    secret = var.secret
  }
}
`)
	mustRun(t, 0, env, "apply", "-auto-approve", "-dir", dir)
	c := a.client(t)
	ctx := context.Background()
	hooks, err := c.ListAlertWebhooks(ctx)
	if err != nil || len(hooks) != 1 {
		t.Fatalf("webhooks: %+v %v", hooks, err)
	}
	if err := c.DeleteAlertWebhook(ctx, hooks[0].ID); err != nil {
		t.Fatal(err)
	}
	theirID, err := c.CreateAlertWebhook(ctx, "hook", "https://hooks.example.com/theirs", "whsec-theirs")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, env, "plan", "-dir", dir)
	if code != 1 || !strings.Contains(errOut, "deleted outside flareops") || !strings.Contains(errOut, "Cloudflare id "+theirID) {
		t.Errorf("plan: exit %d, want 1 saying the webhook was deleted outside flareops and its name is someone else's\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	run(t, env, "apply", "-auto-approve", "-dir", dir)
	run(t, env, "destroy", "-auto-approve", "-dir", dir)
	hooks, err = c.ListAlertWebhooks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(hooks) != 1 || hooks[0].ID != theirID || hooks[0].URL != "https://hooks.example.com/theirs" {
		t.Fatalf("someone else's webhook was taken over or deleted: %+v", hooks)
	}
}
