package alerting

import (
	"fmt"
	"strings"
	"time"
)

// Query is how a rule's numbers are read, in a form a monitoring Worker runs as is and
// `alerts check` runs the same way (docs/cli/alert-rules.md#queries). Only the time
// bounds are added by the reader.
//
// An Analytics Engine query (Source "analytics_engine_sql") is
//
//	SELECT {Select} FROM {Dataset} WHERE timestamp >= toDateTime(START) AND timestamp < toDateTime(END) AND ({Where})
//
// with START and END in unix seconds. A GraphQL query (Source "graphql") is GraphQL sent
// with the variables accountTag and filter: Filter with "<TimeField>_geq" and
// "<TimeField>_lt" added (RFC 3339 times; for TimeField "datetimeMinute", whole minutes).
type Query struct {
	Source    string         `json:"source"`
	Dataset   string         `json:"dataset,omitempty"`
	Select    string         `json:"select,omitempty"`
	Where     string         `json:"where,omitempty"`
	GraphQL   string         `json:"graphql,omitempty"`
	Filter    map[string]any `json:"filter,omitempty"`
	TimeField string         `json:"time_field,omitempty"`
}

const (
	SourceSQL     = "analytics_engine_sql"
	SourceGraphQL = "graphql"
)

// SQL returns the query's SQL text for [start, end).
func (q Query) SQL(start, end time.Time) string {
	return fmt.Sprintf("SELECT %s FROM %s WHERE timestamp >= toDateTime(%d) AND timestamp < toDateTime(%d) AND (%s)",
		q.Select, q.Dataset, start.Unix(), end.Unix(), q.Where)
}

// SQLSeries returns the query's SQL text for [start, end) grouped by buckets of step:
// one row per bucket with data, its start (unix seconds) in the column t.
func (q Query) SQLSeries(start, end time.Time, step time.Duration) string {
	return fmt.Sprintf("SELECT toUnixTimestamp(toStartOfInterval(timestamp, INTERVAL '%d' MINUTE)) AS t, %s FROM %s WHERE timestamp >= toDateTime(%d) AND timestamp < toDateTime(%d) AND (%s) GROUP BY t ORDER BY t",
		int(step/time.Minute), q.Select, q.Dataset, start.Unix(), end.Unix(), q.Where)
}

// Variables returns the GraphQL variables for [start, end).
func (q Query) Variables(account string, start, end time.Time) map[string]any {
	f := make(map[string]any, len(q.Filter)+2)
	for k, v := range q.Filter {
		f[k] = v
	}
	f[q.TimeField+"_geq"] = start.UTC().Format(time.RFC3339)
	f[q.TimeField+"_lt"] = end.UTC().Format(time.RFC3339)
	return map[string]any{"accountTag": account, "filter": f}
}

// maxRows is the limit every GraphQL query asks for: the documented largest page
// (analytics.md §1.2). A minute-grouped query is split into ranges that fit.
const maxRows = 10000

const gqlWorkersStatus = `query ($accountTag: string!, $filter: AccountWorkersInvocationsAdaptiveFilter_InputObject!) {
  viewer {
    accounts(filter: {accountTag: $accountTag}) {
      workersInvocationsAdaptive(filter: $filter, limit: 10000) {
        dimensions { status }
        sum { requests }
      }
    }
  }
}`

const gqlWorkersQuantileFmt = `query ($accountTag: string!, $filter: AccountWorkersInvocationsAdaptiveFilter_InputObject!) {
  viewer {
    accounts(filter: {accountTag: $accountTag}) {
      workersInvocationsAdaptive(filter: $filter, limit: 10000, orderBy: [datetimeMinute_ASC]) {
        dimensions { datetimeMinute }
        sum { requests }
        quantiles { wallTime%s }
      }
    }
  }
}`

const gqlQueueDelivery = `query ($accountTag: string!, $filter: AccountQueueMessageOperationsAdaptiveGroupsFilter_InputObject!) {
  viewer {
    accounts(filter: {accountTag: $accountTag}) {
      queueMessageOperationsAdaptiveGroups(filter: $filter, limit: 10000, orderBy: [datetimeMinute_ASC]) {
        count
        dimensions { outcome datetimeMinute }
        avg { lagTime }
      }
    }
  }
}`

const gqlQueueBacklog = `query ($accountTag: string!, $filter: AccountQueueBacklogAdaptiveGroupsFilter_InputObject!) {
  viewer {
    accounts(filter: {accountTag: $accountTag}) {
      queueBacklogAdaptiveGroups(filter: $filter, limit: 10000) {
        avg { messages }
      }
    }
  }
}`

