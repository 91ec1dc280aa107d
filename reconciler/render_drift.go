package reconciler

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// The drift report: which changes are drift, where they come from (outside flareops or
// the configuration), and the report in text and Markdown. The JSON report is in
// render_json.go with the plan's.

// Drifted returns the changes of p where the account differs from the configuration, in
// plan order: the union of OutsideChanges and PendingConfigChanges. Drift is live vs
// desired, not live vs state: a forget (gone from the account and the configuration) and
// an adopt whose fields all match are plan changes but not drift.
func Drifted(p *Plan) []Change {
	return driftWhere(p, func(string) bool { return true })
}

// OutsideChanges returns the drifted changes that exist because the account was changed
// outside flareops (origin "outside" or "both"), in plan order. They include objects
// deleted outside flareops, which the plan creates again. `flareops drift` reports live
// drift when this is not empty.
func OutsideChanges(p *Plan) []Change {
	return driftWhere(p, isOutside)
}

// PendingConfigChanges returns the drifted changes that come from the configuration
// alone, in plan order: the account is as flareops last left it, and the configuration
// has moved on since. A change counts as config when its Origin is "config", or empty
// with no field changed outside flareops.
func PendingConfigChanges(p *Plan) []Change {
	return driftWhere(p, func(o string) bool { return !isOutside(o) })
}

func driftWhere(p *Plan, keep func(origin string) bool) []Change {
	var out []Change
	for _, c := range p.Changes {
		if isDrift(c) && keep(changeOrigin(c)) {
			out = append(out, c)
		}
	}
	return out
}

func isDrift(c Change) bool {
	switch c.Action {
	case NoOp, Forget:
		return false
	case Adopt:
		return len(c.Fields) > 0
	}
	return true
}

func isOutside(origin string) bool { return origin == OriginOutside || origin == OriginBoth }

// changeOrigin is c.Origin or, when the planner left it empty, what its fields say:
// "both" when some changed outside flareops and some in the configuration, "config" when
// none changed outside.
func changeOrigin(c Change) string {
	if c.Origin != "" {
		return c.Origin
	}
	outside, config := false, false
	for _, f := range c.Fields {
		switch f.Origin {
		case OriginOutside:
			outside = true
		case OriginBoth:
			outside, config = true, true
		default:
			config = true
		}
	}
	switch {
	case outside && config:
		return OriginBoth
	case outside:
		return OriginOutside
	}
	return OriginConfig
}

// fieldOrigin is f.Origin; an empty one means config, except in a change that came from
// outside flareops alone, where every field did.
func fieldOrigin(c Change, f FieldChange) string {
	switch {
	case f.Origin != "":
		return f.Origin
	case c.Origin == OriginOutside:
		return OriginOutside
	}
	return OriginConfig
}

// fieldsWhere returns the fields of c whose origin keep accepts.
func fieldsWhere(c Change, keep func(origin string) bool) []FieldChange {
	var out []FieldChange
	for _, f := range c.Fields {
		if keep(fieldOrigin(c, f)) {
			out = append(out, f)
		}
	}
	return out
}

// RenderDriftText writes the plan as a drift report: a verdict, then what was changed
// outside flareops (field by field, with what apply does about it), then the
// configuration changes not yet applied (field by field, live -> desired). A field is
// listed in the section of its own origin, so an object changed both ways may appear in
// both.
func RenderDriftText(w io.Writer, p *Plan, o RenderOptions) error {
	if p == nil {
		return errNoPlan
	}
	outside, config := OutsideChanges(p), configSection(p)
	var b bytes.Buffer
	b.WriteString(driftHeadlineManual(len(outside), len(config), p.Manual) + ".\n")
	if t := targetText(p, o); t != "" {
		fmt.Fprintf(&b, "Target: %s\n", t)
	}
	for _, s := range p.Warnings {
		fmt.Fprintf(&b, "\nWarning: %s\n", s)
	}
	if len(p.Manual) > 0 {
		b.WriteByte('\n')
		writeManualText(&b, p.Manual)
	}
	if len(outside) > 0 {
		b.WriteString("\nChanged outside flareops (apply sets them back):\n\n")
		writeOutsideText(&b, outside, "apply")
	}
	if len(config) > 0 {
		b.WriteString("\nConfiguration changes not yet applied (values are shown as live -> desired):\n\n")
	}
	for _, c := range config {
		fmt.Fprintf(&b, "  %s", c.Address)
		if np := textNameplate(c); np != "" && c.Action != Create {
			b.WriteString(" " + np)
		}
		fmt.Fprintf(&b, ": %s\n", driftDescription(c))
		if driftShowsFields(c.Action) {
			writeNotesText(&b, configNotes(c, textValue))
		}
	}
	return flush(w, &b)
}

