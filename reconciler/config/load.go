// Package config loads the flareops language: every *.flareops.hcl file of a directory, with
// its variables, locals, settings (the flareops block) and one block per managed object,
// into blocks decoded by each kind's schema and sorted so that every block comes after the
// blocks it refers to.
//
// Loading runs in phases, each on the results of the one before: check every source against
// the limits on size and nesting (limits.go), so that no input can overflow the parser's
// stack; parse every file; collect
// declarations (variables, locals, settings, kind blocks, checked against their schemas); give every
// variable its value; resolve the references of every local and block into a dependency graph;
// sort the graph topologically (cycles are reported with their path); evaluate in that order.
// Diagnostics accumulate across blocks, but nothing is evaluated when something it refers to
// has failed, so one mistake is reported once.
//
// Expressions may call a small set of functions: lower, upper, trimspace, trimprefix,
// trimsuffix, replace, join, split, substr, concat, length, contains, lookup, merge, coalesce,
// min, max, tostring, tonumber and tobool.
package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/monotask/flareops/reconciler"
)

// FileSuffix names the files Load reads, so a configuration can sit beside *.tf files.
const FileSuffix = ".flareops.hcl"

// KindSchema is what the loader needs to know about a kind.
type KindSchema struct {
	Name    string // block type, e.g. "queue"
	Schema  reconciler.BlockSchema
	KeyAttr string // attribute whose value must be unique per kind, e.g. "name"
	// RefName, when set, is what a reference to a block of the kind resolves to (see
	// reconciler.RefNamer); otherwise a reference resolves to the KeyAttr value.
	RefName func(reconciler.Values) string
}

// Options are the kinds the language accepts and the values given to its variables.
type Options struct {
	Kinds    []KindSchema
	Vars     map[string]string // -var k=v, raw text; parsed as an HCL expression unless the variable is a string
	VarFiles []string          // -var-file paths, HCL syntax (k = value), later files win
	Env      []string          // environment, e.g. os.Environ(); FLAREOPS_VAR_<name>=value
	// Evaluating, when set, is kept pointing at the declaration being evaluated, for a
	// caller that watches the load (the CLI stops one whose memory grows without bound and
	// names the place).
	Evaluating *atomic.Pointer[hcl.Range]
}

// Config is a loaded configuration. Load and LoadFiles always return one, so that Files can
// render the diagnostics; when the diagnostics have errors, Blocks and Settings are empty
// and Hash is "".
type Config struct {
	Dir       string
	Blocks    []Block              // dependency order (dependencies first), ties by address
	Variables []Variable           // sorted by name
	Settings  Settings             // the flareops block; zero when there is none
	Files     map[string]*hcl.File // for rendering diagnostics
	Hash      string               // sha256 over the decoded blocks, settings and variable values

	ranges map[string][]attrRange // by block address, for AttrRanges
}

// Block is one decoded kind block.
type Block struct {
	Kind, Name     string // "queue", "agent_jobs"
	Values         reconciler.Values
	Deps           []string // addresses of the blocks this block refers to, also through locals; sorted, unique
	PreventDestroy bool
	// Sensitive lists the attribute paths ("name", "consumer.0.worker") whose values derive
	// from a sensitive variable; they must never be printed.
	Sensitive []string
	// Spelling keeps durations as the user wrote them, so that output can show "60s" where
	// the user wrote "60s", not the canonical "1m". It maps "<attribute>=<canonical>" to
	// the user's text, e.g. "max_wait=1m" → "60s", for every Duration attribute whose value
	// is a string (written in the block or coming from a variable or local), also in nested
	// blocks, which use the attribute's plain name ("max_wait", not "consumer.0.max_wait").
	// <canonical> is reconciler.FormatDuration of the value in the attribute's unit: the
	// text the plan renders for it. When two spellings share a key the first in the block
	// wins. A spelling that is the canonical text ("1d" for a day) is not kept: the plan
	// renders it so anyway. Values of sensitive attributes are not kept. nil when there is
	// none.
	Spelling  map[string]string
	DeclRange hcl.Range
}

// Address returns the block's address, e.g. "queue.agent_jobs".
func (b Block) Address() string { return b.Kind + "." + b.Name }

// Variable is a declared variable and the value it was given.
type Variable struct {
	Name        string
	Type        cty.Type
	Value       cty.Value // never marked; see Sensitive
	Sensitive   bool
	Description string
	DeclRange   hcl.Range
}

