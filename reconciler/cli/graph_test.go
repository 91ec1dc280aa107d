package cli

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// flareops graph of examples/monotask, as DOT with and without a plan and as SVG, pinned
// by golden files (-update rewrites them). The SVG is laid out by Graphviz in
// WebAssembly, slow to start: it is drawn once here.
func TestGraphExample(t *testing.T) {
	dir := "../../examples/monotask"
	tests := []struct {
		golden string
		args   []string
	}{
		{"graph/monotask.dot", []string{"-format", "dot"}},
		{"graph/monotask_plan.dot", []string{"-format=dot", "-plan", "testdata/graph/plan.json"}},
		{"graph/monotask.svg", nil}, // svg is the default
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			code, stdout, stderr := run(t, map[string]string{}, append([]string{"graph", "-dir", dir}, tt.args...)...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			if strings.HasSuffix(tt.golden, ".svg") {
				checkSVG(t, stdout)
			}
			cliGolden(t, tt.golden, stdout)
		})
	}
	dot := readGolden(t, "graph/monotask.dot")
	for _, edge := range []string{
		`"queue.agent_jobs" -> "queue.agent_jobs_dlq" [label="dead-letter queue"];`,
		`"queue.agent_jobs" -> "worker:agent-worker-staging" [label="consumer", style=dashed];`,
		`"analytics_dataset.tasks" -> "worker:task-worker-staging" [label="bound as TASK_METRICS", style=dashed];`,
		`"sandbox.agent" -> "containers_application:monotask-staging-sandbox" [label="sizes", style=dashed];`,
		`"worker_settings.api_gateway" -> "worker:api-gateway-staging" [label="settings of", style=dashed];`,
	} {
		if !strings.Contains(dot, edge) {
			t.Errorf("the graph lacks %s", edge)
		}
	}
	planned := readGolden(t, "graph/monotask_plan.dot")
	for _, s := range []string{
		`"queue.legacy_jobs" [label="queue.legacy_jobs\nmonotask-staging-legacy-jobs", fillcolor="#ffa8a8", style="rounded,filled,dashed"];`,
		`"queue.agent_jobs_dlq" [label="queue.agent_jobs_dlq\nmonotask-staging-agent-jobs-dlq", fillcolor="#b7e4c7"];`,
		`subgraph cluster_legend`,
	} {
		if !strings.Contains(planned, s) {
			t.Errorf("the graph with a plan lacks %s", s)
		}
	}
}

func TestGraphErrors(t *testing.T) {
	tmp := t.TempDir()
	notPlan := filepath.Join(tmp, "x.json")
	if err := os.WriteFile(notPlan, []byte(`{"x":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"bad format", []string{"-format", "png"}, `-format "png": use svg or dot`},
		{"not a plan", []string{"-plan", notPlan}, "is not a flareops plan file"},
		{"no plan file", []string{"-plan", filepath.Join(tmp, "nope")}, "cannot read the plan"},
		{"arguments", []string{"x"}, "graph takes no arguments"},
		{"invalid configuration", []string{"-dir", "testdata/validate_bad", "-format", "dot"}, "Unsupported argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, map[string]string{}, append([]string{"graph", "-dir", "../../examples/monotask"}, tt.args...)...)
			if code != 1 || stdout != "" || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and %q", code, stdout, stderr, tt.stderr)
			}
		})
	}
}

// Values of sensitive variables never appear in the graph.
func TestGraphMasksSecrets(t *testing.T) {
	dir := t.TempDir()
	src := `variable "tenant" {
  type      = string
  sensitive = true
  default   = "acme-secret-tenant"
}

queue "jobs" {
  name = "jobs"
  consumer {
    worker = "worker-${var.tenant}"
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, map[string]string{}, "graph", "-dir", dir, "-format", "dot")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Contains(stdout+stderr, "acme-secret-tenant") {
		t.Errorf("the secret is in the graph:\n%s", stdout)
	}
	if !strings.Contains(stdout, `"worker:(sensitive)"`) {
		t.Errorf("the consumer's Worker is not drawn masked:\n%s", stdout)
	}
}

// checkSVG: well-formed XML whose root is <svg>, referring to nothing outside itself (no
// DOCTYPE, no href or src, no url() but to its own #fragments, no <image>, no script).
func checkSVG(t *testing.T, svg string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(svg))
	root := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tk.Name.Local
			}
			switch tk.Name.Local {
			case "image", "script", "foreignObject", "use":
				t.Errorf("<%s> in the SVG", tk.Name.Local)
			}
			for _, a := range tk.Attr {
				if a.Name.Local == "href" || a.Name.Local == "src" {
					t.Errorf("%s=%q in the SVG", a.Name.Local, a.Value)
				}
			}
		case xml.Directive:
			t.Errorf("<!%s> in the SVG", tk)
		}
	}
	if root != "svg" {
		t.Errorf("the root element is %q, not svg", root)
	}
	if m := regexp.MustCompile(`url\((?:[^#)][^)]*)\)|@import`).FindString(svg); m != "" {
		t.Errorf("%s in the SVG", m)
	}
	for _, u := range regexp.MustCompile(`https?://[^"\s]+`).FindAllString(svg, -1) {
		if u != "http://www.w3.org/2000/svg" && u != "http://www.w3.org/1999/xlink" {
			t.Errorf("the SVG names %s", u)
		}
	}
	if !bytes.Contains([]byte(svg), []byte("queue.agent_jobs")) {
		t.Error("the SVG does not show queue.agent_jobs")
	}
}

func readGolden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
