package cloudflare

import "encoding/json"

// KVNamespace is a Workers KV namespace.
type KVNamespace struct {
	ID, Title string
}

// KVKey is one key of a namespace as the key list returns it: its metadata, if any, and
// its expiration (Unix seconds; 0 for never).
type KVKey struct {
	Name       string
	Metadata   json.RawMessage
	Expiration int64
}
