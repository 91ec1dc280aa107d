package emulator

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"time"
)

// The Queues family (cloudflare-api.md §2, cloudflare-go v6.10 queues): queues and their
// consumers live here and in queues_consumers.go; message push and purge in
// queues_messages.go; pull, leases and dead-lettering in queues_pull.go.

// Documented Queues error codes (DOCS queues/reference/error-codes.mdx).
const (
	codeQueueNotFound        = 10104
	codeQueueIDMalformed     = 10107
	codeMessageMetaInvalid   = 10203
	codeMessageSizeOutOfBnds = 10204
	codeBatchSizeOutOfBounds = 10205
	codeBatchCountOutOfBnds  = 10206
	codeBatchDelayInvalid    = 10202
	codeQueueBodyInvalid     = 10207
	codeQueueBodyMalformed   = 10208
)

// Unknown upstream: Cloudflare documents no codes for these conditions; we choose codes
// outside the documented 10xxx Queues range so that no client mistakes them for one.
const (
	codeQueueConflict    = 11001 // a second consumer of one type; a DLQ in use deleted or renamed
	codeQueueLimit       = 11003 // 10,000 queues per account reached
	codeNoPullConsumer   = 11004 // pull/ack on a queue without an http_pull consumer
	codeConsumerNotFound = 11005
	codeQueueNameTaken   = 11009
)

const maxQueuesPerAccount = 10000

// Queue settings bounds and defaults (DOCS configure-queues.mdx).
const (
	defaultRetentionSeconds = 345600
	minRetentionSeconds     = 60
	maxRetentionSeconds     = 1209600
	maxDeliveryDelaySeconds = 43200
)

// queuesState is the Queues family's part of the store, by account id.
type queuesState struct {
	Accounts map[string]*queuesAccount `json:"accounts"`
}

type queuesAccount struct {
	Queues map[string]*queueRec `json:"queues"` // by queue id
}

type queueRec struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	CreatedOn  time.Time      `json:"created_on"`
	ModifiedOn time.Time      `json:"modified_on"`
	Settings   queueSettings  `json:"settings"`
	Consumers  []*consumerRec `json:"consumers"` // in creation order
	Messages   []*queueMsg    `json:"messages"`  // in enqueue order
	PurgedAt   *time.Time     `json:"purged_at,omitempty"`
}

// queueSettings is stored and rendered as is (the API's settings object).
type queueSettings struct {
	DeliveryDelay          int  `json:"delivery_delay"`
	MessageRetentionPeriod int  `json:"message_retention_period"`
	DeliveryPaused         bool `json:"delivery_paused"`
}

func (st *queuesState) init() {
	if st.Accounts == nil {
		st.Accounts = map[string]*queuesAccount{}
	}
	for _, a := range st.Accounts {
		if a.Queues == nil {
			a.Queues = map[string]*queueRec{}
		}
	}
}

// account returns the account's queues, creating the (empty) entry on first use.
func (st *queuesState) account(id string) *queuesAccount {
	a, ok := st.Accounts[id]
	if !ok {
		a = &queuesAccount{Queues: map[string]*queueRec{}}
		st.Accounts[id] = a
	}
	return a
}

func (a *queuesAccount) byName(name string) *queueRec {
	for _, q := range a.Queues {
		if q.Name == name {
			return q
		}
	}
	return nil
}

// sorted lists the account's queues oldest first (ties by name), a stable order.
func (a *queuesAccount) sorted() []*queueRec {
	qs := make([]*queueRec, 0, len(a.Queues))
	for _, q := range a.Queues {
		qs = append(qs, q)
	}
	sort.Slice(qs, func(i, j int) bool {
		if !qs[i].CreatedOn.Equal(qs[j].CreatedOn) {
			return qs[i].CreatedOn.Before(qs[j].CreatedOn)
		}
		return qs[i].Name < qs[j].Name
	})
	return qs
}

// dlqUser returns a consumer (and its queue) whose dead_letter_queue is name, if any.
func (a *queuesAccount) dlqUser(name string) (*queueRec, *consumerRec) {
	for _, q := range a.sorted() {
		for _, c := range q.Consumers {
			if c.DeadLetterQueue == name {
				return q, c
			}
		}
	}
	return nil, nil
}

