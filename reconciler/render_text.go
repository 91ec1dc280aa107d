package reconciler

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// RenderOptions tune the renderings people read (text and Markdown).
type RenderOptions struct {
	// Color adds ANSI colors to the text renderings: green +, yellow ~, red -. Markdown
	// ignores it.
	Color bool
	// Target names what the plan was made against, e.g. "local Cloudflare
	// (.flareops/local)" or "account 0123…"; shown in the header when set.
	Target string
}

// Every rendering masks a sensitive field itself, whatever the kind put in Old and New:
// FieldChange promises the mask, the renderers keep it even if a kind forgets.
const masked = "(sensitive)"

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

// RenderText writes the plan as people read it in a terminal, Terraform-like: a header,
// each change that is not a no-op in plan order (the order apply walks), and a summary
// line "Plan: 1 to create, 2 to update, 0 to replace, 1 to delete." where adopt counts
// as update and ", N to forget" appears only when N > 0.
func RenderText(w io.Writer, p *Plan, o RenderOptions) error {
	if p == nil {
		return errNoPlan
	}
	var b bytes.Buffer
	if o.Target != "" {
		fmt.Fprintf(&b, "Target: %s\n\n", o.Target)
	}
	if !p.HasChanges() {
		b.WriteString("No changes. The account matches the configuration.\n")
		return flush(w, &b)
	}
	st := style(o.Color)
	writeLegend(&b, p, st)
	b.WriteString("flareops will perform the following actions, in this order:\n\n")
	for _, c := range p.Changes {
		if c.Action != NoOp {
			writeChangeText(&b, c, st)
			b.WriteByte('\n')
		}
	}
	fmt.Fprintf(&b, "Plan: %s.\n", planCounts(p))
	return flush(w, &b)
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

// writeChangeText writes one change: a comment line saying what happens, then a block
// with the field changes, their operational impact (!) and the reason (#).
func writeChangeText(b *bytes.Buffer, c Change, st style) {
	look := lookOf(c.Action)
	fmt.Fprintf(b, "  # %s %s", c.Address, look.verb)
	if (c.Action == Adopt || c.Action == Forget) && c.Reason != "" {
		fmt.Fprintf(b, " (%s)", c.Reason)
	}
	b.WriteByte('\n')
	if c.Action == Forget {
		return // nothing in the account changes: only the state entry goes
	}
	var body []string
	for _, f := range c.Fields {
		body = append(body, "      "+fieldText(f, st))
	}
	for _, s := range c.Impact {
		body = append(body, "      ! "+s)
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

// fieldText is "~ path: old → new", "+ path = new" or "- path = old".
func fieldText(f FieldChange, st style) string {
	old, new := shownValues(f)
	switch {
	case f.NewSet && !f.OldSet:
		return st.symbol("+") + " " + f.Path + " = " + new
	case f.OldSet && !f.NewSet:
		return st.symbol("-") + " " + f.Path + " = " + old
	default:
		return st.symbol("~") + " " + f.Path + ": " + old + " → " + new
	}
}

// shownValues returns the renderings of f that may be printed.
func shownValues(f FieldChange) (old, new string) {
	if f.Sensitive {
		return masked, masked
	}
	return f.Old, f.New
}

// Drifted returns the changes of p that are drift, in plan order. Drift is live vs
// desired, not live vs state: a forget (gone from the account and the configuration)
// and an adopt whose fields all match are plan changes but not drift. The drift
// command's exit code (2 on drift) must come from this, not from HasChanges.
func Drifted(p *Plan) []Change {
	var out []Change
	for _, c := range p.Changes {
		switch c.Action {
		case NoOp, Forget:
		case Adopt:
			if len(c.Fields) > 0 {
				out = append(out, c)
			}
		default:
			out = append(out, c)
		}
	}
	return out
}

// RenderDriftText writes the plan as a drift report: for every object where the account
// differs from the configuration, what differs, field by field, live → desired.
func RenderDriftText(w io.Writer, p *Plan, o RenderOptions) error {
	if p == nil {
		return errNoPlan
	}
	objs := Drifted(p)
	var b bytes.Buffer
	b.WriteString(driftHeadline(len(objs)) + ".\n")
	if o.Target != "" {
		fmt.Fprintf(&b, "Target: %s\n", o.Target)
	}
	if len(objs) == 0 {
		return flush(w, &b)
	}
	b.WriteString("\nValues are shown as live → desired.\n\n")
	st := style(o.Color)
	for _, c := range objs {
		fmt.Fprintf(&b, "  %s%s: %s\n", c.Address, idNote(c.ID), driftDescription(c))
		if !driftShowsFields(c.Action) {
			continue
		}
		for _, f := range c.Fields {
			live, desired := driftValues(f)
			fmt.Fprintf(&b, "      %s: %s → %s\n", f.Path, st.paint(ansiRed, live), st.paint(ansiGreen, desired))
		}
	}
	return flush(w, &b)
}

func driftHeadline(n int) string {
	switch n {
	case 0:
		return "No drift: the account matches the configuration"
	case 1:
		return "Drift detected: 1 object differs from the configuration"
	}
	return fmt.Sprintf("Drift detected: %d objects differ from the configuration", n)
}

// driftDescription says, in drift terms, how an object differs.
func driftDescription(c Change) string {
	var s string
	switch c.Action {
	case Create:
		s = "missing from the account"
	case Delete:
		s = "still in the account but removed from the configuration"
	case Replace:
		s = "fields differ, and apply must replace it"
	default:
		s = "fields differ"
	}
	if c.Reason != "" {
		s += " (" + c.Reason + ")"
	}
	return s
}

// driftShowsFields: a missing or removed object is one fact; listing every field of it
// would bury the fields that actually differ elsewhere. JSON still lists them all.
func driftShowsFields(a Action) bool { return a != Create && a != Delete }

// driftValues returns the live and desired renderings of f; "(absent)" for a side
// where the field is not set.
func driftValues(f FieldChange) (live, desired string) {
	live, desired = shownValues(f)
	if !f.OldSet {
		live = "(absent)"
	}
	if !f.NewSet {
		desired = "(absent)"
	}
	return live, desired
}

func idNote(id string) string {
	if id == "" {
		return ""
	}
	return " (id " + id + ")"
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
