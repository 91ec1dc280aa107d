package cloudflare

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"
)

// D1 query time over d1AnalyticsAdaptiveGroups (analytics.md §1.7): query batch counts,
// the average batch time and its P50 and P90 (the only percentiles there are). The
// dataset has no raw datetime dimension, so the range is filtered on datetimeMinute:
// From and To are taken to the minute.

// D1QueryTimeQuantiles are the batch-time percentiles the dataset offers.
var D1QueryTimeQuantiles = []string{"P50", "P90"}

// D1QueryTimeQuery selects one database's query batches.
type D1QueryTimeQuery struct {
	DatabaseID string
	Range      TimeRange
	// Bucket is 0 (one bucket over the range), time.Minute, 5m, 15m, time.Hour or 24h.
	Bucket time.Duration
}

// D1QueryTimeBucket is one bucket of a database's query batches.
type D1QueryTimeBucket struct {
	Start        time.Time
	Batches      uint64 // query batches (count)
	ReadQueries  uint64
	WriteQueries uint64
	AvgMs        float64 // average batch time, weighted by the sample interval
	P50Ms        float64
	P90Ms        float64
}

var d1Buckets = map[time.Duration]string{
	time.Minute: "datetimeMinute", 5 * time.Minute: "datetimeFiveMinutes", 15 * time.Minute: "datetimeFifteenMinutes",
	time.Hour: "datetimeHour", 24 * time.Hour: "date",
}

// D1QueryTime reads a D1 database's query batch time per bucket, in time order; buckets
// without queries are absent (no data, not a zero time).
func (c *RawClient) D1QueryTime(ctx context.Context, accountID string, q D1QueryTimeQuery) ([]D1QueryTimeBucket, error) {
	if q.DatabaseID == "" {
		return nil, fmt.Errorf("d1 query time: no database id")
	}
	if err := q.Range.check(); err != nil {
		return nil, fmt.Errorf("d1 query time of %s: %w", q.DatabaseID, err)
	}
	dim, err := bucketDimension(q.Bucket, d1Buckets)
	if err != nil {
		return nil, fmt.Errorf("d1 query time of %s: %w", q.DatabaseID, err)
	}
	filter := map[string]any{"databaseId": q.DatabaseID,
		"datetimeMinute_geq": gqlTime(q.Range.From.Truncate(time.Minute)), "datetimeMinute_lt": gqlTime(q.Range.To.Truncate(time.Minute))}
	groups, err := c.groups(ctx, accountID, "d1AnalyticsAdaptiveGroups", "AccountD1AnalyticsAdaptiveGroups", filter,
		dimensionsBlock(dim)+" count sum { readQueries writeQueries } avg { queryBatchTimeMs } quantiles { queryBatchTimeMsP50 queryBatchTimeMsP90 }")
	if err != nil {
		return nil, fmt.Errorf("cannot read the query time of D1 database %s: %w", q.DatabaseID, err)
	}
	out := make([]D1QueryTimeBucket, 0, len(groups))
	for _, g := range groups {
		start, err := bucketStart(g, dim, q.Range)
		if err != nil {
			return nil, fmt.Errorf("cannot read the query time of D1 database %s: %w", q.DatabaseID, err)
		}
		out = append(out, D1QueryTimeBucket{Start: start, Batches: uint64(math.Round(g.Count)),
			ReadQueries: uint64(g.Sum["readQueries"]), WriteQueries: uint64(g.Sum["writeQueries"]),
			AvgMs: g.Avg["queryBatchTimeMs"], P50Ms: g.Quantiles["queryBatchTimeMsP50"], P90Ms: g.Quantiles["queryBatchTimeMsP90"]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}
