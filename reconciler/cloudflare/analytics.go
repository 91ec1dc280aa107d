package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Workers Analytics Engine: the SQL API (analytics.md §2), which answers outside the v4
// envelope, and the local emulator's data point writer for tests.

// SQLColumn is one column of an Analytics Engine SQL answer.
type SQLColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// SQLResult is a FORMAT JSON answer. 64-bit integers (e.g. sum(_sample_interval)) arrive
// as JSON strings and floats as numbers (null for NaN): read them with Float.
type SQLResult struct {
	Meta []SQLColumn      `json:"meta"`
	Data []map[string]any `json:"data"`
	Rows int              `json:"rows"`
}

// QuerySQL runs a query with the SQL API. The query must answer in FORMAT JSON, the
// default: leave FORMAT out or write FORMAT JSON.
func (c *RawClient) QuerySQL(ctx context.Context, accountID, sql string) (*SQLResult, error) {
	path := "accounts/" + url.PathEscape(accountID) + "/analytics_engine/sql"
	// A query changes nothing: safe to retry although it is a POST.
	body, err := c.DoRaw(withIdempotent(ctx), http.MethodPost, path, "text/plain", []byte(sql))
	if err != nil {
		return nil, fmt.Errorf("analytics engine query failed: %w", err)
	}
	var res SQLResult
	if err := json.Unmarshal(body, &res); err != nil || res.Meta == nil {
		return nil, fmt.Errorf("analytics engine query: the answer is not FORMAT JSON (leave FORMAT out): %.200s", body)
	}
	return &res, nil
}

// Float reads a numeric cell: a JSON number, or a 64-bit integer sent as a string. A
// null (NaN, e.g. 0/0) is NaN.
func (r *SQLResult) Float(row int, column string) (float64, error) {
	if row < 0 || row >= len(r.Data) {
		return 0, fmt.Errorf("row %d out of range (%d rows)", row, len(r.Data))
	}
	v, ok := r.Data[row][column]
	if !ok {
		return 0, fmt.Errorf("no column %q in the answer", column)
	}
	switch x := v.(type) {
	case nil:
		return math.NaN(), nil
	case float64:
		return x, nil
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return 0, fmt.Errorf("column %q: %q is not a number", column, x)
		}
		return f, nil
	}
	return 0, fmt.Errorf("column %q: %v is not a number", column, v)
}

// AnalyticsDataPoint is a data point for WriteDataPoints. Timestamp (zero: now) and
// SampleInterval (zero: 1) exist only in the emulator's writer.
type AnalyticsDataPoint struct {
	Blobs          []string
	Doubles        []float64
	Indexes        []string
	Timestamp      time.Time
	SampleInterval int
}

// WriteDataPoints writes points through the local emulator's test endpoint
// POST /accounts/{a}/analytics_engine/__write/{dataset}. Cloudflare has no such
// endpoint (real points come from Workers' writeDataPoint): use it against the emulator.
func (c *RawClient) WriteDataPoints(ctx context.Context, accountID, dataset string, points ...AnalyticsDataPoint) error {
	body := make([]map[string]any, len(points))
	for i, p := range points {
		m := map[string]any{"blobs": p.Blobs, "doubles": p.Doubles, "indexes": p.Indexes}
		if !p.Timestamp.IsZero() {
			m["timestamp"] = p.Timestamp.UTC().Format(time.RFC3339Nano)
		}
		if p.SampleInterval != 0 {
			m["sample_interval"] = p.SampleInterval
		}
		body[i] = m
	}
	path := "accounts/" + url.PathEscape(accountID) + "/analytics_engine/__write/" + url.PathEscape(dataset)
	if _, err := c.Do(ctx, http.MethodPost, path, nil, body, nil); err != nil {
		return fmt.Errorf("cannot write data points to %s: %w", dataset, err)
	}
	return nil
}
