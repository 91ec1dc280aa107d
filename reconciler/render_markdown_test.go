package reconciler

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// renderLargePlan is a plan of n changes, as a big first apply or a rename of every
// object looks: creates, updates with impacts, deletes, some changed outside flareops,
// and a secret in every tenth.
func renderLargePlan(n int) *Plan {
	p := &Plan{FormatVersion: PlanFormatVersion, Target: Target{Kind: "local", DataDir: ".flareops/local", Workspace: "default"}}
	for i := range n {
		name := fmt.Sprintf("monotask-staging-jobs-%04d", i)
		addr := fmt.Sprintf("queue.jobs_%04d", i)
		var c Change
		switch i % 4 {
		case 0:
			c = renderChange(addr, Create, "", Diff(nil, renderQueue(name, 345600)))
			c.Key = name
		case 1:
			c = renderChange(addr, Update, fmt.Sprintf("q-%04d", i), Diff(renderAgentJobs(5, 0, ""), renderAgentJobs(3, 30, name+"-dlq")))
			c.Key, c.LiveKey = name, name
			c.Impact = []string{
				"failed messages go to " + name + "-dlq after 3 retries instead of being dropped",
				"failed messages wait 30s before a retry (was 0s)",
			}
		case 2:
			c = renderChange(addr, Update, fmt.Sprintf("q-%04d", i), origins(Diff(renderQueue(name, 86400), renderQueue(name, 345600)),
				map[string][2]string{"message_retention": {OriginOutside, "4d"}}))
			c.Key, c.LiveKey, c.Origin = name, name, OriginOutside
			c.Impact = []string{"undelivered messages are kept 4d instead of 1d"}
		case 3:
			c = renderChange(addr, Delete, fmt.Sprintf("q-%04d", i), Diff(renderQueue(name, 345600), nil))
			c.Key, c.LiveKey = name, name
		}
		if i%10 == 9 {
			c.Fields = append(c.Fields, FieldChange{Path: "secret", Field: "secret", Old: renderOldSecret, New: renderNewSecret, OldSet: true, NewSet: true, Sensitive: true})
		}
		p.Changes = append(p.Changes, c)
	}
	return p
}

// A plan of 2,000 changes fits one GitHub comment with its summary and the first
// impacts intact, says how many changes it leaves out, and stays well-formed.
func TestRenderMarkdownLargePlanFitsAComment(t *testing.T) {
	p := renderLargePlan(2000)
	var b bytes.Buffer
	if err := RenderMarkdown(&b, p, RenderOptions{Target: renderTarget}); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	checkMarkdownComment(t, md)
	wantSummary := "**flareops plan**: 500 to create, 1000 to update, 0 to replace, 500 to delete; 500 set back changes made outside flareops\n"
	if !strings.HasPrefix(md, wantSummary) {
		t.Errorf("the summary is not the first line:\n%.300s", md)
	}
	for _, s := range []string{"### Operational impact", "- `queue.jobs_0001`:", "more changes not shown"} {
		if !strings.Contains(md, s) {
			t.Errorf("the comment lacks %q", s)
		}
	}
	if strings.Contains(md, renderNewSecret) || strings.Contains(md, renderOldSecret) {
		t.Error("a secret is in the comment")
	}
	golden(t, "large_plan.md", md)
}

