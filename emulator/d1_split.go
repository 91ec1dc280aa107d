package emulator

import "strings"

// d1Split splits a SQL text into statements at top-level semicolons, as SQLite's
// sqlite3_complete() decides where a statement ends: semicolons inside quotes,
// bracketed identifiers and comments do not split, nor do those inside the body of a
// CREATE TRIGGER, which ends at "; END;". Empty statements are dropped.
func d1Split(src string) []string {
	var out []string
	var words []string // the current statement's significant tokens, words upper-cased
	start := 0
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			i = d1SkipQuoted(src, i, c)
			words = append(words, "'")
		case c == '[':
			i = d1SkipTo(src, i+1, "]")
			words = append(words, "'")
		case strings.HasPrefix(src[i:], "--"):
			i = d1SkipTo(src, i, "\n")
		case strings.HasPrefix(src[i:], "/*"):
			i = d1SkipTo(src, i+2, "*/")
		case c == ';':
			i++
			if d1InTrigger(words) && !d1TriggerEnds(words) {
				words = append(words, ";")
				continue
			}
			if len(words) > 0 {
				out = append(out, strings.TrimSpace(src[start:i-1]))
			}
			start, words = i, nil
		case d1IsWordByte(c):
			j := i
			for j < len(src) && d1IsWordByte(src[j]) {
				j++
			}
			words = append(words, strings.ToUpper(src[i:j]))
			i = j
		default:
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' {
				words = append(words, string(c))
			}
			i++
		}
	}
	if len(words) > 0 {
		out = append(out, strings.TrimSpace(src[start:]))
	}
	return out
}

// d1SkipQuoted returns the index after the quoted token at i (” doubles a quote).
func d1SkipQuoted(src string, i int, q byte) int {
	for j := i + 1; j < len(src); j++ {
		if src[j] != q {
			continue
		}
		if j+1 < len(src) && src[j+1] == q {
			j++
			continue
		}
		return j + 1
	}
	return len(src)
}

// d1SkipTo returns the index after the first end at or after i, or len(src).
func d1SkipTo(src string, i int, end string) int {
	if j := strings.Index(src[i:], end); j >= 0 {
		return i + j + len(end)
	}
	return len(src)
}

func d1IsWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func d1InTrigger(words []string) bool {
	if len(words) < 2 || words[0] != "CREATE" {
		return false
	}
	if words[1] == "TEMP" || words[1] == "TEMPORARY" {
		return len(words) > 2 && words[2] == "TRIGGER"
	}
	return words[1] == "TRIGGER"
}

func d1TriggerEnds(words []string) bool {
	n := len(words)
	return n >= 2 && words[n-1] == "END" && words[n-2] == ";"
}

// d1Keywords returns the first n words of a statement, upper-cased ("" past the end).
func d1Keywords(stmt string, n int) []string {
	out := make([]string, n)
	for i, w := range strings.Fields(d1StripComments(stmt)) {
		if i == n {
			break
		}
		w = strings.TrimLeft(w, "(")
		j := 0
		for j < len(w) && d1IsWordByte(w[j]) {
			j++
		}
		out[i] = strings.ToUpper(w[:j])
	}
	return out
}

func d1StripComments(stmt string) string {
	for {
		s := strings.TrimSpace(stmt)
		switch {
		case strings.HasPrefix(s, "--"):
			stmt = s[d1SkipTo(s, 0, "\n"):]
		case strings.HasPrefix(s, "/*"):
			stmt = s[d1SkipTo(s, 2, "*/"):]
		default:
			return s
		}
	}
}

// d1ReadOnly reports whether no statement can write, judged by its first keyword. Any
// doubt counts as a write: the cost is one snapshot discarded.
func d1ReadOnly(stmts []d1Stmt) bool {
	for _, st := range stmts {
		switch d1Keywords(st.SQL, 1)[0] {
		case "SELECT", "VALUES", "EXPLAIN":
		case "PRAGMA":
			if strings.Contains(st.SQL, "=") {
				return false
			}
		default:
			return false
		}
	}
	return true
}
