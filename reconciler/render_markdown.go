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
//   - "Operational impact": what the changes do (every delete and replace is listed,
//     with or without impact lines);
//   - "Changes made outside flareops (this plan sets them back)", apart from the
//     configuration changes;
//   - a table of the changes: address, action, the live object (name and id), the
//     fields changed;
//   - the text rendering collapsed under "Details", without what is listed above.
//
// Colors are never used; sensitive values are always masked.
func RenderMarkdown(w io.Writer, p *Plan, o RenderOptions) error {
	if p == nil {
		return errNoPlan
	}
	var b bytes.Buffer
	if !p.HasChanges() {
		if len(p.Manual) > 0 {
			fmt.Fprintf(&b, "**flareops plan**: no changes for flareops to apply; %s.\n", manualSummary(p.Manual))
		} else {
			b.WriteString("**flareops plan**: no changes. The account matches the configuration.\n")
		}
		writeMarkdownPreamble(&b, p, o)
		if len(p.Manual) > 0 {
			writeManualMarkdown(&b, p.Manual)
		}
		return flush(w, &b)
	}
	outside := OutsideChanges(p)
	fmt.Fprintf(&b, "**flareops plan**: %s", planCounts(p))
	if n := len(outside); n > 0 {
		fmt.Fprintf(&b, "; %d set back changes made outside flareops", n)
	}
	if len(p.Manual) > 0 {
		fmt.Fprintf(&b, "; %s", manualSummary(p.Manual))
	}
	b.WriteString("\n")
	writeMarkdownPreamble(&b, p, o)
	if len(p.Manual) > 0 {
		writeManualMarkdown(&b, p.Manual)
	}

	if bullets := impactBullets(p); len(bullets) > 0 {
		b.WriteString("\n### Operational impact\n\n")
		b.WriteString(strings.Join(bullets, "\n") + "\n")
	}
	if len(outside) > 0 {
		b.WriteString("\n### Changes made outside flareops (this plan sets them back)\n\n")
		writeOutsideMarkdown(&b, outside, "this plan")
	}

	b.WriteString("\n### Changes\n\n| Address | Action | Live object | Fields changed |\n|---|---|---|---|\n")
	for _, c := range p.Changes {
		if c.Action != NoOp {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(code(c.Address)), cell(string(c.Action)), cell(objectCell(c)), cell(fieldsCell(c)))
		}
	}

	var text bytes.Buffer
	writePlanBody(&text, p, style(false), false)
	b.WriteString("\n<details><summary>Details</summary>\n\n")
	b.WriteString(fenced("diff", diffGutter(text.String())))
	b.WriteString("\n</details>\n")
	return flush(w, &b)
}

// writeMarkdownPreamble writes the target and the warnings, each its own paragraph.
func writeMarkdownPreamble(b *bytes.Buffer, p *Plan, o RenderOptions) {
	if t := targetText(p, o); t != "" {
		fmt.Fprintf(b, "\nTarget: %s\n", t)
	}
	for _, s := range p.Warnings {
		fmt.Fprintf(b, "\n> **Warning:** %s\n", strings.ReplaceAll(s, "\n", "\n> "))
	}
}

// impactBullets says what each change does: one bullet per change with impact lines,
// and one for every delete and replace even without them, since both destroy an object.
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
			out = append(out, head+impact[0])
		case len(impact) == 1:
			out = append(out, head+lead+" — "+impact[0])
		case len(impact) == 0 && fallback != "":
			out = append(out, head+lead+" — "+fallback)
		case len(impact) == 0:
			out = append(out, head+lead)
		default:
			out = append(out, strings.TrimSuffix(head+lead, " "))
			for _, s := range impact {
				out = append(out, "  - "+s)
			}
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
	case v == masked:
		return "_" + masked + "_"
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
