package reconciler

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// RenderOptions tune the renderings people read (text and Markdown).
type RenderOptions struct {
	// Color adds ANSI colors to the text renderings: green +, yellow ~, red -. Markdown
	// ignores it.
	Color bool
	// Target names what the plan was made against, e.g. "local Cloudflare
	// (.flareops/local)" or "account 0123…", for the header. When empty, the header
	// describes Plan.Target instead (and says nothing if that is empty too).
	Target string
}

// Masked stands for a sensitive value wherever one would be shown. Every rendering masks a
// sensitive field itself, whatever the kind put in Old and New: FieldChange promises the
// mask, the renderers keep it even if a kind forgets.
const Masked = "(sensitive)"

// PlainOrQuoted shows a name from the configuration in a sentence: as it is when it holds
// only letters, digits, spaces and . _ - : / @, else quoted, so that control characters
// (terminal escapes), newlines and Markdown or HTML in it cannot act on the terminal or
// the PR comment the sentence is printed to.
func PlainOrQuoted(name string) string {
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(" ._-:/@", r)) {
			return strconv.Quote(name)
		}
	}
	return name
}

var errNoPlan = errors.New("cannot render: no plan")

// actionLook is how the text rendering shows one action.
type actionLook struct{ symbol, verb string }

var actionLooks = map[Action]actionLook{
	Create:  {"+", "will be created"},
	Update:  {"~", "will be updated in place"},
	Replace: {"-/+", "must be replaced"},
	Delete:  {"-", "will be destroyed"},
	Adopt:   {"~", "will be adopted"},
	Forget:  {"", "will be forgotten"},
}

func lookOf(a Action) actionLook {
	if l, ok := actionLooks[a]; ok {
		return l
	}
	return actionLook{"?", "will be changed (" + string(a) + ")"}
}

// RenderText writes the plan as people read it in a terminal, Terraform-like:
//   - a header: the target (RenderOptions.Target, else Plan.Target), then every warning;
//   - when the account was changed outside flareops, the section "Changes made outside
//     flareops (this plan sets them back)": per object, each such field as
//     `paused: false -> true (changed outside flareops); this plan sets it back to false`;
//   - each change that is not a no-op, in plan order (the order apply walks): a comment
//     line naming the object, its live name and id and what happens to it, then its
//     block with `+`, `-` or `~` per attribute, `=` before a value and `->` between two,
//     names aligned, nested blocks drawn as blocks; then the operational impact (!) and
//     the reason (#);
//   - a summary line "Plan: 1 to create, 2 to update, 0 to replace, 1 to delete." where
//     adopt counts as update and ", N to forget" appears only when N > 0.
//
// Colors only with RenderOptions.Color; sensitive values are always "(sensitive)".
func RenderText(w io.Writer, p *Plan, o RenderOptions) error {
	if p == nil {
		return errNoPlan
	}
	var b bytes.Buffer
	if t := targetText(p, o); t != "" {
		fmt.Fprintf(&b, "Target: %s\n\n", t)
	}
	for _, s := range p.Warnings {
		fmt.Fprintf(&b, "Warning: %s\n\n", s)
	}
	if len(p.Manual) > 0 {
		writeManualText(&b, p.Manual)
	}
	if !p.HasChanges() {
		if len(p.Manual) > 0 {
			fmt.Fprintf(&b, "No changes for flareops to apply; %s (above).\n", manualSummary(p.Manual))
			return flush(w, &b)
		}
		b.WriteString("No changes. The account matches the configuration.\n")
		return flush(w, &b)
	}
	if outside := OutsideChanges(p); len(outside) > 0 {
		b.WriteString("Changes made outside flareops (this plan sets them back):\n\n")
		writeOutsideText(&b, outside, "this plan")
		b.WriteByte('\n')
	}
	writePlanBody(&b, p, style(o.Color), true)
	return flush(w, &b)
}

