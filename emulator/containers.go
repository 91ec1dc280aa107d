package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
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

// ctrInstanceTypes are the predefined types (DOCS containers/platform/limits), plus the
// older WSDK enum values dev and standard. The table gives vCPU, memory MiB and disk MB.
var ctrInstanceTypes = map[string][3]float64{
	"lite":       {0.0625, 256, 2000},
	"dev":        {0.0625, 256, 2000},
	"basic":      {0.25, 1024, 4000},
	"standard":   {0.5, 4096, 4000},
	"standard-1": {0.5, 4096, 8000},
	"standard-2": {1, 6144, 12000},
	"standard-3": {2, 8192, 16000},
	"standard-4": {4, 12288, 20000},
}

var ctrNamespaceRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

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

func ctrValidateCreate(b *containerAppBody) string {
	switch {
	case b.Name == nil || strings.TrimSpace(*b.Name) == "":
		return "name is required"
	case b.SchedulingPolicy == nil:
		return "scheduling_policy is required: default or durable_object"
	case *b.SchedulingPolicy != "default" && *b.SchedulingPolicy != "durable_object":
		return fmt.Sprintf("scheduling_policy %q is invalid: use default or durable_object", *b.SchedulingPolicy)
	case b.Instances == nil:
		return "instances is required"
	case b.Configuration == nil:
		return "configuration is required"
	}
	if *b.SchedulingPolicy == "durable_object" {
		if b.DurableObjects == nil || !ctrNamespaceRe.MatchString(b.DurableObjects.NamespaceID) {
			return "durable_objects.namespace_id (32 hex characters) is required with scheduling_policy durable_object"
		}
	} else if b.DurableObjects != nil {
		return "durable_objects is only valid with scheduling_policy durable_object"
	}
	if msg := ctrValidateCounts(*b.Instances, b.MaxInstances); msg != "" {
		return msg
	}
	return ctrValidateConfig(b.Configuration)
}

func ctrValidateCounts(instances int, max *int) string {
	if instances < 0 {
		return fmt.Sprintf("instances must be >= 0, got %d", instances)
	}
	if max == nil {
		return ""
	}
	if *max < 1 || *max > ctrMaxInstances {
		return fmt.Sprintf("max_instances must be between 1 and %d, got %d", ctrMaxInstances, *max)
	}
	if instances > *max {
		return fmt.Sprintf("instances (%d) cannot exceed max_instances (%d)", instances, *max)
	}
	return ""
}

