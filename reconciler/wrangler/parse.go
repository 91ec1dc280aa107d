// Package wrangler reads the configuration files of wrangler, the tool teams deploy their
// Workers with (wrangler.toml, wrangler.json, wrangler.jsonc), into what each file puts on
// which Worker: bindings, cron triggers, queue consumers and settings, each with its file
// and line. It knows nothing of flareops's language; the CLI compares these declarations
// with the engine's claims.
package wrangler

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// FileNames are the files wrangler looks for in a directory, in its order of preference.
var FileNames = []string{"wrangler.json", "wrangler.jsonc", "wrangler.toml"}

// Pos is a line of a wrangler file.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Error is a wrangler file that cannot be read as wrangler reads it.
type Error struct {
	Pos Pos
	Col int // 0 when unknown
	Msg string
}

func (e *Error) Error() string {
	if e.Col > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Pos, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Pos, e.Msg)
}

// Kind is what a declaration puts on a Worker.
type Kind int

const (
	Binding       Kind = iota + 1 // Name is the binding's JS name (bindings of every type share one namespace)
	Cron                          // Name is the cron expression, as written
	QueueConsumer                 // Name is the name of the queue the Worker consumes
	Setting                       // Name is the setting: "cpu_ms" (of [limits]) or "observability"
)

// Declaration is one thing a wrangler file puts on a Worker when it is deployed.
type Declaration struct {
	Kind Kind
	Name string
	// Key is where wrangler's language puts it: "kv_namespaces", "triggers.crons",
	// "queues.consumers", "limits.cpu_ms", "vars".
	Key string
	Pos Pos
	// Inherited marks an environment's declaration that it takes from the top level:
	// triggers, limits and observability are inherited unless the environment sets them;
	// bindings and queues never are.
	Inherited bool
}

// Worker is one Worker a wrangler file deploys: the top level, or one environment.
type Worker struct {
	Name         string // the script name
	Env          string // "" for the top level
	Pos          Pos    // where the name comes from
	Declarations []Declaration
}

// Config is what one wrangler file deploys.
type Config struct {
	Path    string
	Workers []Worker // the top level first, then the environments in file order
}

// Load reads the wrangler file at path, or the one in the directory path.
func Load(path string) (*Config, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no such wrangler file or directory", path)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	if fi.IsDir() {
		if path, err = find(path); err != nil {
			return nil, err
		}
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	return Parse(path, src)
}

// find picks the wrangler file of dir. Where there are several, wrangler takes the first
// and warns; here the choice is left to the user, since the others would go unchecked.
func find(dir string) (string, error) {
	var found []string
	for _, name := range FileNames {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("%s: no wrangler file in this directory (%s)", dir, strings.Join(FileNames, ", "))
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("%s: several wrangler files (%s): name the one wrangler deploys with, e.g. -wrangler %s", dir, strings.Join(found, ", "), found[0])
}

// Parse reads src, the contents of the wrangler file path, in the format its name says:
// .toml, or .json and .jsonc (both with comments and trailing commas, as wrangler reads them).
func Parse(path string, src []byte) (*Config, error) {
	var root *node
	var err error
	r := reader{path: path}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".toml":
		r.table = "table"
		root, err = parseTOML(path, src)
	case ".json", ".jsonc":
		r.table = "object"
		root, err = parseJSONC(path, src)
	default:
		return nil, fmt.Errorf("%s: not a wrangler file: its name must end in .toml, .json or .jsonc", path)
	}
	if err != nil {
		return nil, err
	}
	return r.config(root)
}

// reader turns the tree of a wrangler file into the Workers it deploys.
type reader struct {
	path  string
	table string // what the format calls a table: "table" or "object"
	env   string // the environment being read, for messages
}

// at is key as the user finds it in the file: "env.production.kv_namespaces".
func (r reader) at(key string) string {
	if r.env == "" {
		return key
	}
	return "env." + r.env + "." + key
}

func (r reader) errorf(line int, format string, args ...any) error {
	return &Error{Pos: Pos{File: r.path, Line: line}, Msg: fmt.Sprintf(format, args...)}
}

// inheritable are the sections an environment takes from the top level unless it sets
// them (wrangler's "inheritable keys" that put something on a Worker).
var inheritable = []string{"triggers", "limits", "observability"}

func (r reader) config(root *node) (*Config, error) {
	if root.kind != objectNode {
		return nil, r.errorf(root.line, "the file must be %s, not %s", r.aTable(), root.describe(r.aTable()))
	}
	name, err := r.str(root, "name")
	if err != nil {
		return nil, err
	}
	if name == nil {
		return nil, r.errorf(1, "no top-level name: wrangler needs it to deploy, and it names the Worker (environments deploy <name>-<env>)")
	}
	top := Worker{Name: name.val.str, Pos: r.pos(name.line)}
	if top.Declarations, err = r.declarations(root); err != nil {
		return nil, err
	}
	cfg := &Config{Path: r.path, Workers: []Worker{top}}
	envs, err := r.object(root, "env")
	if err != nil || envs == nil {
		return cfg, err
	}
	for _, m := range envs.members {
		if m.val.kind != objectNode {
			return nil, r.errorf(m.line, "env.%s must be %s, not %s", m.key, r.aTable(), m.val.describe(r.aTable()))
		}
		w, err := r.envWorker(top, m)
		if err != nil {
			return nil, err
		}
		cfg.Workers = append(cfg.Workers, w)
	}
	return cfg, nil
}

// envWorker is the Worker of one environment: named <name>-<env> unless it sets its own name.
func (r reader) envWorker(top Worker, m member) (Worker, error) {
	r.env = m.key
	w := Worker{Name: top.Name + "-" + m.key, Env: m.key, Pos: r.pos(m.line)}
	name, err := r.str(m.val, "name")
	if err != nil {
		return w, err
	}
	if name != nil {
		w.Name, w.Pos = name.val.str, r.pos(name.line)
	}
	if w.Declarations, err = r.declarations(m.val); err != nil {
		return w, err
	}
	for _, section := range inheritable {
		if m.val.member(section) != nil {
			continue
		}
		for _, d := range top.Declarations {
			if strings.Split(d.Key, ".")[0] == section {
				d.Inherited = true
				w.Declarations = append(w.Declarations, d)
			}
		}
	}
	return w, nil
}

func (r reader) pos(line int) Pos { return Pos{File: r.path, Line: line} }

// aTable is how the format names a table, with its article.
func (r reader) aTable() string {
	if r.table == "object" {
		return "an object"
	}
	return "a table"
}
