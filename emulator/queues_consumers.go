package emulator

import (
	"fmt"
	"net/http"
	"time"
)

// Consumers.

type consumerRec struct {
	ID              string           `json:"id"`
	Type            string           `json:"type"` // "worker" or "http_pull"
	Script          string           `json:"script,omitempty"`
	DeadLetterQueue string           `json:"dead_letter_queue,omitempty"` // a queue name
	CreatedOn       time.Time        `json:"created_on"`
	Settings        consumerSettings `json:"settings"`
}

// consumerSettings holds both kinds' settings; view renders those of c.Type.
type consumerSettings struct {
	BatchSize           int  `json:"batch_size"`
	MaxRetries          int  `json:"max_retries"`
	RetryDelay          int  `json:"retry_delay"`
	MaxWaitTimeMs       int  `json:"max_wait_time_ms,omitempty"`
	MaxConcurrency      *int `json:"max_concurrency,omitempty"` // nil: platform maximum
	VisibilityTimeoutMs int  `json:"visibility_timeout_ms,omitempty"`
}

// consumerJSON is the API's Consumer. Responses carry the Worker under both names:
// cloudflare-go v6.10 reads script_name, older SDKs and the TF provider read script.
type consumerJSON struct {
	ConsumerID      string `json:"consumer_id"`
	QueueID         string `json:"queue_id"`
	QueueName       string `json:"queue_name"`
	CreatedOn       string `json:"created_on"`
	Type            string `json:"type"`
	Script          string `json:"script,omitempty"`
	ScriptName      string `json:"script_name,omitempty"`
	DeadLetterQueue string `json:"dead_letter_queue"` // "" when none, as the SDK documents
	Settings        any    `json:"settings"`
}

type workerConsumerSettingsJSON struct {
	BatchSize      int  `json:"batch_size"`
	MaxRetries     int  `json:"max_retries"`
	MaxWaitTimeMs  int  `json:"max_wait_time_ms"`
	RetryDelay     int  `json:"retry_delay"`
	MaxConcurrency *int `json:"max_concurrency,omitempty"`
}

type pullConsumerSettingsJSON struct {
	BatchSize           int `json:"batch_size"`
	MaxRetries          int `json:"max_retries"`
	RetryDelay          int `json:"retry_delay"`
	VisibilityTimeoutMs int `json:"visibility_timeout_ms"`
}

func (c *consumerRec) view(q *queueRec) consumerJSON {
	v := consumerJSON{
		ConsumerID: c.ID, QueueID: q.ID, QueueName: q.Name, CreatedOn: timestamp(c.CreatedOn),
		Type: c.Type, Script: c.Script, ScriptName: c.Script, DeadLetterQueue: c.DeadLetterQueue,
	}
	st := c.Settings
	if c.Type == consumerWorker {
		v.Settings = workerConsumerSettingsJSON{st.BatchSize, st.MaxRetries, st.MaxWaitTimeMs, st.RetryDelay, st.MaxConcurrency}
	} else {
		v.Settings = pullConsumerSettingsJSON{st.BatchSize, st.MaxRetries, st.RetryDelay, st.VisibilityTimeoutMs}
	}
	return v
}

const (
	consumerWorker   = "worker"
	consumerHTTPPull = "http_pull"
)

func (s *Server) routesQueueConsumers() {
	const base = "/accounts/{account_id}/queues/{queue_id}/consumers"
	s.handle("POST "+base, s.consumerCreate)
	s.handle("GET "+base, s.consumerList)
	s.handle("GET "+base+"/{consumer_id}", s.consumerGet)
	s.handle("PUT "+base+"/{consumer_id}", s.consumerReplace)
	s.handle("DELETE "+base+"/{consumer_id}", s.consumerDelete)
}

// consumerBody is a create or replace request. Requests name the Worker script_name;
// older clients send script, which we accept too.
type consumerBody struct {
	Type            string                `json:"type"`
	ScriptName      string                `json:"script_name"`
	Script          string                `json:"script"`
	DeadLetterQueue string                `json:"dead_letter_queue"`
	Settings        *consumerSettingsBody `json:"settings"`
}

type consumerSettingsBody struct {
	BatchSize           *float64 `json:"batch_size"`
	MaxRetries          *float64 `json:"max_retries"`
	RetryDelay          *float64 `json:"retry_delay"`
	MaxWaitTimeMs       *float64 `json:"max_wait_time_ms"`
	MaxConcurrency      *float64 `json:"max_concurrency"`
	VisibilityTimeoutMs *float64 `json:"visibility_timeout_ms"`
}

