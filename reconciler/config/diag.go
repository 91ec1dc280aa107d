package config

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"

	"github.com/monotask/flareops/reconciler/suggest"
)

// WriteDiagnostics renders diagnostics for a person, in the layout of
// hcl.NewDiagnosticTextWriter, with these changes: the location reads file:line:col; the
// source is underlined with carets (and, with color, highlighted as hcl does), so the
// place is visible in a CI log as well as in a terminal; control characters from the
// source or the messages are shown escaped (ESC as \x1b), and a long line is cut around
// the place, so that a binary file cannot drive or flood the terminal.
//
//	Error: Unsupported argument
//
//	  on main.flareops.hcl:3:3, in queue "jobs":
//	   3:   nme = "jobs"
//	        ^^^
//
//	An argument named "nme" is not expected here. Did you mean "name"?
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, color bool) error {
	bw := bufio.NewWriter(w)
	for _, d := range diags {
		if d == nil {
			continue
		}
		writeDiagnostic(bw, files, d, color)
	}
	return bw.Flush()
}

func writeDiagnostic(w *bufio.Writer, files map[string]*hcl.File, d *hcl.Diagnostic, color bool) {
	var severityColor, highlight, reset string
	if color {
		severityColor, highlight, reset = "\x1b[31m", "\x1b[1;4m", "\x1b[0m"
		if d.Severity == hcl.DiagWarning {
			severityColor = "\x1b[33m"
		}
	}
	severity := "Error"
	if d.Severity == hcl.DiagWarning {
		severity = "Warning"
	}
	fmt.Fprintf(w, "%s%s%s: %s\n\n", severityColor, severity, reset, printable(d.Summary, false))

	if d.Subject != nil {
		subject := *d.Subject
		snip := subject
		if d.Context != nil {
			snip = hcl.RangeOver(snip, *d.Context)
		}
		loc := fmt.Sprintf("%s:%d:%d", subject.Filename, subject.Start.Line, subject.Start.Column)
		f := files[subject.Filename]
		if f == nil || f.Bytes == nil {
			fmt.Fprintf(w, "  on %s:\n  (source code not available)\n\n", printable(loc, false))
		} else {
			if ctx := contextString(f, subject.Start.Byte); ctx != "" {
				loc += ", in " + ctx
			}
			fmt.Fprintf(w, "  on %s:\n", printable(loc, false))
			writeSnippet(w, f.Bytes, subject, snip, highlight, reset)
			w.WriteByte('\n')
		}
	}
	if d.Detail != "" {
		fmt.Fprintf(w, "%s\n\n", printable(d.Detail, true))
	}
}

// writeSnippet writes the lines of src that snip covers, each followed by a line of carets
// under the part that subject covers. Control characters are shown escaped, and a long line
// is cut around the subject, so that a binary or minified file cannot flood or drive the
// terminal.
func writeSnippet(w *bufio.Writer, src []byte, subject, snip hcl.Range, highlight, reset string) {
	sc := hcl.NewRangeScanner(src, subject.Filename, bufio.ScanLines)
	for sc.Scan() {
		line := sc.Range()
		if line.Start.Byte > snip.End.Byte && line.Start.Byte > subject.Start.Byte {
			break
		}
		startsHere := line.Start.Byte <= subject.Start.Byte && subject.Start.Byte <= line.End.Byte
		if !line.Overlaps(snip) && !startsHere {
			continue
		}
		prefix := fmt.Sprintf("%4d: ", line.Start.Line)
		pad := strings.Repeat(" ", len(prefix))
		before, marked, after := line.PartitionAround(subject)
		switch {
		case !marked.Empty() && marked.CanSliceBytes(src) && before.CanSliceBytes(src) && after.CanSliceBytes(src):
			b, m, a := snippetWindow(printable(string(before.SliceBytes(src)), false),
				printable(string(marked.SliceBytes(src)), false), printable(string(after.SliceBytes(src)), false))
			fmt.Fprintf(w, "%s%s%s%s%s%s\n", prefix, b, highlight, m, reset, a)
			fmt.Fprintf(w, "%s%s%s\n", pad, blank(b), strings.Repeat("^", max(1, utf8.RuneCountInString(m))))
		case startsHere:
			// The subject is a point or only a line ending: mark where it starts.
			b, _, a := snippetWindow(printable(string(src[line.Start.Byte:subject.Start.Byte]), false), "",
				printable(string(src[subject.Start.Byte:line.End.Byte]), false))
			fmt.Fprintf(w, "%s%s%s\n", prefix, b, a)
			fmt.Fprintf(w, "%s%s^\n", pad, blank(b))
		default:
			_, _, a := snippetWindow("", "", printable(string(sc.Bytes()), false))
			fmt.Fprintf(w, "%s%s\n", prefix, a)
		}
	}
}

