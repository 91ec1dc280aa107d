package config

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics renders diagnostics for a person, in the layout of
// hcl.NewDiagnosticTextWriter, with two changes: the location reads file:line:col, and the
// source is underlined with carets (and, with color, highlighted as hcl does), so the
// place is visible in a CI log as well as in a terminal.
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
	fmt.Fprintf(w, "%s%s%s: %s\n\n", severityColor, severity, reset, d.Summary)

	if d.Subject != nil {
		subject := *d.Subject
		snip := subject
		if d.Context != nil {
			snip = hcl.RangeOver(snip, *d.Context)
		}
		loc := fmt.Sprintf("%s:%d:%d", subject.Filename, subject.Start.Line, subject.Start.Column)
		f := files[subject.Filename]
		if f == nil || f.Bytes == nil {
			fmt.Fprintf(w, "  on %s:\n  (source code not available)\n\n", loc)
		} else {
			if ctx := contextString(f, subject.Start.Byte); ctx != "" {
				loc += ", in " + ctx
			}
			fmt.Fprintf(w, "  on %s:\n", loc)
			writeSnippet(w, f.Bytes, subject, snip, highlight, reset)
			w.WriteByte('\n')
		}
	}
	if d.Detail != "" {
		fmt.Fprintf(w, "%s\n\n", d.Detail)
	}
}

// writeSnippet writes the lines of src that snip covers, each followed by a line of carets
// under the part that subject covers.
func writeSnippet(w *bufio.Writer, src []byte, subject, snip hcl.Range, highlight, reset string) {
	sc := hcl.NewRangeScanner(src, subject.Filename, bufio.ScanLines)
	for sc.Scan() {
		line := sc.Range()
		startsHere := line.Start.Byte <= subject.Start.Byte && subject.Start.Byte <= line.End.Byte
		if !line.Overlaps(snip) && !startsHere {
			continue
		}
		prefix := fmt.Sprintf("%4d: ", line.Start.Line)
		pad := strings.Repeat(" ", len(prefix))
		before, marked, after := line.PartitionAround(subject)
		switch {
		case !marked.Empty() && marked.CanSliceBytes(src) && before.CanSliceBytes(src) && after.CanSliceBytes(src):
			b, m, a := before.SliceBytes(src), marked.SliceBytes(src), after.SliceBytes(src)
			fmt.Fprintf(w, "%s%s%s%s%s%s\n", prefix, b, highlight, m, reset, a)
			fmt.Fprintf(w, "%s%s%s\n", pad, blank(b), strings.Repeat("^", max(1, utf8.RuneCount(m))))
		case startsHere:
			// The subject is a point or only a line ending: mark where it starts.
			fmt.Fprintf(w, "%s%s\n", prefix, sc.Bytes())
			fmt.Fprintf(w, "%s%s^\n", pad, blank(src[line.Start.Byte:subject.Start.Byte]))
		default:
			fmt.Fprintf(w, "%s%s\n", prefix, sc.Bytes())
		}
	}
}

// blank replaces every character of b by a space, keeping tabs so the carets line up.
func blank(b []byte) string {
	var sb strings.Builder
	for _, r := range string(b) {
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

// didYouMean returns ` Did you mean "x"?` for the option closest to given, or "" when none
// is close. Like hcl's own suggestions, close means an edit distance below 3.
func didYouMean(given string, options []string) string {
	best, bestDist := "", 3
	sorted := append([]string(nil), options...)
	sort.Strings(sorted)
	for _, o := range sorted {
		if o == given {
			continue
		}
		if d := editDistance(given, o); d < bestDist {
			best, bestDist = o, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		if a == b {
			return 0
		}
		return 64 // long names are never suggestions; bound the work
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