func (s *Server) routesQueues() {
	const base = "/accounts/{account_id}/queues"
	const one = base + "/{queue_id}"
	s.handle("POST "+base, s.queueCreate)
	s.handle("GET "+base, s.queueList)
	s.handle("GET "+one, s.queueGet)
	s.handle("PUT "+one, s.queueWrite(true))
	s.handle("PATCH "+one, s.queueWrite(false))
	s.handle("DELETE "+one, s.queueDelete)
	s.routesQueueConsumers()
	s.routesQueueMessages()
	s.onTick(s.queuesTick)
}

// queueJSON is the API's Queue object. Consumers are embedded in the same shape the
// consumer endpoints answer, so one list call observes a whole account.
type queueJSON struct {
	QueueID             string         `json:"queue_id"`
	QueueName           string         `json:"queue_name"`
	CreatedOn           string         `json:"created_on"`
	ModifiedOn          string         `json:"modified_on"`
	Producers           []any          `json:"producers"`
	ProducersTotalCount int            `json:"producers_total_count"`
	Consumers           []consumerJSON `json:"consumers"`
	ConsumersTotalCount int            `json:"consumers_total_count"`
	Settings            queueSettings  `json:"settings"`
}

// view renders the queue. Producers are Worker bindings owned by the Workers family;
// the Queues store does not track them, so the list is always empty here.
func (q *queueRec) view() queueJSON {
	cs := make([]consumerJSON, 0, len(q.Consumers))
	for _, c := range q.Consumers {
		cs = append(cs, c.view(q))
	}
	return queueJSON{
		QueueID: q.ID, QueueName: q.Name,
		CreatedOn: timestamp(q.CreatedOn), ModifiedOn: timestamp(q.ModifiedOn),
		Producers: []any{}, Consumers: cs, ConsumersTotalCount: len(cs),
		Settings: q.Settings,
	}
}

// Cloudflare's docs (queues/get-started) say a queue name is 1–63 letters, digits and
// hyphens, starting and ending with a letter or digit; that is what the API is held to
// here (its own check is not documented: the documented rule is the strictest plausible).
var queueNameRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

var queueIDRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

type queueBody struct {
	QueueName *string            `json:"queue_name"`
	Settings  *queueSettingsBody `json:"settings"`
}

type queueSettingsBody struct {
	DeliveryDelay          *float64 `json:"delivery_delay"`
	MessageRetentionPeriod *float64 `json:"message_retention_period"`
	DeliveryPaused         *bool    `json:"delivery_paused"`
}

// apply merges b into cur (absent fields keep cur) and validates the result.
func (b *queueSettingsBody) apply(cur queueSettings) (queueSettings, error) {
	if b == nil {
		return cur, nil
	}
	var err error
	if cur.DeliveryDelay, err = queuesIntField("settings.delivery_delay", b.DeliveryDelay, cur.DeliveryDelay, 0, maxDeliveryDelaySeconds); err != nil {
		return cur, err
	}
	if cur.MessageRetentionPeriod, err = queuesIntField("settings.message_retention_period", b.MessageRetentionPeriod, cur.MessageRetentionPeriod, minRetentionSeconds, maxRetentionSeconds); err != nil {
		return cur, err
	}
	if b.DeliveryPaused != nil {
		cur.DeliveryPaused = *b.DeliveryPaused
	}
	return cur, nil
}

func defaultQueueSettings() queueSettings {
	return queueSettings{MessageRetentionPeriod: defaultRetentionSeconds}
}