func targetText(p *Plan, o RenderOptions) string {
	if o.Target != "" {
		return o.Target
	}
	return describeTarget(p.Target)
}

// writePlanBody writes the legend, the changes and the summary line; without impacts
// when they are shown elsewhere (the Markdown comment lists them before the details).
func writePlanBody(b *bytes.Buffer, p *Plan, st style, impacts bool) {
	writeLegend(b, p, st)
	b.WriteString("flareops will perform the following actions, in this order:\n\n")
	for _, c := range p.Changes {
		if c.Action != NoOp {
			writeChangeText(b, c, st, impacts)
			b.WriteByte('\n')
		}
	}
	fmt.Fprintf(b, "Plan: %s.\n", planCounts(p))
}

// planCounts is "1 to create, 2 to update, 0 to replace, 1 to delete[, 1 to forget]".
func planCounts(p *Plan) string {
	n := p.Summary()
	s := fmt.Sprintf("%d to create, %d to update, %d to replace, %d to delete", n[Create], n[Update]+n[Adopt], n[Replace], n[Delete])
	if n[Forget] > 0 {
		s += fmt.Sprintf(", %d to forget", n[Forget])
	}
	return s
}

// writeLegend lists the symbols the plan uses, aligned like the change blocks.
func writeLegend(b *bytes.Buffer, p *Plan, st style) {
	n := p.Summary()
	update := ""
	switch {
	case n[Update] > 0 && n[Adopt] > 0:
		update = "update in place, or adopt"
	case n[Update] > 0:
		update = "update in place"
	case n[Adopt] > 0:
		update = "adopt"
	}
	rows := []struct {
		show         bool
		symbol, text string
	}{
		{n[Create] > 0, "+", "create"},
		{update != "", "~", update},
		{n[Replace] > 0, "-/+", "destroy and then create replacement"},
		{n[Delete] > 0, "-", "destroy"},
	}
	var lines []string
	for _, r := range rows {
		if r.show {
			lines = append(lines, gutter(r.symbol, st)+" "+r.text)
		}
	}
	if len(lines) == 0 {
		return
	}
	b.WriteString("Actions are shown with these symbols:\n")
	b.WriteString(strings.Join(lines, "\n") + "\n\n")
}

// writeChangeText writes one change: a comment line saying what happens to which object,
// then a block with the field changes, their operational impact (!) and the reason (#).
func writeChangeText(b *bytes.Buffer, c Change, st style, impacts bool) {
	look := lookOf(c.Action)
	b.WriteString("  # " + c.Address)
	if np := textNameplate(c); np != "" && c.Action != Create {
		b.WriteString(" " + np)
	}
	b.WriteString(" " + look.verb)
	if (c.Action == Adopt || c.Action == Forget) && c.Reason != "" {
		fmt.Fprintf(b, " (%s)", c.Reason)
	}
	b.WriteByte('\n')
	if c.Action == Forget {
		return // nothing in the account changes: only the state entry goes
	}
	body := blockLines(fieldTree(c.Fields), 6, st)
	if impacts {
		for _, s := range uniqueLines(c.Impact) {
			body = append(body, "      ! "+s)
		}
	}
	if c.Reason != "" && c.Action != Adopt {
		body = append(body, "      # "+c.Reason)
	}
	fmt.Fprintf(b, "%s %s %q {", gutter(look.symbol, st), c.Kind, c.Name)
	if len(body) == 0 {
		b.WriteString("}\n")
		return
	}
	b.WriteString("\n" + strings.Join(body, "\n") + "\n    }\n")
}

