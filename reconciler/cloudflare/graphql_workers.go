package cloudflare

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// WallTimeQuantiles are the wall-time percentiles workersInvocationsAdaptive offers.
// There is no P95 (analytics.md §1.5).
var WallTimeQuantiles = []string{"P25", "P50", "P75", "P90", "P99", "P999"}

// CheckWallTimeQuantile refuses a percentile Cloudflare does not compute, saying which
// it does.
func CheckWallTimeQuantile(q string) error {
	for _, ok := range WallTimeQuantiles {
		if q == ok {
			return nil
		}
	}
	hint := ""
	if q == "P95" {
		hint = ": Cloudflare computes no P95 wall time; use P90 or P99, or a dataset_latency SLI over an analytics_dataset"
	}
	return fmt.Errorf("wall-time quantile %q is not one of %s%s", q, strings.Join(WallTimeQuantiles, ", "), hint)
}

// WorkerInvocationsQuery selects one Worker's invocations.
type WorkerInvocationsQuery struct {
	Script string
	Range  TimeRange
	// Bucket is 0 (one bucket over the range), time.Minute, time.Hour or 24h.
	Bucket time.Duration
	// Statuses, when set, keeps only invocations with these statuses.
	Statuses []string
	// WallTimeQuantile ("P25" … "P999"), when set, adds that wall-time percentile per
	// bucket (a second query: percentiles of different statuses cannot be merged).
	WallTimeQuantile string
}

// WorkerInvocationsBucket is one bucket of a Worker's invocations.
type WorkerInvocationsBucket struct {
	Start    time.Time
	Requests uint64
	// Errors is Cloudflare's sum.errors (failure statuses).
	Errors uint64
	// ByStatus is requests per status (success, clientDisconnected,
	// scriptThrewException, exceededResources, internalError, …): callers that decide
	// themselves which outcomes are bad use it.
	ByStatus map[string]uint64
	// WallTimeUs is the requested wall-time percentile in µs; NaN when not asked.
	WallTimeUs float64
}

// WorkerInvocations is a Worker's invocations per bucket, in time order; buckets without
// invocations are absent.
type WorkerInvocations struct {
	Buckets []WorkerInvocationsBucket
}

// Totals sums requests and errors over the buckets; ok is false when there is no data.
func (w *WorkerInvocations) Totals() (requests, errors uint64, ok bool) {
	for _, b := range w.Buckets {
		requests += b.Requests
		errors += b.Errors
	}
	return requests, errors, len(w.Buckets) > 0
}

const workersNode, workersType = "workersInvocationsAdaptive", "AccountWorkersInvocationsAdaptive"

// WorkerInvocations reads workersInvocationsAdaptive for one script: requests and errors
// per status and bucket, and optionally a wall-time percentile per bucket.
func (c *RawClient) WorkerInvocations(ctx context.Context, accountID string, q WorkerInvocationsQuery) (*WorkerInvocations, error) {
	if q.Script == "" {
		return nil, fmt.Errorf("worker invocations: no script name")
	}
	if err := q.Range.check(); err != nil {
		return nil, fmt.Errorf("worker invocations of %s: %w", q.Script, err)
	}
	if q.WallTimeQuantile != "" {
		if err := CheckWallTimeQuantile(q.WallTimeQuantile); err != nil {
			return nil, fmt.Errorf("worker invocations of %s: %w", q.Script, err)
		}
	}
	dim, err := bucketDimension(q.Bucket, minuteHourDay)
	if err != nil {
		return nil, fmt.Errorf("worker invocations of %s: %w", q.Script, err)
	}
	filter := map[string]any{"scriptName": q.Script, "datetime_geq": gqlTime(q.Range.From), "datetime_lt": gqlTime(q.Range.To)}
	if len(q.Statuses) > 0 {
		filter["status_in"] = q.Statuses
	}
	groups, err := c.groups(ctx, accountID, workersNode, workersType, filter, dimensionsBlock(dim, "status")+" sum { requests errors }")
	if err != nil {
		return nil, fmt.Errorf("cannot read invocations of Worker %s: %w", q.Script, err)
	}
	byStart := map[time.Time]*WorkerInvocationsBucket{}
	for _, g := range groups {
		start, err := bucketStart(g, dim, q.Range)
		if err != nil {
			return nil, fmt.Errorf("cannot read invocations of Worker %s: %w", q.Script, err)
		}
		b := byStart[start]
		if b == nil {
			b = &WorkerInvocationsBucket{Start: start, ByStatus: map[string]uint64{}, WallTimeUs: math.NaN()}
			byStart[start] = b
		}
		req, errs := uint64(g.Sum["requests"]), uint64(g.Sum["errors"])
		b.Requests += req
		b.Errors += errs
		b.ByStatus[g.Dimensions["status"]] += req
	}
	if q.WallTimeQuantile != "" && len(byStart) > 0 {
		field := "wallTime" + q.WallTimeQuantile
		groups, err := c.groups(ctx, accountID, workersNode, workersType, filter, dimensionsBlock(dim)+" quantiles { "+field+" }")
		if err != nil {
			return nil, fmt.Errorf("cannot read wall time of Worker %s: %w", q.Script, err)
		}
		for _, g := range groups {
			start, err := bucketStart(g, dim, q.Range)
			if err != nil {
				return nil, fmt.Errorf("cannot read wall time of Worker %s: %w", q.Script, err)
			}
			if b := byStart[start]; b != nil {
				b.WallTimeUs = g.Quantiles[field]
			}
		}
	}
	out := &WorkerInvocations{}
	for _, b := range byStart {
		out.Buckets = append(out.Buckets, *b)
	}
	sort.Slice(out.Buckets, func(i, j int) bool { return out.Buckets[i].Start.Before(out.Buckets[j].Start) })
	return out, nil
}