// ctrValidateConfig checks the fields the limits page documents: a required image, a
// known instance_type, or a custom size (vcpu 0.0625–4, memory_mib ≤ 12288 and ≥ 3 GiB
// per vCPU, disk ≤ 2 GB per GiB of memory). Unknown upstream: whether instance_type may
// be combined with vcpu/memory_mib; we refuse it (strictest).
func ctrValidateConfig(cfg map[string]json.RawMessage) string {
	raw, _ := json.Marshal(cfg) // re-encoding decoded JSON cannot fail
	var c struct {
		Image        *string  `json:"image"`
		InstanceType *string  `json:"instance_type"`
		VCPU         *float64 `json:"vcpu"`
		MemoryMiB    *float64 `json:"memory_mib"`
		Disk         *struct {
			SizeMB *float64 `json:"size_mb"`
		} `json:"disk"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&c); err != nil {
		return "configuration is invalid: " + err.Error()
	}
	if c.Image == nil || strings.TrimSpace(*c.Image) == "" {
		return "configuration.image is required"
	}
	maxDisk := 2000.0 // the default type (lite/dev)
	switch {
	case c.InstanceType != nil && (c.VCPU != nil || c.MemoryMiB != nil):
		return "configuration.instance_type cannot be combined with vcpu or memory_mib"
	case c.InstanceType != nil:
		t, ok := ctrInstanceTypes[*c.InstanceType]
		if !ok {
			return fmt.Sprintf("configuration.instance_type %q is invalid: use lite, basic, standard-1, standard-2, standard-3 or standard-4", *c.InstanceType)
		}
		maxDisk = t[2]
	case c.VCPU != nil || c.MemoryMiB != nil:
		if msg := ctrValidateCustom(c.VCPU, c.MemoryMiB); msg != "" {
			return msg
		}
		maxDisk = 2000 * *c.MemoryMiB / 1024
	}
	if c.Disk != nil && c.Disk.SizeMB != nil && (*c.Disk.SizeMB <= 0 || *c.Disk.SizeMB > maxDisk) {
		return fmt.Sprintf("configuration.disk.size_mb must be between 1 and %s for this instance size, got %s", ctrNum(maxDisk), ctrNum(*c.Disk.SizeMB))
	}
	return ""
}

func ctrValidateCustom(vcpu, mem *float64) string {
	switch {
	case vcpu == nil || mem == nil:
		return "a custom instance size needs both configuration.vcpu and configuration.memory_mib"
	case *vcpu < 0.0625 || *vcpu > 4:
		return fmt.Sprintf("configuration.vcpu must be between 0.0625 and 4, got %s", ctrNum(*vcpu))
	case *mem <= 0 || *mem > 12288:
		return fmt.Sprintf("configuration.memory_mib must be between 1 and 12288, got %s", ctrNum(*mem))
	case *mem < 3072**vcpu:
		return fmt.Sprintf("configuration.memory_mib must be at least 3 GiB per vCPU (%s MiB for %s vCPU), got %s", ctrNum(3072**vcpu), ctrNum(*vcpu), ctrNum(*mem))
	}
	return ""
}

// ctrRaw treats an explicit JSON null as absent.
func ctrRaw(v json.RawMessage) json.RawMessage {
	if string(v) == "null" {
		return nil
	}
	return v
}

func ctrDropNulls(cfg map[string]json.RawMessage) map[string]json.RawMessage {
	for k, v := range cfg {
		if string(v) == "null" {
			delete(cfg, k)
		}
	}
	return cfg
}

func ctrNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

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

func ctrApplyPatch(app *containerApp, b *containerAppBody) (containerApp, int, string) {
	next := *app
	if b.SchedulingPolicy != nil && *b.SchedulingPolicy != app.SchedulingPolicy {
		return next, http.StatusBadRequest, "scheduling_policy cannot be changed: delete and recreate the application"
	}
	if b.DurableObjects != nil && (app.DurableObjects == nil || *b.DurableObjects != *app.DurableObjects) {
		return next, http.StatusBadRequest, "durable_objects cannot be changed"
	}
	if b.Name != nil {
		if strings.TrimSpace(*b.Name) == "" {
			return next, http.StatusBadRequest, "name cannot be empty"
		}
		next.Name = *b.Name
	}
	if b.Instances != nil {
		next.Instances = *b.Instances
	}
	if b.MaxInstances != nil {
		next.MaxInstances = b.MaxInstances
	}
	if msg := ctrValidateCounts(next.Instances, next.MaxInstances); msg != "" {
		return next, http.StatusBadRequest, msg
	}
	if b.Configuration != nil {
		merged := map[string]json.RawMessage{}
		for k, v := range app.Configuration {
			merged[k] = v
		}
		for k, v := range b.Configuration {
			merged[k] = v
		}
		merged = ctrDropNulls(merged)
		if msg := ctrValidateConfig(merged); msg != "" {
			return next, http.StatusBadRequest, msg
		}
		next.Configuration = merged
	}
	for _, f := range []struct{ dst, src *json.RawMessage }{{&next.Constraints, &b.Constraints}, {&next.Affinities, &b.Affinities}, {&next.Priorities, &b.Priorities}} {
		if *f.src != nil {
			*f.dst = ctrRaw(*f.src)
		}
	}
	return next, http.StatusOK, ""
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
