package alerting

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var apiDataset = Dataset{Name: "monotask_api", Index: "tenant", Blobs: []string{"worker", "route", "method", "outcome"}, Doubles: []string{"status", "latency_ms", "cpu_ms"}}

func TestParseFilterCompiles(t *testing.T) {
	cols := apiDataset.Columns()
	tests := []struct {
		name, in, canon, sql string
		gql                  string
	}{
		{"number", "status < 500", "status < 500", "double1 < 500", `{"double1_lt":500}`},
		{"string", "route != '/health'", "route != '/health'", "blob2 != '/health'", `{"blob2_neq":"/health"}`},
		{"and or precedence", "status >= 500 or outcome = 'error' and method = 'GET'",
			"status >= 500 or (outcome = 'error' and method = 'GET')",
			"double1 >= 500 OR (blob4 = 'error' AND blob3 = 'GET')",
			`{"OR":[{"double1_geq":500},{"AND":[{"blob4":"error"},{"blob3":"GET"}]}]}`},
		{"parentheses", "(status >= 500 OR outcome = 'error') AND method = 'GET'",
			"(status >= 500 or outcome = 'error') and method = 'GET'",
			"(double1 >= 500 OR blob4 = 'error') AND blob3 = 'GET'",
			`{"AND":[{"OR":[{"double1_geq":500},{"blob4":"error"}]},{"blob3":"GET"}]}`},
		{"in", "tenant in ('a', 'b') and status not in (500, 503)", "tenant in ('a', 'b') and status not in (500, 503)",
			"index1 IN ('a', 'b') AND double1 NOT IN (500, 503)", `{"AND":[{"index1_in":["a","b"]},{"double1_notin":[500,503]}]}`},
		{"negative and decimal", "latency_ms > -1.5e2 and cpu_ms <= .5", "latency_ms > -150 and cpu_ms <= 0.5",
			"double2 > (-150) AND double3 <= 0.5", `{"AND":[{"double2_gt":-150},{"double3_leq":0.5}]}`},
		{"escapes", `route = 'it\'s' or route = 'a''b' or route = 'back\\slash'`, `route = 'it\'s' or route = 'a\'b' or route = 'back\\slash'`,
			`blob2 = 'it\'s' OR blob2 = 'a\'b' OR blob2 = 'back\\slash'`, `{"OR":[{"blob2":"it's"},{"blob2":"a'b"},{"blob2":"back\\slash"}]}`},
		{"sql in a value", `route = 'x'' OR 1=1; DROP TABLE t -- '`, `route = 'x\' OR 1=1; DROP TABLE t -- '`,
			`blob2 = 'x\' OR 1=1; DROP TABLE t -- '`, `{"blob2":"x' OR 1=1; DROP TABLE t -- "}`},
		{"newline in value", "route = 'a\nb'", `route = 'a` + "\n" + `b'`, `blob2 = 'a\nb'`, `{"blob2":"a\nb"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFilter(tt.in)
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", tt.in, err)
			}
			if got := f.String(); got != tt.canon {
				t.Errorf("String() = %q, want %q", got, tt.canon)
			}
			sql, err := CompileSQL(f, cols)
			if err != nil {
				t.Fatal(err)
			}
			if sql != tt.sql {
				t.Errorf("CompileSQL = %q, want %q", sql, tt.sql)
			}
			g, err := CompileGraphQL(f, cols)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(g)
			if string(raw) != tt.gql {
				t.Errorf("CompileGraphQL = %s, want %s", raw, tt.gql)
			}
			// The canonical form parses back to the same filter.
			again, err := ParseFilter(f.String())
			if err != nil || again.String() != f.String() {
				t.Errorf("canonical form %q does not parse back: %v", f.String(), err)
			}
		})
	}
}

func TestParseFilterErrors(t *testing.T) {
	tests := []struct {
		name, in string
		pos      Pos
		msg      string
	}{
		{"empty", "  ", Pos{2, 1, 3}, "empty filter"},
		{"unclosed string", "route = 'abc", Pos{8, 1, 9}, "string is not closed"},
		{"bad escape", `route = 'a\nb'`, Pos{10, 1, 11}, `unknown escape`},
		{"double quotes", `route = "x"`, Pos{8, 1, 9}, "single quotes"},
		{"missing value", "status <", Pos{8, 1, 9}, "expected a number or a quoted string"},
		{"bare word", "route = health", Pos{8, 1, 9}, "quote strings, e.g. 'health'"},
		{"double equals", "status == 5", Pos{7, 1, 8}, "write = for equal"},
		{"dangling and", "status < 5 and", Pos{14, 1, 15}, "the filter ends where a condition should be"},
		{"unclosed paren", "(status < 5", Pos{11, 1, 12}, "expected ) to close the ( at 1:1"},
		{"second line", "status < 5\n  and route ! 'x'", Pos{23, 2, 13}, "write != for not equal"},
		{"unit", "latency_ms < 200ms", Pos{16, 1, 17}, "numbers have no units"},
		{"value first", "500 > status", Pos{0, 1, 1}, "write the column first"},
		{"not without in", "status not 5", Pos{11, 1, 12}, "expected in after not"},
		{"in without list", "status in 5", Pos{10, 1, 11}, "expected ( after in"},
		{"junk after", "status < 5 status > 1", Pos{11, 1, 12}, "join conditions with and / or"},
		{"multibyte column count", "route = 'é' and é", Pos{17, 1, 17}, "unexpected character"},
		{"overflow", "status < 1e999", Pos{9, 1, 10}, "is not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFilter(tt.in)
			var fe *FilterError
			if !errors.As(err, &fe) {
				t.Fatalf("ParseFilter(%q) = %v, want a *FilterError", tt.in, err)
			}
			if fe.Pos != tt.pos || !strings.Contains(fe.Msg, tt.msg) {
				t.Errorf("ParseFilter(%q) = %v at %+v, want %q at %+v", tt.in, fe.Msg, fe.Pos, tt.msg, tt.pos)
			}
		})
	}
}

func TestParseFilterDepthLimit(t *testing.T) {
	deep := strings.Repeat("(", 100000) + "status < 5" + strings.Repeat(")", 100000)
	_, err := ParseFilter(deep)
	if err == nil || !strings.Contains(err.Error(), "deeper than 64") {
		// 100,000 levels is over MaxFilterBytes too; either limit is an error, not a crash.
		if err == nil || !strings.Contains(err.Error(), "over the limit") {
			t.Fatalf("100,000-deep filter: %v, want a depth or length error", err)
		}
	}
	within := strings.Repeat("(", 1000) + "status < 5" + strings.Repeat(")", 1000)
	_, err = ParseFilter(within)
	var fe *FilterError
	if !errors.As(err, &fe) || !strings.Contains(fe.Msg, "deeper than 64") || fe.Pos.Offset != 64 {
		t.Fatalf("1,000-deep filter: %v, want the depth error at the 65th parenthesis", err)
	}
	ok := strings.Repeat("(", 64) + "status < 5" + strings.Repeat(")", 64)
	if _, err := ParseFilter(ok); err != nil {
		t.Fatalf("64-deep filter: %v", err)
	}
	// A long flat chain is not nesting.
	flat := "status = 1" + strings.Repeat(" or status = 1", 1000)
	if _, err := ParseFilter(flat); err != nil {
		t.Fatalf("flat chain: %v", err)
	}
}

func TestCheck(t *testing.T) {
	cols := apiDataset.Columns()
	tests := []struct {
		name, in string
		want     []string // "line:col: message fragment"
	}{
		{"fine", "status < 500 and route in ('/a')", nil},
		{"typo", "stauts < 500", []string{`1:1: unknown column "stauts" in dataset "monotask_api". Did you mean "status"?`}},
		{"no suggestion lists columns", "zzz = 1", []string{`1:1: unknown column "zzz" in dataset "monotask_api". Its columns: cpu_ms, latency_ms, method, outcome, route, status, tenant, worker.`}},
		{"number vs string", "status = '500'", []string{`1:10: status is a number column: compare it with a number, not the string '500'`}},
		{"string vs number", "route = 5 or route in ('a', 6)", []string{`1:9: route is a string column: quote the value, e.g. '5'`, `1:29: route is a string column: quote the value, e.g. '6'`}},
		{"string ordering", "route < 'b'", []string{`1:1: route is a string column: compare it with = != in or not in, not <`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFilter(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range Check(f, cols, `dataset "monotask_api"`) {
				got = append(got, e.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Check(%q) (-want +got):\n%s", tt.in, diff)
			}
			if len(tt.want) > 0 {
				if _, err := CompileSQL(f, cols); err == nil {
					t.Errorf("CompileSQL(%q) compiled a filter that fails Check", tt.in)
				}
			}
		})
	}
}

func TestPosIn(t *testing.T) {
	start := Pos{Offset: 100, Line: 7, Column: 13}
	if got := (Pos{Offset: 4, Line: 1, Column: 5}).In(start); got != (Pos{104, 7, 17}) {
		t.Errorf("first line: %+v", got)
	}
	if got := (Pos{Offset: 14, Line: 2, Column: 3}).In(start); got != (Pos{114, 8, 3}) {
		t.Errorf("second line: %+v", got)
	}
}

func TestSQLString(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:       `'plain'`,
		`it's`:        `'it\'s'`,
		`a\b`:         `'a\\b'`,
		`\'`:          `'\\\''`,
		"x; -- y\n\t": `'x; -- y\n\t'`,
		"nul\x00":     `'nul\0'`,
	} {
		if got := SQLString(in); got != want {
			t.Errorf("SQLString(%q) = %s, want %s", in, got, want)
		}
	}
}

// FuzzFilter: whatever the input, parsing never panics; a parsed filter's canonical form
// parses to the same canonical form; and every string value compiles to an SQL literal
// that unquotes (by the rules of the SQL string lexer) to exactly the value.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{"status < 500", "route = 'a''b' or (tenant in ('x', 'y\\'z') and status >= -1e3)", "((route = '--;'))", "route = '\\\\'", strings.Repeat("(", 70) + "x=1"} {
		f.Add(s)
	}
	cols := Columns{}
	for _, name := range []string{"status", "route", "tenant", "x"} {
		typ := String
		if name == "status" || name == "x" {
			typ = Number
		}
		cols[name] = Column{Name: name, Type: typ, Field: "f_" + name}
	}
	f.Fuzz(func(t *testing.T, src string) {
		flt, err := ParseFilter(src)
		if err != nil {
			var fe *FilterError
			if !errors.As(err, &fe) || fe.Pos.Offset < 0 || fe.Pos.Offset > len(src) {
				t.Fatalf("ParseFilter(%q): error %v without a position inside the input", src, err)
			}
			return
		}
		canon := flt.String()
		again, err := ParseFilter(canon)
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", canon, src, err)
		}
		if again.String() != canon {
			t.Fatalf("canonical form not stable: %q then %q", canon, again.String())
		}
		walk(flt.Root, func(c *Compare) {
			for _, v := range c.Values {
				if !v.IsString {
					continue
				}
				lit := SQLString(v.Str)
				got, rest, ok := unquoteSQL(lit)
				if !ok || rest != "" || got != v.Str {
					t.Fatalf("SQLString(%q) = %s reads back as %q (rest %q, ok %v)", v.Str, lit, got, rest, ok)
				}
			}
		})
		if len(Check(flt, cols, "test")) == 0 {
			if _, err := CompileSQL(flt, cols); err != nil {
				t.Fatalf("CompileSQL(%q): %v", src, err)
			}
			if _, err := CompileGraphQL(flt, cols); err != nil {
				t.Fatalf("CompileGraphQL(%q): %v", src, err)
			}
		}
	})
}

// unquoteSQL reads one ClickHouse string literal at the start of s, by the escapes
// Analytics Engine SQL reads (the emulator's lexer): ” and backslash escapes.
func unquoteSQL(s string) (value, rest string, ok bool) {
	if !strings.HasPrefix(s, "'") {
		return "", s, false
	}
	var b strings.Builder
	for j := 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '\'' && j+1 < len(s) && s[j+1] == '\'':
			b.WriteByte('\'')
			j++
		case c == '\'':
			return b.String(), s[j+1:], true
		case c == '\\' && j+1 < len(s):
			j++
			switch s[j] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			default:
				b.WriteByte(s[j])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", false
}
