package reconciler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStateIsBoundToItsTarget(t *testing.T) {
	dir := t.TempDir()
	prod := Target{Kind: "account", AccountID: strings.Repeat("a", 32), BaseURL: "https://api.cloudflare.com/client/v4", Workspace: DefaultWorkspace}
	st, err := LoadState(dir, prod)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put("queue.a", StateEntry{Kind: "queue", ID: "1", Key: "a"}); err != nil {
		t.Fatal(err)
	}
	other := prod
	other.AccountID = strings.Repeat("b", 32)
	if _, err := LoadState(dir, other); err == nil || !strings.Contains(err.Error(), prod.AccountID) || !strings.Contains(err.Error(), other.AccountID) {
		t.Fatalf("err = %v; want a refusal naming both accounts", err)
	}
	otherURL := prod
	otherURL.BaseURL = "http://127.0.0.1:8787/client/v4"
	if _, err := LoadState(dir, otherURL); err == nil {
		t.Fatal("state of one API endpoint read for another")
	}
	// The local Cloudflare and other workspaces have their own files.
	local := Target{Kind: "local", DataDir: LocalDataDir, Workspace: DefaultWorkspace}
	dev := prod
	dev.Workspace = "dev"
	for _, tg := range []Target{local, dev} {
		st, err := LoadState(dir, tg)
		if err != nil {
			t.Fatalf("%s: %v", tg.Describe(), err)
		}
		if st.Len() != 0 {
			t.Fatalf("%s sees another target's state", tg.Describe())
		}
		if st.Path() == StatePath(dir, prod) {
			t.Fatalf("%s shares the state file of %s", tg.Describe(), prod.Describe())
		}
	}
}

func TestStateWithoutTargetIsRefused(t *testing.T) {
	dir := t.TempDir()
	tg := Target{Kind: "account", AccountID: strings.Repeat("a", 32), BaseURL: "https://x/client/v4"}
	p := StatePath(dir, tg)
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, []byte(`{"version":1,"resources":{"queue.a":{"kind":"queue","id":"1","key":"a"}}}`), 0o644)
	if _, err := LoadState(dir, tg); err == nil || !strings.Contains(err.Error(), "did not record") {
		t.Fatalf("err = %v", err)
	}
}

func TestStateKeepsABackupAndCleansTemps(t *testing.T) {
	dir := t.TempDir()
	tg := Target{Kind: "local", DataDir: LocalDataDir}
	st, _ := LoadState(dir, tg)
	st.Put("queue.a", StateEntry{Kind: "queue", ID: "1", Key: "a"})
	st, err := LoadState(dir, tg)
	if err != nil {
		t.Fatal(err)
	}
	st.Put("queue.b", StateEntry{Kind: "queue", ID: "2", Key: "b"})
	st.Put("queue.c", StateEntry{Kind: "queue", ID: "3", Key: "c"})
	b, err := os.ReadFile(st.Path() + ".backup")
	if err != nil {
		t.Fatalf("no backup: %v", err)
	}
	if !strings.Contains(string(b), "queue.a") || strings.Contains(string(b), "queue.b") {
		t.Fatalf("backup is not the state before this process's first write:\n%s", b)
	}
	// A killed writer's temp file is removed by the next lock holder.
	stale := filepath.Join(filepath.Dir(st.Path()), ".tmp-state.json-123")
	os.WriteFile(stale, []byte("{"), 0o644)
	l, err := LockState(dir, tg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	if _, err := os.Stat(stale); err == nil {
		t.Fatal("stale temp file left behind")
	}
	// A corrupt state points at the backup and at import, with -dir.
	os.WriteFile(st.Path(), []byte("{garbage"), 0o644)
	_, err = LoadState(dir, tg)
	if err == nil || !strings.Contains(err.Error(), ".backup") || !strings.Contains(err.Error(), "import -dir "+dir) {
		t.Fatalf("err = %v", err)
	}
}
