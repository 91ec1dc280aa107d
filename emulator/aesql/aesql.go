// Package aesql is the local Cloudflare's Workers Analytics Engine SQL interpreter: the
// subset of the SQL API (analytics.md §2) parsed and evaluated for real over stored data
// points (the grammar is in sql.go). The emulator owns the points and serves
// POST /accounts/{a}/analytics_engine/sql through Parse, Run and Write.
package aesql

import (
	"net/http"
	"time"
)

// Point is one stored Analytics Engine data point (persisted by the emulator).
type Point struct {
	Timestamp      time.Time `json:"t"`
	SampleInterval uint32    `json:"s"`
	Index          string    `json:"i,omitempty"`
	Blobs          []string  `json:"b,omitempty"`
	Doubles        []float64 `json:"d,omitempty"`
}

// Statement is a parsed query with its output format.
type Statement struct {
	q      *aeQuery
	format aeFormat
}

// Parse reads one statement. Failures are *Error (the SQL API's 422).
func Parse(sql string) (*Statement, error) {
	q, err := aeParse(sql)
	if err != nil {
		return nil, err
	}
	format, err := aeLookupFormat(q.format)
	if err != nil {
		return nil, err
	}
	return &Statement{q: q, format: format}, nil
}

// ShowTables reports whether the statement is SHOW TABLES; otherwise Table names the
// dataset it reads.
func (st *Statement) ShowTables() bool { return st.q.show }

// Table is the dataset a SELECT reads.
func (st *Statement) Table() string { return st.q.table }

// Tables answers SHOW TABLES with the dataset names (in the order given).
func (st *Statement) Tables(names []string) *Result {
	res := &Result{cols: []aeColumn{{name: "dataset", typ: aeTString}}, rows: [][]aeValue{}}
	for _, name := range names {
		res.rows = append(res.rows, []aeValue{aeS(name)})
	}
	return res
}

// Run evaluates a SELECT over the points of its table at now. Points are only read.
func (st *Statement) Run(points []Point, now time.Time) (*Result, error) {
	rows := make([]*aeRow, len(points))
	for i := range points {
		rows[i] = &aeRow{p: &points[i], dataset: st.q.table}
	}
	return aeRun(st.q, rows, now)
}

// Write renders res in the statement's FORMAT.
func (st *Statement) Write(w http.ResponseWriter, res *Result) { st.format.write(w, res) }

// Errorf is a refusal of the interpreter's kind (for callers that refuse a statement
// for reasons of their own, e.g. an unknown table).
func Errorf(format string, args ...any) error { return aeErrf(format, args...) }
