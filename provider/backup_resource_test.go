package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

const (
	backupAddr      = "flareops_backup.ops_kv"
	backupBucket    = "monotask-backups"
	backupRecipient = "age1905z8n4jahl7a5t47z4prx5v77e9rj4a8xs76a4gmr2l7z27sdqslkgp4h"
)

// backupForeign are rules of the destination bucket that flareops does not own.
const backupForeign = `[
 {"id":"Default Multipart Abort Rule","enabled":true,"conditions":{"prefix":""},"abortMultipartUploadsTransition":{"condition":{"type":"Age","maxAge":604800}}},
 {"id":"logs-expire","enabled":true,"conditions":{"prefix":"logs/"},"deleteObjectsTransition":{"condition":{"type":"Age","maxAge":1209600}},"storageClassTransitions":[{"condition":{"type":"Age","maxAge":259200},"storageClass":"InfrequentAccess"}]}
]`

func (tg *target) backupConfig(daily string) string {
	return tg.providerBlock() + fmt.Sprintf(`
resource "flareops_backup" "ops_kv" {
  kv_namespace = "monotask-ops"
  schedule     = "0 * * * *"
  bucket       = %q
  prefix       = "kv/ops"
  encrypt_to   = [%q]
  rpo          = "1h"
  rto          = "30m"

  retention {
    daily   = %q
    weekly  = "90d"
    monthly = "365d"
  }
}
`, backupBucket, backupRecipient, daily)
}

func bucketRules(t *testing.T, c *cloudflare.Client) []map[string]any {
	t.Helper()
	var out struct {
		Rules []map[string]any `json:"rules"`
	}
	if _, err := c.Raw().Do(context.Background(), http.MethodGet, "accounts/"+c.AccountID()+"/r2/buckets/"+backupBucket+"/lifecycle", nil, nil, &out); err != nil {
		t.Fatal(err)
	}
	return out.Rules
}

func setBucketRules(t *testing.T, c *cloudflare.Client, rules string) {
	t.Helper()
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(rules), &raw); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Raw().Do(context.Background(), http.MethodPut, "accounts/"+c.AccountID()+"/r2/buckets/"+backupBucket+"/lifecycle", nil, map[string]any{"rules": raw}, nil); err != nil {
		t.Fatal(err)
	}
}

// expectRules checks that the bucket holds the foreign rules exactly as before (field by
// field) and flareops's daily rule at dailySecs (0: none of flareops's rules).
func expectRules(t *testing.T, c *cloudflare.Client, foreign []map[string]any, dailySecs float64) resource.TestCheckFunc {
	return func(*terraform.State) error {
		var theirs []map[string]any
		var daily float64
		ours := 0
		for _, r := range bucketRules(t, c) {
			id := r["id"].(string)
			if !strings.HasPrefix(id, "flareops-backup:") {
				theirs = append(theirs, r)
				continue
			}
			ours++
			if id == "flareops-backup:kv/ops:daily" {
				daily = r["deleteObjectsTransition"].(map[string]any)["condition"].(map[string]any)["maxAge"].(float64)
			}
		}
		if diff := cmp.Diff(foreign, theirs); diff != "" {
			return fmt.Errorf("foreign rules changed (-before +now):\n%s", diff)
		}
		if dailySecs == 0 && ours != 0 || dailySecs != 0 && (ours != 3 || daily != dailySecs) {
			return fmt.Errorf("flareops rules: %d, daily maxAge %v; want %d and %v", ours, daily, map[bool]int{true: 0, false: 3}[dailySecs == 0], dailySecs)
		}
		return nil
	}
}

