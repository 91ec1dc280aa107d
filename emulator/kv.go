package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Workers KV: namespaces here; keys and values in kv_values.go; bulk operations in
// kv_bulk.go. Error codes come from a third-party list (cloudflare-api.md §9), the only
// source found.

const (
	kvCodeKeyNotFound  = 10009
	kvCodeNSNotFound   = 10013
	kvCodeNSExists     = 10014
	kvCodeTooManyNS    = 10018
	kvCodeMissingTitle = 10019
	kvCodeTooLarge     = 10024
	// kvCodeKeyWriteLimit answers a second write to one key within a second. Unknown
	// upstream: no Cloudflare reference lists it; 10048 with "KV PUT failed: 429 Too Many
	// Requests" is what users report from wrangler (the third-party list in
	// cloudflare-api.md §9 has 10022 for the account-wide "too many requests").
	kvCodeKeyWriteLimit = 10048
	// Unknown upstream: no code is published for other invalid input (limit, cursor,
	// expiration, key name); we use 10001, as the core's pagination checks do.
	kvCodeInvalid = 10001

	kvMaxNamespaces = 1000 // per account (DOCS kv limits)
)

// kvState is the KV family's part of the store.
type kvState struct {
	// Namespaces maps namespace id → namespace; ids are unique across accounts.
	Namespaces map[string]*kvNamespace `json:"namespaces"`
}

func (st *kvState) init() {
	if st.Namespaces == nil {
		st.Namespaces = map[string]*kvNamespace{}
	}
	for _, ns := range st.Namespaces {
		if ns.Entries == nil {
			ns.Entries = map[string]*kvEntry{}
		}
	}
}

type kvNamespace struct {
	ID        string              `json:"id"`
	Account   string              `json:"account"`
	Title     string              `json:"title"`
	CreatedOn time.Time           `json:"created_on"`
	Entries   map[string]*kvEntry `json:"entries"`
}

// kvEntry is one key. The value lives in the blob store (see kvBlob).
type kvEntry struct {
	Blob       string          `json:"blob"`
	Size       int             `json:"size"`
	Expiration int64           `json:"expiration,omitempty"` // Unix seconds; 0 = never
	Metadata   json.RawMessage `json:"metadata,omitempty"`
}

func (ns *kvNamespace) view() map[string]any {
	return map[string]any{"id": ns.ID, "title": ns.Title, "supports_url_encoding": true}
}

func (s *Server) routesKV() {
	const base = "/accounts/{account_id}/storage/kv/namespaces"
	const one = base + "/{namespace_id}"
	s.handle("POST "+base, s.kvNamespaceCreate)
	s.handle("GET "+base, s.kvNamespaceList)
	s.handle("GET "+one, s.kvNamespaceGet)
	s.handle("PUT "+one, s.kvNamespaceRename)
	s.handle("DELETE "+one, s.kvNamespaceDelete)
	s.handle("GET "+one+"/keys", s.kvKeysList)
	// Keys may contain '/': the SDK puts them in the path unescaped.
	s.handle("PUT "+one+"/values/{key...}", s.kvValuePut)
	s.handle("GET "+one+"/values/{key...}", s.kvValueGet)
	s.handle("DELETE "+one+"/values/{key...}", s.kvValueDelete)
	s.handle("GET "+one+"/metadata/{key...}", s.kvMetadataGet)
	s.handle("PUT "+one+"/bulk", s.kvBulkWrite)
	s.handle("POST "+one+"/bulk/delete", s.kvBulkDelete)
	s.handle("DELETE "+one+"/bulk", s.kvBulkDelete) // the older form of bulk delete
	s.handle("POST "+one+"/bulk/get", s.kvBulkGet)
	s.onTick(s.kvExpire)
}

// kvNamespaceFor returns the namespace in the path if it belongs to the account, or
// answers 404 (code 10013) and returns nil. The caller holds s.mu.
func (s *Server) kvNamespaceFor(w http.ResponseWriter, r *http.Request) *kvNamespace {
	ns := s.st.KV.Namespaces[r.PathValue("namespace_id")]
	if ns == nil || ns.Account != r.PathValue("account_id") {
		writeError(w, http.StatusNotFound, kvCodeNSNotFound, "namespace not found")
		return nil
	}
	return ns
}

