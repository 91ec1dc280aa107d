package cli

import (
	"encoding/json"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// diagReport is validate's diagnostics for machines: JSON (docs/cli/validate-json.md) and
// SARIF 2.1.0 (for GitHub code scanning, which annotates the pull request with them).
type diagReport struct {
	diags []diagJSON
}

// diagJSON is one diagnostic of validate -format json. Line and column start at 1;
// columns count characters; End is where the marked text ends (exclusive). File is
// relative to the working directory when the configuration is under it (CI runs at the
// repository root, so it is the path in the repository), with forward slashes. A
// diagnostic about no place in particular (no configuration files, a -var value) has no
// file.
type diagJSON struct {
	Severity string   `json:"severity"` // "error" or "warning"
	Category string   `json:"category"` // a stable id of the kind of mistake, the SARIF rule id
	Summary  string   `json:"summary"`
	Detail   string   `json:"detail,omitempty"`
	File     string   `json:"file,omitempty"`
	Line     int      `json:"line,omitempty"`
	Column   int      `json:"column,omitempty"`
	End      *posJSON `json:"end,omitempty"`
}

type posJSON struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// validateFormatVersion versions validate's JSON document.
const validateFormatVersion = "1.0"

type validateJSON struct {
	FormatVersion string     `json:"format_version"`
	Valid         bool       `json:"valid"`
	ErrorCount    int        `json:"error_count"`
	WarningCount  int        `json:"warning_count"`
	Diagnostics   []diagJSON `json:"diagnostics"`
}

func newDiagReport(diags hcl.Diagnostics) *diagReport {
	r := &diagReport{diags: []diagJSON{}}
	for _, d := range diags {
		if d == nil {
			continue
		}
		j := diagJSON{Severity: "error", Category: category(d.Summary), Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			j.Severity = "warning"
		}
		if s := d.Subject; s != nil && s.Filename != "" && !pseudoFile(s.Filename) {
			j.File = reportPath(s.Filename)
			j.Line, j.Column = s.Start.Line, s.Start.Column
			j.End = &posJSON{Line: s.End.Line, Column: s.End.Column}
		}
		r.diags = append(r.diags, j)
	}
	return r
}

func (r *diagReport) json() validateJSON {
	v := validateJSON{FormatVersion: validateFormatVersion, Diagnostics: r.diags}
	for _, d := range r.diags {
		if d.Severity == "error" {
			v.ErrorCount++
		} else {
			v.WarningCount++
		}
	}
	v.Valid = v.ErrorCount == 0
	return v
}

// pseudoFile reports whether a diagnostic's file name stands for text given outside the
// configuration ("<-var env>", "<env FLAREOPS_VAR_env>"): no file a report can point at.
func pseudoFile(name string) bool {
	return strings.HasPrefix(name, "<") && strings.HasSuffix(name, ">")
}

// reportPath is name relative to the working directory, with forward slashes, when it is
// under it; otherwise as it is.
func reportPath(name string) string {
	if filepath.IsAbs(name) {
		if wd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(wd, name); err == nil && !strings.HasPrefix(rel, "..") {
				name = rel
			}
		}
	}
	return filepath.ToSlash(filepath.Clean(name))
}

// Categories whose summaries name things (a Worker, a file): one rule each, whatever the
// names. Every other category is its summary without the quoted names in it.
var categories = []struct {
	match *regexp.Regexp
	id    string
	desc  string
}{
	{regexp.MustCompile(` set twice on Worker `), "set-twice-on-worker", "One setting or binding of a Worker set by two declarations"},
	{regexp.MustCompile(` on Worker .*, which .* deploys`), "worker-deployed-by-another-tool", "A setting on a Worker that another tool deploys"},
	{regexp.MustCompile(` is declared here and in |has a consumer here .* and in `), "declared-in-wrangler-too", "Declared both in flareops and in a wrangler file"},
}

var (
	quoted  = regexp.MustCompile(`"[^"]*"`)
	nonWord = regexp.MustCompile(`[^a-z0-9]+`)
)

