// Package suggest finds the names a person probably meant when they wrote one that does not
// exist: a misspelt attribute, block type, variable or Worker name. Both the HCL loader's
// diagnostics and the planner's problems use it, so a typo gets the same help everywhere.
package suggest

import (
	"fmt"
	"sort"
	"strings"
)

// Names returns the options given probably stands for, best first; none when nothing is
// close. An option is close when, compared without regard to case and to `-` versus `_`:
//   - it is a small edit away (a typo: "nme" for "name", "qeueu" for "queue");
//   - given is one or more whole words at its start or end ("retention" for
//     "message_retention", "delay" for "delivery_delay" and "retry_delay");
//   - given is its initials ("dlq" for "dead_letter_queue").
//
// Typos come first, by distance; then word and initial matches, by name.
func Names(given string, options []string) []string {
	g := normalize(given)
	if g == "" {
		return nil
	}
	type cand struct {
		name string
		rank int
	}
	var cands []cand
	seen := map[string]bool{}
	limit := typoLimit(g)
	for _, o := range options {
		if o == given || seen[o] {
			continue
		}
		n := normalize(o)
		rank := -1
		switch {
		case n == g:
			rank = 0
		case distance(g, n) <= limit:
			rank = distance(g, n)
		case wordsMatch(g, n) || initials(n) == g:
			rank = limit + 1
		}
		if rank >= 0 {
			seen[o] = true
			cands = append(cands, cand{o, rank})
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].rank != cands[j].rank {
			return cands[i].rank < cands[j].rank
		}
		return cands[i].name < cands[j].name
	})
	if len(cands) == 0 {
		return nil
	}
	// The closest typo is the answer on its own; word matches may be several.
	if cands[0].rank <= limit {
		return []string{cands[0].name}
	}
	out := make([]string, 0, 3)
	for _, c := range cands[:min(len(cands), 3)] {
		out = append(out, c.name)
	}
	return out
}

// DidYouMean renders Names as a sentence starting with a space (` Did you mean "x"?`,
// ` Did you mean "x" or "y"?`), or "" when there is no suggestion.
func DidYouMean(given string, options []string) string {
	names := Names(given, options)
	if len(names) == 0 {
		return ""
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	return " Did you mean " + strings.Join(quoted, " or ") + "?"
}

func normalize(s string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_")
}

// typoLimit is how many edits still make a typo of a name as long as g: one for short
// names, where two edits reach almost anything, up to three for long ones.
func typoLimit(g string) int {
	switch n := len([]rune(g)); {
	case n <= 3:
		return 1
	case n < 10:
		return 2
	default:
		return 3
	}
}

// wordsMatch reports whether g is whole words at the start or the end of the words of n.
func wordsMatch(g, n string) bool {
	if !strings.Contains(n, "_") || len(g) < 3 {
		return false
	}
	return strings.HasPrefix(n, g+"_") || strings.HasSuffix(n, "_"+g)
}

// initials returns the first letters of the words of n ("dead_letter_queue" → "dlq"), or
// "" for a single word.
func initials(n string) string {
	words := strings.FieldsFunc(n, func(r rune) bool { return r == '_' })
	if len(words) < 2 {
		return ""
	}
	var b strings.Builder
	for _, w := range words {
		b.WriteString(string([]rune(w)[:1]))
	}
	return b.String()
}

// distance is the optimal string alignment distance between a and b, in runes: the edits
// (insert, delete, replace, swap two neighbours) that turn one into the other. Names longer
// than 64 runes are never suggestions, which bounds the work.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		if a == b {
			return 0
		}
		return 64
	}
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
