package emulator

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"time"
)

// pullConsumer is the queue's http_pull consumer, whose settings govern pulls and retries.
func (q *queueRec) pullConsumer() *consumerRec {
	for _, c := range q.Consumers {
		if c.Type == consumerHTTPPull {
			return c
		}
	}
	return nil
}

// settle applies the clock to q: messages past the retention period are dropped, and
// expired leases count as failed attempts (retried after the consumer's retry_delay, or
// dead-lettered past max_retries). A queue without a pull consumer cannot have leases.
func (a *queuesAccount) settle(q *queueRec, now time.Time) {
	retention := time.Duration(q.Settings.MessageRetentionPeriod) * time.Second
	kept := q.Messages[:0:0]
	for _, m := range q.Messages {
		if !now.Before(m.SentAt.Add(retention)) {
			continue
		}
		if m.LeaseUntil != nil && !now.Before(*m.LeaseUntil) {
			if !a.failAttempt(q, m, nil, now) {
				continue
			}
		}
		kept = append(kept, m)
	}
	q.Messages = kept
}

// failAttempt ends m's current delivery unsuccessfully and reports whether m stays in q.
// Past the consumer's max_retries it moves to the dead letter queue as a new message
// (or is dropped without one). delay nil means the consumer's retry_delay.
func (a *queuesAccount) failAttempt(q *queueRec, m *queueMsg, delay *int, now time.Time) bool {
	st, dlq := consumerSettings{MaxRetries: 3}, "" // defaults if the consumer was deleted
	if c := q.pullConsumer(); c != nil {
		st, dlq = c.Settings, c.DeadLetterQueue
	}
	m.LeaseUntil = nil
	if m.Attempts > st.MaxRetries {
		if target := a.byName(dlq); dlq != "" && target != nil {
			dead := &queueMsg{Body: m.Body, ContentType: m.ContentType}
			target.enqueue(dead, nil, now)
		}
		return false
	}
	d := st.RetryDelay
	if delay != nil {
		d = *delay
	}
	m.VisibleAt = now.Add(time.Duration(d) * time.Second)
	return true
}

// queuesTick settles every queue when the emulator clock moves (s.mu is held).
func (s *Server) queuesTick(now time.Time) {
	for _, a := range s.st.Queues.Accounts {
		for _, q := range a.sorted() {
			a.settle(q, now)
		}
	}
}

type queuePullBody struct {
	BatchSize           *float64 `json:"batch_size"`
	VisibilityTimeoutMs *float64 `json:"visibility_timeout_ms"`
}

type queuePulledMsg struct {
	ID          string            `json:"id"`
	Body        string            `json:"body"`
	Attempts    int               `json:"attempts"`
	TimestampMs int64             `json:"timestamp_ms"`
	LeaseID     string            `json:"lease_id"`
	Metadata    map[string]string `json:"metadata"`
}

// queuePullBodyText renders a body as the pull API does: plain for text, base64 otherwise.
func queuePullBodyText(m *queueMsg) string {
	if m.ContentType == "text" {
		return string(m.Body)
	}
	return base64.StdEncoding.EncodeToString(m.Body)
}

// lookupPullQueue is lookupQueue for pull and ack, which need an http_pull consumer.
// Unknown upstream: the answer without one; we refuse with 400 (strictest).
func (s *Server) lookupPullQueue(w http.ResponseWriter, r *http.Request) (*queuesAccount, *queueRec, *consumerRec, bool) {
	a, q, ok := s.lookupQueue(w, r)
	if !ok {
		return nil, nil, nil, false
	}
	c := q.pullConsumer()
	if c == nil {
		writeError(w, http.StatusBadRequest, codeNoPullConsumer, fmt.Sprintf("queue %q has no http_pull consumer", q.Name))
		return nil, nil, nil, false
	}
	return a, q, c, true
}

