package reconciler

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MarkdownCommentLimit is the most characters GitHub takes in one issue or pull-request
// comment body (65,535; a longer one is refused with "Body is too long").
const MarkdownCommentLimit = 65535

// MarkdownBudget is the most bytes RenderMarkdown writes: GitHub's limit less 1,535 for
// what CI wraps around the plan (a marker comment to find it again, a heading, a link to
// the run). Counting bytes is safe whatever GitHub counts: no character takes fewer UTF-8
// bytes than UTF-16 code units or code points.
const MarkdownBudget = MarkdownCommentLimit - 1535

// markdownValueRunes is the most characters of one value (a field's old or new value, an
// impact line, a warning, a fragment of another tool's configuration) the Markdown
// rendering shows; the rest is replaced by a note saying how much was left out, so that
// one huge value cannot push every other change out of the comment.
const markdownValueRunes = 1000

// mdSection is one part of the comment: a head, entries that are each complete Markdown
// (a bullet with its nested bullets, a table row, one change's details), the note that
// stands for the entries left out, and a tail. A section without entries is not written.
type mdSection struct {
	head, tail string
	entries    []string
	// more says that n entries are not shown, as a line that fits where the entries
	// would have been (a bullet in a list, a paragraph under a table, a comment in a
	// code block).
	more func(n int) string
	// share: this section divides the room with the sections next to it marked share
	// (see assembleMarkdown).
	share bool
}

func (s mdSection) size(entries int) int {
	n := len(s.head) + len(s.tail)
	for _, e := range s.entries[:entries] {
		n += len(e)
	}
	if entries < len(s.entries) {
		n += len(s.more(len(s.entries)))
	}
	return n
}

// assembleMarkdown writes summary, then the sections in order, within budget bytes; the
// summary is always written in full. Each section first leaves what the sections after
// it need at the least (their head, tail and note). A section on its own then takes as
// many of its entries, in order, as fit; a run of sections marked share divides what is
// left among them (each gets what it needs, or an equal part of what the others leave),
// so that a long list of impacts cannot push the table of changes out.
func assembleMarkdown(summary string, sections []mdSection, budget int) *bytes.Buffer {
	var b bytes.Buffer
	b.WriteString(summary)
	var kept []mdSection
	for _, s := range sections {
		if len(s.entries) > 0 {
			kept = append(kept, s)
		}
	}
	reserve := make([]int, len(kept)+1) // reserve[i]: the least sections i.. need
	for i := len(kept) - 1; i >= 0; i-- {
		reserve[i] = reserve[i+1] + kept[i].size(0)
	}
	caps := map[int]int{} // section index → bytes it may take, for shared runs
	for i := 0; i < len(kept); i++ {
		avail := budget - b.Len() - reserve[i+1]
		if kept[i].share {
			if _, done := caps[i]; !done {
				j := i
				for j < len(kept) && kept[j].share {
					j++
				}
				shareOut(kept[i:j], budget-b.Len()-reserve[j], i, caps)
			}
			avail = min(avail, caps[i])
		}
		s := kept[i]
		n := len(s.entries)
		for n > 0 && s.size(n) > avail {
			n--
		}
		if s.size(n) > avail {
			// Not even the note fits (a summary near the budget): say nothing more.
			continue
		}
		b.WriteString(s.head)
		for _, e := range s.entries[:n] {
			b.WriteString(e)
		}
		if n < len(s.entries) {
			b.WriteString(s.more(len(s.entries) - n))
		}
		b.WriteString(s.tail)
	}
	return &b
}

// shareOut divides avail bytes among sections (the first at index first): a section that
// needs less than an equal part gets what it needs, and the others divide the rest.
func shareOut(sections []mdSection, avail, first int, caps map[int]int) {
	left := map[int]bool{}
	for i := range sections {
		left[i] = true
	}
	for len(left) > 0 {
		part := avail / len(left)
		settled := false
		for i := range sections {
			if need := sections[i].size(len(sections[i].entries)); left[i] && need <= part {
				caps[first+i], avail = need, avail-need
				delete(left, i)
				settled = true
			}
		}
		if !settled {
			for i := range left {
				caps[first+i] = part
			}
			return
		}
	}
}

// moreChanges is the note for n changes a section leaves out.
func moreChanges(n int) string {
	noun := "changes"
	if n == 1 {
		noun = "change"
	}
	return fmt.Sprintf("_%s more %s not shown: the comment would exceed GitHub's limit of %s characters. Run `flareops plan` for the whole plan._", thousands(n), noun, thousands(MarkdownCommentLimit))
}

// stripEmphasis turns a Markdown note into plain text, for inside a code block.
func stripEmphasis(s string) string {
	return strings.NewReplacer("_", "", "`", "").Replace(s)
}

// thousands writes n with thousands separators: 65,535.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// clipPlan returns a copy of p in which every text a reader sees is at most limit
// characters: field values, names, impact lines, reasons, warnings and what is left to
// other tools. Sensitive values are masked by the renderers whatever their length.
func clipPlan(p *Plan, limit int) *Plan {
	c := func(s string) string { return clipText(s, limit) }
	out := *p
	out.Warnings = clipAll(p.Warnings, limit)
	out.Changes = make([]Change, len(p.Changes))
	for i, ch := range p.Changes {
		ch.Address, ch.Key, ch.LiveKey, ch.ID, ch.Reason = c(ch.Address), c(ch.Key), c(ch.LiveKey), c(ch.ID), c(ch.Reason)
		ch.Impact = clipAll(ch.Impact, limit)
		fields := make([]FieldChange, len(ch.Fields))
		for j, f := range ch.Fields {
			f.Old, f.New, f.Applied = c(f.Old), c(f.New), c(f.Applied)
			if len(f.Blocks) > 0 {
				steps := make([]BlockStep, len(f.Blocks))
				for k, st := range f.Blocks {
					st.Ident = c(st.Ident)
					steps[k] = st
				}
				f.Blocks = steps
			}
			fields[j] = f
		}
		ch.Fields = fields
		out.Changes[i] = ch
	}
	out.Manual = make([]ManualStep, len(p.Manual))
	for i, m := range p.Manual {
		m.Object = c(m.Object)
		m.Differs = clipAll(m.Differs, limit)
		frags := make([]Fragment, len(m.Fragments))
		for j, f := range m.Fragments {
			frags[j] = Fragment{File: c(f.File), Text: clipText(f.Text, 4*limit)}
		}
		m.Fragments = frags
		out.Manual[i] = m
	}
	if len(out.Manual) == 0 {
		out.Manual = nil
	}
	return &out
}

func clipAll(ss []string, limit int) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = clipText(s, limit)
	}
	return out
}

// clipText keeps the first limit characters of s and says how many were left out.
func clipText(s string, limit int) string {
	if len(s) <= limit || utf8.RuneCountInString(s) <= limit {
		return s
	}
	cut, n := 0, 0
	for i := range s {
		if n == limit {
			cut = i
			break
		}
		n++
	}
	rest := utf8.RuneCountInString(s[cut:])
	return s[:cut] + fmt.Sprintf("… (%s more characters not shown)", thousands(rest))
}
