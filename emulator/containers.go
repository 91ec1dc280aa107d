package emulator

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Containers (cloudflare-api.md §6; WSDK containers-shared models). Not in the Go SDK, so
// shapes follow wrangler's client: a v4 envelope and page_token pagination with
// result_info {per_page, page_token, next_page_token} (WSDK core/PaginatedResult.ts).
// The emulator schedules nothing: applications are configuration only, they run no
// instance, and usage and health count zero.

const (
	// Unknown upstream: every Containers error code. We choose 1400 (invalid request,
	// HTTP 400), 1404 (no such application, HTTP 404) and 1409 (name taken, HTTP 409).
	ctrCodeInvalid  = 1400
	ctrCodeNotFound = 1404
	ctrCodeConflict = 1409
	// Unknown upstream: the ceiling of max_instances; we choose 1000.
	ctrMaxInstances = 1000
	// Unknown upstream: the default page size; we choose 100 (per_page is 1–500).
	ctrDefaultPerPage = 100
)

// containersState is the Containers family's part of the store.
type containersState struct {
	Applications map[string]*containerApp `json:"applications"` // by id
}

func (st *containersState) init() {
	if st.Applications == nil {
		st.Applications = map[string]*containerApp{}
	}
}

// containerApp keeps configuration, constraints, affinities and priorities as given
// (validated, not interpreted), so fields the emulator does not model survive.
type containerApp struct {
	ID               string                     `json:"id"`
	AccountID        string                     `json:"account_id"`
	Name             string                     `json:"name"`
	SchedulingPolicy string                     `json:"scheduling_policy"`
	Instances        int                        `json:"instances"`
	MaxInstances     *int                       `json:"max_instances,omitempty"`
	DurableObjects   *containerDO               `json:"durable_objects,omitempty"`
	Configuration    map[string]json.RawMessage `json:"configuration"`
	Constraints      json.RawMessage            `json:"constraints,omitempty"`
	Affinities       json.RawMessage            `json:"affinities,omitempty"`
	Priorities       json.RawMessage            `json:"priorities,omitempty"`
	CreatedAt        time.Time                  `json:"created_at"`
	Version          int                        `json:"version"`
}

type containerDO struct {
	NamespaceID string `json:"namespace_id"`
}

// containerAppBody is a create or PATCH body; nil means absent.
type containerAppBody struct {
	Name             *string                    `json:"name"`
	SchedulingPolicy *string                    `json:"scheduling_policy"`
	Instances        *int                       `json:"instances"`
	MaxInstances     *int                       `json:"max_instances"`
	DurableObjects   *containerDO               `json:"durable_objects"`
	Configuration    map[string]json.RawMessage `json:"configuration"`
	Constraints      json.RawMessage            `json:"constraints"`
	Affinities       json.RawMessage            `json:"affinities"`
	Priorities       json.RawMessage            `json:"priorities"`
}

func (s *Server) routesContainers() {
	const base = "/accounts/{account_id}/containers"
	s.handle("GET "+base+"/applications", s.ctrList)
	s.handle("POST "+base+"/applications", s.ctrCreate)
	s.handle("GET "+base+"/applications/{application_id}", s.ctrGet)
	s.handle("PATCH "+base+"/applications/{application_id}", s.ctrPatch)
	s.handle("DELETE "+base+"/applications/{application_id}", s.ctrDelete)
	s.handle("GET "+base+"/applications/{application_id}/instances-v2", s.ctrInstances)
	s.handle("GET "+base+"/usage", s.ctrUsage)
}

func (s *Server) ctrCreate(w http.ResponseWriter, r *http.Request) {
	var body containerAppBody
	if !decodeJSON(w, r, &body) {
		return
	}
	if msg := ctrValidateCreate(&body); msg != "" {
		writeError(w, http.StatusBadRequest, ctrCodeInvalid, msg)
		return
	}
	acct := r.PathValue("account_id")
	app := &containerApp{
		ID: newUUID(), AccountID: acct, Name: *body.Name, SchedulingPolicy: *body.SchedulingPolicy,
		Instances: *body.Instances, MaxInstances: body.MaxInstances, DurableObjects: body.DurableObjects,
		Configuration: ctrDropNulls(body.Configuration), Constraints: ctrRaw(body.Constraints),
		Affinities: ctrRaw(body.Affinities), Priorities: ctrRaw(body.Priorities), Version: 1,
	}
	if app.DurableObjects != nil {
		app.ID = app.DurableObjects.NamespaceID // "the namespace id is also the application id"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctrNameTaken(acct, app.Name, "") {
		writeError(w, http.StatusConflict, ctrCodeConflict, fmt.Sprintf("an application named %q already exists", app.Name))
		return
	}
	if s.st.Containers.Applications[app.ID] != nil {
		writeError(w, http.StatusConflict, ctrCodeConflict, fmt.Sprintf("durable object namespace %s already backs an application", app.ID))
		return
	}
	app.CreatedAt = s.Now()
	s.st.Containers.Applications[app.ID] = app
	writeResult(w, ctrView(app))
}