// snippetWidth is the most characters a source line shows in a diagnostic.
const snippetWidth = 120

// snippetWindow cuts a source line, split around its marked part, to snippetWidth
// characters: the marked part keeps up to half of them and its start stays in view; "…"
// shows where text was left out.
func snippetWindow(before, marked, after string) (string, string, string) {
	b, m, a := []rune(before), []rune(marked), []rune(after)
	if len(b)+len(m)+len(a) <= snippetWidth {
		return before, marked, after
	}
	if len(m) > snippetWidth/2 {
		m = append(m[:snippetWidth/2-1:snippetWidth/2-1], '…')
	}
	room := snippetWidth - len(m)
	if keep := min(len(b), max(room/2, room-len(a))); keep < len(b) {
		b = append([]rune{'…'}, b[len(b)-keep+1:]...)
	}
	room -= len(b)
	if len(a) > room {
		a = append(a[:max(room-1, 0):max(room-1, 0)], '…')
	}
	return string(b), string(m), string(a)
}

// printable shows s with every character that could drive a terminal escaped: control
// characters (ESC as \x1b, NUL as \x00; tabs kept, newlines kept when keepNewlines), DEL,
// C1 controls and bidirectional overrides (as \u202e), and bytes that are not UTF-8 (as
// \xff). Diagnostics copy text from the source, which may be any bytes.
func printable(s string, keepNewlines bool) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || needsEscape(r, keepNewlines) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case needsEscape(r, keepNewlines) && r < 0x80:
			fmt.Fprintf(&b, "\\x%02x", r)
		case needsEscape(r, keepNewlines):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func needsEscape(r rune, keepNewlines bool) bool {
	switch {
	case r == '\t', r == '\n' && keepNewlines:
		return false
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true // bidirectional controls can reorder what the terminal shows
	}
	return false
}

// blank replaces every character of s by a space, keeping tabs so the carets line up.
func blank(s string) string {
	var sb strings.Builder
	for _, r := range s {
		if r == '\t' {
			sb.WriteByte('\t')
		} else {
			sb.WriteByte(' ')
		}
	}
	return sb.String()
}

// contextString names the block around offset, e.g. `queue "jobs"`, when the file knows.
func contextString(f *hcl.File, offset int) string {
	type contextStringer interface {
		ContextString(offset int) string
	}
	if cs, ok := f.Nav.(contextStringer); ok {
		return cs.ContextString(offset)
	}
	return ""
}

// sortDiagnostics orders diagnostics by where they point (those without a place first), so
// they read top to bottom whichever phase found them.
func sortDiagnostics(diags hcl.Diagnostics) hcl.Diagnostics {
	out := append(hcl.Diagnostics(nil), diags...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Subject, out[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		default:
			return a.Start.Byte < b.Start.Byte
		}
	})
	return out
}

// didYouMean returns ` Did you mean "x"?` for the options closest to given, or "" when
// none is close (see suggest.Names).
func didYouMean(given string, options []string) string {
	return suggest.DidYouMean(given, options)
}
