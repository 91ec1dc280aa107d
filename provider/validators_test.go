package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler"
)

// The queue name rule is the engine's (Attr.Pattern and MaxLen, checked by CheckText):
// the validator asks it, and leaves values not known yet alone.
func TestTextValidator(t *testing.T) {
	name, ok := reconciler.QueueKind{}.Schema().Attr("name")
	if !ok || name.Pattern == nil {
		t.Fatal("the queue's name has no pattern")
	}
	secret := name
	secret.Sensitive = true
	tests := []struct {
		name  string
		attr  reconciler.Attr
		value types.String
		want  string // the error detail; "" for none
	}{
		{"valid", name, types.StringValue("prod-agent-jobs"), ""},
		{"null", name, types.StringNull(), ""},
		{"unknown", name, types.StringUnknown(), ""},
		{"underscore", name, types.StringValue("agent_jobs"), `name must be 1 to 63 letters, digits and hyphens, starting and ending with a letter or digit; got "agent_jobs".`},
		{"too long", name, types.StringValue(strings.Repeat("q", 64)), "name must be at most 63 characters; got 64 characters."},
		{"sensitive", secret, types.StringValue("hunter_2"), "name must be 1 to 63 letters, digits and hyphens, starting and ending with a letter or digit; the value (sensitive, not shown) is not."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := &validator.StringResponse{}
			textValidator{tt.attr}.ValidateString(context.Background(), validator.StringRequest{Path: path.Root("name"), ConfigValue: tt.value}, resp)
			got := ""
			if resp.Diagnostics.HasError() {
				got = resp.Diagnostics.Errors()[0].Detail()
			}
			if got != tt.want {
				t.Errorf("detail %q, want %q", got, tt.want)
			}
		})
	}
}

// terraform validate (and plan) refuses a queue name Cloudflare would refuse, with the
// engine's words and no API request; a name computed from values known only at apply is
// left to the apply.
func TestQueueNameIsValidatedByTerraform(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	cfg := func(name string) string {
		return tg.providerBlock() + fmt.Sprintf("resource \"flareops_queue\" \"q\" {\n  name = %s\n}\n", name)
	}
	unknown := tg.providerBlock() + "resource \"flareops_queue\" \"a\" {\n  name = \"a\"\n}\n" +
		"resource \"flareops_queue\" \"b\" {\n  name = \"b-${flareops_queue.a.id}\"\n}\n"
	tg.run(t, resource.TestCase{Steps: []resource.TestStep{
		{Config: cfg(`"agent_jobs"`), PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)name must be 1 to 63 letters,\s+digits\s+and\s+hyphens,\s+starting\s+and\s+ending\s+with\s+a\s+letter\s+or\s+digit;\s+got\s+"agent_jobs"`)},
		{Config: cfg(`"-jobs"`), PlanOnly: true, ExpectError: regexp.MustCompile(`got\s+"-jobs"`)},
		{Config: cfg(`"` + strings.Repeat("q", 64) + `"`), PlanOnly: true, ExpectError: regexp.MustCompile(`name must be at most 63\s+characters;\s+got\s+64\s+characters`)},
	}})
	if n := tg.srv.Counts().Total; n != 0 {
		t.Errorf("refusing invalid names made %d API requests, want none", n)
	}
	// A name known only at apply passes validation (the plan itself then observes the
	// account, once, for the ownership check).
	tg.run(t, resource.TestCase{Steps: []resource.TestStep{
		{Config: unknown, PlanOnly: true, ExpectNonEmptyPlan: true},
	}})
}

// The list validator reports each problem at its element, checks the elements known so
// far (duplicates among them too) and leaves the others to the apply.
func TestStringListValidator(t *testing.T) {
	labels, _ := typetestSchema.Attr("labels")
	secret := labels
	secret.Sensitive = true
	list := func(elems ...types.String) types.List {
		vals := make([]attr.Value, len(elems))
		for i, e := range elems {
			vals[i] = e
		}
		return types.ListValueMust(types.StringType, vals)
	}
	s := types.StringValue
	type problem struct{ path, detail string }
	tests := []struct {
		name  string
		attr  reconciler.Attr
		value types.List
		want  []problem
	}{
		{"valid", labels, list(s("a"), s("b")), nil},
		{"null", labels, types.ListNull(types.StringType), nil},
		{"unknown", labels, types.ListUnknown(types.StringType), nil},
		{"unknown elements are skipped, known duplicates are not", labels, list(s("a"), types.StringUnknown(), s("a")), []problem{
			{"labels[2]", `labels[0] and labels[2] are both "a": each element must be different. Remove one of them.`},
		}},
		{"too many, with unknown elements", labels, list(types.StringUnknown(), types.StringUnknown(), types.StringUnknown(), types.StringUnknown()), []problem{
			{"labels", "labels must have at most 3 elements; got 4."},
		}},
		{"a null element", labels, list(s("a"), types.StringNull()), []problem{
			{"labels[1]", "labels[1] must be a string; got null. Remove it, or write text in quotes."},
		}},
		{"each bad element", labels, list(s("A"), s("b"), s("C")), []problem{
			{"labels[0]", "labels[0] must be lowercase letters, digits and `_`, starting with a letter; got \"A\"."},
			{"labels[2]", "labels[2] must be lowercase letters, digits and `_`, starting with a letter; got \"C\"."},
		}},
		{"sensitive", secret, list(s("hunter2"), s("hunter2")), []problem{
			{"labels", "labels must be at most 3 elements, each lowercase letters, digits and `_`, starting with a letter, all different; the value (sensitive, not shown) is not."},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := &validator.ListResponse{}
			stringListValidator{tt.attr}.ValidateList(context.Background(), validator.ListRequest{Path: path.Root("labels"), ConfigValue: tt.value}, resp)
			var got []problem
			for _, d := range resp.Diagnostics.Errors() {
				got = append(got, problem{d.(diag.DiagnosticWithPath).Path().String(), d.Detail()})
			}
			if d := cmp.Diff(tt.want, got, cmp.AllowUnexported(problem{})); d != "" {
				t.Errorf("diagnostics (-want +got):\n%s", d)
			}
		})
	}
}