// TestBackupResource runs a backup through its life with a real OpenTofu: create into a
// bucket with rules of its own, update in place, import by prefix, out-of-band drift (the
// daily rule shortened) detected and repaired, an empty plan, and destroy; the foreign
// rules are the same field by field after every step and after destroy.
func TestBackupResource(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	c := tg.client(t)
	ctx := context.Background()
	if _, err := c.CreateKVNamespace(ctx, "monotask-ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateR2Bucket(ctx, backupBucket); err != nil {
		t.Fatal(err)
	}
	setBucketRules(t, c, backupForeign)
	foreign := bucketRules(t, c)
	empty := []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}
	tg.run(t, resource.TestCase{
		CheckDestroy: expectRules(t, c, foreign, 0),
		Steps: []resource.TestStep{
			{ // create
				Config: tg.backupConfig("30d"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(backupAddr, plancheck.ResourceActionCreate)},
					PostApplyPostRefresh: empty,
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(backupAddr, tfjsonpath.New("id"), knownvalue.StringExact("kv/ops")),
				},
				Check: expectRules(t, c, foreign, 30*86400),
			},
			{ // update in place
				Config: tg.backupConfig("7d"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(backupAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: empty,
				},
				Check: expectRules(t, c, foreign, 7*86400),
			},
			{ // import by prefix: what the account holds (bucket, tiers) is read back; the
				// source, schedule, recipients and targets exist only in the declaration, so
				// the next plan takes them from the configuration (an update that writes nothing)
				ResourceName: backupAddr, ImportState: true, ImportStateId: "kv/ops", ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"kv_namespace", "schedule", "encrypt_to", "rpo", "rto"},
			},
			{ // drift: the daily rule shortened outside Terraform
				PreConfig: func() {
					rules := bucketRules(t, c)
					for _, r := range rules {
						if r["id"] == "flareops-backup:kv/ops:daily" {
							r["deleteObjectsTransition"].(map[string]any)["condition"].(map[string]any)["maxAge"] = 86400
						}
					}
					b, err := json.Marshal(rules)
					if err != nil {
						t.Fatal(err)
					}
					setBucketRules(t, c, string(b))
					if got := bucketRules(t, c); mustDaily(got) != 86400 {
						t.Fatalf("the drift was not made: %v", got)
					}
				},
				Config: tg.backupConfig("7d"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(backupAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: empty,
				},
				Check: expectRules(t, c, foreign, 7*86400),
			},
			{Config: tg.backupConfig("7d"), PlanOnly: true},
		},
	})
}

func mustDaily(rules []map[string]any) float64 {
	for _, r := range rules {
		if r["id"] == "flareops-backup:kv/ops:daily" {
			return r["deleteObjectsTransition"].(map[string]any)["condition"].(map[string]any)["maxAge"].(float64)
		}
	}
	return 0
}

