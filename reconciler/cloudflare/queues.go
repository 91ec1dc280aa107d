package cloudflare

import (
	"context"
	"fmt"

	"github.com/cloudflare/cloudflare-go/v6/queues"
)

// Queue is a live queue with its consumers (the list endpoint embeds them).
type Queue struct {
	ID               string
	Name             string
	DeliveryDelay    int64 // seconds
	MessageRetention int64 // seconds
	DeliveryPaused   bool
	Consumers        []Consumer
}

// Consumer is a live queue consumer.
type Consumer struct {
	ID              string
	Type            string // "worker" or "http_pull"
	Script          string // worker consumers
	DeadLetterQueue string // queue name, "" for none
	BatchSize       int64
	MaxRetries      int64
	MaxWaitMs       int64 // worker consumers
	RetryDelay      int64 // seconds
	// MaxConcurrency 0 means unset: the platform's automatic maximum.
	MaxConcurrency      int64
	VisibilityTimeoutMs int64 // http_pull consumers
}

// ListQueues returns every queue of the account with its consumers, in one request.
func (c *Client) ListQueues(ctx context.Context) ([]Queue, error) {
	out, err := c.listQueues(ctx) // the SDK's List, decoded leanly (queues_list.go)
	if err != nil {
		return nil, failed("list queues", err)
	}
	return out, nil
}

// CreateQueue creates an empty queue with default settings. It is retried only on 429:
// after a server error or a lost answer it returns an *AmbiguousError (the queue may
// exist now), and when the name is in use an error for which IsNameTaken is true.
func (c *Client) CreateQueue(ctx context.Context, name string) (Queue, error) {
	var p queues.QueueNewParams
	set(&p.AccountID, c.accountID)
	set(&p.QueueName, name)
	q, err := c.queues.New(ctx, p)
	if err != nil {
		return Queue{}, failedCreate(fmt.Sprintf("create queue %q", name), err)
	}
	return fromQueue(*q), nil
}

// UpdateQueue replaces the name and settings of a queue (PUT: every setting is sent).
func (c *Client) UpdateQueue(ctx context.Context, q Queue) error {
	var settings queues.QueueSettingsParam
	set(&settings.DeliveryDelay, float64(q.DeliveryDelay))
	set(&settings.DeliveryPaused, q.DeliveryPaused)
	set(&settings.MessageRetentionPeriod, float64(q.MessageRetention))
	var p queues.QueueUpdateParams
	set(&p.AccountID, c.accountID)
	set(&p.Queue.QueueName, q.Name)
	set(&p.Queue.Settings, settings)
	_, err := c.queues.Update(ctx, q.ID, p)
	if err != nil {
		return failed(fmt.Sprintf("update queue %q", q.Name), err)
	}
	return nil
}

// DeleteQueue deletes a queue; a queue that is already gone is not an error.
func (c *Client) DeleteQueue(ctx context.Context, id string) error {
	var p queues.QueueDeleteParams
	set(&p.AccountID, c.accountID)
	_, err := c.queues.Delete(ctx, id, p)
	if err != nil && !IsNotFound(apiError(err)) {
		return failed("delete queue "+id, err)
	}
	return nil
}

// CreateConsumer attaches a consumer to a queue. Like CreateQueue it is retried only on
// 429 and returns an *AmbiguousError when it cannot tell whether the consumer exists. A
// worker consumer's script must exist (IsScriptNotFound otherwise).
func (c *Client) CreateConsumer(ctx context.Context, queueID string, con Consumer) (Consumer, error) {
	var body queues.ConsumerNewParamsBody
	set(&body.Type, queues.ConsumerNewParamsBodyType(con.Type))
	set(&body.DeadLetterQueue, con.DeadLetterQueue)
	set(&body.Settings, any(consumerSettings(con)))
	if con.Script != "" {
		set(&body.ScriptName, con.Script)
	}
	p := queues.ConsumerNewParams{Body: body}
	set(&p.AccountID, c.accountID)
	res, err := c.consumers.New(ctx, queueID, p)
	if err != nil {
		return Consumer{}, failedCreate(consumerOp("create", con, queueID), err)
	}
	return fromConsumer(*res), nil
}