// Block returns the block with the given address.
func (c *Config) Block(addr string) (Block, bool) {
	for _, b := range c.Blocks {
		if b.Address() == addr {
			return b, true
		}
	}
	return Block{}, false
}

// Load reads every *.flareops.hcl file in dir (not *.tf files, not subdirectories) in name order.
// A directory without any such file is an error: an empty configuration would plan to delete
// everything flareops manages.
func Load(dir string, opts Options) (*Config, hcl.Diagnostics) {
	names, err := configFiles(dir)
	if err != nil {
		return &Config{Dir: dir, Files: map[string]*hcl.File{}}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read the configuration directory",
			Detail:   fmt.Sprintf("%v. Pass the directory that holds the *%s files with -dir.", err, FileSuffix),
		}}
	}
	if len(names) == 0 {
		return &Config{Dir: dir, Files: map[string]*hcl.File{}}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "No configuration files",
			Detail:   fmt.Sprintf("%s contains no *%s files. Run flareops in the directory that holds the configuration, or pass -dir.", dir, FileSuffix),
		}}
	}
	files := make(map[string][]byte, len(names))
	var diags hcl.Diagnostics
	for _, name := range names {
		src, err := os.ReadFile(name)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot read a configuration file",
				Detail:   fmt.Sprintf("%v. Check that the file is readable.", err),
			})
			continue
		}
		files[name] = src
	}
	if diags.HasErrors() {
		return &Config{Dir: dir, Files: map[string]*hcl.File{}}, diags
	}
	cfg, more := LoadFiles(files, opts)
	cfg.Dir = dir
	return cfg, append(diags, more...)
}

// configFiles lists the configuration files of dir as paths joined to dir, sorted by name.
// Hidden files and editor lock files (".#x", "#x#") are skipped.
func configFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, FileSuffix) || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "#") {
			continue
		}
		path := filepath.Join(dir, name)
		info, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		if info.IsDir() {
			continue
		}
		names = append(names, path)
	}
	sort.Strings(names)
	return names, nil
}

// LoadFiles loads a configuration from memory: file name → source. It is Load without the
// directory, for tests and fuzzing; every file is read whatever its name.
func LoadFiles(files map[string][]byte, opts Options) (*Config, hcl.Diagnostics) {
	l := newLoader(opts)
	cfg := &Config{Files: l.files}
	func() {
		defer func() {
			if r := recover(); r != nil {
				l.diags = append(l.diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  internalErrorSummary,
					Detail:   fmt.Sprintf("%v. This is a bug in flareops: please report it with the configuration that caused it.", r),
				})
			}
		}()
		l.load(files, cfg)
	}()
	diags := sortDiagnostics(l.diags)
	if diags.HasErrors() {
		cfg.Blocks, cfg.Settings, cfg.Hash = nil, Settings{}, ""
	}
	compactFiles(cfg.Files)
	return cfg, diags
}

// internalErrorSummary marks a diagnostic made from a recovered panic; the fuzz test fails on it.
const internalErrorSummary = "Internal error in the configuration loader"

// loader holds the state of one load.
type loader struct {
	opts  Options
	kinds map[string]*KindSchema
	files map[string]*hcl.File
	diags hcl.Diagnostics

	vars     map[string]*variable
	varNames []string  // declaration order
	varObj   cty.Value // the "var" object: every variable that has a valid value

	nodes    map[string]*node
	locals   []*node  // declaration order
	blocks   []*node  // declaration order
	settings *node    // the flareops block, if any
	backend  *Backend // its backend block, if any (settings.go)
}

func newLoader(opts Options) *loader {
	return &loader{
		opts:  opts,
		kinds: map[string]*KindSchema{},
		files: map[string]*hcl.File{},
		vars:  map[string]*variable{},
		nodes: map[string]*node{},
	}
}

