package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"
)

// Queue messages: push, batch push, pull with leases, ack/retry, dead-lettering and purge
// (cloudflare-api.md §2 "Messages"). Time is the emulator clock: leases and delays are
// settled lazily on every message request and eagerly when the clock is advanced.

// Message limits (DOCS queues/platform/limits.mdx; 1 KB = 1000 B).
const (
	maxBatchMessages       = 100
	maxMessageBytes        = 128000
	maxBatchBytes          = 256000
	messageOverheadBytes   = 100 // per-message metadata counted against the limits
	maxMessageDelaySeconds = 86400
	maxVisibilityTimeoutMs = 43200000
	maxQueuesBodyBytes     = 4 << 20 // a full batch, base64 and JSON overhead included
)

type queueMsg struct {
	ID          string     `json:"id"`
	Body        []byte     `json:"body"` // text as UTF-8, json as its encoding, bytes/v8 decoded
	ContentType string     `json:"content_type"`
	SentAt      time.Time  `json:"sent_at"`
	VisibleAt   time.Time  `json:"visible_at"`
	Attempts    int        `json:"attempts"`              // deliveries so far
	LeaseID     string     `json:"lease_id,omitempty"`    // last lease; kept for late acks
	LeaseUntil  *time.Time `json:"lease_until,omitempty"` // set while leased
}

func (m *queueMsg) size() int { return len(m.Body) + messageOverheadBytes }

func (s *Server) routesQueueMessages() {
	const base = "/accounts/{account_id}/queues/{queue_id}"
	s.handle("POST "+base+"/messages", s.messagePush)
	s.handle("POST "+base+"/messages/batch", s.messageBatch)
	s.handle("POST "+base+"/messages/pull", s.messagePull)
	s.handle("POST "+base+"/messages/ack", s.messageAck)
	s.handle("POST "+base+"/purge", s.queuePurge)
	s.handle("GET "+base+"/purge", s.queuePurgeStatus)
}

// decodeQueuesBody reads a JSON request body into v: 10208 when it is not JSON, 10207
// when it is JSON of the wrong shape. An empty body is {} when emptyOK.
func decodeQueuesBody(w http.ResponseWriter, r *http.Request, v any, emptyOK bool) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxQueuesBodyBytes+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, codeQueueBodyMalformed, "cannot read request body: "+err.Error())
		return false
	}
	if len(b) > maxQueuesBodyBytes {
		writeError(w, http.StatusRequestEntityTooLarge, codeBatchSizeOutOfBounds, "request body too large")
		return false
	}
	if len(bytes.TrimSpace(b)) == 0 {
		if emptyOK {
			return true
		}
		writeError(w, http.StatusBadRequest, codeQueueBodyMalformed, "JSONRequestBodyMalformed: the request body is empty")
		return false
	}
	if err := json.Unmarshal(b, v); err != nil {
		code := codeQueueBodyMalformed
		if json.Valid(b) {
			code = codeQueueBodyInvalid
		}
		writeError(w, http.StatusBadRequest, code, "invalid JSON request body: "+err.Error())
		return false
	}
	return true
}

// queuesIntField validates an optional whole-number field: absent (nil) yields def.
func queuesIntField(name string, v *float64, def, min, max int) (int, error) {
	if v == nil {
		return def, nil
	}
	if *v != math.Trunc(*v) || *v < float64(min) || *v > float64(max) {
		return 0, fmt.Errorf("%s must be a whole number between %d and %d, got %v", name, min, max, *v)
	}
	return int(*v), nil
}

// queuePushBody is one message: {body, content_type, delay_seconds?}.
type queuePushBody struct {
	Body         json.RawMessage `json:"body"`
	ContentType  string          `json:"content_type"`
	DelaySeconds *float64        `json:"delay_seconds"`
}

// message validates p and builds the message (without id and times) and its delay
// (nil when it has none of its own). It returns the code of a 400 on invalid input.
func (p *queuePushBody) message() (*queueMsg, *int, int, error) {
	if len(p.Body) == 0 {
		return nil, nil, codeQueueBodyInvalid, errors.New("body is required")
	}
	m := &queueMsg{ContentType: p.ContentType}
	switch p.ContentType {
	case "text":
		var s string
		if err := json.Unmarshal(p.Body, &s); err != nil {
			return nil, nil, codeQueueBodyInvalid, errors.New("a text message body must be a JSON string")
		}
		m.Body = []byte(s)
	case "json":
		var buf bytes.Buffer
		if err := json.Compact(&buf, p.Body); err != nil {
			return nil, nil, codeQueueBodyInvalid, fmt.Errorf("json message body: %w", err)
		}
		m.Body = buf.Bytes()
	case "bytes", "v8":
		var s string
		if err := json.Unmarshal(p.Body, &s); err != nil {
			return nil, nil, codeQueueBodyInvalid, fmt.Errorf("a %s message body must be a base64 string", p.ContentType)
		}
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, nil, codeQueueBodyInvalid, fmt.Errorf("a %s message body must be a base64 string: %w", p.ContentType, err)
		}
		m.Body = raw
	default:
		// Unknown upstream: the REST default content type; we require one (strictest).
		return nil, nil, codeMessageMetaInvalid, fmt.Errorf("MessageMetadataInvalid: content_type must be text, bytes, json or v8, got %q", p.ContentType)
	}
	if m.size() > maxMessageBytes {
		return nil, nil, codeMessageSizeOutOfBnds, fmt.Errorf("MessageSizeOutOfBounds: message is %d bytes with metadata, the limit is %d", m.size(), maxMessageBytes)
	}
	if p.DelaySeconds == nil {
		return m, nil, 0, nil
	}
	d, err := queuesIntField("delay_seconds", p.DelaySeconds, 0, 0, maxMessageDelaySeconds)
	if err != nil {
		return nil, nil, codeMessageMetaInvalid, fmt.Errorf("MessageMetadataInvalid: %w", err)
	}
	return m, &d, 0, nil
}

