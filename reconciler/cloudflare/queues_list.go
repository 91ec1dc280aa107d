package cloudflare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/queues"

	"github.com/monotask/flareops/internal/jsonstream"
)

// The queue list is the one answer that grows with the account: every queue with its
// consumers, in one page. The SDK's typed decoding keeps the raw JSON of every field
// beside its value (gjson results, field metadata) and buffers the body twice, which for
// 10,000 queues is tens of megabytes live at once, for fields flareops never reads. So
// ListQueues asks the SDK for the answer itself (option.WithResponseBodyInto: the request,
// its authentication and the SDK's handling of error answers stay the SDK's) and decodes,
// as a stream, only the fields below, with the SDK's JSON names.

type answerError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type queueListing struct {
	QueueID   string `json:"queue_id"`
	QueueName string `json:"queue_name"`
	Settings  struct {
		DeliveryDelay          float64 `json:"delivery_delay"`
		DeliveryPaused         bool    `json:"delivery_paused"`
		MessageRetentionPeriod float64 `json:"message_retention_period"`
	} `json:"settings"`
	Consumers []consumerListing `json:"consumers"`
}

type consumerListing struct {
	ConsumerID      string `json:"consumer_id"`
	Type            string `json:"type"`
	ScriptName      string `json:"script_name"`
	Script          string `json:"script"` // older answers; the SDK reads script_name
	DeadLetterQueue string `json:"dead_letter_queue"`
	Settings        struct {
		BatchSize           float64 `json:"batch_size"`
		MaxRetries          float64 `json:"max_retries"`
		RetryDelay          float64 `json:"retry_delay"`
		MaxWaitTimeMs       float64 `json:"max_wait_time_ms"`
		MaxConcurrency      float64 `json:"max_concurrency"`
		VisibilityTimeoutMs float64 `json:"visibility_timeout_ms"`
	} `json:"settings"`
}

// listQueues lists the queues through the SDK's List, decoding the answer leanly as it
// arrives (withStreamed: it is never held whole). A connection cut while the answer is
// read is retried here, as the retrier retries any other failed GET.
func (c *Client) listQueues(ctx context.Context) ([]Queue, error) {
	var p queues.QueueListParams
	set(&p.AccountID, c.accountID)
	for attempt := 0; ; attempt++ {
		var resp *http.Response
		if _, err := c.queues.List(withStreamed(ctx), p, option.WithResponseBodyInto(&resp)); err != nil {
			return nil, err
		}
		body := &readErrBody{ReadCloser: resp.Body}
		resp.Body = body
		out, err := decodeQueueList(resp)
		if err == nil {
			// What follows the envelope (a newline) is read, so the connection can be
			// used again.
			_, _ = io.Copy(io.Discard, io.LimitReader(body, 4096))
		}
		_ = body.Close()
		if err == nil || body.err == nil || errors.Is(body.err, errAnswerTooLarge) || attempt >= c.retries {
			return out, err
		}
		select {
		case <-time.After(backoff(attempt)):
		case <-ctx.Done():
			return nil, err
		}
	}
}

// readErrBody remembers the first failure to read an answer (not its end), to tell a
// connection cut mid-answer from an answer that is wrong.
type readErrBody struct {
	io.ReadCloser
	err error
}

func (b *readErrBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// decodeQueueList reads a queue list answer a queue at a time: json.Decoder.Decode of the
// whole answer would first buffer all of it (8 MB at 10,000 queues), so the envelope is
// walked token by token and only one listing is held undecoded at once. The caller closes
// the body.
func decodeQueueList(resp *http.Response) ([]Queue, error) {
	var (
		success bool
		errs    []answerError
		out     []Queue
	)
	dec := json.NewDecoder(resp.Body)
	bad := func(err error) ([]Queue, error) { return nil, fmt.Errorf("cannot read the queue list: %w", err) }
	if err := jsonstream.Delim(dec, '{'); err != nil {
		return bad(err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return bad(err)
		}
		switch key, _ := tok.(string); key {
		case "success":
			err = dec.Decode(&success)
		case "errors":
			err = dec.Decode(&errs)
		case "result":
			out, err = decodeListings(dec)
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return bad(fmt.Errorf("%v: %w", tok, err))
		}
	}
	if err := jsonstream.Delim(dec, '}'); err != nil {
		return bad(err)
	}
	if !success {
		e := &APIError{Status: resp.StatusCode}
		for _, x := range errs {
			e.Codes, e.Messages = append(e.Codes, x.Code), append(e.Messages, x.Message)
		}
		return nil, e
	}
	if out == nil {
		out = []Queue{}
	}
	return out, nil
}

// decodeListings reads the result array (or null), one listing at a time.
func decodeListings(dec *json.Decoder) ([]Queue, error) {
	if null, err := jsonstream.OpenOrNull(dec, '['); err != nil || null {
		return nil, err
	}
	var out []Queue
	for dec.More() {
		var q queueListing
		if err := dec.Decode(&q); err != nil {
			return nil, err
		}
		out = append(out, q.queue())
	}
	return out, jsonstream.Delim(dec, ']')
}

func (q queueListing) queue() Queue {
	out := Queue{
		ID: q.QueueID, Name: q.QueueName,
		DeliveryDelay:    int64(q.Settings.DeliveryDelay),
		MessageRetention: int64(q.Settings.MessageRetentionPeriod),
		DeliveryPaused:   q.Settings.DeliveryPaused,
	}
	if len(q.Consumers) > 0 {
		out.Consumers = make([]Consumer, 0, len(q.Consumers))
	}
	for _, con := range q.Consumers {
		script := con.ScriptName
		if script == "" {
			script = con.Script
		}
		s := con.Settings
		c := Consumer{ID: con.ConsumerID, Type: con.Type, Script: script, DeadLetterQueue: con.DeadLetterQueue}
		switch con.Type { // as the SDK's union: the settings of the two types it knows
		case "worker":
			c.BatchSize, c.MaxRetries, c.RetryDelay = int64(s.BatchSize), int64(s.MaxRetries), int64(s.RetryDelay)
			c.MaxWaitMs, c.MaxConcurrency = int64(s.MaxWaitTimeMs), int64(s.MaxConcurrency)
		case "http_pull":
			c.BatchSize, c.MaxRetries, c.RetryDelay = int64(s.BatchSize), int64(s.MaxRetries), int64(s.RetryDelay)
			c.VisibilityTimeoutMs = int64(s.VisibilityTimeoutMs)
		}
		out.Consumers = append(out.Consumers, c)
	}
	return out
}
