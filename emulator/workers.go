package emulator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Workers scripts: list, upload (multipart), download (raw), delete. Settings live in
// workers_settings.go and workers_bindings.go, cron triggers in workers_cron.go.

const (
	workersCodeNotFound = 10007
	workersMsgNotFound  = "workers.api.error.script_not_found"
	// Unknown upstream: Cloudflare publishes no code for a rejected upload, setting or cron
	// list; 10021 is the code script validation failures are commonly reported with, so
	// every 400 of this family uses it.
	workersCodeInvalid = 10021
	// Workers per account on the Paid plan (DOCS workers limits).
	workersMaxScripts = 500
	// Upload bodies larger than this are refused before parsing. Cloudflare's limit is
	// 10 MiB after compression; uncompressed sources may be larger, hence the margin.
	workersMaxUpload = 64 << 20
)

// workersState is the Workers family's part of the store.
type workersState struct {
	// Accounts maps account id → script name → script.
	Accounts map[string]map[string]*workersScript `json:"accounts"`
}

func (st *workersState) init() {
	if st.Accounts == nil {
		st.Accounts = map[string]map[string]*workersScript{}
	}
}

// workersScript is one uploaded Worker. Module contents are kept inline in the store
// (scripts are small) rather than in the shared content-addressed blob store, so that
// deleting a script can never remove bytes another family refers to.
type workersScript struct {
	Name       string            `json:"name"`
	CreatedOn  time.Time         `json:"created_on"`
	ModifiedOn time.Time         `json:"modified_on"`
	Etag       string            `json:"etag"`
	MainModule string            `json:"main_module,omitempty"` // module format: entry file name
	BodyPart   string            `json:"body_part,omitempty"`   // service-worker format: entry part
	Modules    []workersModule   `json:"modules"`
	Handlers   []string          `json:"handlers"`
	Settings   workersSettings   `json:"settings"`
	Crons      []workersCronItem `json:"crons"`
	// DeployedFrom is last_deployed_from: the client of the last upload. Cloudflare does
	// not document how it tells them apart; the emulator takes it from the User-Agent
	// ("wrangler/…" is "wrangler", anything else "api") and, with no word on whether a
	// settings or cron write counts as a deployment, leaves it alone on those.
	DeployedFrom string `json:"deployed_from,omitempty"`
}

type workersModule struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Content     []byte `json:"content"`
}

func (s *Server) routesWorkers() {
	const base = "/accounts/{account_id}/workers/scripts"
	s.handle("GET "+base, s.workersList)
	s.handle("PUT "+base+"/{script_name}", s.workersUpload)
	s.handle("GET "+base+"/{script_name}", s.workersDownload)
	s.handle("DELETE "+base+"/{script_name}", s.workersDelete)
	s.handle("GET "+base+"/{script_name}/settings", s.workersSettingsGet)
	s.handle("PATCH "+base+"/{script_name}/settings", s.workersSettingsPatch)
	s.handle("GET "+base+"/{script_name}/script-settings", s.workersScriptSettingsGet)
	s.handle("PATCH "+base+"/{script_name}/script-settings", s.workersScriptSettingsPatch)
	s.handle("GET "+base+"/{script_name}/schedules", s.workersCronGet)
	s.handle("PUT "+base+"/{script_name}/schedules", s.workersCronPut)
}

// workersScriptFor returns the script named in the path, or answers 404 (code 10007) and
// returns nil. The caller holds s.mu.
func (s *Server) workersScriptFor(w http.ResponseWriter, r *http.Request) *workersScript {
	sc := s.st.Workers.Accounts[r.PathValue("account_id")][r.PathValue("script_name")]
	if sc == nil {
		writeError(w, http.StatusNotFound, workersCodeNotFound, workersMsgNotFound)
	}
	return sc
}

// view is a script as the list and upload answers show it (GO ScriptListResponse).
func (sc *workersScript) view() map[string]any {
	return map[string]any{
		"id":                  sc.Name,
		"created_on":          timestamp(sc.CreatedOn),
		"modified_on":         timestamp(sc.ModifiedOn),
		"etag":                sc.Etag,
		"handlers":            workersNonNil(sc.Handlers),
		"has_assets":          false,
		"has_modules":         sc.MainModule != "",
		"last_deployed_from":  sc.deployedFrom(),
		"compatibility_date":  sc.Settings.CompatibilityDate,
		"compatibility_flags": workersNonNil(sc.Settings.CompatibilityFlags),
		"logpush":             sc.Settings.Logpush,
		"tags":                workersNonNil(sc.Settings.Tags),
		"tail_consumers":      workersNonNil(sc.Settings.TailConsumers),
		"usage_model":         sc.Settings.usageModel(),
	}
}

func workersNonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

func (s *Server) workersList(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	scripts := s.st.Workers.Accounts[r.PathValue("account_id")]
	names := make([]string, 0, len(scripts))
	for name := range scripts {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make([]map[string]any, 0, len(names))
	for _, name := range names {
		out = append(out, scripts[name].view())
	}
	writeResult(w, out)
}

// workersNameRe is the script name rule: lowercase alphanumerics, '-' and '_', ≤ 63 chars.
var workersNameRe = regexp.MustCompile(`^[a-z0-9_-]{1,63}$`)

// workersUpload creates or replaces a script. The version-level fields of the metadata
// (bindings, compatibility date and flags, limits, placement) replace the previous ones,
// as every upload is a new version; script-level fields (logpush, observability, tags,
// tail_consumers, usage_model) merge like PATCH /settings: present replaces, absent keeps.
func (s *Server) workersUpload(w http.ResponseWriter, r *http.Request) {
	acct, name := r.PathValue("account_id"), r.PathValue("script_name")
	if !workersNameRe.MatchString(name) {
		writeError(w, http.StatusBadRequest, workersCodeInvalid,
			"script name must be 1-63 characters of lowercase letters, digits, '-' and '_'")
		return
	}
	up, err := workersParseUpload(w, r)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, workersCodeInvalid, fmt.Sprintf("upload exceeds %d bytes", workersMaxUpload))
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, workersCodeInvalid, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	scripts := s.st.Workers.Accounts[acct]
	if scripts == nil {
		scripts = map[string]*workersScript{}
		s.st.Workers.Accounts[acct] = scripts
	}
	old := scripts[name]
	if old == nil && len(scripts) >= workersMaxScripts {
		writeError(w, http.StatusBadRequest, workersCodeInvalid,
			fmt.Sprintf("you have exceeded the limit of %d Workers per account", workersMaxScripts))
		return
	}
	sc := &workersScript{Name: name, CreatedOn: now}
	if old != nil {
		sc.CreatedOn, sc.Settings, sc.Crons = old.CreatedOn, old.Settings, old.Crons
	}
	strict := r.URL.Query().Get("bindings_inherit") == "strict"
	if err := sc.Settings.applyUpload(up.meta, now, strict); err != nil {
		writeError(w, http.StatusBadRequest, workersCodeInvalid, err.Error())
		return
	}
	sc.ModifiedOn, sc.MainModule, sc.BodyPart, sc.Modules = now, up.mainModule, up.bodyPart, up.modules
	sc.DeployedFrom = "api"
	if strings.HasPrefix(strings.ToLower(r.UserAgent()), "wrangler") {
		sc.DeployedFrom = "wrangler"
	}
	sc.Etag, sc.Handlers = workersEtag(up.modules), workersHandlers(sc.entry())
	scripts[name] = sc
	v := sc.view()
	v["startup_time_ms"] = 0
	writeResult(w, v)
}

func (sc *workersScript) deployedFrom() string {
	if sc.DeployedFrom == "" {
		return "api" // stored before the field existed
	}
	return sc.DeployedFrom
}

// entry returns the module the script starts from.
func (sc *workersScript) entry() *workersModule {
	want := sc.MainModule
	if want == "" {
		want = sc.BodyPart
	}
	for i := range sc.Modules {
		if sc.Modules[i].Name == want {
			return &sc.Modules[i]
		}
	}
	return nil
}

// workersUploadBody is a parsed upload: the metadata fields and the module parts.
type workersUploadBody struct {
	meta       map[string]json.RawMessage
	mainModule string
	bodyPart   string
	modules    []workersModule
}

// workersParseUpload reads the multipart upload: one `metadata` part (JSON) and module
// parts. Modules are named by their file name (the SDK sends every module as a part named
// `files`), or by the part name when there is no file name. A plain JavaScript body
// (Content-Type application/javascript) is the legacy service-worker upload.
func workersParseUpload(w http.ResponseWriter, r *http.Request) (*workersUploadBody, error) {
	r.Body = http.MaxBytesReader(w, r.Body, workersMaxUpload)
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType == "application/javascript" || mediaType == "text/javascript" {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, fmt.Errorf("cannot read script body: %w", err)
		}
		return &workersUploadBody{meta: map[string]json.RawMessage{}, bodyPart: "script",
			modules: []workersModule{{Name: "script", ContentType: mediaType, Content: b}}}, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, fmt.Errorf("upload must be multipart/form-data: %w", err)
	}
	up := &workersUploadBody{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("malformed multipart body: %w", err)
		}
		if err := up.addPart(p); err != nil {
			return nil, err
		}
	}
	return up, up.check()
}