const gqlQueueLag = `query ($accountTag: string!, $filter: AccountQueueMessageOperationsAdaptiveGroupsFilter_InputObject!) {
  viewer {
    accounts(filter: {accountTag: $accountTag}) {
      queueMessageOperationsAdaptiveGroups(filter: $filter, limit: 10000) {
        count
        avg { lagTime }
      }
    }
  }
}`

const gqlQueueOutcomes = `query ($accountTag: string!, $filter: AccountQueueMessageOperationsAdaptiveGroupsFilter_InputObject!) {
  viewer {
    accounts(filter: {accountTag: $accountTag}) {
      queueMessageOperationsAdaptiveGroups(filter: $filter, limit: 10000) {
        count
        dimensions { outcome }
      }
    }
  }
}`

const gqlD1Fmt = `query ($accountTag: string!, $filter: AccountD1AnalyticsAdaptiveGroupsFilter_InputObject!) {
  viewer {
    accounts(filter: {accountTag: $accountTag}) {
      d1AnalyticsAdaptiveGroups(filter: $filter, limit: 10000) {
        count
        quantiles { queryBatchTimeMs%s }
      }
    }
  }
}`

// Query compiles the SLI into the query its good and total counts are read with:
// an SQL query answers columns good and total; GraphQL answers are reduced as the SLI's
// type says (docs/cli/alert-rules.md#queries). Call Validate first.
func (s SLI) Query() (Query, error) {
	q, err := s.query()
	if err != nil {
		return Query{}, err
	}
	_, _, id, field := s.entity()
	return withEntity(q, id, field), nil
}

func (s SLI) query() (Query, error) {
	switch {
	case s.DatasetRatio != nil:
		d := s.DatasetRatio
		cols := d.Dataset.Columns()
		good, err := CompileSQL(d.Good, cols)
		if err != nil {
			return Query{}, fmt.Errorf("good: %w", err)
		}
		total, err := CompileSQL(d.Total, cols)
		if err != nil {
			return Query{}, fmt.Errorf("total: %w", err)
		}
		return Query{Source: SourceSQL, Dataset: d.Dataset.Name, Select: goodTotalSelect(good), Where: total}, nil
	case s.DatasetLatency != nil:
		d := s.DatasetLatency
		cols := d.Dataset.Columns()
		c, ok := cols[d.Column]
		if !ok || c.Type != Number {
			return Query{}, fmt.Errorf("latency column %q is not a number column of dataset %q", d.Column, d.Dataset.Name)
		}
		where, err := CompileSQL(d.Filter, cols)
		if err != nil {
			return Query{}, fmt.Errorf("filter: %w", err)
		}
		return Query{Source: SourceSQL, Dataset: d.Dataset.Name, Select: goodTotalSelect(c.Field + " <= " + sqlNumber(d.Threshold)), Where: where}, nil
	case s.WorkerAvailability != nil:
		w := s.WorkerAvailability
		f := map[string]any{"scriptName": w.Script}
		if w.Where != nil {
			where, err := CompileGraphQL(w.Where, WorkerColumns)
			if err != nil {
				return Query{}, fmt.Errorf("where: %w", err)
			}
			f["AND"] = []any{where}
		}
		return Query{Source: SourceGraphQL, GraphQL: gqlWorkersStatus, Filter: f, TimeField: "datetime"}, nil
	case s.WorkerLatency != nil:
		w := s.WorkerLatency
		if err := checkWorkerQuantile(w.Quantile); err != nil {
			return Query{}, err
		}
		return Query{Source: SourceGraphQL, GraphQL: fmt.Sprintf(gqlWorkersQuantileFmt, w.Quantile), Filter: map[string]any{"scriptName": w.Script}, TimeField: "datetime"}, nil
	case s.QueueDelivery != nil:
		return Query{Source: SourceGraphQL, GraphQL: gqlQueueDelivery, Filter: map[string]any{"actionType": "DeleteMessage"}, TimeField: "datetime"}, nil
	}
	return Query{}, fmt.Errorf("the SLO has no SLI")
}

func goodTotalSelect(good string) string {
	return "sum(if(" + good + ", _sample_interval, 0)) AS good, sum(_sample_interval) AS total"
}

// Query compiles the metric into the query its value is read with: an SQL query answers
// the column value; GraphQL answers are reduced as the metric's type says.
func (m Metric) Query() (Query, error) {
	q, err := m.query()
	if err != nil {
		return Query{}, err
	}
	_, _, id, field := m.entity()
	return withEntity(q, id, field), nil
}