// kvTitle reads {title} and answers 400 (code 10019) when it is missing or blank.
func kvTitle(w http.ResponseWriter, r *http.Request) (string, bool) {
	var body struct {
		Title *string `json:"title"`
	}
	if !decodeJSON(w, r, &body) {
		return "", false
	}
	if body.Title == nil || strings.TrimSpace(*body.Title) == "" {
		writeError(w, http.StatusBadRequest, kvCodeMissingTitle, "missing title")
		return "", false
	}
	return *body.Title, true
}

// kvTitleTaken reports whether another namespace of the account has the title.
func (s *Server) kvTitleTaken(acct, title, except string) bool {
	for _, ns := range s.st.KV.Namespaces {
		if ns.Account == acct && ns.Title == title && ns.ID != except {
			return true
		}
	}
	return false
}

func (s *Server) kvNamespaceCreate(w http.ResponseWriter, r *http.Request) {
	title, ok := kvTitle(w, r)
	if !ok {
		return
	}
	acct := r.PathValue("account_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kvTitleTaken(acct, title, "") {
		writeError(w, http.StatusBadRequest, kvCodeNSExists, "a namespace with this account ID and title already exists")
		return
	}
	if len(s.kvAccountNamespaces(acct)) >= kvMaxNamespaces {
		writeError(w, http.StatusBadRequest, kvCodeTooManyNS,
			fmt.Sprintf("this account already has the maximum of %d namespaces", kvMaxNamespaces))
		return
	}
	ns := &kvNamespace{ID: newHexID(), Account: acct, Title: title, CreatedOn: s.Now(), Entries: map[string]*kvEntry{}}
	s.st.KV.Namespaces[ns.ID] = ns
	writeResult(w, ns.view())
}

func (s *Server) kvAccountNamespaces(acct string) []*kvNamespace {
	var out []*kvNamespace
	for _, ns := range s.st.KV.Namespaces {
		if ns.Account == acct {
			out = append(out, ns)
		}
	}
	return out
}

// kvNamespaceList pages namespaces (V4 page pagination, per_page 5–100, default 20),
// ordered by `order` (id or title; default: creation order) in `direction` (asc|desc).
func (s *Server) kvNamespaceList(w http.ResponseWriter, r *http.Request) {
	page, perPage, ok := pageParams(w, r, 20, 5, 100)
	if !ok {
		return
	}
	q := r.URL.Query()
	order, dir := q.Get("order"), q.Get("direction")
	if order != "" && order != "id" && order != "title" {
		writeError(w, http.StatusBadRequest, kvCodeInvalid, "order must be id or title")
		return
	}
	if dir != "" && dir != "asc" && dir != "desc" {
		writeError(w, http.StatusBadRequest, kvCodeInvalid, "direction must be asc or desc")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.kvAccountNamespaces(r.PathValue("account_id"))
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if dir == "desc" {
			a, b = b, a
		}
		switch order {
		case "id":
			return a.ID < b.ID
		case "title":
			return a.Title < b.Title || a.Title == b.Title && a.ID < b.ID
		}
		return a.CreatedOn.Before(b.CreatedOn) || a.CreatedOn.Equal(b.CreatedOn) && a.ID < b.ID
	})
	views := make([]map[string]any, 0, len(list))
	for _, ns := range list {
		views = append(views, ns.view())
	}
	out, info := paginate(views, page, perPage)
	writeResultInfo(w, out, info)
}

func (s *Server) kvNamespaceGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ns := s.kvNamespaceFor(w, r); ns != nil {
		writeResult(w, ns.view())
	}
}

func (s *Server) kvNamespaceRename(w http.ResponseWriter, r *http.Request) {
	title, ok := kvTitle(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ns := s.kvNamespaceFor(w, r)
	if ns == nil {
		return
	}
	if s.kvTitleTaken(ns.Account, title, ns.ID) {
		writeError(w, http.StatusBadRequest, kvCodeNSExists, "a namespace with this account ID and title already exists")
		return
	}
	ns.Title = title
	writeResult(w, ns.view())
}

// kvNamespaceDelete removes the namespace and every value in it.
func (s *Server) kvNamespaceDelete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ns := s.kvNamespaceFor(w, r)
	if ns == nil {
		return
	}
	for key := range ns.Entries {
		s.kvRemove(ns, key)
	}
	delete(s.st.KV.Namespaces, ns.ID)
	writeResult(w, map[string]any{})
}
