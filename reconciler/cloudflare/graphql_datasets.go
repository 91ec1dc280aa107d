package cloudflare

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Typed readers of the GraphQL datasets the alerting engine needs (analytics.md §1.5–1.7
// and §6): Worker invocations, queue message operations and backlog, D1 query time.
// Every reader takes a half-open range [From, To) and an optional Bucket; it returns
// only the buckets that have data. No bucket is "no data", never zero: Cloudflare
// returns no rows for a queue nobody wrote to or read from, even with a backlog.
// Counts are Cloudflare's sampled estimates (already scaled by the sample interval).

// GraphQLPageSize is the largest limit the datasets accept (their maxPageSize). A reader
// whose answer fills a page fails rather than return a truncated series.
const GraphQLPageSize = 10000

// TimeRange is [From, To). The readers filter on the event time, so a From that is not
// a multiple of the Bucket makes the first bucket partial: align it to get whole ones.
type TimeRange struct {
	From, To time.Time
}

func (r TimeRange) check() error {
	if r.From.IsZero() || r.To.IsZero() || !r.From.Before(r.To) {
		return fmt.Errorf("time range [%s, %s) is empty: From must be before To", r.From.Format(time.RFC3339), r.To.Format(time.RFC3339))
	}
	return nil
}

func gqlTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// bucketDimension maps a bucket width to the dataset's time dimension ("" for one
// bucket over the whole range).
func bucketDimension(bucket time.Duration, allowed map[time.Duration]string) (string, error) {
	if bucket == 0 {
		return "", nil
	}
	if dim, ok := allowed[bucket]; ok {
		return dim, nil
	}
	widths := make([]string, 0, len(allowed))
	for d := range allowed {
		widths = append(widths, d.String())
	}
	sort.Strings(widths)
	return "", fmt.Errorf("bucket %s is not one of Cloudflare's time dimensions (%s, or 0 for one bucket)", bucket, strings.Join(widths, ", "))
}

var minuteHourDay = map[time.Duration]string{time.Minute: "datetimeMinute", time.Hour: "datetimeHour", 24 * time.Hour: "date"}

// gqlGroup is one group of a dataset answer.
type gqlGroup struct {
	Dimensions map[string]string  `json:"dimensions"`
	Count      float64            `json:"count"`
	Sum        map[string]float64 `json:"sum"`
	Avg        map[string]float64 `json:"avg"`
	Quantiles  map[string]float64 `json:"quantiles"`
}

// groups runs one dataset node with filter (a variable of its filter type) and the
// selection, and returns its groups.
func (c *RawClient) groups(ctx context.Context, accountID, node, typ string, filter map[string]any, selection string) ([]gqlGroup, error) {
	query := fmt.Sprintf(`query($accountTag: string!, $filter: %sFilter_InputObject!, $limit: uint64!) {
  viewer {
    accounts(filter: {accountTag: $accountTag}) {
      rows: %s(filter: $filter, limit: $limit) { %s }
    }
  }
}`, typ, node, selection)
	var data struct {
		Viewer struct {
			Accounts []struct {
				Rows []gqlGroup `json:"rows"`
			} `json:"accounts"`
		} `json:"viewer"`
	}
	vars := map[string]any{"accountTag": accountID, "filter": filter, "limit": GraphQLPageSize}
	if err := c.GraphQL(ctx, query, vars, &data); err != nil {
		return nil, err
	}
	if len(data.Viewer.Accounts) != 1 {
		return nil, fmt.Errorf("%s: the answer has %d accounts, want 1", node, len(data.Viewer.Accounts))
	}
	rows := data.Viewer.Accounts[0].Rows
	if len(rows) >= GraphQLPageSize {
		return nil, fmt.Errorf("%s: the answer fills a page of %d groups: use a wider bucket or a shorter range", node, GraphQLPageSize)
	}
	return rows, nil
}

// bucketStart reads a group's time dimension ("" dim: the range start).
func bucketStart(g gqlGroup, dim string, r TimeRange) (time.Time, error) {
	if dim == "" {
		return r.From.UTC(), nil
	}
	v := g.Dimensions[dim]
	layout := time.RFC3339
	if dim == "date" {
		layout = time.DateOnly
	}
	t, err := time.Parse(layout, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("dimension %s: %q is not a time", dim, v)
	}
	return t.UTC(), nil
}

func dimensionsBlock(dims ...string) string {
	var kept []string
	for _, d := range dims {
		if d != "" {
			kept = append(kept, d)
		}
	}
	if len(kept) == 0 {
		return ""
	}
	return "dimensions { " + strings.Join(kept, " ") + " }"
}