// consumer validates b as a consumer of q (replacing self, nil on create) and builds it.
// It returns the error code and message of a 400 on invalid input.
func (b *consumerBody) consumer(a *queuesAccount, q *queueRec, self *consumerRec) (*consumerRec, int, error) {
	script := b.ScriptName
	if script == "" {
		script = b.Script
	} else if b.Script != "" && b.Script != script {
		return nil, codeQueueBodyInvalid, fmt.Errorf("script_name %q and script %q disagree", b.ScriptName, b.Script)
	}
	c := &consumerRec{Type: b.Type, Script: script, DeadLetterQueue: b.DeadLetterQueue}
	var err error
	switch b.Type {
	case consumerWorker:
		// Whether the script exists is checked by consumerScriptExists.
		if script == "" {
			return nil, codeQueueBodyInvalid, fmt.Errorf("script_name is required for a worker consumer")
		}
		c.Settings, err = b.Settings.worker()
	case consumerHTTPPull:
		// Unknown upstream: whether a script is ignored for http_pull; we refuse it (strictest).
		if script != "" {
			return nil, codeQueueBodyInvalid, fmt.Errorf("script_name must not be set for an http_pull consumer")
		}
		c.Settings, err = b.Settings.pull()
	default:
		return nil, codeQueueBodyInvalid, fmt.Errorf("type must be %q or %q, got %q", consumerWorker, consumerHTTPPull, b.Type)
	}
	if err != nil {
		return nil, codeQueueBodyInvalid, err
	}
	if err := checkQueueDLQ(a, q, c.DeadLetterQueue); err != nil {
		return nil, codeQueueBodyInvalid, err
	}
	// Unknown upstream: several consumers per queue are documented as possibly preview.
	// A queue gets at most one consumer of each type (strictest plausible): two push
	// consumers would compete for one Worker, and pull names no consumer to settle by.
	for _, other := range q.Consumers {
		if other != self && other.Type == c.Type {
			return nil, codeQueueConflict, fmt.Errorf("queue %q already has a %s consumer (%s)", q.Name, c.Type, other.ID)
		}
	}
	return c, 0, nil
}

// consumerScriptExists answers 400 (code 10007, workers.api.error.script_not_found) and
// returns false when c is a worker consumer whose script is not uploaded, under
// Options.RequireConsumerScripts. Unknown upstream: Cloudflare's answer is not
// documented; refusing is the strictest plausible behaviour (a consumer of no Worker
// delivers nowhere), and 10007 is the code the Workers API gives a missing script. The
// status is 400, not 404: the queue in the path exists, the body names what is missing.
// The caller holds s.mu.
func (s *Server) consumerScriptExists(w http.ResponseWriter, r *http.Request, c *consumerRec) bool {
	if !s.opts.RequireConsumerScripts || c.Type != consumerWorker {
		return true
	}
	if s.st.Workers.Accounts[r.PathValue("account_id")][c.Script] != nil {
		return true
	}
	writeError(w, http.StatusBadRequest, workersCodeNotFound,
		fmt.Sprintf("%s: Worker %q does not exist; upload it before making it a queue consumer", workersMsgNotFound, c.Script))
	return false
}

// checkQueueDLQ requires the dead letter queue, when set, to be another queue of the account.
// Unknown upstream: wrangler creates a missing DLQ, the REST API may not; we refuse
// (strictest).
func checkQueueDLQ(a *queuesAccount, q *queueRec, dlq string) error {
	switch {
	case dlq == "":
		return nil
	case dlq == q.Name:
		return fmt.Errorf("dead_letter_queue %q cannot be the consumer's own queue", dlq)
	case a.byName(dlq) == nil:
		return fmt.Errorf("dead_letter_queue %q does not exist in this account", dlq)
	}
	return nil
}

func (b *consumerSettingsBody) worker() (consumerSettings, error) {
	if b == nil {
		b = &consumerSettingsBody{}
	}
	if b.VisibilityTimeoutMs != nil {
		return consumerSettings{}, fmt.Errorf("settings.visibility_timeout_ms applies to http_pull consumers only")
	}
	st := consumerSettings{}
	var err error
	fields := []struct {
		name          string
		v             *float64
		dst           *int
		def, min, max int
	}{
		{"settings.batch_size", b.BatchSize, &st.BatchSize, 10, 1, 100},
		{"settings.max_retries", b.MaxRetries, &st.MaxRetries, 3, 0, 100},
		{"settings.max_wait_time_ms", b.MaxWaitTimeMs, &st.MaxWaitTimeMs, 5000, 0, 60000},
		{"settings.retry_delay", b.RetryDelay, &st.RetryDelay, 0, 0, maxMessageDelaySeconds},
	}
	for _, f := range fields {
		if *f.dst, err = queuesIntField(f.name, f.v, f.def, f.min, f.max); err != nil {
			return st, err
		}
	}
	if b.MaxConcurrency != nil { // null or absent: the platform maximum
		n, err := queuesIntField("settings.max_concurrency", b.MaxConcurrency, 0, 1, 250)
		if err != nil {
			return st, err
		}
		st.MaxConcurrency = &n
	}
	return st, nil
}

