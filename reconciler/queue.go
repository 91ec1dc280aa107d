package reconciler

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/monotask/flareops/internal/keyed"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

// QueueAPI is what the queue kind needs from Cloudflare; *cloudflare.Client implements it.
type QueueAPI interface {
	ListQueues(ctx context.Context) ([]cloudflare.Queue, error)
	CreateQueue(ctx context.Context, name string) (cloudflare.Queue, error)
	UpdateQueue(ctx context.Context, q cloudflare.Queue) error
	DeleteQueue(ctx context.Context, id string) error
	CreateConsumer(ctx context.Context, queueID string, c cloudflare.Consumer) (cloudflare.Consumer, error)
	UpdateConsumer(ctx context.Context, queueID string, c cloudflare.Consumer) error
	DeleteConsumer(ctx context.Context, queueID, consumerID string) error
}

// QueueKind is the `queue` block: a queue, its settings and its consumers (each of which
// may name a dead-letter queue).
type QueueKind struct{ API QueueAPI }

// QueueSpec is the normalized, comparable form of a queue.
type QueueSpec struct {
	Name             string    `diff:"name"`
	DeliveryDelay    int64     `diff:"delivery_delay,s"`
	MessageRetention int64     `diff:"message_retention,s"`
	Paused           bool      `diff:"paused"`
	Consumers        Consumers `diff:"consumer"`
}

// ConsumerSpec is one consumer; queues key them by Worker name ("http_pull" for a pull
// consumer), so a changed Worker is a new consumer.
type ConsumerSpec struct {
	Type              string `diff:"type"`
	Worker            string `diff:"worker,omitzero"`
	BatchSize         int64  `diff:"batch_size"`
	MaxWait           int64  `diff:"max_wait,ms,omitzero"`
	MaxRetries        int64  `diff:"max_retries"`
	RetryDelay        int64  `diff:"retry_delay,s"`
	MaxConcurrency    int64  `diff:"max_concurrency,omitzero,zero=automatic"` // 0: the platform maximum
	VisibilityTimeout int64  `diff:"visibility_timeout,ms,omitzero"`
	DeadLetterQueue   string `diff:"dead_letter_queue,omitzero,zero=(none)"`
}

func (c ConsumerSpec) key() string {
	if c.Type == "http_pull" {
		return "http_pull"
	}
	return c.Worker
}

// queuePrivate is what Observe keeps about a live queue that is not compared.
type queuePrivate struct {
	consumerIDs []keyID // consumer key → consumer id, in key order (a queue has one or two)
}

type keyID struct{ key, id string }

func (k keyID) keyOf() string { return k.key }

func (p *queuePrivate) setID(key, id string) {
	p.consumerIDs = keyed.Put(p.consumerIDs, keyID{key, id}, keyID.keyOf)
}

func (p queuePrivate) id(key string) string {
	if i, ok := keyed.Find(p.consumerIDs, key, keyID.keyOf); ok {
		return p.consumerIDs[i].id
	}
	return ""
}

// Consumers are a queue's consumers, ordered by key (the Worker's name, "http_pull" for a
// pull consumer), one per key. A slice rather than a map: a queue has one or two, and a
// Go map of one costs about a kilobyte, which a plan of 10,000 queues holds twice (desired
// and live). In JSON (the state, plan hashes) and in diffs they are the object keyed like
// the map they replace, so states and plans written before read the same.
type Consumers []ConsumerSpec

// Get returns the consumer with key.
func (cs Consumers) Get(key string) (ConsumerSpec, bool) {
	i, ok := keyed.Find(cs, key, ConsumerSpec.key)
	if !ok {
		return ConsumerSpec{}, false
	}
	return cs[i], true
}

// Put adds c, or replaces the consumer with its key.
func (cs *Consumers) Put(c ConsumerSpec) { *cs = keyed.Put(*cs, c, ConsumerSpec.key) }

// byKey is the consumers as the map they are in diffs and JSON.
func (cs Consumers) byKey() map[string]ConsumerSpec {
	if cs == nil {
		return nil
	}
	m := make(map[string]ConsumerSpec, len(cs))
	for _, c := range cs {
		m[c.key()] = c
	}
	return m
}

// keyedMap makes Consumers a keyedBlocks (see diff.go).
func (cs Consumers) keyedMap() any { return cs.byKey() }

