package reconciler

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNeedOpsKV(t *testing.T) {
	if err := (Settings{OpsKVNamespace: "monotask-ops"}).NeedOpsKV("a sandbox publishes its policy document in the ops KV namespace"); err != nil {
		t.Errorf("with a namespace: %v", err)
	}
	err := Settings{}.NeedOpsKV("a sandbox publishes its policy document in the ops KV namespace")
	if !errors.Is(err, ErrNoOpsKVNamespace) {
		t.Fatalf("without a namespace: %v, want ErrNoOpsKVNamespace", err)
	}
	want := "a sandbox publishes its policy document in the ops KV namespace, but no ops KV namespace is set: " +
		"add a `flareops { ops_kv_namespace = \"<title>\" }` block to the configuration " +
		"(in Terraform, set the provider's ops_kv_namespace attribute or the FLAREOPS_OPS_KV_NAMESPACE environment variable)"
	if d := cmp.Diff(want, err.Error()); d != "" {
		t.Errorf("message (-want +got):\n%s", d)
	}
}

func TestSettingsCheck(t *testing.T) {
	tests := []struct {
		title string
		ok    bool
	}{
		{"", true}, // unset
		{"monotask-ops", true},
		{"a", true},
		{"Monotask ops / prod (ü)", true},
		{strings.Repeat("ü", 512), true},
		{strings.Repeat("a", 513), false},
		{" ops", false},
		{"ops ", false},
		{"ops\tns", false},
		{"ops\nns", false},
		{"ops\x7f", false},
	}
	for _, tt := range tests {
		err := Settings{OpsKVNamespace: tt.title}.Check()
		if (err == nil) != tt.ok {
			t.Errorf("Check(%q) = %v, want ok %v", tt.title, err, tt.ok)
		}
	}
}

// Settings never change which kinds exist or their language.
func TestKindsWithSettings(t *testing.T) {
	plain, with := Kinds(nil), KindsWith(nil, Settings{OpsKVNamespace: "monotask-ops"})
	if d := cmp.Diff(plain.Names(), with.Names()); d != "" {
		t.Errorf("kinds differ (-Kinds +KindsWith):\n%s", d)
	}
}
