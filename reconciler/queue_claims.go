package reconciler

var _ WorkerClaimer = QueueKind{}

// Claims is the queue's Worker consumer: a queue has at most one consumer, and wrangler
// declares the same thing as [[queues.consumers]] of the Worker, so `validate -wrangler`
// finds a consumer declared in both. An http_pull consumer is on no Worker: it claims
// nothing.
func (QueueKind) Claims(v Values) []Claim {
	var out []Claim
	for _, cv := range v.blocks("consumer") {
		if cv.str("type") == "http_pull" || cv.str("worker") == "" {
			continue
		}
		out = append(out, Claim{Worker: cv.str("worker"), What: QueueConsumerClaim(v.str("name"))})
	}
	return out
}