func (m Metric) query() (Query, error) {
	switch {
	case m.DatasetQuery != nil:
		q := m.DatasetQuery
		cols := q.Dataset.Columns()
		v, err := ParseValue(q.Value, cols, datasetWhat(q.Dataset))
		if err != nil {
			return Query{}, fmt.Errorf("value: %w", err)
		}
		where, err := CompileSQL(q.Where, cols)
		if err != nil {
			return Query{}, fmt.Errorf("where: %w", err)
		}
		return Query{Source: SourceSQL, Dataset: q.Dataset.Name, Select: v.SQL() + " AS value, sum(_sample_interval) AS events", Where: where}, nil
	case m.QueueBacklog != nil:
		return Query{Source: SourceGraphQL, GraphQL: gqlQueueBacklog, Filter: map[string]any{}, TimeField: "datetime"}, nil
	case m.QueueLag != nil:
		return Query{Source: SourceGraphQL, GraphQL: gqlQueueLag, Filter: map[string]any{"actionType": "ReadMessage"}, TimeField: "datetime"}, nil
	case m.QueueDLQRatio != nil:
		return Query{Source: SourceGraphQL, GraphQL: gqlQueueOutcomes, Filter: map[string]any{"actionType": "DeleteMessage"}, TimeField: "datetime"}, nil
	case m.D1QueryTime != nil:
		q := m.D1QueryTime.Quantile
		return Query{Source: SourceGraphQL, GraphQL: fmt.Sprintf(gqlD1Fmt, q), Filter: map[string]any{}, TimeField: "datetimeMinute"}, nil
	}
	return Query{}, fmt.Errorf("the rule measures nothing")
}

// entity is the name of the queue or database a query is about ("" for none), and the
// filter field its id goes in.
func (m Metric) entity() (kind, name, id, field string) {
	switch {
	case m.QueueBacklog != nil:
		return "queue", m.QueueBacklog.Queue, m.QueueBacklog.QueueID, "queueId"
	case m.QueueLag != nil:
		return "queue", m.QueueLag.Queue, m.QueueLag.QueueID, "queueId"
	case m.QueueDLQRatio != nil:
		return "queue", m.QueueDLQRatio.Queue, m.QueueDLQRatio.QueueID, "queueId"
	case m.D1QueryTime != nil:
		return "d1_database", m.D1QueryTime.Database, m.D1QueryTime.DatabaseID, "databaseId"
	}
	return "", "", "", ""
}

func (s SLI) entity() (kind, name, id, field string) {
	if s.QueueDelivery != nil {
		return "queue", s.QueueDelivery.Queue, s.QueueDelivery.QueueID, "queueId"
	}
	return "", "", "", ""
}

// withEntity adds the id of the query's queue or database to its filter, when known.
func withEntity(q Query, id, field string) Query {
	if id != "" && field != "" {
		f := map[string]any{field: id}
		for k, v := range q.Filter {
			f[k] = v
		}
		q.Filter = f
	}
	return q
}

// describe renders the SLI for people, e.g. "dataset api: latency_ms <= 200 where route != '/health'".
func (s SLI) describe() string {
	switch {
	case s.DatasetRatio != nil:
		d := s.DatasetRatio
		t := fmt.Sprintf("dataset %s: good %s", d.Dataset.Name, d.Good)
		if d.Total != nil {
			t += " of " + d.Total.String()
		}
		return t
	case s.DatasetLatency != nil:
		d := s.DatasetLatency
		t := fmt.Sprintf("dataset %s: %s <= %s", d.Dataset.Name, d.Column, formatNumber(d.Threshold))
		if d.Filter != nil {
			t += " where " + d.Filter.String()
		}
		return t
	case s.WorkerAvailability != nil:
		w := s.WorkerAvailability
		bad := w.BadOutcomes
		if len(bad) == 0 {
			bad = DefaultBadOutcomes
		}
		t := fmt.Sprintf("Worker %s: invocations not %s", w.Script, strings.Join(bad, "/"))
		if w.Where != nil {
			t += " where " + w.Where.String()
		}
		return t
	case s.WorkerLatency != nil:
		w := s.WorkerLatency
		return fmt.Sprintf("Worker %s: minutes with wall time %s <= %s", w.Script, w.Quantile, formatDuration(w.Threshold))
	case s.QueueDelivery != nil:
		q := s.QueueDelivery
		t := fmt.Sprintf("queue %s: messages delivered, not dead-lettered or failed", q.Queue)
		if q.LagThreshold > 0 {
			t += fmt.Sprintf(", in minutes with lag <= %s", formatDuration(q.LagThreshold))
		}
		return t
	}
	return ""
}
