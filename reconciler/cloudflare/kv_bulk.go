package cloudflare

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/cloudflare/cloudflare-go/v6/kv"
)

// KV in bulk, for backups and restores: keys a page at a time (never the whole namespace
// in memory), values 100 per request, writes and deletes up to 10,000 per request.

// Bulk limits (cloudflare-api.md §9).
const (
	KVBulkGetMax   = 100
	KVBulkWriteMax = 10_000
	// KVBulkWriteBytes is what we put in one bulk write: well under the 100 MB limit,
	// counting the base64 growth of values.
	KVBulkWriteBytes = 32 << 20
)

// KVEntry is a key with everything that makes it: value, metadata and expiration.
type KVEntry struct {
	Key        string          `json:"key"`
	Value      []byte          `json:"value"` // base64 in JSON
	Metadata   json.RawMessage `json:"metadata,omitempty"`
	Expiration int64           `json:"expiration,omitempty"` // Unix seconds; 0 never
}

// FindKVNamespace returns the namespace titled title; IsNotFound is true of the error when
// there is none.
func (c *Client) FindKVNamespace(ctx context.Context, title string) (KVNamespace, error) {
	all, err := c.ListKVNamespaces(ctx)
	if err != nil {
		return KVNamespace{}, err
	}
	for _, ns := range all {
		if ns.Title == title {
			return ns, nil
		}
	}
	return KVNamespace{}, fmt.Errorf("cannot find KV namespace %q: %w", title, &APIError{Status: 404, Messages: []string{"no KV namespace with that title in the account"}})
}

// DeleteKVNamespace deletes a namespace and its keys; deleting one that is gone succeeds.
func (c *Client) DeleteKVNamespace(ctx context.Context, id string) error {
	var p kv.NamespaceDeleteParams
	set(&p.AccountID, c.accountID)
	if _, err := c.kv.Delete(ctx, id, p); err != nil && !IsNotFound(apiError(err)) {
		return failed(fmt.Sprintf("delete KV namespace %s", id), err)
	}
	return nil
}

// EachKVKeyPage calls fn with each page of up to 1,000 live keys (with metadata and
// expiration), in the key order KV lists them, following the cursor.
func (c *Client) EachKVKeyPage(ctx context.Context, namespaceID string, fn func([]KVKey) error) error {
	return c.eachKVKeyPage(ctx, namespaceID, "", fn)
}

// BulkGetKV reads the values of up to 100 keys in one request; a key that is gone (expired
// or deleted since it was listed) is absent from the answer. Bulk get returns values as
// text, so a value that is not valid UTF-8 arrives with replacement characters: such a
// value is read again on its own, as bytes.
func (c *Client) BulkGetKV(ctx context.Context, namespaceID string, keys []string) (map[string][]byte, error) {
	op := fmt.Sprintf("read keys of KV namespace %s", namespaceID)
	if len(keys) > KVBulkGetMax {
		return nil, fmt.Errorf("cannot %s: %d keys are more than %d per request", op, len(keys), KVBulkGetMax)
	}
	var p kv.NamespaceBulkGetParams
	set(&p.AccountID, c.accountID)
	set(&p.Keys, keys)
	set(&p.Type, kv.NamespaceBulkGetParamsTypeText)
	res, err := c.kv.BulkGet(ctx, namespaceID, p)
	if err != nil {
		return nil, failed(op, err)
	}
	var values map[string]*string
	if err := json.Unmarshal([]byte(res.JSON.Values.Raw()), &values); err != nil {
		return nil, fmt.Errorf("cannot %s: unexpected answer: %w", op, err)
	}
	out := make(map[string][]byte, len(values))
	for k, v := range values {
		if v == nil {
			continue
		}
		if bytes.ContainsRune([]byte(*v), utf8.RuneError) {
			b, err := c.GetKV(ctx, namespaceID, k)
			if IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out[k] = b
			continue
		}
		out[k] = []byte(*v)
	}
	return out, nil
}

// BulkPutKV writes entries (at most 10,000, values base64-encoded so bytes survive) in one
// request. An expiration is absolute; KV refuses one less than 60 s ahead, so the caller
// leaves out keys that are about to expire. Keys KV reports unsuccessful are an error.
func (c *Client) BulkPutKV(ctx context.Context, namespaceID string, entries []KVEntry) error {
	op := fmt.Sprintf("write %d keys to KV namespace %s", len(entries), namespaceID)
	body := make([]kv.NamespaceBulkUpdateParamsBody, len(entries))
	for i, e := range entries {
		var b kv.NamespaceBulkUpdateParamsBody
		set(&b.Key, e.Key)
		set(&b.Value, base64.StdEncoding.EncodeToString(e.Value))
		set(&b.Base64, true)
		if e.Expiration != 0 {
			set(&b.Expiration, float64(e.Expiration))
		}
		if len(e.Metadata) > 0 {
			set(&b.Metadata, any(e.Metadata))
		}
		body[i] = b
	}
	var p kv.NamespaceBulkUpdateParams
	set(&p.AccountID, c.accountID)
	p.Body = body
	res, err := c.kv.BulkUpdate(ctx, namespaceID, p)
	if err != nil {
		return failed(op, err)
	}
	if len(res.UnsuccessfulKeys) > 0 {
		return fmt.Errorf("cannot %s: KV did not write %d of them (first %q)", op, len(res.UnsuccessfulKeys), res.UnsuccessfulKeys[0])
	}
	return nil
}

// BulkDeleteKV deletes up to 10,000 keys in one request; keys that are gone count as
// deleted.
func (c *Client) BulkDeleteKV(ctx context.Context, namespaceID string, keys []string) error {
	op := fmt.Sprintf("delete %d keys of KV namespace %s", len(keys), namespaceID)
	var p kv.NamespaceBulkDeleteParams
	set(&p.AccountID, c.accountID)
	p.Body = keys
	res, err := c.kv.BulkDelete(ctx, namespaceID, p)
	if err != nil {
		return failed(op, err)
	}
	var v struct {
		Unsuccessful []string `json:"unsuccessful_keys"`
	}
	if json.Unmarshal([]byte(res.JSON.RawJSON()), &v) == nil && len(v.Unsuccessful) > 0 {
		return fmt.Errorf("cannot %s: KV did not delete %d of them (first %q)", op, len(v.Unsuccessful), v.Unsuccessful[0])
	}
	return nil
}
