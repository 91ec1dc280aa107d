package reconciler

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
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

// TestStateDecodingIsAsStrictAsUnmarshal: the state is decoded as a stream, an entry at a
// time; it reads what json.Unmarshal reads and refuses what it refuses.
func TestStateDecodingIsAsStrictAsUnmarshal(t *testing.T) {
	tg := Target{Kind: "local", DataDir: LocalDataDir, Workspace: DefaultWorkspace}
	tj, err := json.Marshal(tg)
	if err != nil {
		t.Fatal(err)
	}
	entry := `{"kind":"queue","id":"1","key":"a","deps":["queue.b"],"applied":{"name":"a","x":[1,{"y":null}]}}`
	for _, c := range []struct {
		name, file string
		ok         bool
	}{
		{"plain", `{"version":2,"serial":3,"target":` + string(tj) + `,"resources":{"queue.a":` + entry + `}}`, true},
		{"keys in another case, unknown keys", `{"Version":2,"SERIAL":3,"lineage":{"a":[1]},"Target":` + string(tj) + `,"Resources":{"queue.a":` + entry + `}}`, true},
		{"null resources", `{"version":2,"target":` + string(tj) + `,"resources":null}`, true},
		{"data after the object", `{"version":2,"target":` + string(tj) + `,"resources":{}} {}`, false},
		{"cut short", `{"version":2,"target":` + string(tj) + `,"resources":{"queue.a":{"kind":"qu`, false},
		{"resources not an object", `{"version":2,"target":` + string(tj) + `,"resources":[]}`, false},
		{"entry of the wrong type", `{"version":2,"target":` + string(tj) + `,"resources":{"queue.a":{"kind":3}}}`, false},
		{"not an object", `[]`, false},
		{"empty", ``, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var want State
			werr := json.Unmarshal([]byte(c.file), &want)
			got, gerr := streamState(strings.NewReader(c.file))
			if (werr == nil) != c.ok || (gerr == nil) != c.ok {
				t.Fatalf("Unmarshal: %v; streamed: %v; want ok=%v", werr, gerr, c.ok)
			}
			if !c.ok {
				return
			}
			if got.Version != want.Version || got.Serial != want.Serial || !reflect.DeepEqual(got.Target, want.Target) || !reflect.DeepEqual(got.Resources, want.Resources) {
				t.Errorf("streamed %d %d %+v %+v, Unmarshal %d %d %+v %+v", got.Version, got.Serial, got.Target, got.Resources, want.Version, want.Serial, want.Target, want.Resources)
			}
		})
	}
}

// TestStateChangedUnderneathIsNotOverwritten: the first write of a process backs up the
// file as it read it; a file someone else rewrote meanwhile is neither backed up as ours
// nor overwritten.
func TestStateChangedUnderneathIsNotOverwritten(t *testing.T) {
	dir, tg, st := reloadedState(t)
	other, _ := LoadState(dir, tg)
	if err := other.Put("queue.z", StateEntry{Kind: "queue", ID: "9", Key: "z"}); err != nil {
		t.Fatal(err)
	}
	err := st.Put("queue.b", StateEntry{Kind: "queue", ID: "2", Key: "b"})
	if err == nil || !strings.Contains(err.Error(), "changed since") {
		t.Fatalf("err = %v; want a refusal to overwrite", err)
	}
	b, _ := os.ReadFile(st.Path())
	if !strings.Contains(string(b), "queue.z") || strings.Contains(string(b), "queue.b") {
		t.Fatalf("the other process's state was overwritten:\n%s", b)
	}
}

// TestStateRemovedUnderneathIsWrittenAgain: a state file removed while a command runs has
// nothing to back up; the command's state is written in its place, so nothing it records
// is lost.
func TestStateRemovedUnderneathIsWrittenAgain(t *testing.T) {
	_, _, st := reloadedState(t)
	if err := os.Remove(st.Path()); err != nil {
		t.Fatal(err)
	}
	if err := st.Put("queue.b", StateEntry{Kind: "queue", ID: "2", Key: "b"}); err != nil {
		t.Fatalf("write after the file was removed: %v", err)
	}
	b, _ := os.ReadFile(st.Path())
	if !strings.Contains(string(b), "queue.a") || !strings.Contains(string(b), "queue.b") {
		t.Fatalf("state written back lacks entries:\n%s", b)
	}
}

// reloadedState is a local state holding queue.a, written by one State and read back by
// another, as the next command would.
func reloadedState(t *testing.T) (string, Target, *State) {
	t.Helper()
	dir := t.TempDir()
	tg := Target{Kind: "local", DataDir: LocalDataDir}
	st, _ := LoadState(dir, tg)
	if err := st.Put("queue.a", StateEntry{Kind: "queue", ID: "1", Key: "a"}); err != nil {
		t.Fatal(err)
	}
	st, err := LoadState(dir, tg)
	if err != nil {
		t.Fatal(err)
	}
	return dir, tg, st
}
