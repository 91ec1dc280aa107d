package aesql

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// --- output formats ---

type aeFormat struct {
	contentType string
	render      func(w http.ResponseWriter, res *Result)
}

func aeLookupFormat(name string) (aeFormat, error) {
	switch strings.ToLower(name) {
	case "json":
		return aeFormat{"application/json; charset=UTF-8", aeWriteJSON}, nil
	case "jsoneachrow":
		return aeFormat{"application/x-ndjson; charset=UTF-8", aeWriteEachRow}, nil
	case "tabseparated", "tsv":
		return aeFormat{"text/tab-separated-values; charset=UTF-8", aeWriteTSV}, nil
	}
	return aeFormat{}, aeErrf("FORMAT %s is not supported: use JSON, JSONEachRow or TabSeparated", name)
}

func (f aeFormat) write(w http.ResponseWriter, res *Result) {
	w.Header().Set("Content-Type", f.contentType)
	f.render(w, res)
}

// aeWriteJSON writes {"meta":[…],"data":[…],"rows":N} with the columns in SELECT order.
func aeWriteJSON(w http.ResponseWriter, res *Result) {
	var b bytes.Buffer
	b.WriteString(`{"meta":[`)
	for i, c := range res.cols {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":%s,"type":%s}`, aeJSONString(c.name), aeJSONString(c.typ.String()))
	}
	b.WriteString(`],"data":[`)
	for i, row := range res.rows {
		if i > 0 {
			b.WriteByte(',')
		}
		aeWriteObject(&b, res.cols, row)
	}
	fmt.Fprintf(&b, `],"rows":%d}`, len(res.rows))
	b.WriteByte('\n')
	_, _ = w.Write(b.Bytes())
}

func aeWriteEachRow(w http.ResponseWriter, res *Result) {
	var b bytes.Buffer
	for _, row := range res.rows {
		aeWriteObject(&b, res.cols, row)
		b.WriteByte('\n')
	}
	_, _ = w.Write(b.Bytes())
}

func aeWriteObject(b *bytes.Buffer, cols []aeColumn, row []aeValue) {
	b.WriteByte('{')
	for j, v := range row {
		if j > 0 {
			b.WriteByte(',')
		}
		b.WriteString(aeJSONString(cols[j].name))
		b.WriteByte(':')
		b.WriteString(aeJSONValue(v))
	}
	b.WriteByte('}')
}

// aeJSONValue renders a value as ClickHouse's JSON formats do: 64-bit integers quoted,
// smaller integers and floats bare (NaN and infinities as null), DateTime as text.
func aeJSONValue(v aeValue) string {
	switch {
	case v.t.kind == aeString:
		return aeJSONString(v.s)
	case v.t.kind == aeDateTime:
		return aeJSONString(aeValueTime(v))
	case v.t.kind == aeFloat:
		if math.IsNaN(v.f) || math.IsInf(v.f, 0) {
			return "null"
		}
		return aeFloatText(v.f)
	case v.t.bits == 64:
		return `"` + aeIntText(v) + `"`
	}
	return aeIntText(v)
}

func aeIntText(v aeValue) string {
	if v.t.signed {
		return strconv.FormatInt(v.i, 10)
	}
	return strconv.FormatUint(v.u, 10)
}

func aeJSONString(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b)
}

// aeWriteTSV writes tab-separated rows without a header, escaping \t, \n and \\.
func aeWriteTSV(w http.ResponseWriter, res *Result) {
	esc := strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`)
	var b bytes.Buffer
	for _, row := range res.rows {
		for j, v := range row {
			if j > 0 {
				b.WriteByte('\t')
			}
			switch v.t.kind {
			case aeString:
				b.WriteString(esc.Replace(v.s))
			case aeDateTime:
				b.WriteString(aeValueTime(v))
			case aeFloat:
				b.WriteString(aeFloatText(v.f))
			default:
				b.WriteString(aeIntText(v))
			}
		}
		b.WriteByte('\n')
	}
	_, _ = w.Write(b.Bytes())
}

// aeValueTime renders DateTime values as ClickHouse does (UTC, second precision).
func aeValueTime(v aeValue) string { return time.Unix(v.i, 0).UTC().Format("2006-01-02 15:04:05") }

// aeFloatText renders a Float64 the way ClickHouse prints it (shortest round trip).
func aeFloatText(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