// enqueue adds m, visible after delay (nil: the queue's delivery_delay).
func (q *queueRec) enqueue(m *queueMsg, delay *int, now time.Time) {
	d := q.Settings.DeliveryDelay
	if delay != nil {
		d = *delay
	}
	m.ID, m.SentAt, m.VisibleAt = newHexID(), now, now.Add(time.Duration(d)*time.Second)
	q.Messages = append(q.Messages, m)
}

func (s *Server) messagePush(w http.ResponseWriter, r *http.Request) {
	var p queuePushBody
	if !decodeQueuesBody(w, r, &p, false) {
		return
	}
	m, delay, code, err := p.message()
	if err != nil {
		writeError(w, http.StatusBadRequest, code, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, q, ok := s.lookupQueue(w, r)
	if !ok {
		return
	}
	now := s.Now()
	a.settle(q, now)
	q.enqueue(m, delay, now)
	writeResult(w, map[string]any{"metadata": q.metrics()})
}

type queueBatchBody struct {
	Messages     []queuePushBody `json:"messages"`
	DelaySeconds *float64        `json:"delay_seconds"`
}

func (s *Server) messageBatch(w http.ResponseWriter, r *http.Request) {
	var b queueBatchBody
	if !decodeQueuesBody(w, r, &b, false) {
		return
	}
	if b.Messages == nil {
		writeError(w, http.StatusBadRequest, codeQueueBodyInvalid, "messages is required")
		return
	}
	if len(b.Messages) > maxBatchMessages {
		writeError(w, http.StatusBadRequest, codeBatchCountOutOfBnds, fmt.Sprintf("BatchCountOutOfBounds: %d messages, a batch holds at most %d", len(b.Messages), maxBatchMessages))
		return
	}
	batchDelay, err := queuesIntField("delay_seconds", b.DelaySeconds, 0, 0, maxMessageDelaySeconds)
	if err != nil {
		writeError(w, http.StatusBadRequest, codeBatchDelayInvalid, "BatchDelayInvalid: "+err.Error())
		return
	}
	msgs, delays, total := make([]*queueMsg, len(b.Messages)), make([]*int, len(b.Messages)), 0
	for i := range b.Messages {
		m, d, code, err := b.Messages[i].message()
		if err != nil {
			writeError(w, http.StatusBadRequest, code, fmt.Sprintf("messages[%d]: %v", i, err))
			return
		}
		if d == nil && b.DelaySeconds != nil {
			d = &batchDelay // a message's own delay wins over the batch's
		}
		msgs[i], delays[i], total = m, d, total+m.size()
	}
	if total > maxBatchBytes {
		writeError(w, http.StatusBadRequest, codeBatchSizeOutOfBounds, fmt.Sprintf("BatchSizeOutOfBounds: batch is %d bytes with metadata, the limit is %d", total, maxBatchBytes))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, q, ok := s.lookupQueue(w, r)
	if !ok {
		return
	}
	now := s.Now()
	a.settle(q, now)
	for i, m := range msgs {
		q.enqueue(m, delays[i], now)
	}
	writeResult(w, map[string]any{"metadata": q.metrics()})
}

// metrics is the best-effort backlog summary the SDK reads as metadata.metrics.
func (q *queueRec) metrics() map[string]any {
	var bytes, oldest int64
	for _, m := range q.Messages {
		bytes += int64(len(m.Body))
		if ms := m.SentAt.UnixMilli(); oldest == 0 || ms < oldest {
			oldest = ms
		}
	}
	return map[string]any{"metrics": map[string]any{
		"backlog_count": len(q.Messages), "backlog_bytes": bytes, "oldest_message_timestamp_ms": oldest,
	}}
}

type queuePurgeBody struct {
	DeleteMessagesPermanently bool `json:"delete_messages_permanently"`
}

// queuePurge deletes every message at once; the purge is complete when it answers.
func (s *Server) queuePurge(w http.ResponseWriter, r *http.Request) {
	var b queuePurgeBody
	if !decodeQueuesBody(w, r, &b, true) {
		return
	}
	if !b.DeleteMessagesPermanently {
		writeError(w, http.StatusBadRequest, codeQueueBodyInvalid, "delete_messages_permanently must be true to purge a queue")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, q, ok := s.lookupQueue(w, r)
	if !ok {
		return
	}
	now := s.Now()
	q.Messages, q.PurgedAt = nil, &now
	writeResult(w, q.view())
}

// queuePurgeStatus reports the last purge. Unknown upstream: the answer for a queue
// never purged; we answer started_at null and completed false. completed is a boolean
// as documented (the v6.10 SDK types it string and reads "true"/"false").
func (s *Server) queuePurgeStatus(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, q, ok := s.lookupQueue(w, r)
	if !ok {
		return
	}
	if q.PurgedAt == nil {
		writeResult(w, map[string]any{"started_at": nil, "completed": false})
		return
	}
	writeResult(w, map[string]any{"started_at": timestamp(*q.PurgedAt), "completed": true})
}
