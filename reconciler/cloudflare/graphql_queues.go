package cloudflare

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"
)

// Queue readers over queueMessageOperationsAdaptiveGroups and queueBacklogAdaptiveGroups
// (analytics.md §1.6). Queues that nobody writes to or reads from return no rows, even
// with a backlog: an empty answer is "no data", never a zero.

// QueueMetricsQuery selects one queue's metrics.
type QueueMetricsQuery struct {
	QueueID string
	Range   TimeRange
	// Bucket is 0 (one bucket over the range), time.Minute, time.Hour or 24h.
	Bucket time.Duration
}

func (q QueueMetricsQuery) check(what string) (string, error) {
	if q.QueueID == "" {
		return "", fmt.Errorf("%s: no queue id", what)
	}
	if err := q.Range.check(); err != nil {
		return "", fmt.Errorf("%s of queue %s: %w", what, q.QueueID, err)
	}
	dim, err := bucketDimension(q.Bucket, minuteHourDay)
	if err != nil {
		return "", fmt.Errorf("%s of queue %s: %w", what, q.QueueID, err)
	}
	return dim, nil
}

func (q QueueMetricsQuery) filter() map[string]any {
	return map[string]any{"queueId": q.QueueID, "datetime_geq": gqlTime(q.Range.From), "datetime_lt": gqlTime(q.Range.To)}
}

// QueueDeliveryBucket is one bucket of a queue's message operations. Counts are
// messages (sampled estimates).
type QueueDeliveryBucket struct {
	Start   time.Time
	Written uint64 // WriteMessage
	Read    uint64 // ReadMessage
	// The outcomes of DeleteMessage: acknowledged, sent to the dead-letter queue, or
	// dropped after the last retry.
	Delivered uint64
	DLQ       uint64
	Failed    uint64
	// LagMs is the average write-to-operation time of the reads and deletes, in ms;
	// NaN when the bucket has neither.
	LagMs float64
	// RetryCount is the average number of retries of the deletes; NaN without deletes.
	RetryCount float64
}

// QueueDelivery is a queue's message operations per bucket, in time order; buckets
// without operations are absent.
type QueueDelivery struct {
	Buckets []QueueDeliveryBucket
}

// Totals sums the delete outcomes over the buckets; ok is false when no message was
// delivered, dead-lettered or failed in the range (no data: not a 100 % or 0 % ratio).
func (d *QueueDelivery) Totals() (delivered, dlq, failed uint64, ok bool) {
	for _, b := range d.Buckets {
		delivered += b.Delivered
		dlq += b.DLQ
		failed += b.Failed
	}
	return delivered, dlq, failed, delivered+dlq+failed > 0
}

// Lag is the average lag over the buckets, weighted by their reads and deletes; ok is
// false without any.
func (d *QueueDelivery) Lag() (ms float64, ok bool) {
	sum, n := 0.0, 0.0
	for _, b := range d.Buckets {
		w := float64(b.Read + b.Delivered + b.DLQ + b.Failed)
		if w > 0 && !math.IsNaN(b.LagMs) {
			sum += b.LagMs * w
			n += w
		}
	}
	if n == 0 {
		return math.NaN(), false
	}
	return sum / n, true
}

// QueueDelivery reads a queue's message operations: writes, reads, delete outcomes
// (delivered / DLQ / failed), lag and retries per bucket.
func (c *RawClient) QueueDelivery(ctx context.Context, accountID string, q QueueMetricsQuery) (*QueueDelivery, error) {
	dim, err := q.check("message operations")
	if err != nil {
		return nil, err
	}
	groups, err := c.groups(ctx, accountID, "queueMessageOperationsAdaptiveGroups", "AccountQueueMessageOperationsAdaptiveGroups",
		q.filter(), dimensionsBlock(dim, "actionType", "outcome")+" count avg { lagTime retryCount }")
	if err != nil {
		return nil, fmt.Errorf("cannot read message operations of queue %s: %w", q.QueueID, err)
	}
	type acc struct {
		b                        QueueDeliveryBucket
		lagSum, lagN, retSum, rN float64
	}
	byStart := map[time.Time]*acc{}
	for _, g := range groups {
		start, err := bucketStart(g, dim, q.Range)
		if err != nil {
			return nil, fmt.Errorf("cannot read message operations of queue %s: %w", q.QueueID, err)
		}
		a := byStart[start]
		if a == nil {
			a = &acc{b: QueueDeliveryBucket{Start: start}}
			byStart[start] = a
		}
		n := uint64(math.Round(g.Count))
		action, outcome := g.Dimensions["actionType"], g.Dimensions["outcome"]
		switch action {
		case "WriteMessage":
			a.b.Written += n
			continue // writes have no lag
		case "ReadMessage":
			a.b.Read += n
		case "DeleteMessage":
			switch outcome {
			case "success":
				a.b.Delivered += n
			case "dlq":
				a.b.DLQ += n
			case "fail":
				a.b.Failed += n
			default:
				return nil, fmt.Errorf("queue %s: DeleteMessage with outcome %q, want success, dlq or fail", q.QueueID, outcome)
			}
			a.retSum += g.Avg["retryCount"] * g.Count
			a.rN += g.Count
		default:
			return nil, fmt.Errorf("queue %s: unknown actionType %q", q.QueueID, action)
		}
		a.lagSum += g.Avg["lagTime"] * g.Count
		a.lagN += g.Count
	}
	out := &QueueDelivery{}
	for _, a := range byStart {
		a.b.LagMs, a.b.RetryCount = math.NaN(), math.NaN()
		if a.lagN > 0 {
			a.b.LagMs = a.lagSum / a.lagN
		}
		if a.rN > 0 {
			a.b.RetryCount = a.retSum / a.rN
		}
		out.Buckets = append(out.Buckets, a.b)
	}
	sort.Slice(out.Buckets, func(i, j int) bool { return out.Buckets[i].Start.Before(out.Buckets[j].Start) })
	return out, nil
}

// QueueBacklogPoint is a queue's average backlog over one bucket.
type QueueBacklogPoint struct {
	Start    time.Time
	Messages float64
	Bytes    float64
}

// QueueBacklog reads a queue's average backlog per bucket, in time order. An empty
// answer is no data: Cloudflare reports no backlog for a queue without traffic.
func (c *RawClient) QueueBacklog(ctx context.Context, accountID string, q QueueMetricsQuery) ([]QueueBacklogPoint, error) {
	dim, err := q.check("backlog")
	if err != nil {
		return nil, err
	}
	groups, err := c.groups(ctx, accountID, "queueBacklogAdaptiveGroups", "AccountQueueBacklogAdaptiveGroups",
		q.filter(), dimensionsBlock(dim)+" avg { messages bytes }")
	if err != nil {
		return nil, fmt.Errorf("cannot read the backlog of queue %s: %w", q.QueueID, err)
	}
	out := make([]QueueBacklogPoint, 0, len(groups))
	for _, g := range groups {
		start, err := bucketStart(g, dim, q.Range)
		if err != nil {
			return nil, fmt.Errorf("cannot read the backlog of queue %s: %w", q.QueueID, err)
		}
		out = append(out, QueueBacklogPoint{Start: start, Messages: g.Avg["messages"], Bytes: g.Avg["bytes"]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}
