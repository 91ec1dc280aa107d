package provider

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler/cli"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

// benchT lets terraform-plugin-testing drive OpenTofu from a benchmark.
type benchT struct{ *testing.B }

func (benchT) Parallel() {}

// benchTarget is a fresh emulator with the consumers' Worker deployed (as on Cloudflare,
// a consumer needs its Worker), its counters zeroed.
func benchTarget(b *testing.B) *target {
	b.Helper()
	tg := newEmulatorTarget(b, emulator.Options{RateLimit: -1})
	c, err := cloudflare.New(cloudflare.Config{BaseURL: tg.baseURL, Token: "deploy-token", AccountID: tg.account})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.UploadScript(context.Background(), "bench-worker", "export default {};\n"); err != nil {
		b.Fatal(err)
	}
	tg.srv.ResetCounts()
	return tg
}

// cliQueues is queuesConfig in the CLI's language: the same n queues.
func cliQueues(n int) string {
	var b strings.Builder
	for i := 0; i < n/2; i++ {
		fmt.Fprintf(&b, `
queue "dlq_%[1]d" {
  name              = "bench-%[1]d-dlq"
  message_retention = "14d"
}

queue "q_%[1]d" {
  name = "bench-%[1]d"
  consumer {
    worker            = "bench-worker"
    max_retries       = 3
    dead_letter_queue = queue.dlq_%[1]d
  }
}
`, i)
	}
	return b.String()
}

// cliApplyRequests applies cliQueues(n) with the flareops CLI to a fresh emulator and
// returns the API requests it made.
func cliApplyRequests(b *testing.B, n int) emulator.Counts {
	b.Helper()
	tg := benchTarget(b)
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(cliQueues(n)), 0o644); err != nil {
		b.Fatal(err)
	}
	env := map[string]string{"CLOUDFLARE_BASE_URL": tg.baseURL, "CLOUDFLARE_API_TOKEN": tg.token, "CLOUDFLARE_ACCOUNT_ID": tg.account, "FLAREOPS_RATE_LIMIT": "1000000/1m"}
	var out, errOut bytes.Buffer
	code := cli.Main([]string{"apply", "-auto-approve", "-dir", dir}, cli.IO{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string { return env[k] }, Environ: func() []string { return nil },
	})
	if code != 0 {
		b.Fatalf("flareops apply: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	return tg.srv.Counts()
}

// tofuApplyRequests applies queuesConfig(n) with OpenTofu (plan and apply, as `tofu
// apply` does) to a fresh emulator and returns the API requests of the run, and those of
// the steady-state refreshing plan that follows.
func tofuApplyRequests(b *testing.B, n int) (apply, plan emulator.Counts) {
	b.Helper()
	tg := benchTarget(b)
	cfg := queuesConfig(tg, n, "  rate_limit = \"1000000/1m\"\n")
	resource.UnitTest(benchT{b}, resource.TestCase{
		ProtoV6ProviderFactories: protoV6,
		Steps: []resource.TestStep{
			{Config: cfg, Check: func(*terraform.State) error { apply = tg.srv.Counts(); return nil }},
			{PreConfig: tg.srv.ResetCounts, Config: cfg, PlanOnly: true},
			{PreConfig: func() { plan = tg.srv.Counts(); tg.srv.ResetCounts() }, Config: cfg, PlanOnly: true},
		},
	})
	return apply, plan
}

// BenchmarkTofuApplyRequests reports the API requests of a `tofu apply` of 300 new queues
// (150 with a consumer whose dead-letter queue is one of the other 150) next to the
// flareops CLI's apply of the same queues, and of the steady-state refreshing `tofu plan`
// next to the CLI's plan. The target: tofu's apply makes at most the CLI's requests + 1,
// and its plan at most the CLI's.
//
//	go test -run '^$' -bench TofuApplyRequests -benchtime 1x ./provider/
func BenchmarkTofuApplyRequests(b *testing.B) {
	const n = 300
	for i := 0; i < b.N; i++ {
		cliApply := cliApplyRequests(b, n)
		tofuApply, tofuPlan := tofuApplyRequests(b, n)
		cliPlan := cliPlanRequests(b, n)
		b.ReportMetric(float64(tofuApply.Total), "tofu-apply-requests")
		b.ReportMetric(float64(cliApply.Total), "cli-apply-requests")
		b.ReportMetric(float64(tofuPlan.Total), "tofu-plan-requests")
		b.ReportMetric(float64(cliPlan), "cli-plan-requests")
		if tofuApply.Total > cliApply.Total+1 {
			b.Errorf("tofu apply of %d queues made %d requests, the CLI's %d: %v vs %v", n, tofuApply.Total, cliApply.Total, tofuApply.ByRoute, cliApply.ByRoute)
		}
		if tofuPlan.Total > cliPlan {
			b.Errorf("steady-state tofu plan made %d requests, the CLI's %d: %v", tofuPlan.Total, cliPlan, tofuPlan.ByRoute)
		}
	}
}

// cliPlanRequests applies cliQueues(n) with the CLI, then counts the requests of one
// steady-state plan.
func cliPlanRequests(b *testing.B, n int) int {
	b.Helper()
	tg := benchTarget(b)
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.flareops.hcl"), []byte(cliQueues(n)), 0o644); err != nil {
		b.Fatal(err)
	}
	env := map[string]string{"CLOUDFLARE_BASE_URL": tg.baseURL, "CLOUDFLARE_API_TOKEN": tg.token, "CLOUDFLARE_ACCOUNT_ID": tg.account, "FLAREOPS_RATE_LIMIT": "1000000/1m"}
	runCLI := func(args ...string) {
		var out, errOut bytes.Buffer
		if code := cli.Main(args, cli.IO{
			Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
			Getenv: func(k string) string { return env[k] }, Environ: func() []string { return nil },
		}); code != 0 {
			b.Fatalf("flareops %v: exit %d\n%s\n%s", args, code, out.String(), errOut.String())
		}
	}
	runCLI("apply", "-auto-approve", "-dir", dir)
	tg.srv.ResetCounts()
	runCLI("plan", "-detailed-exitcode", "-dir", dir)
	return tg.srv.Counts().Total
}
