package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFormat(t *testing.T) {
	in := "queue \"a\" {\nname = \"a\"\n  message_retention=\"4d\"\n}\n"
	want := "queue \"a\" {\n  name              = \"a\"\n  message_retention = \"4d\"\n}\n"
	if got := string(Format([]byte(in))); got != want {
		t.Errorf("Format:\n%s\nwant:\n%s", got, want)
	}
	if got := string(Format([]byte(want))); got != want {
		t.Errorf("Format changed canonical input:\n%s", got)
	}
}

func TestFormatDir(t *testing.T) {
	const messy = "queue \"a\" {\nname = \"a\"\n}\n"
	const tidy = "queue \"a\" {\n  name = \"a\"\n}\n"
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	messyPath := write("a.flareops.hcl", messy)
	write("b.flareops.hcl", tidy)
	write("c.tf", messy) // not ours

	var out bytes.Buffer
	changed, err := FormatDir(dir, true, &out)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{messyPath}, changed); d != "" {
		t.Errorf("check: changed (-want +got):\n%s", d)
	}
	if got, _ := os.ReadFile(messyPath); string(got) != messy {
		t.Error("check rewrote a file")
	}
	if out.String() != messyPath+"\n" {
		t.Errorf("check printed %q", out.String())
	}

	out.Reset()
	if changed, err = FormatDir(dir, false, &out); err != nil || len(changed) != 1 {
		t.Fatalf("format: changed %v, err %v", changed, err)
	}
	got, _ := os.ReadFile(messyPath)
	if string(got) != tidy {
		t.Errorf("formatted file:\n%s", got)
	}
	if info, _ := os.Stat(messyPath); info.Mode().Perm() != 0o600 {
		t.Errorf("mode changed to %v", info.Mode())
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "c.tf")); string(got) != messy {
		t.Error("a .tf file was formatted")
	}
	if changed, err = FormatDir(dir, true, &out); err != nil || len(changed) != 0 {
		t.Errorf("after formatting: changed %v, err %v", changed, err)
	}

	broken := write("d.flareops.hcl", "queue \"x\" {\n")
	write("a.flareops.hcl", messy)
	_, err = FormatDir(dir, false, &out)
	var syntax *SyntaxError
	if !errors.As(err, &syntax) || syntax.Files[broken] == nil {
		t.Fatalf("err = %v, want a *SyntaxError naming %s", err, broken)
	}
	if got, _ := os.ReadFile(messyPath); string(got) != messy {
		t.Error("a file was rewritten although another has a syntax error")
	}
}

// TestFormatKeepsListsAndFloats: fmt aligns and respaces lists and fractional numbers but
// never changes what they hold.
func TestFormatKeepsListsAndFloats(t *testing.T) {
	in := "dataset \"a\" {\ndataset = \"a\"\n  sampling=0.10\n  columns {\n    blobs=[\"service\",\"route\"]\n    doubles = [\n      \"status\",\n      \"latency_ms\",\n    ]\n  }\n}\n"
	want := "dataset \"a\" {\n  dataset  = \"a\"\n  sampling = 0.10\n  columns {\n    blobs = [\"service\", \"route\"]\n    doubles = [\n      \"status\",\n      \"latency_ms\",\n    ]\n  }\n}\n"
	got := Format([]byte(in))
	if string(got) != want {
		t.Errorf("Format:\n%s\nwant:\n%s", got, want)
	}
	load := func(src []byte) []Block {
		cfg, diags := LoadFiles(map[string][]byte{"main.flareops.hcl": src}, datasetOpts())
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		return cfg.Blocks
	}
	if d := cmp.Diff(load([]byte(in)), load(got), ignoreRange); d != "" {
		t.Errorf("formatting changed the values (-before +after):\n%s", d)
	}
}
