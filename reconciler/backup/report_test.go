package backup

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; rerun with -update if the change is deliberate", name)
	}
}

func drillHistory() []DrillReport {
	base := time.Date(2026, 9, 1, 3, 0, 0, 0, time.UTC)
	var out []DrillReport
	for i, v := range []struct {
		restore, age float64
		passed       bool
	}{{620, 3600 * 2, true}, {840, 3600 * 5, true}, {4100, 3600 * 3, false}, {900, 3600 * 26, false}} {
		at := base.AddDate(0, i, 0)
		r := DrillReport{Job: "tasks_db", Source: Source{Kind: SourceD1, Name: "monotask-tasks"}, ID: ID(at), At: at, Tool: "flareops test",
			BackupID: ID(at.Add(-time.Duration(v.age) * time.Second)), BackupTier: Daily, Scratch: "D1 database flareops-drill-0000000" + string(rune('0'+i)),
			RestoreSeconds: v.restore, RTOSeconds: 3600, BackupAgeSeconds: v.age, RPOSeconds: 86400, Passed: v.passed, Cleanup: "deleted",
			Contents: []ContentResult{{Name: "tasks", Want: 50000, Got: 50000, Identical: true}}}
		r.check("restore", true, "restored daily %s", r.BackupID)
		r.check("rto", v.restore <= 3600, "restore took %s; the RTO is %s", dur(v.restore), dur(3600))
		r.check("rpo", v.age <= 86400, "the newest backup is %s old; the RPO is %s", dur(v.age), dur(86400))
		out = append(out, r)
	}
	return out
}

// The drill report's three forms, pinned; the HTML page is self-contained and the same
// for the same history.
func TestDrillReportGolden(t *testing.T) {
	hist := drillHistory()
	last := hist[len(hist)-1]
	var text, js, page, again bytes.Buffer
	if err := last.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := last.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if err := last.WriteHTML(&page, hist); err != nil {
		t.Fatal(err)
	}
	if err := last.WriteHTML(&again, hist); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(page.Bytes(), again.Bytes()) {
		t.Error("the HTML report differs between two renderings of the same history")
	}
	for _, want := range []string{"<svg", "restore time / RTO", "backup age / RPO", "target (100%)", "FAILED"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("the HTML report lacks %q", want)
		}
	}
	golden(t, "drill.txt", text.Bytes())
	golden(t, "drill.json", js.Bytes())
	golden(t, "drill.html", page.Bytes())
}

func TestDur(t *testing.T) {
	for in, want := range map[float64]string{0.25: "250ms", 90: "1m30s", 3600: "1h", 86400: "24h", 93600: "26h", 5400: "1h30m", 120: "2m"} {
		if got := dur(in); got != want {
			t.Errorf("dur(%v) = %q, want %q", in, got, want)
		}
	}
}
