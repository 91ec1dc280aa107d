package cli

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// A drill stopped by SIGTERM (a CI job's timeout, a cancelled workflow, systemd) while it
// restores into its scratch database must still delete the scratch database, as it does
// on Ctrl-C: scheduled drills must not leave flareops-drill-* databases piling up.
func TestBackupDrillTerminatedDeletesItsScratch(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and signals it; skipped with -short")
	}
	bin := buildFlareops(t)
	reached := make(chan struct{}, 1)
	var armed atomic.Bool // not for the seed's own import
	hold := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if armed.Load() && strings.Contains(r.URL.Path, "/import") {
				select {
				case reached <- struct{}{}:
					time.Sleep(2 * time.Second) // the signal lands while the import is in flight
				default:
				}
			}
			h.ServeHTTP(w, r)
		})
	}
	_, env, c := backupAccount(t, 2000, hold)
	secret, recipient := testIdentity(t)
	dir := backupConfig(t, recipient)
	if code, out, errOut := run(t, env, "backup", "run", "-dir", dir, "tasks"); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}

	armed.Store(true)
	cmd := exec.Command(bin, "backup", "drill", "-dir", dir, "tasks")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "HOME="+t.TempDir(), "PATH="+os.Getenv("PATH"), "FLAREOPS_BACKUP_IDENTITY="+secret)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-reached:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("the drill never reached its import")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("the drill did not stop after SIGTERM")
	}
	time.Sleep(2500 * time.Millisecond) // let the held request finish on the server

	dbs, err := c.ListD1Databases(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, db := range dbs {
		if strings.HasPrefix(db.Name, "flareops-drill-") {
			t.Errorf("the terminated drill left D1 database %s behind", db.Name)
		}
	}
}
