package reconciler

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// RenderMarkdown writes the plan as a pull-request comment: a one-line summary first,
// then what the changes do operationally (every delete and replace is listed, with or
// without impact lines), a table of the changes, and the text rendering collapsed under
// "Details". Colors are never used.
func RenderMarkdown(w io.Writer, p *Plan, o RenderOptions) error {
	if p == nil {
		return errNoPlan
	}
	var b bytes.Buffer
	if !p.HasChanges() {
		b.WriteString("**flareops plan**: no changes. The account matches the configuration.\n")
		writeMarkdownTarget(&b, o.Target)
		return flush(w, &b)
	}
	fmt.Fprintf(&b, "**flareops plan**: %s\n", planCounts(p))
	writeMarkdownTarget(&b, o.Target)

	if bullets := impactBullets(p); len(bullets) > 0 {
		b.WriteString("\n### Operational impact\n\n")
		b.WriteString(strings.Join(bullets, "\n") + "\n")
	}

	b.WriteString("\n### Changes\n\n| Address | Action | Fields changed |\n|---|---|---|\n")
	for _, c := range p.Changes {
		if c.Action != NoOp {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", cell(code(c.Address)), cell(string(c.Action)), cell(fieldsCell(c)))
		}
	}

	var text bytes.Buffer
	if err := RenderText(&text, p, RenderOptions{}); err != nil {
		return err
	}
	b.WriteString("\n<details><summary>Details</summary>\n\n")
	b.WriteString(fenced("diff", diffGutter(text.String())))
	b.WriteString("\n</details>\n")
	return flush(w, &b)
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
		if lead == "" && len(c.Impact) == 0 {
			continue
		}
		head := "- " + code(c.Address) + ": "
		switch {
		case len(c.Impact) == 1 && lead == "":
			out = append(out, head+c.Impact[0])
		case len(c.Impact) == 1:
			out = append(out, head+lead+" — "+c.Impact[0])
		case len(c.Impact) == 0 && fallback != "":
			out = append(out, head+lead+" — "+fallback)
		case len(c.Impact) == 0:
			out = append(out, head+lead)
		default:
			out = append(out, strings.TrimSuffix(head+lead, " "))
			for _, s := range c.Impact {
				out = append(out, "  - "+s)
			}
		}
	}
	return out
}

// fieldsCell names the changed fields of an update; for a whole-object action it says so
// instead of listing every field of the object.
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
	paths := make([]string, len(c.Fields))
	for i, f := range c.Fields {
		paths[i] = code(f.Path)
	}
	return strings.Join(paths, ", ")
}

// RenderDriftMarkdown writes the drift report as Markdown (for an issue or a PR
// comment): a one-line verdict, then each object that differs and, for objects that
// exist on both sides, each field, live → desired.
func RenderDriftMarkdown(w io.Writer, p *Plan, o RenderOptions) error {
	if p == nil {
		return errNoPlan
	}
	objs := Drifted(p)
	var b bytes.Buffer
	switch n := len(objs); n {
	case 0:
		b.WriteString("**flareops drift**: no drift. The account matches the configuration.\n")
		writeMarkdownTarget(&b, o.Target)
		return flush(w, &b)
	case 1:
		b.WriteString("**flareops drift**: 1 object differs from the configuration\n")
	default:
		fmt.Fprintf(&b, "**flareops drift**: %d objects differ from the configuration\n", n)
	}
	writeMarkdownTarget(&b, o.Target)
	b.WriteString("\nValues are shown as live → desired.\n\n")
	for _, c := range objs {
		id := ""
		if c.ID != "" {
			id = " (id " + code(c.ID) + ")"
		}
		fmt.Fprintf(&b, "- %s%s: %s\n", code(c.Address), id, driftDescription(c))
		if !driftShowsFields(c.Action) {
			continue
		}
		for _, f := range c.Fields {
			fmt.Fprintf(&b, "  - %s: %s → %s\n", code(f.Path), markdownValue(f, f.OldSet, true), markdownValue(f, f.NewSet, false))
		}
	}
	return flush(w, &b)
}

// markdownValue shows one side of a field: the value as code, or a plain-text mask or
// "(absent)" so that neither can be mistaken for a value.
func markdownValue(f FieldChange, set, live bool) string {
	switch {
	case !set:
		return "_(absent)_"
	case f.Sensitive:
		return "_" + masked + "_"
	case live:
		return code(f.Old)
	default:
		return code(f.New)
	}
}

func writeMarkdownTarget(b *bytes.Buffer, target string) {
	if target != "" {
		fmt.Fprintf(b, "\nTarget: %s\n", target)
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
