package reconciler

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// RenderMarkdown writes the plan as a pull-request comment, most important first:
//   - a one-line summary, with how many changes set back changes made outside flareops;
//   - the target and every warning of the plan;
//   - what is left to another tool's deploy (Plan.Manual);
//   - "Operational impact": what the changes do (every delete and replace is listed,
//     with or without impact lines);
//   - "Changes made outside flareops (this plan sets them back)", apart from the
//     configuration changes;
//   - a table of the changes: address, action, the live object (name and id), the
//     fields changed;
//   - the text rendering collapsed under "Details", without what is listed above.
//
// The comment always fits GitHub's: it is at most MarkdownBudget bytes (see there). A
// value longer than markdownValueRunes characters is shortened, saying by how much; when
// the whole still does not fit, sections give up whole entries (a change's impact, a
// table row, a change's details), last ones first: the details take only the room the
// others leave, and the impacts, the changes made outside flareops and the table share
// the rest (see assembleMarkdown); each section says "N more changes not shown". The
// summary line is never cut, and a cut never falls inside an entry, a code block or an
// HTML tag.
//
// Colors are never used; sensitive values are always masked.
func RenderMarkdown(w io.Writer, p *Plan, o RenderOptions) error {
	if p == nil {
		return errNoPlan
	}
	p = clipPlan(p, markdownValueRunes)
	var summary string
	var sections []mdSection
	if !p.HasChanges() {
		if len(p.Manual) > 0 {
			summary = fmt.Sprintf("**flareops plan**: no changes for flareops to apply; %s.\n", manualSummary(p.Manual))
		} else {
			summary = "**flareops plan**: no changes. The account matches the configuration.\n"
		}
		sections = append(sections, preambleSection(p, o), manualSection(p.Manual))
		return flush(w, assembleMarkdown(summary, sections, MarkdownBudget))
	}
	outside := OutsideChanges(p)
	summary = "**flareops plan**: " + planCounts(p)
	if n := len(outside); n > 0 {
		summary += fmt.Sprintf("; %d set back changes made outside flareops", n)
	}
	if len(p.Manual) > 0 {
		summary += "; " + manualSummary(p.Manual)
	}
	summary += "\n"
	sections = append(sections, preambleSection(p, o), manualSection(p.Manual))
	sections = append(sections, mdSection{
		head:    "\n### Operational impact\n\n",
		entries: impactBullets(p),
		more:    func(n int) string { return "- " + moreChanges(n) + "\n" },
		share:   true,
	})
	if len(outside) > 0 {
		var entries []string
		for _, c := range outside {
			var b bytes.Buffer
			writeOutsideMarkdown(&b, []Change{c}, "this plan")
			entries = append(entries, b.String())
		}
		sections = append(sections, mdSection{
			head:    "\n### Changes made outside flareops (this plan sets them back)\n\n",
			entries: entries,
			more:    func(n int) string { return "- " + moreChanges(n) + "\n" },
			share:   true,
		})
	}
	var rows, details []string
	for _, c := range p.Changes {
		if c.Action == NoOp {
			continue
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s |\n", cell(code(c.Address)), cell(string(c.Action)), cell(objectCell(c)), cell(fieldsCell(c))))
		var b bytes.Buffer
		writeChangeText(&b, c, style(false), false)
		b.WriteByte('\n')
		details = append(details, diffGutter(b.String()))
	}
	sections = append(sections, mdSection{
		head:    "\n### Changes\n\n| Address | Action | Live object | Fields changed |\n|---|---|---|---|\n",
		entries: rows,
		// A line that is not a row ends the table: the note goes under it.
		more:  func(n int) string { return "\n" + moreChanges(n) + "\n" },
		share: true,
	})
	// One fence around every entry: long enough that no entry can close it.
	var legend bytes.Buffer
	writeLegend(&legend, p, style(false))
	legend.WriteString("flareops will perform the following actions, in this order:\n\n")
	head := diffGutter(legend.String())
	fence := "```"
	for strings.Contains(head+strings.Join(details, ""), fence) {
		fence += "`"
	}
	sections = append(sections, mdSection{
		head:    "\n<details><summary>Details</summary>\n\n" + fence + "diff\n" + head,
		entries: details,
		more:    func(n int) string { return "# " + stripEmphasis(moreChanges(n)) + "\n\n" },
		tail:    fmt.Sprintf("Plan: %s.\n%s\n\n</details>\n", planCounts(p), fence),
	})
	return flush(w, assembleMarkdown(summary, sections, MarkdownBudget))
}

// preambleSection is the target and the warnings, each its own paragraph.
func preambleSection(p *Plan, o RenderOptions) mdSection {
	var s mdSection
	if t := targetText(p, o); t != "" {
		s.entries = append(s.entries, fmt.Sprintf("\nTarget: %s\n", t))
	}
	for _, w := range p.Warnings {
		// A warning is plain text that may quote names from the configuration: no HTML.
		w = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(w)
		s.entries = append(s.entries, fmt.Sprintf("\n> **Warning:** %s\n", strings.ReplaceAll(w, "\n", "\n> ")))
	}
	s.more = func(n int) string {
		return fmt.Sprintf("\n_%d more warnings not shown: the comment would exceed GitHub's limit._\n", n)
	}
	return s
}

// manualSection is what declarations leave to another tool's deploy: one entry per
// declaration under the heading that writeManualMarkdown gives them all.
func manualSection(steps []ManualStep) mdSection {
	if len(steps) == 0 {
		return mdSection{}
	}
	var all bytes.Buffer
	writeManualMarkdown(&all, steps)
	s := mdSection{more: func(n int) string {
		return fmt.Sprintf("\n- _%d more declarations not shown: the comment would exceed GitHub's limit._\n", n)
	}}
	if i := strings.Index(all.String(), "\n- "); i >= 0 {
		s.head = all.String()[:i]
	}
	for _, st := range steps {
		var one bytes.Buffer
		writeManualMarkdown(&one, []ManualStep{st})
		text := one.String()
		if i := strings.Index(text, "\n- "); i >= 0 {
			text = text[i:]
		}
		s.entries = append(s.entries, text)
	}
	return s
}

// impactBullets says what each change does: one entry per change with impact lines, and
// one for every delete and replace even without them, since both destroy an object. An
// entry is one bullet, or a bullet with nested ones, ending in a newline.
func impactBullets(p *Plan) []string {
	var out []string
	for _, c := range p.Changes {
		var lead, fallback string
		switch c.Action {
		case NoOp:
			continue
		case Delete:
			lead, fallback = "**deleted**", "removed from the configuration"
		case Replace:
			lead, fallback = "**replaced** (destroyed, then created again)", c.Reason
		}
		impact := uniqueLines(c.Impact)
		if lead == "" && len(impact) == 0 {
			continue
		}
		head := "- " + code(c.Address) + ": "
		switch {
		case len(impact) == 1 && lead == "":
			out = append(out, head+impact[0]+"\n")
		case len(impact) == 1:
			out = append(out, head+lead+" — "+impact[0]+"\n")
		case len(impact) == 0 && fallback != "":
			out = append(out, head+lead+" — "+fallback+"\n")
		case len(impact) == 0:
			out = append(out, head+lead+"\n")
		default:
			lines := []string{strings.TrimSuffix(head+lead, " ")}
			for _, s := range impact {
				lines = append(lines, "  - "+s)
			}
			out = append(out, strings.Join(lines, "\n")+"\n")
		}
	}
	return out
}

// objectCell names the live object a change is about; a new object by the name it gets.
func objectCell(c Change) string {
	if c.Action == Create {
		if c.Key == "" {
			return "_new_"
		}
		return code(c.Key) + " _(new)_"
	}
	np := mdNameplate(c)
	if np == "" {
		return "—"
	}
	return strings.TrimSuffix(strings.TrimPrefix(np, "("), ")")
}

// fieldsCell names the changed fields of an update, nested ones as `consumer.max_retries`
// and a nested block added or removed as a whole by its type; for a whole-object action
// it says so instead of listing every field of the object.
func fieldsCell(c Change) string {
	switch c.Action {
	case Create:
		return "_new object_"
	case Delete:
		return "_whole object_"
	case Forget:
		return "_state only_"
	}
	if len(c.Fields) == 0 {
		return "—"
	}
	var paths []string
	var walk func(n *blockNode, prefix string)
	walk = func(n *blockNode, prefix string) {
		for _, f := range n.fields {
			paths = append(paths, prefix+f.Attr())
		}
		for _, b := range n.blocks {
			if b.symbol() == "~" {
				walk(b, prefix+b.step.Type+".")
			} else {
				paths = append(paths, prefix+b.step.Type)
			}
		}
	}
	walk(fieldTree(c.Fields), "")
	paths = uniqueLines(paths)
	for i, s := range paths {
		paths[i] = code(s)
	}
	return strings.Join(paths, ", ")
}

func mdNameplate(c Change) string { return nameplate(c, code, code) }

// mdValue shows one value: as code, or a plain-text mask or "(absent)" so that neither
// can be mistaken for a value.
func mdValue(v string, set bool) string {
	switch {
	case !set:
		return "_(absent)_"
	case v == Masked:
		return "_" + Masked + "_"
	}
	return code(v)
}

// writeOutsideMarkdown lists changes made outside flareops as nested bullets.
func writeOutsideMarkdown(b *bytes.Buffer, changes []Change, actor string) {
	for _, c := range changes {
		head := "- " + code(c.Address)
		if np := mdNameplate(c); np != "" {
			head += " " + np
		}
		notes := outsideNotes(c, actor, mdValue)
		if len(notes) == 0 || !driftShowsFields(c.Action) {
			fmt.Fprintf(b, "%s: %s\n", head, outsideObjectSentence(c))
			continue
		}
		b.WriteString(head + "\n")
		writeNotesMarkdown(b, notes)
	}
}

func writeNotesMarkdown(b *bytes.Buffer, notes []noteLine) {
	for _, l := range notes {
		b.WriteString(strings.Repeat("  ", 1+l.depth) + "- " + code(l.name))
		if l.ident != "" {
			b.WriteString(" (" + code(l.ident) + ")")
		}
		if l.sentence != "" {
			b.WriteString(": " + l.sentence)
		}
		b.WriteString("\n")
	}
}

// code makes s a Markdown code span, whatever backticks it holds.
func code(s string) string {
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// cell escapes what would end a table cell early.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// fenced makes a fenced code block that no line of text can close early.
func fenced(lang, text string) string {
	fence := "```"
	for strings.Contains(text, fence) {
		fence += "`"
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return fence + lang + "\n" + text + fence + "\n"
}

// diffGutter moves each line's leading change symbol to the first column, where the
// diff highlighting of GitHub and GitLab looks for it: "  + queue" → "+   queue". The
// width of every line is kept.
func diffGutter(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		rest := strings.TrimLeft(l, " ")
		indent := len(l) - len(rest)
		for _, sym := range []string{"-/+", "+", "-", "~", "!"} {
			if indent > 0 && strings.HasPrefix(rest, sym+" ") {
				lines[i] = sym + strings.Repeat(" ", indent) + rest[len(sym):]
				break
			}
		}
	}
	return strings.Join(lines, "\n")
}
