package aesql

import "strings"

// --- lexer ---

type aeTok struct {
	kind byte // 'i' identifier, 'q' quoted identifier, 'n' number, 's' string, 'o' operator, 0 end
	text string
	pos  int
}

func aeLex(src string) ([]aeTok, error) {
	var toks []aeTok
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case strings.HasPrefix(src[i:], "--"):
			i = skipTo(src, i, "\n")
		case strings.HasPrefix(src[i:], "/*"):
			j := strings.Index(src[i+2:], "*/")
			if j < 0 {
				return nil, aeErrf("unterminated comment at position %d", i)
			}
			i += j + 4
		case c == '\'':
			s, n, err := aeLexString(src, i)
			if err != nil {
				return nil, err
			}
			toks, i = append(toks, aeTok{'s', s, i}), n
		case c == '`' || c == '"':
			j := strings.IndexByte(src[i+1:], c)
			if j < 0 {
				return nil, aeErrf("unterminated quoted identifier at position %d", i)
			}
			toks, i = append(toks, aeTok{'q', src[i+1 : i+1+j], i}), i+j+2
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := aeLexNumber(src, i)
			toks, i = append(toks, aeTok{'n', src[i:j], i}), j
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(src) && (src[j] == '_' || src[j] >= 'a' && src[j] <= 'z' || src[j] >= 'A' && src[j] <= 'Z' || src[j] >= '0' && src[j] <= '9') {
				j++
			}
			toks, i = append(toks, aeTok{'i', src[i:j], i}), j
		default:
			op := ""
			for _, o := range []string{"<=", ">=", "!=", "<>", "==", "(", ")", ",", "+", "-", "*", "/", "%", "=", "<", ">", ";", "."} {
				if strings.HasPrefix(src[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, aeErrf("unexpected character %q at position %d", c, i)
			}
			toks, i = append(toks, aeTok{'o', op, i}), i+len(op)
		}
	}
	return append(toks, aeTok{0, "", len(src)}), nil
}

// aeLexString reads a '…' literal (” and backslash escapes) starting at i.
func aeLexString(src string, i int) (string, int, error) {
	var b strings.Builder
	for j := i + 1; j < len(src); j++ {
		switch c := src[j]; {
		case c == '\'' && j+1 < len(src) && src[j+1] == '\'':
			b.WriteByte('\'')
			j++
		case c == '\'':
			return b.String(), j + 1, nil
		case c == '\\' && j+1 < len(src):
			j++
			b.WriteByte(aeUnescape(src[j]))
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, aeErrf("unterminated string literal at position %d", i)
}

func aeUnescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 't':
		return '\t'
	case 'r':
		return '\r'
	case '0':
		return 0
	}
	return c
}

func aeLexNumber(src string, i int) int {
	j := i
	digits := func() {
		for j < len(src) && src[j] >= '0' && src[j] <= '9' {
			j++
		}
	}
	digits()
	if j < len(src) && src[j] == '.' {
		j++
		digits()
	}
	if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
		k := j + 1
		if k < len(src) && (src[k] == '+' || src[k] == '-') {
			k++
		}
		if k < len(src) && src[k] >= '0' && src[k] <= '9' {
			j = k
			digits()
		}
	}
	return j
}

// skipTo returns the index after the first end at or after i, or len(src).
func skipTo(src string, i int, end string) int {
	if j := strings.Index(src[i:], end); j >= 0 {
		return i + j + len(end)
	}
	return len(src)
}