// ctrPatch applies a partial update. scheduling_policy and durable_objects are
// immutable (400 on a change); configuration is merged key by key (null removes a key)
// and validated whole. Every PATCH increments version.
func (s *Server) ctrPatch(w http.ResponseWriter, r *http.Request) {
	var body containerAppBody
	if !decodeJSON(w, r, &body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	app := s.ctrLookup(w, r)
	if app == nil {
		return
	}
	next, status, msg := ctrApplyPatch(app, &body)
	if status == http.StatusOK && s.ctrNameTaken(app.AccountID, next.Name, app.ID) {
		status, msg = http.StatusConflict, fmt.Sprintf("an application named %q already exists", next.Name)
	}
	if status != http.StatusOK {
		code := ctrCodeInvalid
		if status == http.StatusConflict {
			code = ctrCodeConflict
		}
		writeError(w, status, code, msg)
		return
	}
	next.Version++
	*app = next
	writeResult(w, ctrView(app))
}

func (s *Server) ctrGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if app := s.ctrLookup(w, r); app != nil {
		writeResult(w, ctrView(app))
	}
}

func (s *Server) ctrDelete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if app := s.ctrLookup(w, r); app != nil {
		delete(s.st.Containers.Applications, app.ID)
		writeResult(w, nil)
	}
}

// ctrInstances lists the application's instances: always none, as the emulator runs none.
func (s *Server) ctrInstances(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if app := s.ctrLookup(w, r); app != nil {
		writeResultInfo(w, []any{}, resultInfo{"count": 0})
	}
}

// ctrUsage reports the account limits (1,500 vCPU, 6 TiB memory, 30 TB disk) and a
// usage of zero.
func (s *Server) ctrUsage(w http.ResponseWriter, r *http.Request) {
	zero := map[string]float64{"vcpus": 0, "memory_mib": 0, "disk_mb": 0}
	writeResult(w, map[string]any{
		"maximum":     map[string]float64{"vcpus": 1500, "memory_mib": 6 * 1024 * 1024, "disk_mb": 30_000_000},
		"usage":       map[string]float64{"instances": 0, "vcpus": 0, "memory_mib": 0, "disk_mb": 0},
		"utilization": zero,
	})
}

// ctrList filters by exact name and image (Unknown upstream: exact or partial; we match
// exactly) and pages by page_token, an opaque cursor after the last application
// returned, in creation order.
func (s *Server) ctrList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	perPage := ctrDefaultPerPage
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			writeError(w, http.StatusBadRequest, ctrCodeInvalid, "per_page must be an integer between 1 and 500")
			return
		}
		perPage = n
	}
	after, ok := ctrDecodeToken(q.Get("page_token"))
	if !ok {
		writeError(w, http.StatusBadRequest, ctrCodeInvalid, "page_token is invalid")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	apps := s.ctrFiltered(r.PathValue("account_id"), q.Get("name"), q.Get("image"))
	start := sort.Search(len(apps), func(i int) bool { return ctrKey(apps[i]) > after })
	end := min(start+perPage, len(apps))
	items := make([]map[string]any, 0, end-start)
	for _, app := range apps[start:end] {
		items = append(items, ctrView(app))
	}
	info := resultInfo{"per_page": perPage, "count": len(items)}
	if t := q.Get("page_token"); t != "" {
		info["page_token"] = t
	}
	if end < len(apps) {
		info["next_page_token"] = base64.RawURLEncoding.EncodeToString([]byte(ctrKey(apps[end-1])))
	}
	writeResultInfo(w, items, info)
}

func (s *Server) ctrFiltered(acct, name, image string) []*containerApp {
	var apps []*containerApp
	for _, app := range s.st.Containers.Applications {
		if app.AccountID != acct || (name != "" && app.Name != name) {
			continue
		}
		if image != "" {
			var img string
			if json.Unmarshal(app.Configuration["image"], &img) != nil || img != image {
				continue
			}
		}
		apps = append(apps, app)
	}
	sort.Slice(apps, func(i, j int) bool { return ctrKey(apps[i]) < ctrKey(apps[j]) })
	return apps
}

// ctrKey orders applications by creation time, then id (fixed-width time sorts as text).
func ctrKey(app *containerApp) string {
	return app.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000000Z") + "|" + app.ID
}

func ctrDecodeToken(tok string) (string, bool) {
	if tok == "" {
		return "", true
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || !strings.Contains(string(b), "|") {
		return "", false
	}
	return string(b), true
}

func (s *Server) ctrNameTaken(acct, name, exceptID string) bool {
	for _, app := range s.st.Containers.Applications {
		if app.AccountID == acct && app.Name == name && app.ID != exceptID {
			return true
		}
	}
	return false
}

// ctrLookup finds the application of the request's path, answering 404 itself if there
// is none in that account. Callers hold s.mu.
func (s *Server) ctrLookup(w http.ResponseWriter, r *http.Request) *containerApp {
	id := r.PathValue("application_id")
	app := s.st.Containers.Applications[id]
	if app == nil || app.AccountID != r.PathValue("account_id") {
		writeError(w, http.StatusNotFound, ctrCodeNotFound, fmt.Sprintf("application %s not found", id))
		return nil
	}
	return app
}

func ctrView(app *containerApp) map[string]any {
	health := map[string]int{"healthy": 0, "failed": 0, "starting": 0, "scheduling": 0}
	v := map[string]any{
		"id": app.ID, "account_id": app.AccountID, "name": app.Name, "scheduling_policy": app.SchedulingPolicy,
		"instances": app.Instances, "configuration": app.Configuration, "created_at": timestamp(app.CreatedAt),
		"version": app.Version, "health": map[string]any{"instances": health},
	}
	if app.MaxInstances != nil {
		v["max_instances"] = *app.MaxInstances
	}
	if app.DurableObjects != nil {
		v["durable_objects"] = app.DurableObjects
		health["durable_objects_active"] = 0
	}
	for k, raw := range map[string]json.RawMessage{"constraints": app.Constraints, "affinities": app.Affinities, "priorities": app.Priorities} {
		if raw != nil {
			v[k] = raw
		}
	}
	return v
}
