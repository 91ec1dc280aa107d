package wrangler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// What each format's testdata file deploys, Worker by Worker, with the line of every
// declaration: the top level, environments named <name>-<env> or by their own name,
// bindings never inherited, triggers, limits and observability inherited unless set.
func TestLoad(t *testing.T) {
	at := func(file string) func(int) Pos {
		return func(line int) Pos { return Pos{File: file, Line: line} }
	}
	toml, json, jsonc := at("testdata/toml/wrangler.toml"), at("testdata/json/wrangler.json"), at("testdata/jsonc/wrangler.jsonc")
	inherited := func(d Declaration) Declaration { d.Inherited = true; return d }

	tomlCrons := []Declaration{
		{Kind: Cron, Name: "*/5 * * * *", Key: "triggers.crons", Pos: toml(8)},
		{Kind: Cron, Name: "0 3 * * *", Key: "triggers.crons", Pos: toml(9)},
	}
	tomlCPU := Declaration{Kind: Setting, Name: "cpu_ms", Key: "limits.cpu_ms", Pos: toml(13)}
	tomlObs := Declaration{Kind: Setting, Name: "observability", Key: "observability", Pos: toml(15)}
	jsonCron := Declaration{Kind: Cron, Name: "0 * * * *", Key: "triggers.crons", Pos: json(5)}
	jsoncCron := Declaration{Kind: Cron, Name: "*/5 * * * *", Key: "triggers.crons", Pos: jsonc(9)}

	tests := []struct {
		name, path string
		want       *Config
	}{
		{name: "toml", path: "testdata/toml/wrangler.toml", want: &Config{Path: "testdata/toml/wrangler.toml", Workers: []Worker{
			{Name: "task-worker", Pos: toml(1), Declarations: []Declaration{
				{Kind: Binding, Name: "TASK_METRICS", Key: "analytics_engine_datasets", Pos: toml(42)},
				{Kind: Binding, Name: "ROOMS", Key: "durable_objects.bindings", Pos: toml(4)},
				{Kind: Binding, Name: "CACHE", Key: "kv_namespaces", Pos: toml(25)},
				{Kind: Binding, Name: "JOBS", Key: "queues.producers", Pos: toml(30)},
				{Kind: Binding, Name: "AI", Key: "ai", Pos: toml(22)},
				{Kind: Binding, Name: "API_URL", Key: "vars", Pos: toml(19)},
				tomlCrons[0], tomlCrons[1],
				{Kind: QueueConsumer, Name: "monotask-jobs", Key: "queues.consumers", Pos: toml(33)},
				tomlCPU, tomlObs,
			}},
			{Name: "task-worker-production", Env: "production", Pos: toml(46), Declarations: []Declaration{
				{Kind: Binding, Name: "TASK_METRICS", Key: "analytics_engine_datasets", Pos: toml(53)},
				{Kind: QueueConsumer, Name: "monotask-prod-jobs", Key: "queues.consumers", Pos: toml(50)},
				inherited(tomlCrons[0]), inherited(tomlCrons[1]), inherited(tomlCPU), inherited(tomlObs),
			}},
			{Name: "task-worker-stg", Env: "staging", Pos: toml(57), Declarations: []Declaration{
				{Kind: Binding, Name: "MODE", Key: "vars", Pos: toml(58)},
				// crons = [] overrides the top level's: no cron here.
				inherited(tomlCPU), inherited(tomlObs),
			}},
		}}},
		{name: "json", path: "testdata/json/wrangler.json", want: &Config{Path: "testdata/json/wrangler.json", Workers: []Worker{
			{Name: "api-gateway", Pos: json(2), Declarations: []Declaration{
				{Kind: Binding, Name: "LOGS", Key: "r2_buckets", Pos: json(7)},
				{Kind: Binding, Name: "AUTH", Key: "services", Pos: json(9)},
				jsonCron,
			}},
			{Name: "api-gateway-prod", Env: "production", Pos: json(12), Declarations: []Declaration{
				{Kind: Binding, Name: "API_METRICS", Key: "analytics_engine_datasets", Pos: json(15)},
				{Kind: Setting, Name: "cpu_ms", Key: "limits.cpu_ms", Pos: json(13)},
				inherited(jsonCron),
			}},
		}}},
		{name: "jsonc", path: "testdata/jsonc/wrangler.jsonc", want: &Config{Path: "testdata/jsonc/wrangler.jsonc", Workers: []Worker{
			{Name: "agent-worker", Pos: jsonc(4), Declarations: []Declaration{
				jsoncCron,
				{Kind: QueueConsumer, Name: "monotask-agent-jobs", Key: "queues.consumers", Pos: jsonc(14)},
			}},
			{Name: "agent-worker-dev", Env: "dev", Pos: jsonc(21), Declarations: []Declaration{
				{Kind: Binding, Name: "DB", Key: "d1_databases", Pos: jsonc(23)},
				inherited(jsoncCron),
			}},
		}}},
		{name: "a directory means its wrangler file", path: "testdata/jsonc", want: &Config{Path: "testdata/jsonc/wrangler.jsonc", Workers: []Worker{
			{Name: "agent-worker", Pos: jsonc(4), Declarations: []Declaration{
				jsoncCron,
				{Kind: QueueConsumer, Name: "monotask-agent-jobs", Key: "queues.consumers", Pos: jsonc(14)},
			}},
			{Name: "agent-worker-dev", Env: "dev", Pos: jsonc(21), Declarations: []Declaration{
				{Kind: Binding, Name: "DB", Key: "d1_databases", Pos: jsonc(23)},
				inherited(jsoncCron),
			}},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Load(%s) (-want +got):\n%s", tt.path, d)
			}
		})
	}
}