// MarshalJSON writes the consumers as an object by key (null for nil), byte for byte as
// encoding/json wrote the map (keys sorted, escaped alike).
func (cs Consumers) MarshalJSON() ([]byte, error) {
	if cs == nil {
		return []byte("null"), nil
	}
	b := []byte{'{'}
	for i, c := range cs {
		if i > 0 {
			b = append(b, ',')
		}
		k, err := json.Marshal(c.key())
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads the object MarshalJSON writes.
func (cs *Consumers) UnmarshalJSON(b []byte) error {
	var m map[string]ConsumerSpec
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if m == nil {
		*cs = nil
		return nil
	}
	out := make(Consumers, 0, len(m))
	for _, key := range sortedKeys(m) {
		out = append(out, m[key])
	}
	*cs = out
	return nil
}

// queueNamePattern is Cloudflare's queue name rule ("Queue names must be 1 to 63 characters
// long. Queue names cannot contain special characters outside dashes (-), and must start
// and end with a letter or number": queues/get-started.mdx); the length is Attr.MaxLen.
var queueNamePattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$`)

const queueNameRule = "1 to 63 letters, digits and hyphens, starting and ending with a letter or digit"

var queueSchema = BlockSchema{
	Attrs: []Attr{
		{Name: "name", Type: String, Required: true, MaxLen: 63, Pattern: queueNamePattern, PatternText: queueNameRule,
			Description: "Name of the queue in the account: " + queueNameRule + " (Cloudflare's rule). Changing it renames the queue in place."},
		{Name: "delivery_delay", Type: Duration, Unit: time.Second, Min: 0, Max: 43200, Default: int64(0), Description: "Delay before every message is delivered, e.g. `\"30s\"` (0 to 12h)."},
		{Name: "message_retention", Type: Duration, Unit: time.Second, Min: 60, Max: 1209600, Default: int64(345600), Description: "How long undelivered messages are kept, e.g. `\"4d\"` (1m to 14d; default 4d)."},
		{Name: "paused", Type: Bool, Default: false, Description: "Pause delivery to consumers; messages accumulate until resumed."},
	},
	Blocks: []NestedBlock{{
		Name:        "consumer",
		MaxItems:    1,
		Description: "The consumer of the queue: a Worker (push) or an HTTP pull consumer. A queue has at most one.",
		Schema: BlockSchema{Attrs: []Attr{
			{Name: "type", Type: String, Enum: []string{"worker", "http_pull"}, Default: "worker", Description: "`worker` (push to a Worker) or `http_pull`."},
			{Name: "worker", Type: String, Description: "Name of the Worker script that consumes the queue (worker consumers only)."},
			{Name: "batch_size", Type: Int, Min: 1, Max: 100, Description: "Messages per batch (1–100; default 10 for worker, 5 for http_pull)."},
			{Name: "max_wait", Type: Duration, Unit: time.Millisecond, Min: 0, Max: 60000, Description: "How long to wait for a batch to fill, e.g. `\"5s\"` (0 to 60s; default 5s; worker only)."},
			{Name: "max_retries", Type: Int, Min: 0, Max: 100, Default: int64(3), Description: "Deliveries retried before a message goes to the dead-letter queue, or is dropped (0–100; default 3)."},
			{Name: "retry_delay", Type: Duration, Unit: time.Second, Min: 0, Max: 86400, Default: int64(0), Description: "Delay before a failed message is retried, e.g. `\"30s\"` (0 to 24h)."},
			{Name: "max_concurrency", Type: Int, Min: 1, Max: 250, Description: "Concurrent consumer invocations (1–250); unset lets the platform scale automatically (worker only)."},
			{Name: "visibility_timeout", Type: Duration, Unit: time.Millisecond, Min: 0, Max: 43200000, Description: "How long a pulled message is leased, e.g. `\"30s\"` (0 to 12h; default 30s; http_pull only)."},
			{Name: "dead_letter_queue", Type: Ref, RefKind: "queue", RefRole: "dead-letter queue", Description: "Queue that receives messages after `max_retries` failed deliveries: a reference such as `queue.jobs_dlq`, or the name of an existing queue. Unset: such messages are dropped."},
		}},
	}},
}

func (QueueKind) Name() string        { return "queue" }
func (QueueKind) KeyAttr() string     { return "name" }
func (QueueKind) Schema() BlockSchema { return queueSchema }