// blockLines draws the body of a block whose symbols sit in column indent: its
// attributes (`~ name = old -> new`, `+ name = new`, `- name = old`, names padded to one
// width), then its nested blocks, each as `~ type {` … `}`. A changed nested block first
// shows, unmarked, the attribute that identifies it (`worker = "agent-worker"`).
func blockLines(n *blockNode, indent int, st style) []string {
	type row struct{ symbol, name, value string }
	var rows []row
	if s := n.step; s.IdentAttr != "" && n.symbol() == "~" && !n.hasAttr(s.IdentAttr) {
		rows = append(rows, row{" ", s.IdentAttr, s.Ident})
	}
	for _, f := range n.fields {
		rows = append(rows, row{fieldSymbol(f), f.Attr(), valueText(f)})
	}
	width := 0
	for _, r := range rows {
		width = max(width, len(r.name))
	}
	pad := strings.Repeat(" ", indent)
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s%s %-*s = %s", pad, st.symbol(r.symbol), width, r.name, r.value))
	}
	for _, c := range n.blocks {
		out = append(out, pad+st.symbol(c.symbol())+" "+c.step.Type+" {")
		out = append(out, blockLines(c, indent+4, st)...)
		out = append(out, pad+"  }")
	}
	return out
}

func (n *blockNode) hasAttr(name string) bool {
	for _, f := range n.fields {
		if f.Attr() == name {
			return true
		}
	}
	return false
}

// valueText is what follows `=`: "old -> new", the one value of an added or removed
// attribute, or the mask.
func valueText(f FieldChange) string {
	old, new := shownValues(f)
	switch {
	case f.Sensitive:
		return Masked
	case fieldSymbol(f) == "+":
		return new
	case fieldSymbol(f) == "-":
		return old
	}
	return old + " -> " + new
}

func textNameplate(c Change) string {
	return nameplate(c, strconv.Quote, func(id string) string { return id })
}

// textValue shows a value in the line renderings, "(absent)" where it is not set.
func textValue(v string, set bool) string {
	if !set {
		return "(absent)"
	}
	return v
}

// writeOutsideText lists changes made outside flareops, one entry per object, and what
// actor ("this plan", "apply") does about them.
func writeOutsideText(b *bytes.Buffer, changes []Change, actor string) {
	for _, c := range changes {
		head := "  " + c.Address
		if np := textNameplate(c); np != "" {
			head += " " + np
		}
		notes := outsideNotes(c, actor, textValue)
		if len(notes) == 0 || !driftShowsFields(c.Action) {
			fmt.Fprintf(b, "%s: %s\n", head, outsideObjectSentence(c))
			continue
		}
		b.WriteString(head + ":\n")
		writeNotesText(b, notes)
	}
}

func writeNotesText(b *bytes.Buffer, notes []noteLine) {
	for _, l := range notes {
		b.WriteString(strings.Repeat(" ", 4+2*l.depth) + l.name)
		if l.ident != "" {
			b.WriteString(" (" + l.ident + ")")
		}
		if l.sentence == "" {
			b.WriteString(":\n")
			continue
		}
		b.WriteString(": " + l.sentence + "\n")
	}
}

const (
	ansiReset  = "\x1b[0m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
)

// style paints text with ANSI colors when true.
type style bool

func (s style) paint(color, text string) string {
	if !s || text == "" {
		return text
	}
	return color + text + ansiReset
}

// symbol colors a change symbol: + green, ~ yellow, - red, -/+ both.
func (s style) symbol(sym string) string {
	switch sym {
	case "+":
		return s.paint(ansiGreen, sym)
	case "~":
		return s.paint(ansiYellow, sym)
	case "-":
		return s.paint(ansiRed, sym)
	case "-/+":
		return s.paint(ansiRed, "-") + "/" + s.paint(ansiGreen, "+")
	}
	return sym
}

// gutter right-aligns a block symbol in three columns, as Terraform does ("  +", "-/+").
func gutter(sym string, st style) string {
	return strings.Repeat(" ", max(0, 3-len(sym))) + st.symbol(sym)
}

func flush(w io.Writer, b *bytes.Buffer) error {
	_, err := w.Write(b.Bytes())
	return err
}