// category is a diagnostic's stable id: "unsupported-argument", "invalid-queue".
func category(summary string) string {
	for _, c := range categories {
		if c.match.MatchString(summary) {
			return c.id
		}
	}
	id := strings.Trim(nonWord.ReplaceAllString(strings.ToLower(quoted.ReplaceAllString(summary, "")), "-"), "-")
	if id == "" {
		return "diagnostic"
	}
	return id
}

// categoryText describes a category in words for the SARIF rule: its summary without the
// names in it.
func categoryText(id, summary string) string {
	for _, c := range categories {
		if c.id == id {
			return c.desc
		}
	}
	return strings.Join(strings.Fields(quoted.ReplaceAllString(summary, "")), " ")
}

// The SARIF 2.1.0 subset GitHub code scanning reads
// (docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning).
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool       sarifTool     `json:"tool"`
	ColumnKind string        `json:"columnKind"`
	Results    []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string      `json:"id"`
	Name                 string      `json:"name"`
	ShortDescription     sarifText   `json:"shortDescription"`
	DefaultConfiguration sarifConfig `json:"defaultConfiguration"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
	EndLine     int `json:"endLine"`
	EndColumn   int `json:"endColumn"`
}

const sarifSchema = "https://json.schemastore.org/sarif-2.1.0.json"

// sarif is the report as a SARIF 2.1.0 log: one run of the tool flareops, one rule per
// category (sorted by id), one result per diagnostic with its file and region. URIs are
// relative to %SRCROOT% (the repository root, where CI runs flareops); a diagnostic with
// no place points at the file that holds nothing more precise: none, so its location is
// the working directory itself.
func (r *diagReport) sarif(version string) sarifLog {
	byID := map[string]string{} // category → a summary of it
	for _, d := range r.diags {
		if _, ok := byID[d.Category]; !ok {
			byID[d.Category] = d.Summary
		}
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	index := map[string]int{}
	driver := sarifDriver{Name: "flareops", Version: version, InformationURI: "https://github.com/monotask/flareops", Rules: []sarifRule{}}
	for i, id := range ids {
		index[id] = i
		driver.Rules = append(driver.Rules, sarifRule{
			ID: id, Name: ruleName(id),
			ShortDescription:     sarifText{categoryText(id, byID[id])},
			DefaultConfiguration: sarifConfig{Level: "error"},
		})
	}
	run := sarifRun{Tool: sarifTool{driver}, ColumnKind: "unicodeCodePoints", Results: []sarifResult{}}
	for _, d := range r.diags {
		msg := d.Summary
		if d.Detail != "" {
			msg += ": " + d.Detail
		}
		loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: ".", URIBaseID: "%SRCROOT%"}}}
		if d.File != "" {
			loc.PhysicalLocation.ArtifactLocation.URI = fileURI(d.File)
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: d.Line, StartColumn: d.Column, EndLine: d.End.Line, EndColumn: d.End.Column}
			if filepath.IsAbs(filepath.FromSlash(d.File)) {
				loc.PhysicalLocation.ArtifactLocation.URIBaseID = ""
			}
		}
		run.Results = append(run.Results, sarifResult{
			RuleID: d.Category, RuleIndex: index[d.Category], Level: d.Severity,
			Message: sarifText{msg}, Locations: []sarifLocation{loc},
		})
	}
	return sarifLog{Schema: sarifSchema, Version: "2.1.0", Runs: []sarifRun{run}}
}

// fileURI is a relative path as a URI reference (each segment escaped), or an absolute
// one as a file: URI.
func fileURI(p string) string {
	abs := strings.HasPrefix(p, "/")
	var segs []string
	for _, s := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		segs = append(segs, url.PathEscape(s))
	}
	if abs {
		return "file:///" + strings.Join(segs, "/")
	}
	return strings.Join(segs, "/")
}

// ruleName is a rule id in the PascalCase SARIF viewers show: "UnsupportedArgument".
func ruleName(id string) string {
	var b strings.Builder
	for _, w := range strings.Split(id, "-") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