func (s *Server) queueCreate(w http.ResponseWriter, r *http.Request) {
	var b queueBody
	if !decodeQueuesBody(w, r, &b, false) {
		return
	}
	if b.QueueName == nil {
		writeError(w, http.StatusBadRequest, codeQueueBodyInvalid, "queue_name is required")
		return
	}
	settings, err := b.Settings.apply(defaultQueueSettings())
	if err != nil {
		writeError(w, http.StatusBadRequest, codeQueueBodyInvalid, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.st.Queues.account(r.PathValue("account_id"))
	if len(a.Queues) >= maxQueuesPerAccount {
		writeError(w, http.StatusBadRequest, codeQueueLimit, fmt.Sprintf("the account has reached its limit of %d queues", maxQueuesPerAccount))
		return
	}
	if !checkQueueName(w, a, *b.QueueName, nil) {
		return
	}
	now := s.Now()
	q := &queueRec{ID: newHexID(), Name: *b.QueueName, CreatedOn: now, ModifiedOn: now, Settings: settings}
	a.Queues[q.ID] = q
	writeResult(w, q.view())
}

// checkQueueName validates a new name for self (nil on create), answering 400 itself.
func checkQueueName(w http.ResponseWriter, a *queuesAccount, name string, self *queueRec) bool {
	if !queueNameRe.MatchString(name) {
		writeError(w, http.StatusBadRequest, codeQueueBodyInvalid, fmt.Sprintf("invalid queue_name %q: use 1-63 letters, digits, '-' or '_', starting with a letter or digit", name))
		return false
	}
	if other := a.byName(name); other != nil && other != self {
		writeError(w, http.StatusBadRequest, codeQueueNameTaken, "queue name already taken")
		return false
	}
	if self != nil && self.Name != name {
		// Unknown upstream: consumers name their DLQ by queue name; renaming a queue in
		// use as a DLQ would silently break them, so we refuse (strictest).
		if uq, uc := a.dlqUser(self.Name); uc != nil {
			writeError(w, http.StatusBadRequest, codeQueueConflict, fmt.Sprintf("queue %q cannot be renamed: it is the dead_letter_queue of consumer %s on queue %q", self.Name, uc.ID, uq.Name))
			return false
		}
	}
	return true
}

func (s *Server) queueList(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// page and per_page are accepted and ignored: the SDK treats this list as a single
	// page and never asks for page 2.
	out := []queueJSON{}
	if a, ok := s.st.Queues.Accounts[r.PathValue("account_id")]; ok {
		for _, q := range a.sorted() {
			out = append(out, q.view())
		}
	}
	n := len(out)
	writeResultInfo(w, out, resultInfo{"page": 1, "per_page": n, "count": n, "total_count": n, "total_pages": 1})
}

// lookupQueue resolves {account_id}/{queue_id}, answering 400 (10107) or 404 (10104)
// itself. The caller holds s.mu.
func (s *Server) lookupQueue(w http.ResponseWriter, r *http.Request) (*queuesAccount, *queueRec, bool) {
	id := r.PathValue("queue_id")
	if !queueIDRe.MatchString(id) {
		writeError(w, http.StatusBadRequest, codeQueueIDMalformed, fmt.Sprintf("QueueIDMalformed: queue id %q is not a 32-character hex identifier", id))
		return nil, nil, false
	}
	a, ok := s.st.Queues.Accounts[r.PathValue("account_id")]
	if ok {
		if q, ok := a.Queues[id]; ok {
			return a, q, true
		}
	}
	writeError(w, http.StatusNotFound, codeQueueNotFound, fmt.Sprintf("QueueNotFound: queue %s does not exist", id))
	return nil, nil, false
}

func (s *Server) queueGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, q, ok := s.lookupQueue(w, r); ok {
		writeResult(w, q.view())
	}
}

// queueWrite serves PUT (replace: queue_name required, omitted settings fields reset to
// their defaults) and PATCH (partial: omitted fields keep their values).
func (s *Server) queueWrite(replace bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b queueBody
		if !decodeQueuesBody(w, r, &b, false) {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		a, q, ok := s.lookupQueue(w, r)
		if !ok {
			return
		}
		name, base := q.Name, q.Settings
		if replace {
			if b.QueueName == nil {
				writeError(w, http.StatusBadRequest, codeQueueBodyInvalid, "queue_name is required: PUT replaces the whole queue configuration")
				return
			}
			base = defaultQueueSettings()
		}
		if b.QueueName != nil {
			name = *b.QueueName
		}
		settings, err := b.Settings.apply(base)
		if err != nil {
			writeError(w, http.StatusBadRequest, codeQueueBodyInvalid, err.Error())
			return
		}
		if !checkQueueName(w, a, name, q) {
			return
		}
		q.Name, q.Settings, q.ModifiedOn = name, settings, s.Now()
		writeResult(w, q.view())
	}
}

// queueDelete removes a queue with its consumers and messages. The answer is the
// envelope with result null (the SDK reads no result).
func (s *Server) queueDelete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, q, ok := s.lookupQueue(w, r)
	if !ok {
		return
	}
	// Unknown upstream: whether Cloudflare refuses to delete a queue that a consumer uses
	// as its dead letter queue; we refuse (strictest) and name the consumer.
	if uq, uc := a.dlqUser(q.Name); uc != nil {
		writeError(w, http.StatusBadRequest, codeQueueConflict, fmt.Sprintf("queue %q is the dead_letter_queue of consumer %s on queue %q; change that consumer first", q.Name, uc.ID, uq.Name))
		return
	}
	delete(a.Queues, q.ID)
	writeResult(w, nil)
}