// UpdateConsumer replaces a consumer's settings (PUT).
func (c *Client) UpdateConsumer(ctx context.Context, queueID string, con Consumer) error {
	var body queues.ConsumerUpdateParamsBody
	set(&body.Type, queues.ConsumerUpdateParamsBodyType(con.Type))
	set(&body.DeadLetterQueue, con.DeadLetterQueue)
	set(&body.Settings, any(consumerSettings(con)))
	if con.Script != "" {
		set(&body.ScriptName, con.Script)
	}
	p := queues.ConsumerUpdateParams{Body: body}
	set(&p.AccountID, c.accountID)
	_, err := c.consumers.Update(ctx, queueID, con.ID, p)
	if err != nil {
		return failed(fmt.Sprintf("update consumer %s on queue %s", con.ID, queueID), err)
	}
	return nil
}

// DeleteConsumer detaches a consumer; one already gone is not an error.
func (c *Client) DeleteConsumer(ctx context.Context, queueID, consumerID string) error {
	var p queues.ConsumerDeleteParams
	set(&p.AccountID, c.accountID)
	_, err := c.consumers.Delete(ctx, queueID, consumerID, p)
	if err != nil && !IsNotFound(apiError(err)) {
		return failed(fmt.Sprintf("delete consumer %s on queue %s", consumerID, queueID), err)
	}
	return nil
}

// consumerOp names a consumer operation for errors: `create worker consumer "agent" on
// queue <id>`.
func consumerOp(verb string, con Consumer, queueID string) string {
	if con.Type == "worker" {
		return fmt.Sprintf("%s worker consumer %q on queue %s", verb, con.Script, queueID)
	}
	return fmt.Sprintf("%s %s consumer on queue %s", verb, con.Type, queueID)
}

// consumerSettings builds the settings object the API expects for the consumer's type.
// max_concurrency is sent as null when unset: null means "the platform's maximum".
func consumerSettings(con Consumer) map[string]any {
	s := map[string]any{
		"batch_size":  con.BatchSize,
		"max_retries": con.MaxRetries,
		"retry_delay": con.RetryDelay,
	}
	if con.Type == "http_pull" {
		s["visibility_timeout_ms"] = con.VisibilityTimeoutMs
		return s
	}
	s["max_wait_time_ms"] = con.MaxWaitMs
	if con.MaxConcurrency > 0 {
		s["max_concurrency"] = con.MaxConcurrency
	} else {
		s["max_concurrency"] = nil
	}
	return s
}

func fromQueue(q queues.Queue) Queue {
	out := Queue{
		ID:               q.QueueID,
		Name:             q.QueueName,
		DeliveryDelay:    int64(q.Settings.DeliveryDelay),
		MessageRetention: int64(q.Settings.MessageRetentionPeriod),
		DeliveryPaused:   q.Settings.DeliveryPaused,
	}
	for _, con := range q.Consumers {
		out.Consumers = append(out.Consumers, fromConsumer(con))
	}
	return out
}

func fromConsumer(con queues.Consumer) Consumer {
	out := Consumer{ID: con.ConsumerID, Type: string(con.Type), Script: con.ScriptName, DeadLetterQueue: con.DeadLetterQueue}
	switch u := con.AsUnion().(type) {
	case queues.ConsumerMqWorkerConsumerResponse:
		s := u.Settings
		out.BatchSize, out.MaxRetries, out.RetryDelay = int64(s.BatchSize), int64(s.MaxRetries), int64(s.RetryDelay)
		out.MaxWaitMs, out.MaxConcurrency = int64(s.MaxWaitTimeMs), int64(s.MaxConcurrency)
	case queues.ConsumerMqHTTPConsumerResponse:
		s := u.Settings
		out.BatchSize, out.MaxRetries, out.RetryDelay = int64(s.BatchSize), int64(s.MaxRetries), int64(s.RetryDelay)
		out.VisibilityTimeoutMs = int64(s.VisibilityTimeoutMs)
	}
	return out
}