func (l *loader) load(srcs map[string][]byte, cfg *Config) {
	if !l.checkKinds() {
		return
	}
	names := make([]string, 0, len(srcs))
	for name := range srcs {
		names = append(names, name)
	}
	sort.Strings(names)
	// Each file is parsed, its blocks collected, and its syntax tree dropped (what
	// evaluation needs of it is in the collected declarations) before the next is parsed:
	// a large configuration's trees are never all in memory at once. What collecting says
	// is kept apart and reported only when every file parsed: a file with syntax errors is
	// only partly read, and what follows would report its missing parts as errors of their
	// own.
	var collected hcl.Diagnostics
	for _, name := range names {
		if d := checkLimits(srcs[name], name, hcl.InitialPos); d != nil {
			l.diags = append(l.diags, d)
			l.files[name] = &hcl.File{Bytes: srcs[name]}
			continue
		}
		f, diags := hclsyntax.ParseConfig(srcs[name], name, hcl.InitialPos)
		l.diags = append(l.diags, diags...)
		if f == nil {
			continue
		}
		if !l.diags.HasErrors() {
			parseDiags := l.diags
			l.diags = collected
			l.collect(f)
			collected, l.diags = l.diags, parseDiags
		}
		l.files[name] = compactFile(f)
	}
	if l.diags.HasErrors() {
		return
	}
	l.diags = append(l.diags, collected...)
	l.resolveVariables()
	cfg.Variables = l.variables()
	order := l.buildGraph()
	l.evaluate(order)
	l.checkKeys()
	cfg.Blocks = l.sortedBlocks()
	cfg.ranges = map[string][]attrRange{}
	for addr, n := range l.nodes {
		if n.decl != nil {
			n.release()
			cfg.ranges[addr] = n.ranges
		}
	}
	cfg.Settings = l.settingsOf()
	if !l.diags.HasErrors() {
		cfg.Hash = configHash(cfg)
	}
}

// sortedBlocks returns the evaluated blocks, dependencies first and ties by address.
func (l *loader) sortedBlocks() []Block {
	byAddr := map[string]*node{}
	var addrs []string
	for _, n := range l.blocks {
		if n.ok {
			byAddr[n.addr] = n
			addrs = append(addrs, n.addr)
		}
	}
	order, _ := topoSort(addrs, func(addr string) []string {
		var deps []string
		for _, d := range byAddr[addr].kindDeps {
			if byAddr[d] != nil {
				deps = append(deps, d)
			}
		}
		return deps
	})
	blocks := make([]Block, 0, len(order))
	for _, addr := range order {
		n := byAddr[addr]
		blocks = append(blocks, Block{
			Kind:           n.kind,
			Name:           n.name,
			Values:         n.values,
			Deps:           n.kindDeps,
			PreventDestroy: n.preventDestroy,
			Sensitive:      n.sensitive,
			Spelling:       n.spelling,
			DeclRange:      n.declRange,
		})
	}
	return blocks
}

// configHash is a sha256 over a canonical encoding of what the configuration declares: the
// blocks in order with their values and dependencies, the settings, and the variable
// values. Source positions are left out, so moving a block to another file keeps the hash;
// a configuration without settings hashes as it did before the settings block existed.
func configHash(cfg *Config) string {
	type hashBlock struct {
		Address        string
		Values         reconciler.Values
		Deps           []string
		PreventDestroy bool
	}
	type hashVar struct {
		Name  string
		Value json.RawMessage
	}
	var doc struct {
		Blocks   []hashBlock
		Settings *reconciler.Settings `json:",omitempty"`
		Vars     []hashVar
	}
	if s := cfg.Settings.Engine(); s != (reconciler.Settings{}) {
		doc.Settings = &s
	}
	for _, b := range cfg.Blocks {
		doc.Blocks = append(doc.Blocks, hashBlock{b.Address(), b.Values, b.Deps, b.PreventDestroy})
	}
	for _, v := range cfg.Variables {
		raw, err := ctyjson.Marshal(v.Value, cty.DynamicPseudoType)
		if err != nil {
			raw, _ = json.Marshal(err.Error())
		}
		doc.Vars = append(doc.Vars, hashVar{v.Name, raw})
	}
	// encoding/json sorts map keys, so equal configurations encode equally.
	buf, err := json.Marshal(doc)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:])
}

// AttrRanges says where each attribute of the block at addr is written, by path:
// "objective", "dataset_ratio.good" (a nested block's attributes under its type, the
// first block of a type only), so that a kind's error about one attribute points at it.
// nil when there is no such block.
func (c *Config) AttrRanges(addr string) map[string]hcl.Range {
	rs, ok := c.ranges[addr]
	if !ok {
		return nil
	}
	out := make(map[string]hcl.Range, len(rs))
	for _, r := range rs {
		out[r.path] = r.rng
	}
	return out
}
