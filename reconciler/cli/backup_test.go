package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

// backupAccount is a local Cloudflare over HTTP (its handler wrapped by wrap, if any) with
// a D1 database of rows rows and the destination bucket, and the environment that points
// the CLI at it, R2 credentials included.
func backupAccount(t *testing.T, rows int, wrap func(http.Handler) http.Handler) (*emulator.Server, map[string]string, *cloudflare.Client) {
	t.Helper()
	srv, err := emulator.New(emulator.Options{RateLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = srv
	if wrap != nil {
		h = wrap(srv)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	srv.SetBaseURL(hs.URL)
	env := map[string]string{
		"CLOUDFLARE_API_TOKEN": "test-token", "CLOUDFLARE_ACCOUNT_ID": LocalAccountID, "CLOUDFLARE_BASE_URL": hs.URL + emulator.APIPrefix,
		"R2_ACCESS_KEY_ID": "k", "R2_SECRET_ACCESS_KEY": "s", "FLAREOPS_R2_ENDPOINT": hs.URL,
	}
	c, err := cloudflare.New(cloudflare.Config{BaseURL: hs.URL + emulator.APIPrefix, Token: "seed-token", AccountID: LocalAccountID})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := cloudflare.NewR2(cloudflare.R2Config{Endpoint: hs.URL, AccessKeyID: "k", SecretAccessKey: "s"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := r2.CreateBucket(ctx, "monotask-backups"); err != nil {
		t.Fatal(err)
	}
	db, err := c.CreateD1Database(ctx, "monotask-tasks")
	if err != nil {
		t.Fatal(err)
	}
	var sql bytes.Buffer
	sql.WriteString("CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT);\nCREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n")
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&sql, "INSERT INTO tasks VALUES(%d,'task %d with some words to compress');\n", i, i)
		if i%10 == 0 {
			fmt.Fprintf(&sql, "INSERT INTO users VALUES(%d,'user %d');\n", i, i)
		}
	}
	sum := md5.Sum(sql.Bytes())
	if _, err := c.ImportD1(ctx, db.UUID, hex.EncodeToString(sum[:]), int64(sql.Len()), bytes.NewReader(sql.Bytes())); err != nil {
		t.Fatal(err)
	}
	return srv, env, c
}

func backupConfig(t *testing.T, recipient string) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, "main.flareops.hcl", `backup "tasks" {
  d1_database = "monotask-tasks"
  schedule    = "0 2 * * *"
  bucket      = "monotask-backups"
  prefix      = "d1/tasks"
  retention {
    daily   = "30d"
    weekly  = "90d"
    monthly = "365d"
  }
  encrypt_to = ["`+recipient+`"]
  rpo        = "24h"
  rto        = "1h"
}
`)
	return dir
}

func TestBackupCommands(t *testing.T) {
	_, env, c := backupAccount(t, 2000, nil)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	dir := backupConfig(t, id.Recipient().String())
	keyFile := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(keyFile, []byte("# backup key\n"+id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	cli := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := run(t, env, append([]string{"backup"}, args...)...)
		all.WriteString(out + errOut)
		if code != want {
			t.Fatalf("flareops backup %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out + errOut
	}

	out := cli(0, "run", "-dir", dir, "tasks")
	if !strings.Contains(out, "Backed up d1 monotask-tasks to r2://monotask-backups/d1/tasks/monthly/") || !strings.Contains(out, "2200 rows in 2 tables") {
		t.Errorf("run said:\n%s", out)
	}
	var listed []struct {
		Name    string `json:"name"`
		Backups []struct {
			ID, Tier string
		} `json:"backups"`
	}
	if err := json.Unmarshal([]byte(cli(0, "list", "-dir", dir, "-format", "json")), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || listed[0].Name != "tasks" || len(listed[0].Backups) != 1 || listed[0].Backups[0].Tier != "monthly" {
		t.Fatalf("list -format json = %+v", listed)
	}
	if out := cli(0, "list", "-dir", dir); !strings.Contains(out, listed[0].Backups[0].ID) || !strings.Contains(out, "2200 rows") {
		t.Errorf("list said:\n%s", out)
	}

	if out := cli(1, "verify", "-dir", dir, "tasks"); !strings.Contains(out, "FLAREOPS_BACKUP_IDENTITY") {
		t.Errorf("verify without an identity said:\n%s", out)
	}
	env["FLAREOPS_BACKUP_IDENTITY"] = keyFile
	if out := cli(0, "verify", "-dir", dir, "-id", listed[0].Backups[0].ID, "tasks"); !strings.Contains(out, "verified") {
		t.Errorf("verify said:\n%s", out)
	}
	env["FLAREOPS_BACKUP_IDENTITY"] = id.String()
	if out := cli(1, "restore", "-dir", dir, "-to", "monotask-tasks", "tasks"); !strings.Contains(out, "not empty") || !strings.Contains(out, "-force") {
		t.Errorf("restore over the source said:\n%s", out)
	}
	if out := cli(0, "restore", "-dir", dir, "-to", "tasks-copy", "tasks"); !strings.Contains(out, "(created)") || !strings.Contains(out, "2200 rows") {
		t.Errorf("restore said:\n%s", out)
	}
	if _, rows, err := c.QueryD1(context.Background(), mustD1(t, c, "tasks-copy"), "SELECT count(*) FROM tasks"); err != nil || fmt.Sprint(rows) != "[[2000]]" {
		t.Errorf("restored copy: %v, %v", rows, err)
	}

	report := filepath.Join(t.TempDir(), "drill.html")
	cli(0, "drill", "-dir", dir, "-format", "html", "-out", report, "tasks")
	page, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "restore time / RTO", "passed"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("the HTML report lacks %q", want)
		}
	}
	for _, ref := range []string{`src="http`, `href="http`, "url(", "@import", "<script", "<link"} {
		if bytes.Contains(page, []byte(ref)) {
			t.Errorf("the HTML report may fetch something: it contains %q", ref)
		}
	}
	var rep struct {
		Passed         bool    `json:"passed"`
		RestoreSeconds float64 `json:"restore_seconds"`
		RTOSeconds     float64 `json:"rto_seconds"`
	}
	if err := json.Unmarshal([]byte(cli(0, "drill", "-dir", dir, "-format", "json", "tasks")), &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Passed || rep.RTOSeconds != 3600 || rep.RestoreSeconds <= 0 {
		t.Errorf("drill -format json = %+v", rep)
	}
	if out := cli(0, "drill", "-dir", dir, "tasks"); !strings.Contains(out, "PASSED") || !strings.Contains(out, "(RTO 1h)") {
		t.Errorf("drill said:\n%s", out)
	}
	if strings.Contains(all.String(), id.String()) {
		t.Error("the identity appeared in the output")
	}
	if out := cli(1, "run", "-dir", dir, "nosuch"); !strings.Contains(out, `no backup "nosuch"`) || !strings.Contains(out, "it declares tasks") {
		t.Errorf("unknown backup said:\n%s", out)
	}
}

func mustD1(t *testing.T, c *cloudflare.Client, name string) string {
	t.Helper()
	db, err := c.FindD1Database(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return db.UUID
}

// A SIGKILL during `backup run` (while the export is polled, while a part is uploaded)
// leaves no backup that list shows as complete; a rerun succeeds.
func TestBackupRunKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it; skipped with -short")
	}
	bin := buildFlareops(t)
	for _, point := range []string{"/export", "/part-"} {
		t.Run(strings.Trim(point, "/-"), func(t *testing.T) {
			reached := make(chan struct{}, 1)
			hold := func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if strings.Contains(r.URL.Path, point) && (r.Method == http.MethodPut || r.Method == http.MethodPost) {
						select {
						case reached <- struct{}{}:
							time.Sleep(2 * time.Second) // the kill lands while this request is in flight
						default:
						}
					}
					h.ServeHTTP(w, r)
				})
			}
			_, env, _ := backupAccount(t, 3000, hold)
			_, recipient := testIdentity(t)
			dir := backupConfig(t, recipient)
			cmd := exec.Command(bin, "backup", "run", "-dir", dir, "tasks")
			for k, v := range env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			cmd.Env = append(cmd.Env, "HOME="+t.TempDir(), "PATH="+os.Getenv("PATH"))
			stderr, _ := cmd.StderrPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { // drain
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
				}
			}()
			select {
			case <-reached:
			case <-time.After(2 * time.Minute):
				cmd.Process.Kill()
				t.Fatal("the run never reached " + point)
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
				t.Fatalf("the run was not killed: %v", err)
			}
			time.Sleep(2500 * time.Millisecond) // let the held request finish on the server

			code, out, errOut := run(t, env, "backup", "list", "-dir", dir, "-format", "json")
			if code != 0 || !strings.Contains(out, `"backups": []`) {
				t.Fatalf("after the kill, list = %d\n%s%s", code, out, errOut)
			}
			if code, out, errOut = run(t, env, "backup", "run", "-dir", dir, "tasks"); code != 0 {
				t.Fatalf("rerun: exit %d\n%s%s", code, out, errOut)
			}
			if code, out, _ = run(t, env, "backup", "list", "-dir", dir, "-format", "json"); code != 0 || strings.Count(out, `"location"`) != 1 {
				t.Fatalf("after the rerun, list:\n%s", out)
			}
		})
	}
}

func testIdentity(t *testing.T) (string, string) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id.String(), id.Recipient().String()
}
