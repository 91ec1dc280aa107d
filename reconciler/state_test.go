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

// TestStateRefusesEntriesFlareopsNeverWrites: an entry whose address is not KIND.NAME as
// blocks are named, whose kind is not its address's, or that is null, makes the state
// corrupt, named quoted: a tampered address cannot put terminal escapes on the screen.
func TestStateRefusesEntriesFlareopsNeverWrites(t *testing.T) {
	tg := Target{Kind: "local", DataDir: LocalDataDir, Workspace: DefaultWorkspace}
	tj, err := json.Marshal(tg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, resources, want string
	}{
		{"escape in the address", `{"queue.\u001b[31mq":{"kind":"queue","id":"1","key":"q"}}`, `"queue.\x1b[31mq" is not an address`},
		{"escape in the kind", `{"\u001b[31mqueue.q":{"kind":"\u001b[31mqueue","id":"1","key":"q"}}`, `"\x1b[31mqueue.q" is not an address`},
		{"no name", `{"queue":{"kind":"queue","id":"1","key":"q"}}`, `"queue" is not an address`},
		{"kind of another address", `{"queue.q":{"kind":"backup","id":"1","key":"q"}}`, `entry "queue.q" has kind "backup", not queue`},
		{"kind with an escape", `{"queue.q":{"kind":"queue\u001b[0m","id":"1","key":"q"}}`, `entry "queue.q" has kind "queue\x1b[0m", not queue`},
		{"null entry", `{"queue.q":null}`, `entry "queue.q" is null`},
		{"dependency that is no address", `{"queue.q":{"kind":"queue","id":"1","key":"q","deps":["queue.\u001b[31mr"]}}`, `entry "queue.q" depends on "queue.\x1b[31mr", which is not an address`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			p := StatePath(dir, tg)
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, []byte(`{"version":2,"target":`+string(tj)+`,"resources":`+c.resources+`}`), 0o644)
			_, err := LoadState(dir, tg)
			if err == nil {
				t.Fatal("loaded")
			}
			if !strings.Contains(err.Error(), "is corrupt") || !strings.Contains(err.Error(), c.want) || strings.ContainsRune(err.Error(), 0x1b) {
				t.Fatalf("err = %q; want the state corrupt, with %q and no raw escape", err, c.want)
			}
		})
	}
	// What flareops writes loads.
	dir := t.TempDir()
	st, _ := LoadState(dir, tg)
	if err := st.Put("analytics_dataset._api_2", StateEntry{Kind: "analytics_dataset", ID: "1", Key: "api", Deps: []string{"queue.a"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadState(dir, tg); err != nil {
		t.Fatal(err)
	}
}

// TestTargetDescribeReadsWellWithEmptyFields: a state or plan file whose target lacks the
// account id or URL is described in words, and odd values are quoted.
func TestTargetDescribeReadsWellWithEmptyFields(t *testing.T) {
	for _, c := range []struct {
		t    Target
		want string
	}{
		{Target{Kind: "account", AccountID: "abc", BaseURL: "https://x/client/v4"}, "account abc at https://x/client/v4"},
		{Target{Kind: "account", AccountID: "abc", BaseURL: "https://x/client/v4", Workspace: "dev"}, "account abc at https://x/client/v4, workspace dev"},
		{Target{Kind: "account"}, "an account with no id and no API URL"},
		{Target{}, "an account with no id and no API URL"},
		{Target{Kind: "account", AccountID: "abc"}, "account abc with no API URL"},
		{Target{Kind: "account", BaseURL: "https://x"}, "an account with no id at https://x"},
		{Target{Kind: "local", DataDir: ".flareops/local"}, "the built-in local Cloudflare in .flareops/local"},
		{Target{Kind: "local"}, "the built-in local Cloudflare"},
		{Target{Kind: "account", AccountID: "a\x1b[31m", BaseURL: "https://x"}, `account "a\x1b[31m" at https://x`},
	} {
		if got := c.t.Describe(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.t, got, c.want)
		}
	}
	dir := t.TempDir()
	tg := Target{Kind: "account", AccountID: "abc", BaseURL: "https://x/client/v4", Workspace: DefaultWorkspace}
	p := StatePath(dir, tg)
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, []byte(`{"version":2,"target":{"kind":"account"},"resources":{}}`), 0o644)
	if _, err := LoadState(dir, tg); err == nil || !strings.Contains(err.Error(), "describes an account with no id and no API URL, not account abc") {
		t.Fatalf("err = %v", err)
	}
}