// configSection is what the drift report lists as configuration changes not yet
// applied: PendingConfigChanges, and the changes made both ways that also have fields
// changed only in the configuration.
func configSection(p *Plan) []Change {
	var out []Change
	for _, c := range Drifted(p) {
		switch {
		case !isOutside(changeOrigin(c)):
			out = append(out, c)
		case changeOrigin(c) == OriginBoth && driftShowsFields(c.Action) && len(configNotes(c, textValue)) > 0:
			out = append(out, c)
		}
	}
	return out
}

func driftHeadline(outside, config int) string {
	objects := func(n int, one, many string) string {
		if n == 1 {
			return "1 object " + one
		}
		return fmt.Sprintf("%d objects %s", n, many)
	}
	pending := objects(config, "has configuration changes not yet applied", "have configuration changes not yet applied")
	switch {
	case outside == 0 && config == 0:
		return "No drift: the account matches the configuration"
	case outside == 0:
		return "No changes outside flareops, but " + pending
	case config == 0:
		return "Drift detected: " + objects(outside, "was changed outside flareops", "were changed outside flareops")
	}
	return "Drift detected: " + objects(outside, "was changed outside flareops", "were changed outside flareops") + "; " + pending
}

// driftHeadlineManual is driftHeadline with what objects deployed by other tools lack:
// that is drift too, which only their deploy can repair.
func driftHeadlineManual(outside, config int, manual []ManualStep) string {
	head := driftHeadline(outside, config)
	switch {
	case len(manual) == 0:
		return head
	case outside == 0 && config == 0:
		return "Drift detected: " + manualSummary(manual)
	}
	return head + "; " + manualSummary(manual)
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

// RenderDriftMarkdown writes the drift report as Markdown (for an issue or a PR
// comment): a one-line verdict, the target and warnings, then what was changed outside
// flareops and, apart, the configuration changes not yet applied, as RenderDriftText.
// Like RenderMarkdown it fits one GitHub issue body or comment (MarkdownBudget): long
// values are shortened, then whole entries left out, saying how many.
func RenderDriftMarkdown(w io.Writer, p *Plan, o RenderOptions) error {
	if p == nil {
		return errNoPlan
	}
	p = clipPlan(p, markdownValueRunes)
	outside, config := OutsideChanges(p), configSection(p)
	head := driftHeadlineManual(len(outside), len(config), p.Manual)
	summary := fmt.Sprintf("**flareops drift**: %s%s.\n", strings.ToLower(head[:1]), head[1:])
	more := func(n int) string {
		return "- " + strings.ReplaceAll(moreChanges(n), "flareops plan", "flareops drift") + "\n"
	}
	var outs, configs []string
	for _, c := range outside {
		var b bytes.Buffer
		writeOutsideMarkdown(&b, []Change{c}, "apply")
		outs = append(outs, b.String())
	}
	for _, c := range config {
		var b bytes.Buffer
		fmt.Fprintf(&b, "- %s", code(c.Address))
		if np := mdNameplate(c); np != "" && c.Action != Create {
			b.WriteString(" " + np)
		}
		fmt.Fprintf(&b, ": %s\n", driftDescription(c))
		if driftShowsFields(c.Action) {
			writeNotesMarkdown(&b, configNotes(c, mdValue))
		}
		configs = append(configs, b.String())
	}
	sections := []mdSection{
		preambleSection(p, o), manualSection(p.Manual),
		{head: "\n### Changed outside flareops (apply sets them back)\n\n", entries: outs, more: more, share: true},
		{head: "\n### Configuration changes not yet applied\n\nValues are shown as live -> desired.\n\n", entries: configs, more: more, share: true},
	}
	return flush(w, assembleMarkdown(summary, sections, MarkdownBudget))
}
