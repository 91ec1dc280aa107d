package emulator

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// envelope is Cloudflare's v4 response wrapper. Messages is always an empty array: the
// Queues and R2 SDK types read it as []string and the others as []{code,message}, and an
// empty array satisfies both.
type envelope struct {
	Success    bool       `json:"success"`
	Errors     []apiMsg   `json:"errors"`
	Messages   []apiMsg   `json:"messages"`
	Result     any        `json:"result"`
	ResultInfo resultInfo `json:"result_info,omitempty"`
}

type apiMsg struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// resultInfo is left as a map so each pagination style writes exactly its own keys.
type resultInfo map[string]any

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // a failed write means the client went away
}

// writeResult answers 200 with result in the envelope.
func writeResult(w http.ResponseWriter, result any) {
	writeJSON(w, http.StatusOK, envelope{Success: true, Errors: []apiMsg{}, Messages: []apiMsg{}, Result: result})
}

// writeResultInfo answers 200 with result and result_info.
func writeResultInfo(w http.ResponseWriter, result any, info resultInfo) {
	writeJSON(w, http.StatusOK, envelope{Success: true, Errors: []apiMsg{}, Messages: []apiMsg{}, Result: result, ResultInfo: info})
}

// writeError answers with a failed envelope. Cloudflare always pairs success:false with a
// 4xx/5xx status, and the Go SDK only treats status >= 400 as an error.
func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, envelope{Success: false, Errors: []apiMsg{{Code: code, Message: msg}}, Messages: []apiMsg{}, Result: nil})
}

// writeRouteError is Cloudflare's answer to an unknown route or malformed identifier.
func writeRouteError(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, envelope{
		Success: false,
		Errors: []apiMsg{
			{Code: 7003, Message: "Could not route to " + r.URL.Path + ", perhaps your object identifier is invalid?"},
			{Code: 7000, Message: "No route for that URI"},
		},
		Messages: []apiMsg{},
	})
}

// pageParams parses V4 page pagination (page ≥ 1, per_page within [min,max]).
// It answers 400 itself and returns ok=false on bad input.
func pageParams(w http.ResponseWriter, r *http.Request, def, min, max int) (page, perPage int, ok bool) {
	page, perPage = 1, def
	if v := r.URL.Query().Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, 10001, "page must be an integer >= 1")
			return 0, 0, false
		}
		page = n
	}
	if v := r.URL.Query().Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > max {
			writeError(w, http.StatusBadRequest, 10001, "per_page must be an integer between "+strconv.Itoa(min)+" and "+strconv.Itoa(max))
			return 0, 0, false
		}
		perPage = n
	}
	return page, perPage, true
}

// paginate slices items for V4 page pagination and builds its result_info.
func paginate[T any](items []T, page, perPage int) ([]T, resultInfo) {
	total := len(items)
	start := (page - 1) * perPage
	if start > total {
		start = total
	}
	end := start + perPage
	if end > total {
		end = total
	}
	pages := (total + perPage - 1) / perPage
	out := items[start:end]
	if out == nil {
		out = []T{}
	}
	return out, resultInfo{"page": page, "per_page": perPage, "count": len(out), "total_count": total, "total_pages": pages}
}
