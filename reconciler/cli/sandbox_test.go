package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

const opsBlock = "flareops {\n  ops_kv_namespace = \"monotask-ops\"\n}\n\n"

// sandboxSource is a sandbox block with body lines replaced by lines (attribute → line;
// "" drops it).
func sandboxSource(label string, lines map[string]string) string {
	body := []struct{ attr, line string }{
		{"name", ""},
		{"worker", `worker            = "w"`},
		{"cpu_ms", `cpu_ms            = 300000`},
		{"cleanup_every", `cleanup_every     = "5m"`},
		{"execution_timeout", `execution_timeout = "30m"`},
		{"idle_timeout", `idle_timeout      = "10m"`},
		{"container", "container {\n    application   = \"sandbox-app\"\n    instance_type = \"standard-1\"\n    max_instances = 20\n  }"},
	}
	src := "sandbox \"" + label + "\" {\n"
	for _, b := range body {
		line := b.line
		if l, ok := lines[b.attr]; ok {
			line = l
		}
		if line != "" {
			src += "  " + line + "\n"
		}
	}
	return src + "}\n"
}

// TestSandboxBadInput: every mistake exits 1 in validate and plan, with the file, line and
// column of what is wrong and what to write instead. The diagnostics are pinned by
// testdata/sandbox_invalid.golden.
func TestSandboxBadInput(t *testing.T) {
	container := func(lines ...string) string {
		return "container {\n    application = \"sandbox-app\"\n    " + strings.Join(lines, "\n    ") + "\n  }"
	}
	cases := []struct {
		name, src string
		where     string // the file:line:col the diagnostic must point at
	}{
		{"cleanup_every 7m", opsBlock + sandboxSource("agent", map[string]string{"cleanup_every": `cleanup_every     = "7m"`}), "main.flareops.hcl:8:23"},
		{"cleanup_every 90s", opsBlock + sandboxSource("agent", map[string]string{"cleanup_every": `cleanup_every     = "90s"`}), "main.flareops.hcl:8:23"},
		{"cpu_ms 0", opsBlock + sandboxSource("agent", map[string]string{"cpu_ms": `cpu_ms            = 0`}), "main.flareops.hcl:7:23"},
		{"bad instance type", opsBlock + sandboxSource("agent", map[string]string{"container": container(`instance_type = "standard-9"`)}), "main.flareops.hcl:13:21"},
		{"vcpu without memory_mib", opsBlock + sandboxSource("agent", map[string]string{"container": container(`vcpu = 2`)}), "main.flareops.hcl:5:1"},
		{"too little memory per vcpu", opsBlock + sandboxSource("agent", map[string]string{"container": container(`vcpu = 2`, `memory_mib = 4096`)}), "main.flareops.hcl:5:1"},
		{"instance type and vcpu", opsBlock + sandboxSource("agent", map[string]string{"container": container(`instance_type = "basic"`, `vcpu = 1`, `memory_mib = 4096`)}), "main.flareops.hcl:5:1"},
		{"no flareops block", sandboxSource("agent", nil), "main.flareops.hcl:1:1"},
		{"same cron on one Worker", opsBlock + sandboxSource("one", map[string]string{"name": `name = "one"`, "cpu_ms": ""}) + sandboxSource("two", map[string]string{"name": `name = "two"`, "cpu_ms": ""}), "main.flareops.hcl:17:1"},
		{"cpu_ms twice on one Worker", opsBlock + sandboxSource("one", map[string]string{"name": `name = "one"`, "cleanup_every": ""}) + sandboxSource("two", map[string]string{"name": `name = "two"`, "cleanup_every": ""}), "main.flareops.hcl:17:1"},
		{"two unnamed sandboxes on one Worker", opsBlock + sandboxSource("one", map[string]string{"cpu_ms": "", "cleanup_every": ""}) + sandboxSource("two", map[string]string{"cpu_ms": "", "cleanup_every": ""}), "main.flareops.hcl:15:1"},
	}
	var golden strings.Builder
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, cmd := range []string{"validate", "plan"} {
				code, _, errOut := run(t, map[string]string{}, cmd, "-dir", dir)
				if code != 1 {
					t.Fatalf("%s: exit %d, want 1\n%s", cmd, code, errOut)
				}
				if !strings.Contains(errOut, tc.where) {
					t.Errorf("%s: the diagnostic is not at %s:\n%s", cmd, tc.where, errOut)
				}
				if cmd == "validate" {
					golden.WriteString("== " + tc.name + "\n" + strings.ReplaceAll(errOut, dir+string(filepath.Separator), "") + "\n")
				}
			}
		})
	}
	checkGoldenText(t, "sandbox_invalid.golden", golden.String())
}

func checkGoldenText(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != got {
		t.Errorf("%s differs; run go test -update to see how. Got:\n%s", path, got)
	}
}

// TestSandboxPlanApply: on an account whose Worker has crons of its own, plan says which
// cron is added and how many are kept; after apply a second plan is empty, also after the
// sandbox is imported again; destroy leaves the Worker's own crons.
func TestSandboxPlanApply(t *testing.T) {
	a := newAccount(t, emulator.Options{})
	c := a.client(t)
	ctx := context.Background()
	if err := c.SetWorkerCrons(ctx, "w", []string{"0 * * * *", "30 2 * * *"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Raw().CreateApplication(ctx, LocalAccountID, cloudflare.ContainerApplicationSpec{
		Name: "sandbox-app", SchedulingPolicy: "default", MaxInstances: 5,
		Configuration: cloudflare.ContainerConfiguration{Image: "registry.cloudflare.com/monotask/sandbox:1", InstanceType: "basic"},
	}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(opsBlock+sandboxSource("agent", nil)), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, 2, a.env, "plan", "-detailed-exitcode", "-dir", dir)
	if !strings.Contains(out, "cron `*/5 * * * *` added to w; 2 other crons kept") {
		t.Errorf("plan does not say which cron is added and how many are kept:\n%s", out)
	}
	mustRun(t, 0, a.env, "apply", "-auto-approve", "-dir", dir)
	mustRun(t, 0, a.env, "plan", "-detailed-exitcode", "-dir", dir)
	crons, err := c.WorkerCrons(ctx, "w")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(crons, ",") != "0 * * * *,30 2 * * *,*/5 * * * *" {
		t.Errorf("crons after apply: %q", crons)
	}
	// Forgotten, then imported by its name: the plan is still empty.
	mustRun(t, 0, a.env, "state", "rm", "-dir", dir, "sandbox.agent")
	mustRun(t, 0, a.env, "import", "-dir", dir, "sandbox.agent", "w")
	mustRun(t, 0, a.env, "plan", "-detailed-exitcode", "-dir", dir)
	mustRun(t, 0, a.env, "destroy", "-auto-approve", "-dir", dir)
	if crons, _ = c.WorkerCrons(ctx, "w"); strings.Join(crons, ",") != "0 * * * *,30 2 * * *" {
		t.Errorf("crons after destroy: %q", crons)
	}
}
