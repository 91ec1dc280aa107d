package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// validate -format json and sarif: one document on stdout, exit 1 on errors, pinned by
// golden files; the valid example gives an empty list and exit 0.
func TestValidateFormats(t *testing.T) {
	tests := []struct {
		name, golden string
		args         []string
		code         int
	}{
		{"json", "validate_bad.json", []string{"-format", "json", "-dir", "testdata/validate_bad"}, 1},
		{"sarif", "validate_bad.sarif", []string{"-format", "sarif", "-dir", "testdata/validate_bad"}, 1},
		{"sarif wrangler overlap", "validate_clash.sarif", []string{"-format", "sarif", "-dir", "testdata/wrangler/clash", "-wrangler", "testdata/wrangler/clash/agent", "testdata/wrangler/clash/task"}, 1},
		{"json valid", "validate_ok.json", []string{"-format=json", "-dir", "../../examples/monotask"}, 0},
		{"sarif valid", "validate_ok.sarif", []string{"-format=sarif", "-dir", "../../examples/monotask"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, map[string]string{}, append([]string{"validate"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			if stderr != "" {
				t.Errorf("stderr is not empty:\n%s", stderr)
			}
			if strings.HasSuffix(tt.golden, ".sarif") {
				checkSARIF(t, []byte(stdout))
			}
			cliGolden(t, tt.golden, stdout)
		})
	}
	t.Run("bad format", func(t *testing.T) {
		code, stdout, stderr := run(t, map[string]string{}, "validate", "-format", "xml", "-dir", "testdata/validate_bad")
		if code != 1 || stdout != "" || !strings.Contains(stderr, `-format "xml": use text, json or sarif`) {
			t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})
	t.Run("text unchanged", func(t *testing.T) {
		code, stdout, stderr := run(t, map[string]string{}, "validate", "-dir", "testdata/validate_bad")
		if code != 1 || stdout != "" || !strings.Contains(stderr, "main.flareops.hcl:2:3, in queue \"jobs\"") {
			t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})
}

// TestValidateReportOfACommandLineValue: a diagnostic about a -var value is about no file:
// JSON gives it no file, and SARIF the location of diagnostics with no place (the
// repository root, no region; GitHub code scanning refuses a result without a location),
// never the URI of a made-up file such as "<-var nosuch>".
func TestValidateReportOfACommandLineValue(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte("queue \"q\" {\n  name = \"q\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ := run(t, map[string]string{}, "validate", "-format", "json", "-var", "nosuch=1", "-dir", dir)
	var doc validateJSON
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || code != 1 || len(doc.Diagnostics) != 1 {
		t.Fatalf("exit %d, %v:\n%s", code, err, stdout)
	}
	if d := doc.Diagnostics[0]; d.File != "" || d.Line != 0 || d.End != nil {
		t.Errorf("json: the -var diagnostic has a place: %+v", d)
	}
	code, stdout, _ = run(t, map[string]string{}, "validate", "-format", "sarif", "-var", "nosuch=1", "-dir", dir)
	var log sarifLog
	if err := json.Unmarshal([]byte(stdout), &log); err != nil || code != 1 || len(log.Runs) != 1 || len(log.Runs[0].Results) != 1 {
		t.Fatalf("exit %d, %v:\n%s", code, err, stdout)
	}
	want := []sarifLocation{{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: ".", URIBaseID: "%SRCROOT%"}}}}
	if d := cmp.Diff(want, log.Runs[0].Results[0].Locations); d != "" {
		t.Errorf("sarif locations (-want +got):\n%s", d)
	}
}

// checkSARIF checks what the SARIF 2.1.0 schema requires of the parts we write, and what
// GitHub code scanning needs besides (docs.github.com, "SARIF support for code
// scanning"): a tool driver with a name and rules, each result with a message, a ruleId
// naming a rule of the driver (ruleIndex pointing at it), a level, one physical location
// with a relative URI and a region of lines and columns starting at 1, whose file exists.
func checkSARIF(t *testing.T, doc []byte) {
	t.Helper()
	var log struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool *struct {
				Driver *struct {
					Name  string `json:"name"`
					Rules []struct {
						ID               string `json:"id"`
						ShortDescription *struct {
							Text string `json:"text"`
						} `json:"shortDescription"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results *[]struct {
				RuleID    string `json:"ruleId"`
				RuleIndex *int   `json:"ruleIndex"`
				Level     string `json:"level"`
				Message   *struct {
					Text string `json:"text"`
				} `json:"message"`
				Locations []struct {
					PhysicalLocation *struct {
						ArtifactLocation *struct {
							URI       string `json:"uri"`
							URIBaseID string `json:"uriBaseId"`
						} `json:"artifactLocation"`
						Region *struct {
							StartLine, StartColumn, EndLine, EndColumn int
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	if err := dec.Decode(&log); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if log.Version != "2.1.0" || !strings.Contains(log.Schema, "sarif-2.1.0") {
		t.Errorf("version %q, $schema %q", log.Version, log.Schema)
	}
	if len(log.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(log.Runs))
	}
	run := log.Runs[0]
	if run.Tool == nil || run.Tool.Driver == nil || run.Tool.Driver.Name != "flareops" {
		t.Fatalf("no tool.driver named flareops")
	}
	rules := map[string]int{}
	for i, r := range run.Tool.Driver.Rules {
		if r.ID == "" || r.ShortDescription == nil || r.ShortDescription.Text == "" {
			t.Errorf("rule %d lacks an id or a shortDescription", i)
		}
		if _, dup := rules[r.ID]; dup {
			t.Errorf("rule %s twice", r.ID)
		}
		rules[r.ID] = i
	}
	if run.Results == nil {
		t.Fatal("no results array (an empty one means no findings)")
	}
	for i, r := range *run.Results {
		if r.Message == nil || r.Message.Text == "" {
			t.Errorf("result %d: no message.text", i)
		}
		if idx, ok := rules[r.RuleID]; !ok || r.RuleIndex == nil || *r.RuleIndex != idx {
			t.Errorf("result %d: ruleId %q / ruleIndex do not name a rule of the driver", i, r.RuleID)
		}
		if r.Level != "error" && r.Level != "warning" && r.Level != "note" {
			t.Errorf("result %d: level %q", i, r.Level)
		}
		if len(r.Locations) != 1 || r.Locations[0].PhysicalLocation == nil || r.Locations[0].PhysicalLocation.ArtifactLocation == nil {
			t.Errorf("result %d: not one physicalLocation with an artifactLocation", i)
			continue
		}
		pl := r.Locations[0].PhysicalLocation
		uri := pl.ArtifactLocation.URI
		if uri == "" || strings.Contains(uri, "://") || strings.HasPrefix(uri, "/") || pl.ArtifactLocation.URIBaseID != "%SRCROOT%" {
			t.Errorf("result %d: uri %q (base %q) is not relative to %%SRCROOT%%", i, uri, pl.ArtifactLocation.URIBaseID)
		}
		src, err := os.ReadFile(filepath.FromSlash(uri))
		if err != nil {
			t.Errorf("result %d: %v", i, err)
			continue
		}
		g := pl.Region
		lines := strings.Count(string(src), "\n") + 1
		if g == nil || g.StartLine < 1 || g.StartColumn < 1 || g.EndLine < g.StartLine || g.EndLine > lines ||
			(g.EndLine == g.StartLine && g.EndColumn < g.StartColumn) {
			t.Errorf("result %d: region %+v is not a region of %s (%d lines)", i, g, uri, lines)
		}
	}
}

// cliGolden compares got with testdata/NAME, rewritten with -update.
func cliGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (rerun with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-golden +got); if intended, rerun with -update:\n%s", path, diff)
	}
}