func (up *workersUploadBody) addPart(p *multipart.Part) error {
	b, err := io.ReadAll(p)
	if err != nil {
		return fmt.Errorf("cannot read part %q: %w", p.FormName(), err)
	}
	if p.FormName() == "metadata" {
		if err := json.Unmarshal(b, &up.meta); err != nil {
			return fmt.Errorf("metadata part is not a JSON object: %w", err)
		}
		return nil
	}
	name := p.FileName()
	if name == "" {
		name = p.FormName()
	}
	if slices.ContainsFunc(up.modules, func(m workersModule) bool { return m.Name == name }) {
		return fmt.Errorf("module %q is uploaded twice", name)
	}
	ct := p.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/javascript"
	}
	up.modules = append(up.modules, workersModule{Name: name, ContentType: ct, Content: b})
	return nil
}

// check validates that the metadata names an uploaded entry point.
func (up *workersUploadBody) check() error {
	if up.meta == nil {
		return fmt.Errorf("multipart upload needs a `metadata` part")
	}
	for field, dst := range map[string]*string{"main_module": &up.mainModule, "body_part": &up.bodyPart} {
		if raw, ok := up.meta[field]; ok {
			if err := json.Unmarshal(raw, dst); err != nil {
				return fmt.Errorf("metadata.%s must be a string", field)
			}
		}
	}
	entry := up.mainModule
	switch {
	case up.mainModule != "" && up.bodyPart != "":
		return fmt.Errorf("metadata may name main_module or body_part, not both")
	case entry == "":
		entry = up.bodyPart
	}
	if entry == "" {
		return fmt.Errorf("metadata must name the entry point in main_module (modules) or body_part (service worker)")
	}
	if !slices.ContainsFunc(up.modules, func(m workersModule) bool { return m.Name == entry }) {
		return fmt.Errorf("no such module %q: the entry point must be one of the uploaded parts", entry)
	}
	return nil
}

func workersEtag(mods []workersModule) string {
	h := sha256.New()
	for _, m := range mods {
		fmt.Fprintf(h, "%s\x00%d\x00", m.Name, len(m.Content))
		h.Write(m.Content)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// workersHandlerRe finds handler methods of the default export. Heuristic: the emulator
// does not run JavaScript, so it reports the handler names that appear as methods.
var workersHandlerRe = regexp.MustCompile(`\b(fetch|scheduled|queue|tail|email|trace)\s*\(`)

func workersHandlers(m *workersModule) []string {
	if m == nil {
		return []string{}
	}
	seen := map[string]bool{}
	out := []string{}
	for _, match := range workersHandlerRe.FindAllSubmatch(m.Content, -1) {
		if h := string(match[1]); !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	sort.Strings(out)
	return out
}

// workersDownload answers the script content, not enveloped: the raw entry script for a
// service-worker script, and multipart/form-data with every module for a module script
// (what wrangler's --from-dash download parses).
func (s *Server) workersDownload(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.workersScriptFor(w, r)
	if sc == nil {
		return
	}
	if sc.MainModule == "" {
		m := sc.entry()
		w.Header().Set("Content-Type", m.ContentType)
		_, _ = w.Write(m.Content) // a failed write means the client went away
		return
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, m := range sc.Modules {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, m.Name, m.Name))
		h.Set("Content-Type", m.ContentType)
		pw, _ := mw.CreatePart(h) // writes to a bytes.Buffer cannot fail
		_, _ = pw.Write(m.Content)
	}
	_ = mw.Close()
	w.Header().Set("Content-Type", mw.FormDataContentType())
	_, _ = w.Write(buf.Bytes())
}

// workersDelete removes a script with its settings and cron triggers. The answer has a
// null result, as Cloudflare's "no response body on a successful delete" envelope.
func (s *Server) workersDelete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.workersScriptFor(w, r) == nil {
		return
	}
	delete(s.st.Workers.Accounts[r.PathValue("account_id")], r.PathValue("script_name"))
	writeResult(w, nil)
}
