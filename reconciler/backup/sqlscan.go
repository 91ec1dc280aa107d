package backup

import (
	"bytes"
	"fmt"
	"strings"
)

// sqlTally reads a D1 export as it streams by (an io.Writer) and counts each table's
// rows, with the order-independent checksum of its INSERT statements. It splits
// statements at semicolons outside quotes and comments; a CREATE TRIGGER runs to its END.
type sqlTally struct {
	t     *tally
	stmt  []byte
	state byte // 0 code, '\'' '"' '`' '[' quoted, '-' line comment, '*' block comment
	prev  byte
	err   error
	// maxStmt bounds one statement (D1 rows are at most 2 MB; statements 100 KB).
	maxStmt int
	// onRow is called for each row (progress).
	onRow func()
	// longest is the longest INSERT: a D1 import runs no statement over 100 KB.
	longest longestInsert
}

// longestInsert is the longest row statement of an export and its table.
type longestInsert struct {
	bytes int
	table string
}

func newSQLTally() *sqlTally { return &sqlTally{t: newTally(), maxStmt: 16 << 20} }

func (s *sqlTally) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	for _, c := range p {
		s.stmt = append(s.stmt, c)
		switch s.state {
		case 0:
			switch {
			case c == '\'' || c == '"' || c == '`':
				s.state = c
			case c == '[':
				s.state = '['
			case c == '-' && s.prev == '-':
				s.state = '-'
			case c == '*' && s.prev == '/':
				s.state = '*'
			case c == ';':
				if err := s.end(); err != nil {
					s.err = err
					return 0, err
				}
				c = 0
			}
		case '\'', '"', '`':
			if c == s.state { // a doubled quote re-enters the same state at the next byte
				s.state = 0
			}
		case '[':
			if c == ']' {
				s.state = 0
			}
		case '-':
			if c == '\n' {
				s.state = 0
			}
		case '*':
			if c == '/' && s.prev == '*' {
				s.state = 0
				c = 0
			}
		}
		s.prev = c
		if len(s.stmt) > s.maxStmt {
			s.err = fmt.Errorf("the export has a statement longer than %d bytes", s.maxStmt)
			return 0, s.err
		}
	}
	return len(p), nil
}

// end handles a complete statement (ending in ';').
func (s *sqlTally) end() error {
	text := skipComments(s.stmt)
	head := upperPrefix(text, 32)
	if strings.HasPrefix(head, "CREATE TRIGGER") || strings.HasPrefix(head, "CREATE TEMP TRIGGER") {
		body := bytes.TrimSpace(text[:len(text)-1])
		if !hasSuffixFold(body, "END") {
			return nil // a statement inside the trigger's body: read on to its END
		}
	}
	s.stmt = s.stmt[:0]
	switch {
	case strings.HasPrefix(head, "INSERT INTO "):
		name, _, err := readIdent(text[len("INSERT INTO "):])
		if err != nil {
			return fmt.Errorf("cannot read the table of %.60q: %w", text, err)
		}
		s.t.add(name, 0, text)
		if n := len(text) - 1; n > s.longest.bytes { // without its ';'
			s.longest = longestInsert{bytes: n, table: name}
		}
		if s.onRow != nil {
			s.onRow()
		}
	case strings.HasPrefix(head, "CREATE TABLE "):
		rest := bytes.TrimSpace(text[len("CREATE TABLE "):])
		if u := upperPrefix(rest, 14); strings.HasPrefix(u, "IF NOT EXISTS ") {
			rest = bytes.TrimSpace(rest[len("IF NOT EXISTS "):])
		}
		name, _, err := readIdent(rest)
		if err != nil {
			return fmt.Errorf("cannot read the table of %.60q: %w", text, err)
		}
		s.t.declare(name)
	}
	return nil
}

// skipComments drops the space and comments before a statement.
func skipComments(b []byte) []byte {
	for {
		b = bytes.TrimSpace(b)
		switch {
		case bytes.HasPrefix(b, []byte("--")):
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				return nil
			}
			b = b[i+1:]
		case bytes.HasPrefix(b, []byte("/*")):
			i := bytes.Index(b[2:], []byte("*/"))
			if i < 0 {
				return nil
			}
			b = b[i+4:]
		default:
			return b
		}
	}
}

// finish reports a statement left without its ';' (a dump cut short).
func (s *sqlTally) finish() error {
	if s.err != nil {
		return s.err
	}
	if len(skipComments(s.stmt)) > 0 {
		return fmt.Errorf("the export ends inside a statement: %.60q", bytes.TrimSpace(s.stmt))
	}
	return nil
}

func upperPrefix(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return strings.ToUpper(string(b))
}

func hasSuffixFold(b []byte, suffix string) bool {
	return len(b) >= len(suffix) && strings.EqualFold(string(b[len(b)-len(suffix):]), suffix) &&
		(len(b) == len(suffix) || !isIdentByte(b[len(b)-len(suffix)-1]))
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// readIdent reads a SQLite identifier: "quoted" (with "" escapes), `quoted`, [quoted]
// or bare.
func readIdent(b []byte) (string, []byte, error) {
	if len(b) == 0 {
		return "", nil, fmt.Errorf("no name")
	}
	switch q := b[0]; q {
	case '"', '`', '[':
		end := q
		if q == '[' {
			end = ']'
		}
		var name []byte
		for i := 1; i < len(b); i++ {
			if b[i] != end {
				name = append(name, b[i])
				continue
			}
			if q != '[' && i+1 < len(b) && b[i+1] == end {
				name = append(name, end)
				i++
				continue
			}
			return string(name), b[i+1:], nil
		}
		return "", nil, fmt.Errorf("unterminated name")
	}
	i := 0
	for i < len(b) && isIdentByte(b[i]) {
		i++
	}
	if i == 0 {
		return "", nil, fmt.Errorf("no name")
	}
	return string(b[:i]), b[i:], nil
}