// messagePull leases up to batch_size visible messages, oldest first. Short polling: an
// empty queue answers an empty list at once.
func (s *Server) messagePull(w http.ResponseWriter, r *http.Request) {
	var p queuePullBody
	if !decodeQueuesBody(w, r, &p, true) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, q, c, ok := s.lookupPullQueue(w, r)
	if !ok {
		return
	}
	n, err := queuesIntField("batch_size", p.BatchSize, c.Settings.BatchSize, 1, 100)
	if err != nil {
		writeError(w, http.StatusBadRequest, codeQueueBodyInvalid, err.Error())
		return
	}
	vt, err := queuesIntField("visibility_timeout_ms", p.VisibilityTimeoutMs, c.Settings.VisibilityTimeoutMs, 0, maxVisibilityTimeoutMs)
	if err != nil {
		writeError(w, http.StatusBadRequest, codeQueueBodyInvalid, err.Error())
		return
	}
	now := s.Now()
	a.settle(q, now)
	out := []queuePulledMsg{}
	// Unknown upstream: whether pull fails (10252 QueueDisabled) while delivery is
	// paused; we answer no messages, as a paused queue delivers nothing. Pushes still
	// succeed.
	for _, m := range q.Messages {
		if q.Settings.DeliveryPaused || len(out) == n {
			break
		}
		if m.LeaseUntil != nil || now.Before(m.VisibleAt) {
			continue
		}
		until := now.Add(time.Duration(vt) * time.Millisecond)
		m.Attempts, m.LeaseID, m.LeaseUntil = m.Attempts+1, newHexID()+newHexID(), &until
		out = append(out, queuePulledMsg{
			ID: m.ID, Body: queuePullBodyText(m), Attempts: m.Attempts, TimestampMs: m.SentAt.UnixMilli(),
			LeaseID:  m.LeaseID,
			Metadata: map[string]string{"CF-sourceMessageSource": "api", "CF-Content-Type": m.ContentType},
		})
	}
	writeResult(w, map[string]any{"message_backlog_count": len(q.Messages), "messages": out, "metadata": q.metrics()})
}

type queueAckBody struct {
	Acks []struct {
		LeaseID string `json:"lease_id"`
	} `json:"acks"`
	Retries []struct {
		LeaseID      string   `json:"lease_id"`
		DelaySeconds *float64 `json:"delay_seconds"`
	} `json:"retries"`
}

// messageAck acknowledges (removes) and retries leased messages. A lease id that
// matches nothing earns a warning, not an error. Acks after the visibility timeout are
// accepted while the message has not been leased again.
func (s *Server) messageAck(w http.ResponseWriter, r *http.Request) {
	var b queueAckBody
	if !decodeQueuesBody(w, r, &b, true) {
		return
	}
	delays := make([]*int, len(b.Retries))
	for i, rt := range b.Retries {
		if rt.DelaySeconds == nil {
			continue
		}
		d, err := queuesIntField(fmt.Sprintf("retries[%d].delay_seconds", i), rt.DelaySeconds, 0, 0, maxMessageDelaySeconds)
		if err != nil {
			writeError(w, http.StatusBadRequest, codeQueueBodyInvalid, err.Error())
			return
		}
		delays[i] = &d
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, q, _, ok := s.lookupPullQueue(w, r)
	if !ok {
		return
	}
	now := s.Now()
	a.settle(q, now)
	// The SDK (v6.10) reads warnings as a map of lease id to message; an empty object.
	warnings := map[string]string{}
	acks, retries := 0, 0
	for _, ack := range b.Acks {
		if i := q.leased(ack.LeaseID); i >= 0 {
			q.Messages = append(q.Messages[:i:i], q.Messages[i+1:]...)
			acks++
		} else {
			warnings[ack.LeaseID] = "lease not found: the message was already acknowledged, retried or expired"
		}
	}
	for j, rt := range b.Retries {
		i := q.leased(rt.LeaseID)
		if i < 0 {
			warnings[rt.LeaseID] = "lease not found: the message was already acknowledged, retried or expired"
			continue
		}
		m := q.Messages[i]
		m.LeaseID = "" // an explicit retry ends the lease for good
		if !a.failAttempt(q, m, delays[j], now) {
			q.Messages = append(q.Messages[:i:i], q.Messages[i+1:]...)
		}
		retries++
	}
	writeResult(w, map[string]any{"ackCount": acks, "retryCount": retries, "warnings": warnings})
}

// leased is the index of the message whose current or last lease is id, or -1.
func (q *queueRec) leased(id string) int {
	for i, m := range q.Messages {
		if id != "" && m.LeaseID == id {
			return i
		}
	}
	return -1
}
