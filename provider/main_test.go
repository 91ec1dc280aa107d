package provider

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

// The provider tests run the real OpenTofu binary (bin/tofu, built by `make tools`) with
// the provider served in-process, against the emulator (offline, the default), or against
// real Cloudflare when TF_ACC=1 and CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID are set.

func TestMain(m *testing.M) {
	cleanup, err := setupTofu()
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL provider tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// setupTofu points terraform-plugin-testing at bin/tofu and keeps tofu offline, for each
// setting the environment does not already make (the GNUmakefile's test target does).
func setupTofu() (func(), error) {
	noop := func() {}
	tofu := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tofu == "" {
		abs, err := filepath.Abs(filepath.Join("..", "bin", "tofu"))
		if err != nil {
			return noop, err
		}
		tofu = abs
		os.Setenv("TF_ACC_TERRAFORM_PATH", tofu)
	}
	if _, err := os.Stat(tofu); err != nil {
		return noop, fmt.Errorf("the provider tests run OpenTofu, and %s does not exist: run make tools", tofu)
	}
	setDefault("TF_ACC_PROVIDER_HOST", "registry.opentofu.org")
	setDefault("TF_ACC_PROVIDER_NAMESPACE", "monotask")
	setDefault("CHECKPOINT_DISABLE", "1")
	if cfg := os.Getenv("TF_CLI_CONFIG_FILE"); cfg != "" {
		if _, err := os.Stat(cfg); err == nil {
			return noop, nil
		}
		// A configuration file that does not exist only draws a warning from tofu on
		// every command; replace it with the offline one.
	}
	dir, err := os.MkdirTemp("", "flareops-provider-test-")
	if err != nil {
		return noop, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	mirror := filepath.Join(dir, "empty-mirror")
	if err := os.Mkdir(mirror, 0o755); err != nil {
		cleanup()
		return noop, err
	}
	cfg := filepath.Join(dir, "tofu.tfrc")
	src := fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path = %q\n  }\n}\n", mirror)
	if err := os.WriteFile(cfg, []byte(src), 0o644); err != nil {
		cleanup()
		return noop, err
	}
	os.Setenv("TF_CLI_CONFIG_FILE", cfg)
	return cleanup, nil
}

func setDefault(k, v string) {
	if os.Getenv(k) == "" {
		os.Setenv(k, v)
	}
}

// testAccount is the emulator's account.
const testAccount = "0123456789abcdef0123456789abcdef"

// protoV6 serves the provider in-process to the tofu that terraform-plugin-testing runs.
var protoV6 = map[string]func() (tfprotov6.ProviderServer, error){
	"flareops": providerserver.NewProtocol6WithError(New("test")()),
}

// target is where a test's configurations are applied: the emulator, or real Cloudflare.
type target struct {
	srv     *emulator.Server // nil for real Cloudflare
	baseURL string           // "" for Cloudflare's own
	token   string
	account string
	suffix  string   // appended to every name, unique per test on real Cloudflare
	workers []string // Worker scripts that consumers may name
}

// realCloudflare reports whether the tests are asked to run against a real account.
func realCloudflare() bool {
	return os.Getenv("TF_ACC") != "" && os.Getenv("CLOUDFLARE_API_TOKEN") != "" && os.Getenv("CLOUDFLARE_ACCOUNT_ID") != ""
}

// newTarget is real Cloudflare when realCloudflare(), else a fresh emulator.
func newTarget(t *testing.T) *target {
	t.Helper()
	if !realCloudflare() {
		return newEmulatorTarget(t, emulator.Options{})
	}
	workers := strings.Split(os.Getenv("FLAREOPS_TEST_WORKERS"), ",")
	if len(workers) < 2 || workers[0] == "" || workers[1] == "" {
		t.Skip("on real Cloudflare, consumers need existing Workers: set FLAREOPS_TEST_WORKERS to two Worker script names of the account, e.g. FLAREOPS_TEST_WORKERS=test-consumer-a,test-consumer-b")
	}
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return &target{
		baseURL: os.Getenv("CLOUDFLARE_BASE_URL"),
		token:   os.Getenv("CLOUDFLARE_API_TOKEN"),
		account: os.Getenv("CLOUDFLARE_ACCOUNT_ID"),
		suffix:  "-" + hex.EncodeToString(b),
		workers: workers[:2],
	}
}

// newEmulatorTarget serves a fresh in-memory emulator for the test.
func newEmulatorTarget(t testing.TB, opts emulator.Options) *target {
	t.Helper()
	srv, err := emulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	srv.SetBaseURL(hs.URL)
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
		// The provider's pacers live as long as this process; a later test's emulator may
		// get this one's port, and must not be paced by what this one said.
		pacers.Forget(hs.URL + emulator.APIPrefix)
	})
	return &target{
		srv: srv, baseURL: hs.URL + emulator.APIPrefix, token: "test-token", account: testAccount,
		workers: []string{"agent-worker", "agent-worker-v2"},
	}
}

// providerBlock configures the provider for the target. On real Cloudflare it is empty:
// the provider reads the same environment variables the test did.
func (tg *target) providerBlock() string {
	if tg.srv == nil {
		return "provider \"flareops\" {}\n"
	}
	return fmt.Sprintf("provider \"flareops\" {\n  base_url   = %q\n  api_token  = %q\n  account_id = %q\n}\n", tg.baseURL, tg.token, tg.account)
}

// setEnv makes the provider's environment defaults point at the target, for configurations
// (the examples) that have no provider settings of their own.
func (tg *target) setEnv(t *testing.T) {
	t.Setenv("CLOUDFLARE_BASE_URL", tg.baseURL)
	t.Setenv("CLOUDFLARE_API_TOKEN", tg.token)
	t.Setenv("CLOUDFLARE_ACCOUNT_ID", tg.account)
}

func (tg *target) name(base string) string { return base + tg.suffix }

// client is a Cloudflare client on the target, for out-of-band changes and live checks.
func (tg *target) client(t *testing.T) *cloudflare.Client {
	t.Helper()
	c, err := cloudflare.New(cloudflare.Config{BaseURL: tg.baseURL, Token: tg.token, AccountID: tg.account})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// liveQueue returns the live queue named name.
func (tg *target) liveQueue(t *testing.T, name string) (cloudflare.Queue, bool) {
	t.Helper()
	qs, err := tg.client(t).ListQueues(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if q.Name == name {
			return q, true
		}
	}
	return cloudflare.Queue{}, false
}

// run runs a test case: resource.Test on real Cloudflare (it requires TF_ACC), else
// resource.UnitTest, which runs without TF_ACC.
func (tg *target) run(t *testing.T, tc resource.TestCase) {
	t.Helper()
	if tc.ProtoV6ProviderFactories == nil {
		tc.ProtoV6ProviderFactories = protoV6
	}
	if tg.srv == nil {
		resource.Test(t, tc)
		return
	}
	resource.UnitTest(t, tc)
}