func (b *consumerSettingsBody) pull() (consumerSettings, error) {
	if b == nil {
		b = &consumerSettingsBody{}
	}
	// Unknown upstream: push-only settings on a pull consumer; we refuse (strictest).
	if b.MaxWaitTimeMs != nil || b.MaxConcurrency != nil {
		return consumerSettings{}, fmt.Errorf("settings.max_wait_time_ms and settings.max_concurrency apply to worker consumers only")
	}
	st := consumerSettings{}
	var err error
	if st.BatchSize, err = queuesIntField("settings.batch_size", b.BatchSize, 5, 1, 100); err != nil {
		return st, err
	}
	if st.MaxRetries, err = queuesIntField("settings.max_retries", b.MaxRetries, 3, 0, 100); err != nil {
		return st, err
	}
	if st.RetryDelay, err = queuesIntField("settings.retry_delay", b.RetryDelay, 0, 0, maxMessageDelaySeconds); err != nil {
		return st, err
	}
	st.VisibilityTimeoutMs, err = queuesIntField("settings.visibility_timeout_ms", b.VisibilityTimeoutMs, 30000, 0, maxVisibilityTimeoutMs)
	return st, err
}

func (s *Server) consumerCreate(w http.ResponseWriter, r *http.Request) {
	var b consumerBody
	if !decodeQueuesBody(w, r, &b, false) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, q, ok := s.lookupQueue(w, r)
	if !ok {
		return
	}
	c, code, err := b.consumer(a, q, nil)
	if err != nil {
		writeError(w, http.StatusBadRequest, code, err.Error())
		return
	}
	if !s.consumerScriptExists(w, r, c) {
		return
	}
	c.ID, c.CreatedOn = newHexID(), s.Now()
	q.Consumers = append(q.Consumers, c)
	writeResult(w, c.view(q))
}

func (s *Server) consumerList(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, q, ok := s.lookupQueue(w, r); ok {
		v := q.view()
		n := len(v.Consumers)
		writeResultInfo(w, v.Consumers, resultInfo{"page": 1, "per_page": n, "count": n, "total_count": n, "total_pages": 1})
	}
}

// lookupConsumer resolves {consumer_id} on top of lookupQueue, answering errors itself.
// Unknown upstream: the code for a missing consumer; we choose 11005 with HTTP 404.
func (s *Server) lookupConsumer(w http.ResponseWriter, r *http.Request) (*queuesAccount, *queueRec, int, bool) {
	a, q, ok := s.lookupQueue(w, r)
	if !ok {
		return nil, nil, 0, false
	}
	id := r.PathValue("consumer_id")
	for i, c := range q.Consumers {
		if c.ID == id {
			return a, q, i, true
		}
	}
	writeError(w, http.StatusNotFound, codeConsumerNotFound, fmt.Sprintf("consumer not found: %q on queue %q", id, q.Name))
	return nil, nil, 0, false
}

func (s *Server) consumerGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, q, i, ok := s.lookupConsumer(w, r); ok {
		writeResult(w, q.Consumers[i].view(q))
	}
}

// consumerReplace is PUT: the body replaces the consumer (omitted settings reset to
// defaults); id and created_on stay. Unknown upstream: the SDK documents PUT as
// "updates or creates", but ids are server-assigned; an unknown id is 404 (strictest).
func (s *Server) consumerReplace(w http.ResponseWriter, r *http.Request) {
	var b consumerBody
	if !decodeQueuesBody(w, r, &b, false) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, q, i, ok := s.lookupConsumer(w, r)
	if !ok {
		return
	}
	old := q.Consumers[i]
	c, code, err := b.consumer(a, q, old)
	if err != nil {
		writeError(w, http.StatusBadRequest, code, err.Error())
		return
	}
	if !s.consumerScriptExists(w, r, c) {
		return
	}
	c.ID, c.CreatedOn = old.ID, old.CreatedOn
	q.Consumers[i] = c
	writeResult(w, c.view(q))
}

func (s *Server) consumerDelete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, q, i, ok := s.lookupConsumer(w, r); ok {
		q.Consumers = append(q.Consumers[:i:i], q.Consumers[i+1:]...)
		writeResult(w, nil)
	}
}