// TestBackupResourceValidation: `terraform validate` and plan reject what `flareops
// validate` rejects, with the engine's words and the line, without a request.
func TestBackupResourceValidation(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	cfg := func(source, schedule, rpo, daily, extra string) string {
		return tg.providerBlock() + fmt.Sprintf(`resource "flareops_backup" "b" {
  %s
  schedule = %q
  bucket   = "monotask-backups"
  prefix   = "kv/ops"
  rpo      = %q
  rto      = "30m"
  %s
  retention {
    daily   = %q
    weekly  = "90d"
    monthly = "365d"
  }
}
`, source, schedule, rpo, extra, daily)
	}
	kv := `kv_namespace = "monotask-ops"`
	tests := []struct {
		name, config, want string
	}{
		{"two sources", cfg(kv+"\n  d1_database = \"monotask-tasks\"", "0 * * * *", "1h", "30d", ""), `set exactly one of d1_database, kv_namespace and\s+r2_bucket`},
		{"no source", cfg("", "0 * * * *", "1h", "30d", ""), `set exactly one of d1_database, kv_namespace and\s+r2_bucket.*0 are set`},
		{"schedule misses the RPO", cfg(kv, "0 2 * * *", "1h", "30d", ""), `schedule: "0 2 \* \* \*" cannot meet the RPO of 1h`},
		{"tier shorter than the RPO", cfg(kv, "0 2 * * *", "48h", "1d", ""), `daily keeps backups 1d, less than the RPO of 2d`},
		{"not a recipient", cfg(kv, "0 * * * *", "1h", "30d", `encrypt_to = ["age1notakey"]`), `"age1notakey" is not an age recipient`},
		{"unknown source kind", cfg(`postgres = "tasks"`, "0 * * * *", "1h", "30d", ""), `An argument named "postgres" is not expected here`},
		{"bad prefix", strings.Replace(cfg(kv, "0 * * * *", "1h", "30d", ""), `"kv/ops"`, `"/kv/ops"`, 1), `prefix must be path segments`},
	}
	var steps []resource.TestStep
	for _, tt := range tests {
		steps = append(steps, resource.TestStep{Config: tt.config, PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)line \d+.*` + tt.want)})
	}
	tg.run(t, resource.TestCase{Steps: steps})
	if n := tg.srv.Counts().Total; n != 0 {
		t.Errorf("invalid configurations made %d API requests, want none", n)
	}
}

// TestBackupResourceImportBlock: rules that another flareops made are brought under
// management with an import block; the declaration's own fields come from the
// configuration in the same apply, and the next plan is empty.
func TestBackupResourceImportBlock(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	c := tg.client(t)
	ctx := context.Background()
	if _, err := c.CreateKVNamespace(ctx, "monotask-ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateR2Bucket(ctx, backupBucket); err != nil {
		t.Fatal(err)
	}
	setBucketRules(t, c, `[
 {"id":"flareops-backup:kv/ops:daily","enabled":true,"conditions":{"prefix":"kv/ops/daily/"},"deleteObjectsTransition":{"condition":{"type":"Age","maxAge":2592000}}},
 {"id":"flareops-backup:kv/ops:weekly","enabled":true,"conditions":{"prefix":"kv/ops/weekly/"},"deleteObjectsTransition":{"condition":{"type":"Age","maxAge":7776000}}},
 {"id":"flareops-backup:kv/ops:monthly","enabled":true,"conditions":{"prefix":"kv/ops/monthly/"},"deleteObjectsTransition":{"condition":{"type":"Age","maxAge":31536000}}}
]`)
	cfg := tg.backupConfig("30d") + "\nimport {\n  to = flareops_backup.ops_kv\n  id = \"kv/ops\"\n}\n"
	tg.run(t, resource.TestCase{Steps: []resource.TestStep{{
		Config: cfg,
		ConfigPlanChecks: resource.ConfigPlanChecks{
			PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(backupAddr, plancheck.ResourceActionUpdate)},
			PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
		},
		Check: expectRules(t, c, nil, 30*86400),
	}}})
}

var backupImportLine = regexp.MustCompile(`(?m)^terraform import (\S+) (\S+)$`)

// TestBackupDocExample applies examples/resources/flareops_backup (with the provider
// example) over a Worker that has crons of its own: the ops KV backup's schedule joins
// them; import by prefix as import.sh says; destroy leaves the Worker's crons and the bucket.
func TestBackupDocExample(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{RequireConsumerScripts: true})
	tg.setEnv(t)
	t.Setenv("TF_VAR_backup_recipient", backupRecipient)
	const runner = "monotask-backup-runner"
	tg.deployWorker(t, runner, "export default { async scheduled() {} }", nil)
	c := tg.client(t)
	ctx := context.Background()
	own := []string{"0 * * * *"}
	if err := c.SetWorkerCrons(ctx, runner, own); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateD1Database(ctx, "monotask-tasks"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateKVNamespace(ctx, "monotask-ops"); err != nil {
		t.Fatal(err)
	}
	m := backupImportLine.FindStringSubmatch(readExample(t, "resources/flareops_backup/import.sh"))
	if m == nil {
		t.Fatalf("import.sh has no line matching %s", backupImportLine)
	}
	cfg := readExample(t, "provider/provider.tf") + readExample(t, "resources/flareops_backup/resource.tf")
	tg.run(t, resource.TestCase{
		CheckDestroy: resource.ComposeTestCheckFunc(
			expectCrons(t, c, runner, own...),
			func(*terraform.State) error {
				if _, found, err := c.R2Bucket(ctx, "monotask-backups"); err != nil || !found {
					return fmt.Errorf("destroy removed the destination bucket (found %v, %v)", found, err)
				}
				return nil
			},
		),
		Steps: []resource.TestStep{
			{
				Config:           cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check: resource.ComposeTestCheckFunc(
					expectCrons(t, c, runner, "0 * * * *", "15 * * * *"),
					func(*terraform.State) error {
						if n := len(bucketRules(t, c)); n != 1+6 { // R2's default rule, 3 tiers of each backup
							return fmt.Errorf("bucket has %d lifecycle rules, want 7", n)
						}
						return nil
					},
				),
			},
			{
				ResourceName: m[1], ImportState: true, ImportStateId: m[2], ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"d1_database", "schedule", "encrypt_to", "rpo", "rto"},
			},
		},
	})
}