// Build checks the rules that span attributes and fills the type-dependent defaults.
func (QueueKind) Build(v Values) (Object, error) {
	spec := QueueSpec{Name: v.str("name"), Paused: v.boolean("paused"), Consumers: Consumers{}}
	spec.DeliveryDelay, _ = v.int("delivery_delay")
	spec.MessageRetention, _ = v.int("message_retention")
	for _, cv := range v.blocks("consumer") {
		c, err := buildConsumer(cv)
		if err != nil {
			return Object{}, err
		}
		if c.DeadLetterQueue == spec.Name {
			return Object{}, fmt.Errorf("dead_letter_queue must be another queue, not %q itself: a queue cannot be its own dead-letter queue (leave dead_letter_queue out to drop messages after max_retries)", spec.Name)
		}
		spec.Consumers.Put(c)
	}
	return Object{Key: spec.Name, Spec: spec}, nil
}

// Flatten turns a queue spec back into block values.
func (QueueKind) Flatten(spec any) Values {
	q := spec.(QueueSpec)
	v := Values{"name": q.Name, "delivery_delay": q.DeliveryDelay, "message_retention": q.MessageRetention, "paused": q.Paused}
	var cons []Values
	for _, c := range q.Consumers {
		cv := Values{"type": c.Type, "batch_size": c.BatchSize, "max_retries": c.MaxRetries, "retry_delay": c.RetryDelay}
		if c.Type == "http_pull" {
			cv["visibility_timeout"] = c.VisibilityTimeout
		} else {
			cv["worker"], cv["max_wait"] = c.Worker, c.MaxWait
			if c.MaxConcurrency > 0 {
				cv["max_concurrency"] = c.MaxConcurrency
			}
		}
		if c.DeadLetterQueue != "" {
			cv["dead_letter_queue"] = RefValue{Name: c.DeadLetterQueue}
		}
		cons = append(cons, cv)
	}
	if len(cons) > 0 {
		v["consumer"] = cons
	}
	return v
}

func buildConsumer(v Values) (ConsumerSpec, error) {
	c := ConsumerSpec{Type: v.str("type"), Worker: v.str("worker")}
	c.MaxRetries, _ = v.int("max_retries")
	c.RetryDelay, _ = v.int("retry_delay")
	if ref, ok := v["dead_letter_queue"].(RefValue); ok {
		c.DeadLetterQueue = ref.Name
	}
	batch, hasBatch := v.int("batch_size")
	wait, hasWait := v.int("max_wait")
	conc, hasConc := v.int("max_concurrency")
	vis, hasVis := v.int("visibility_timeout")
	switch c.Type {
	case "http_pull":
		if c.Worker != "" || hasWait || hasConc {
			return c, fmt.Errorf("consumer: worker, max_wait and max_concurrency apply to worker consumers only; remove them from this http_pull consumer")
		}
		c.BatchSize, c.VisibilityTimeout = orDefault(batch, hasBatch, 5), orDefault(vis, hasVis, 30000)
	default:
		if c.Worker == "" {
			return c, fmt.Errorf("consumer: worker is required for a worker consumer: name the Worker script that consumes the queue, or set type = \"http_pull\"")
		}
		if hasVis {
			return c, fmt.Errorf("consumer: visibility_timeout applies to http_pull consumers only; remove it or set type = \"http_pull\"")
		}
		c.BatchSize, c.MaxWait = orDefault(batch, hasBatch, 10), orDefault(wait, hasWait, 5000)
		c.MaxConcurrency = conc
	}
	return c, nil
}

func orDefault(v int64, set bool, def int64) int64 {
	if set {
		return v
	}
	return def
}

// Observe lists every queue with one request: the list embeds the consumers.
func (k QueueKind) Observe(ctx context.Context) ([]Object, error) {
	qs, err := k.API.ListQueues(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Object, 0, len(qs))
	for _, q := range qs {
		out = append(out, liveQueue(q))
	}
	return out, nil
}

func liveQueue(q cloudflare.Queue) Object {
	spec := QueueSpec{Name: q.Name, DeliveryDelay: q.DeliveryDelay, MessageRetention: q.MessageRetention, Paused: q.DeliveryPaused, Consumers: Consumers{}}
	var priv queuePrivate
	for _, c := range q.Consumers {
		cs := ConsumerSpec{Type: c.Type, Worker: c.Script, BatchSize: c.BatchSize, MaxRetries: c.MaxRetries, RetryDelay: c.RetryDelay, DeadLetterQueue: c.DeadLetterQueue}
		if c.Type == "http_pull" {
			cs.Worker, cs.VisibilityTimeout = "", c.VisibilityTimeoutMs
		} else {
			cs.MaxWait, cs.MaxConcurrency = c.MaxWaitMs, c.MaxConcurrency
		}
		spec.Consumers.Put(cs)
		priv.setID(cs.key(), c.ID)
	}
	return Object{Key: q.Name, ID: q.ID, Spec: spec, Private: priv}
}

