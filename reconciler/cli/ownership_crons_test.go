package cli

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/monotask/flareops/emulator"
)

// Crons someone else put on a Worker survive every change of a sandbox or backup (a
// hostile review found that a schedule change or a move took them over).

// A managed sandbox whose cleanup_every is changed to the cron someone else already has on
// the Worker must not take that cron over: removing the sandbox would remove it.
func TestHostileSandboxCronChangeOntoAForeignCron(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	c := a.client(t)
	ctx := context.Background()
	if err := c.SetWorkerCrons(ctx, "w", []string{"*/10 * * * *"}); err != nil { // theirs
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := func(every string) string {
		return opsBlock + sandboxSource("agent", map[string]string{"cpu_ms": "", "container": "", "cleanup_every": `cleanup_every = "` + every + `"`})
	}
	writeFile(t, dir, "main.flareops.hcl", src("5m"))
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	writeFile(t, dir, "main.flareops.hcl", src("10m"))
	refusedAndKept(t, a, dir, "w", "*/10 * * * *")
}

// The same for a backup whose schedule is changed to a cron someone else has on its Worker.
func TestHostileBackupScheduleChangeOntoAForeignCron(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	c := a.client(t)
	ctx := context.Background()
	if err := c.SetWorkerCrons(ctx, "w", []string{"30 * * * *"}); err != nil { // theirs
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := func(schedule string) string {
		return backupSource("kv", map[string]string{"kv_namespace": `kv_namespace = "monotask-staging-kv"`, "schedule": `schedule = "` + schedule + `"`, "worker": `worker = "w"`})
	}
	writeFile(t, dir, "main.flareops.hcl", src("0 * * * *"))
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	if crons, _ := c.WorkerCrons(ctx, "w"); !slices.Contains(crons, "0 * * * *") {
		t.Fatalf("backup cron not added: %q", crons)
	}
	writeFile(t, dir, "main.flareops.hcl", src("30 * * * *"))
	refusedAndKept(t, a, dir, "w", "30 * * * *")
}

// The same for a backup moved to another Worker that already has the schedule's cron.
func TestHostileBackupMovedOntoAWorkerWithTheCron(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	c := a.client(t)
	ctx := context.Background()
	if err := c.SetWorkerCrons(ctx, "their-worker", []string{"0 * * * *"}); err != nil { // theirs
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := func(worker string) string {
		return backupSource("kv", map[string]string{"kv_namespace": `kv_namespace = "monotask-staging-kv"`, "worker": `worker = "` + worker + `"`})
	}
	writeFile(t, dir, "main.flareops.hcl", src("w"))
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	writeFile(t, dir, "main.flareops.hcl", src("their-worker"))
	refusedAndKept(t, a, dir, "their-worker", "0 * * * *")
}

// A wrangler deploy replaces a Worker's whole cron list: flareops's `*/5` is gone and the
// Worker now has wrangler's `*/10`. A configuration then changed to cleanup_every = "10m"
// must not read wrangler's cron as the sandbox's own: the plan shows it added, apply
// refuses, and destroy leaves it.
func TestHostileSandboxAdoptsACronAfterItsOwnWasReplaced(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	c := a.client(t)
	ctx := context.Background()
	dir := t.TempDir()
	src := func(every string) string {
		return opsBlock + sandboxSource("agent", map[string]string{"cpu_ms": "", "container": "", "cleanup_every": `cleanup_every = "` + every + `"`})
	}
	writeFile(t, dir, "main.flareops.hcl", src("5m"))
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	if err := c.SetWorkerCrons(ctx, "w", []string{"*/10 * * * *"}); err != nil { // wrangler deploy: theirs
		t.Fatal(err)
	}
	writeFile(t, dir, "main.flareops.hcl", src("10m"))
	if code, out, errOut := run(t, a.env, "plan", "-detailed-exitcode", "-dir", dir); code != 2 || !strings.Contains(out, "cleanup_every") {
		t.Errorf("plan after the cron was replaced: exit %d, want 2 with cleanup_every to set\n%s\n%s", code, out, errOut)
	}
	refusedAndKept(t, a, dir, "w", "*/10 * * * *")
}

// The same for a backup whose schedule is changed onto the cron that replaced its own.
func TestHostileBackupAdoptsACronAfterItsOwnWasReplaced(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	c := a.client(t)
	ctx := context.Background()
	dir := t.TempDir()
	src := func(schedule string) string {
		return backupSource("kv", map[string]string{"kv_namespace": `kv_namespace = "monotask-staging-kv"`, "schedule": `schedule = "` + schedule + `"`, "worker": `worker = "w"`})
	}
	writeFile(t, dir, "main.flareops.hcl", src("0 * * * *"))
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	if err := c.SetWorkerCrons(ctx, "w", []string{"30 * * * *"}); err != nil { // wrangler deploy: theirs
		t.Fatal(err)
	}
	writeFile(t, dir, "main.flareops.hcl", src("30 * * * *"))
	refusedAndKept(t, a, dir, "w", "30 * * * *")
}

// refusedAndKept checks that apply refuses to take someone else's cron on the Worker over,
// and that destroy then leaves it there.
func refusedAndKept(t *testing.T, a *account, dir, worker, cron string) {
	t.Helper()
	if code, out, errOut := run(t, a.env, "apply", "-auto-approve", "-dir", dir); code != 1 || !strings.Contains(errOut, "which flareops does not manage") {
		t.Errorf("apply taking over cron `%s` on Worker %s: exit %d, want 1 refusing it\n%s\n%s", cron, worker, code, out, errOut)
	}
	run(t, a.env, "destroy", "-auto-approve", "-dir", dir)
	crons, err := a.client(t).WorkerCrons(context.Background(), worker)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(crons, cron) {
		t.Fatalf("someone else's cron `%s` was removed from Worker %s: crons now %q", cron, worker, crons)
	}
}