// One huge value (a megabyte) is shortened in place: the change it belongs to and every
// other change are still shown, and the comment fits.
func TestRenderMarkdownHugeValues(t *testing.T) {
	huge := `"` + strings.Repeat("é", 1<<20) + `"`
	p := &Plan{Changes: []Change{
		renderChange("queue.huge", Update, "q1", []FieldChange{{Path: "name", Field: "name", Old: huge, New: huge + "x", OldSet: true, NewSet: true}}),
		renderChange("queue.small", Update, "q2", []FieldChange{{Path: "paused", Field: "paused", Old: "false", New: "true", OldSet: true, NewSet: true}}),
	}}
	p.Changes[0].Impact = []string{strings.Repeat("consumers must be redeployed ", 50000)}
	p.Warnings = []string{strings.Repeat("w", 200000)}
	var b bytes.Buffer
	if err := RenderMarkdown(&b, p, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	checkMarkdownComment(t, md)
	for _, s := range []string{"| `queue.huge` | update |", "| `queue.small` | update |", "more characters not shown", "~       paused = false -> true"} {
		if !strings.Contains(md, s) {
			t.Errorf("the comment lacks %q", s)
		}
	}
	if strings.Contains(md, "not shown: the comment would exceed") {
		t.Errorf("two changes with clipped values should fit whole:\n%.2000s", md)
	}

	// Many huge values: every value is clipped, and whole changes are left out.
	p = renderLargePlan(40)
	for i := range p.Changes {
		for j := range p.Changes[i].Fields {
			p.Changes[i].Fields[j].New = huge
		}
	}
	b.Reset()
	if err := RenderMarkdown(&b, p, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	checkMarkdownComment(t, b.String())
	if !strings.Contains(b.String(), "more changes not shown") {
		t.Errorf("40 changes of huge values cannot all be shown, and the comment must say so")
	}
}

// A table cell, a code span and a code block stay closed whatever the value holds,
// also when values are clipped: the cut never falls inside the markup around them.
func TestRenderMarkdownClippedValuesStayInside(t *testing.T) {
	v := "\"" + strings.Repeat("`|</details>```\n", 500) + "\""
	p := &Plan{Changes: []Change{renderChange("queue.odd", Update, "q1", []FieldChange{{Path: "name", Field: "name", Old: v, New: v + "!", OldSet: true, NewSet: true}})}}
	var b bytes.Buffer
	if err := RenderMarkdown(&b, p, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	checkMarkdownComment(t, b.String())
}

var fenceLine = regexp.MustCompile("^(`{3,})")

// checkMarkdownComment checks what GitHub needs of a comment: the size, and markup that
// closes: code fences, <details> tags outside code, table rows.
func checkMarkdownComment(t *testing.T, md string) {
	t.Helper()
	if len(md) > MarkdownBudget {
		t.Errorf("the comment has %d bytes, more than the budget of %d", len(md), MarkdownBudget)
	}
	open, details := "", 0
	for i, line := range strings.Split(md, "\n") {
		if m := fenceLine.FindStringSubmatch(line); m != nil {
			switch {
			case open == "":
				open = m[1]
				continue
			case strings.TrimRight(line, " ") == open || (strings.Trim(line, "`") == "" && len(line) >= len(open)):
				open = ""
				continue
			}
		}
		if open != "" {
			continue
		}
		details += strings.Count(line, "<details>") - strings.Count(line, "</details>")
		if details < 0 {
			t.Errorf("line %d closes a <details> never opened", i+1)
		}
		if strings.HasPrefix(line, "|") && !strings.HasSuffix(line, "|") {
			t.Errorf("line %d is a cut table row: %.200s", i+1, line)
		}
	}
	if open != "" {
		t.Errorf("a code fence %s is never closed", open)
	}
	if details != 0 {
		t.Errorf("%d <details> never closed", details)
	}
}

// golden compares got with testdata/render/NAME, rewritten with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "render", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reconciler/ -run Markdown -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-golden +got); if intended, rerun with -update:\n%.5000s", path, diff)
	}
}

// The drift report of the same 2,000 changes fits one issue body too, verdict first.
func TestRenderDriftMarkdownLargePlanFits(t *testing.T) {
	var b bytes.Buffer
	if err := RenderDriftMarkdown(&b, renderLargePlan(2000), RenderOptions{Target: renderTarget}); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	checkMarkdownComment(t, md)
	if !strings.HasPrefix(md, "**flareops drift**: ") || !strings.Contains(md, "more changes not shown") || !strings.Contains(md, "Run `flareops drift`") {
		t.Errorf("the report lacks its verdict or the note of what it leaves out:\n%.500s", md)
	}
	if strings.Contains(md, renderNewSecret) || strings.Contains(md, renderOldSecret) {
		t.Error("a secret is in the report")
	}
}