// Create makes the queue, sets its settings, then attaches its consumers. It never takes
// over an existing queue: a refused or lost create answer is returned as it is, and the
// engine decides (see Engine.create). With the queue made but a later step failed, it
// returns the queue's id with the error.
func (k QueueKind) Create(ctx context.Context, desired Object) (string, error) {
	want := desired.Spec.(QueueSpec)
	q, err := k.API.CreateQueue(ctx, want.Name)
	if err != nil {
		return "", err
	}
	return q.ID, k.Update(ctx, q.ID, liveQueue(q), desired)
}

// Update brings settings and consumers to the desired state: consumers that go away are
// removed first (a queue has one consumer slot), then changed ones are replaced, then new
// ones attached.
func (k QueueKind) Update(ctx context.Context, id string, live, desired Object) error {
	have, want := live.Spec.(QueueSpec), desired.Spec.(QueueSpec)
	priv, _ := live.Private.(queuePrivate)
	if have.Name != want.Name || have.DeliveryDelay != want.DeliveryDelay || have.MessageRetention != want.MessageRetention || have.Paused != want.Paused {
		err := k.updateQueue(ctx, id, have.Name, cloudflare.Queue{ID: id, Name: want.Name, DeliveryDelay: want.DeliveryDelay, MessageRetention: want.MessageRetention, DeliveryPaused: want.Paused})
		if err != nil {
			return err
		}
	}
	for _, h := range have.Consumers {
		key := h.key()
		if _, keep := want.Consumers.Get(key); !keep {
			if err := k.API.DeleteConsumer(ctx, id, priv.id(key)); err != nil {
				return err
			}
		}
	}
	for _, w := range want.Consumers {
		key := w.key()
		h, exists := have.Consumers.Get(key)
		switch {
		case exists && h == w:
		case exists:
			if err := k.API.UpdateConsumer(ctx, id, toAPIConsumer(priv.id(key), w)); err != nil {
				return err
			}
		default:
			if _, err := k.API.CreateConsumer(ctx, id, toAPIConsumer("", w)); err != nil {
				return k.consumerCreated(ctx, id, key, err)
			}
		}
	}
	return nil
}

// consumerCreated decides whether a failed consumer create actually happened (its answer
// was lost and the retry was refused): if the consumer is there now, it is not an error.
func (k QueueKind) consumerCreated(ctx context.Context, queueID, key string, createErr error) error {
	if !MayHaveApplied(createErr) {
		return createErr
	}
	qs, err := k.API.ListQueues(ctx)
	if err != nil {
		return createErr
	}
	for _, q := range qs {
		if q.ID != queueID {
			continue
		}
		if _, ok := liveQueue(q).Spec.(QueueSpec).Consumers.Get(key); ok {
			return nil
		}
	}
	return createErr
}

func toAPIConsumer(id string, c ConsumerSpec) cloudflare.Consumer {
	return cloudflare.Consumer{
		ID: id, Type: c.Type, Script: c.Worker, DeadLetterQueue: c.DeadLetterQueue,
		BatchSize: c.BatchSize, MaxRetries: c.MaxRetries, MaxWaitMs: c.MaxWait, RetryDelay: c.RetryDelay,
		MaxConcurrency: c.MaxConcurrency, VisibilityTimeoutMs: c.VisibilityTimeout,
	}
}

// Delete removes the consumers, then the queue (the API refuses to delete a queue that
// still has consumers on some accounts; doing it in this order is always accepted).
func (k QueueKind) Delete(ctx context.Context, id string, live Object) error {
	priv, _ := live.Private.(queuePrivate)
	for _, c := range priv.consumerIDs {
		if err := k.API.DeleteConsumer(ctx, id, c.id); err != nil {
			return err
		}
	}
	return k.API.DeleteQueue(ctx, id)
}

// GuardsKey: Cloudflare refuses to create (or rename to) a queue name in use
// (cloudflare.IsNameTaken), so a create needs no fresh list to take nothing over.
func (QueueKind) GuardsKey() bool { return true }
