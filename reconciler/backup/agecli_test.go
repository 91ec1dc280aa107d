package backup

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// A backup needs nothing of flareops to be read: the standard age tool decrypts the
// concatenated parts and gzip decompresses them into the D1 export. The age binary comes
// from FLAREOPS_AGE or PATH (go build filippo.io/age/cmd/age); without one the test skips.
func TestStandardAgeDecryptsBackups(t *testing.T) {
	bin := os.Getenv("FLAREOPS_AGE")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("age"); err != nil {
			t.Skip("no age binary: set FLAREOPS_AGE or put age on PATH")
		}
	}
	f := newFixture(t, nil)
	secret, recipient := newIdentity(t)
	f.env.PartSize = 4 << 10
	db := f.seedD1("tasks", map[string]int{"tasks": 1500})
	want := f.exportD1(db.UUID)
	b, err := f.env.Run(t.Context(), f.job(SourceD1, "tasks", recipient))
	if err != nil {
		t.Fatal(err)
	}
	var stored bytes.Buffer
	for _, k := range partKeys(b) {
		raw, _, err := f.r2.GetBytes(t.Context(), b.Bucket, k, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		stored.Write(raw)
	}
	keyFile := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(keyFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-d", "-i", keyFile)
	cmd.Stdin = &stored
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("age -d: %v\n%s", err, errOut.String())
	}
	gz, err := gzip.NewReader(&out)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(gz)
	if err != nil {
		t.Fatal(err)
	}
	if string(plain) != want {
		t.Errorf("age -d | gunzip gave %d bytes, not the database's %d-byte export", len(plain), len(want))
	}
	if len(b.Manifest.Parts) < 2 {
		t.Errorf("want several parts, got %d", len(b.Manifest.Parts))
	}
}
