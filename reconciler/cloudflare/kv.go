package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"

	"github.com/cloudflare/cloudflare-go/v6/kv"
	"github.com/cloudflare/cloudflare-go/v6/shared"
)

// KVNamespace is a Workers KV namespace.
type KVNamespace struct{ ID, Title string }

// KVKey is a key as the key list shows it.
type KVKey struct {
	Name       string
	Metadata   json.RawMessage // nil when none
	Expiration int64           // Unix seconds; 0 when the key does not expire
}

// Page sizes: the largest the API allows, so that listing costs the fewest requests.
var (
	kvNamespacePageSize = 100  // per_page 5–100
	kvKeyPageSize       = 1000 // limit 10–1000
)

// ListKVNamespaces returns every namespace of the account, one request per 100.
func (c *Client) ListKVNamespaces(ctx context.Context) ([]KVNamespace, error) {
	var out []KVNamespace
	for page := 1; ; page++ {
		var p kv.NamespaceListParams
		set(&p.AccountID, c.accountID)
		set(&p.Page, float64(page))
		set(&p.PerPage, float64(kvNamespacePageSize))
		res, err := c.kv.List(ctx, p)
		if err != nil {
			return nil, failed("list KV namespaces", err)
		}
		for _, ns := range res.Result {
			out = append(out, KVNamespace{ID: ns.ID, Title: ns.Title})
		}
		if len(res.Result) < kvNamespacePageSize || listedAll(res.ResultInfo.JSON.ExtraFields["total_count"].Raw(), len(out)) {
			if out == nil {
				out = []KVNamespace{}
			}
			return out, nil
		}
	}
}

// listedAll reports whether n items are all there are, by result_info.total_count (raw
// JSON; absent means unknown).
func listedAll(totalCount string, n int) bool {
	var total int
	return json.Unmarshal([]byte(totalCount), &total) == nil && n >= total
}

// CreateKVNamespace creates a namespace. Like CreateQueue it is retried only on 429 and
// returns an *AmbiguousError when it cannot tell whether the namespace exists; a title in
// use is an error for which IsKVTitleTaken is true.
func (c *Client) CreateKVNamespace(ctx context.Context, title string) (KVNamespace, error) {
	var p kv.NamespaceNewParams
	set(&p.AccountID, c.accountID)
	set(&p.Title, title)
	ns, err := c.kv.New(ctx, p)
	if err != nil {
		return KVNamespace{}, failedCreate(fmt.Sprintf("create KV namespace %q", title), err)
	}
	return KVNamespace{ID: ns.ID, Title: ns.Title}, nil
}

// ListKVKeys returns every live key under prefix ("" for all) with its metadata,
// following the cursor: one request per 1,000 keys.
func (c *Client) ListKVKeys(ctx context.Context, namespaceID, prefix string) ([]KVKey, error) {
	out := []KVKey{}
	err := c.eachKVKeyPage(ctx, namespaceID, prefix, func(keys []KVKey) error {
		out = append(out, keys...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachKVKeyPage calls fn with each non-empty page of up to 1,000 live keys under prefix
// (with metadata and expiration), in the order KV lists them, following the cursor; a
// cursor the API repeats is an error rather than an endless loop.
func (c *Client) eachKVKeyPage(ctx context.Context, namespaceID, prefix string, fn func([]KVKey) error) error {
	op := fmt.Sprintf("list keys of KV namespace %s", namespaceID)
	seen := map[string]bool{}
	cursor := ""
	for {
		var p kv.NamespaceKeyListParams
		set(&p.AccountID, c.accountID)
		set(&p.Limit, float64(kvKeyPageSize))
		if prefix != "" {
			set(&p.Prefix, prefix)
		}
		if cursor != "" {
			set(&p.Cursor, cursor)
		}
		page, err := c.kv.Keys.List(ctx, namespaceID, p)
		if err != nil {
			return failed(op, err)
		}
		keys := make([]KVKey, 0, len(page.Result))
		for _, k := range page.Result {
			key := KVKey{Name: k.Name, Expiration: int64(k.Expiration)}
			if m := k.JSON.Metadata; !m.IsNull() && m.Raw() != "" {
				key.Metadata = json.RawMessage(m.Raw())
			}
			keys = append(keys, key)
		}
		if len(keys) > 0 {
			if err := fn(keys); err != nil {
				return err
			}
		}
		cursor = page.ResultInfo.Cursor
		if cursor == "" || len(page.Result) == 0 {
			return nil
		}
		if seen[cursor] {
			return fmt.Errorf("cannot %s: the API repeated cursor %q", op, cursor)
		}
		seen[cursor] = true
	}
}

// GetKV returns a key's value; IsNotFound is true of the error when there is no such key.
func (c *Client) GetKV(ctx context.Context, namespaceID, key string) ([]byte, error) {
	op := fmt.Sprintf("read key %q of KV namespace %s", key, namespaceID)
	var p kv.NamespaceValueGetParams
	set(&p.AccountID, c.accountID)
	res, err := c.kv.Values.Get(ctx, namespaceID, url.PathEscape(key), p)
	if err != nil {
		return nil, failed(op, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("cannot %s: %w", op, err)
	}
	return b, nil
}

// PutKV writes a key's value and metadata (nil for none), replacing both. The metadata is
// sent as one JSON part: the SDK would send a Go map as one form field per map key.
func (c *Client) PutKV(ctx context.Context, namespaceID, key string, value []byte, metadata json.RawMessage) error {
	op := fmt.Sprintf("write key %q of KV namespace %s", key, namespaceID)
	var p kv.NamespaceValueUpdateParams
	set(&p.AccountID, c.accountID)
	set(&p.Value, kv.NamespaceValueUpdateParamsValueUnion(shared.UnionString(value)))
	if metadata != nil {
		if !json.Valid(metadata) {
			return fmt.Errorf("cannot %s: metadata is not valid JSON", op)
		}
		set(&p.Metadata, any(string(metadata)))
	}
	if _, err := c.kv.Values.Update(ctx, namespaceID, url.PathEscape(key), p); err != nil {
		return failed(op, err)
	}
	return nil
}

// DeleteKV deletes a key; deleting a key that is not there succeeds (KV deletes are
// idempotent).
func (c *Client) DeleteKV(ctx context.Context, namespaceID, key string) error {
	var p kv.NamespaceValueDeleteParams
	set(&p.AccountID, c.accountID)
	if _, err := c.kv.Values.Delete(ctx, namespaceID, url.PathEscape(key), p); err != nil {
		return failed(fmt.Sprintf("delete key %q of KV namespace %s", key, namespaceID), err)
	}
	return nil
}
