package backup

import (
	"strings"
	"testing"
)

// The export reader counts rows per table however the SQL is split across writes, with
// semicolons, quotes and comments inside statements and INSERTs inside triggers.
func TestSQLTally(t *testing.T) {
	dump := `PRAGMA defer_foreign_keys=TRUE;
CREATE TABLE "my ""table""" (id INTEGER PRIMARY KEY, t TEXT);
INSERT INTO "my ""table""" VALUES(1,'a;b');
INSERT INTO "my ""table""" VALUES(2,'it''s; "quoted"
and a newline');
CREATE TABLE IF NOT EXISTS log (msg TEXT); -- a comment; with a semicolon
INSERT INTO log VALUES('x /* not a comment; */');
/* a block comment; INSERT INTO log VALUES('no'); */
CREATE TABLE empty (x);
CREATE TRIGGER t AFTER INSERT ON log BEGIN INSERT INTO log VALUES('trigger; row'); UPDATE log SET msg = msg; END;
INSERT INTO [log] VALUES('three');
CREATE INDEX i ON log(msg);
`
	want := map[string]int64{`my "table"`: 2, "log": 2, "empty": 0}
	for _, chunk := range []int{1, 7, len(dump)} {
		st := newSQLTally()
		for i := 0; i < len(dump); i += chunk {
			if _, err := st.Write([]byte(dump[i:min(i+chunk, len(dump))])); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.finish(); err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, c := range st.t.contents() {
			got[c.Name] = c.Items
		}
		if len(got) != len(want) {
			t.Errorf("chunk %d: tables %v, want %v", chunk, got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("chunk %d: %s has %d rows, want %d", chunk, k, got[k], v)
			}
		}
	}
	st := newSQLTally()
	st.Write([]byte(dump + "INSERT INTO log VALUES('cut"))
	if err := st.finish(); err == nil || !strings.Contains(err.Error(), "ends inside a statement") {
		t.Errorf("a dump cut short: %v", err)
	}
}

// The contents checksum does not depend on order and does not cancel repeated items.
func TestTallyOrderIndependent(t *testing.T) {
	a, b, c := newTally(), newTally(), newTally()
	for _, s := range []string{"x", "y", "z"} {
		a.add("t", 0, []byte(s))
	}
	for _, s := range []string{"z", "x", "y"} {
		b.add("t", 0, []byte(s))
	}
	for _, s := range []string{"x", "y", "z", "y", "y"} {
		c.add("t", 0, []byte(s))
	}
	if a.contents()[0].SHA256 != b.contents()[0].SHA256 {
		t.Error("the checksum depends on order")
	}
	c.byName["t"].items = 3
	if a.contents()[0].SHA256 == c.contents()[0].SHA256 {
		t.Error("a repeated pair of items cancelled out")
	}
}