// Files wrangler would refuse, or that say nothing flareops can check, are errors at
// file:line (and column, where the parser knows it) that say what is wrong.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, file, src, want string
	}{
		{"toml syntax", "wrangler.toml", "name = \"w\"\n[triggers\ncrons = []\n", `wrangler.toml:2:10: expected ']' to close table name`},
		{"toml key twice", "wrangler.toml", "name = \"w\"\nname = \"v\"\n", `wrangler.toml:2:1: key name is already defined`},
		{"toml table twice", "wrangler.toml", "name = \"w\"\n[limits]\ncpu_ms = 1\n[limits]\n", `wrangler.toml:4:`},
		{"jsonc syntax", "wrangler.jsonc", "{\n  \"name\": \"w\",\n  \"triggers\": {\"crons\": [\"* * * * *\"}\n}\n", `wrangler.jsonc:3:`},
		{"json key twice", "wrangler.json", "{\n  \"name\": \"w\",\n  \"name\": \"v\"\n}\n", `wrangler.json:3: duplicate key "name": keep one`},
		{"not an object", "wrangler.json", "[\n]\n", `wrangler.json:1: the file must be an object, not an array`},
		{"no name", "wrangler.toml", "main = \"src/index.ts\"\n", `wrangler.toml:1: no top-level name`},
		{"name not a string", "wrangler.toml", "name = 1\n", `wrangler.toml:1: name must be a string, not a number`},
		{"crons not a list", "wrangler.toml", "name = \"w\"\n[triggers]\ncrons = \"* * * * *\"\n", `wrangler.toml:3: triggers.crons must be an array of cron expressions, not a string`},
		{"cron not a string", "wrangler.json", "{\"name\": \"w\",\n\"triggers\": {\"crons\": [\n5]}}", `wrangler.json:3: triggers.crons[0] must be a string (a cron expression), not a number`},
		{"triggers not a table", "wrangler.toml", "name = \"w\"\ntriggers = 5\n", `wrangler.toml:2: triggers must be a table, not a number`},
		{"consumer without queue", "wrangler.toml", "name = \"w\"\n[env.production]\n[[env.production.queues.consumers]]\nmax_batch_size = 10\n", `wrangler.toml:3: env.production.queues.consumers[0]: queue is required`},
		{"queues not a table", "wrangler.json", "{\"name\": \"w\",\n\"queues\": []}", `wrangler.json:2: queues must be an object, not an array`},
		{"binding list not a list", "wrangler.toml", "name = \"w\"\n[kv_namespaces]\nbinding = \"KV\"\n", `wrangler.toml:2: kv_namespaces must be an array of tables, not a table`},
		{"binding missing", "wrangler.toml", "name = \"w\"\n[[r2_buckets]]\nbucket_name = \"b\"\n", `wrangler.toml:2: r2_buckets[0]: binding is required`},
		{"binding not a string", "wrangler.jsonc", "{\"name\": \"w\",\n\"kv_namespaces\": [{\n\"binding\": true}]}", `wrangler.jsonc:3: binding must be a string, not a boolean`},
		{"env not a table", "wrangler.toml", "name = \"w\"\n[env]\nproduction = \"yes\"\n", `wrangler.toml:3: env.production must be a table, not a string`},
		{"not a wrangler name", "wrangler.yaml", "name: w\n", `wrangler.yaml: not a wrangler file: its name must end in .toml, .json or .jsonc`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.file, []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse(%q) = nil error, want %q", tt.src, tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Parse error:\n  %s\nwant it to start with:\n  %s", err, tt.want)
			}
		})
	}
}

// A directory is read through its one wrangler file; none, or several, is an error that
// says what to pass instead.
func TestLoadDirectory(t *testing.T) {
	write := func(t *testing.T, names ...string) string {
		dir := t.TempDir()
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("name = \"w\"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	t.Run("none", func(t *testing.T) {
		dir := write(t, "package.json")
		_, err := Load(dir)
		if err == nil || !strings.Contains(err.Error(), "no wrangler file in this directory (wrangler.json, wrangler.jsonc, wrangler.toml)") {
			t.Errorf("Load(%s) = %v", dir, err)
		}
	})
	t.Run("several", func(t *testing.T) {
		dir := write(t, "wrangler.toml", "wrangler.json")
		_, err := Load(dir)
		want := "several wrangler files (" + filepath.Join(dir, "wrangler.json") + ", " + filepath.Join(dir, "wrangler.toml") + "): name the one wrangler deploys with"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load(%s) = %v, want %q", dir, err, want)
		}
	})
	t.Run("missing", func(t *testing.T) {
		_, err := Load(filepath.Join(t.TempDir(), "nope"))
		if err == nil || !strings.Contains(err.Error(), "no such wrangler file or directory") {
			t.Errorf("Load = %v", err)
		}
	})
}
