package provider

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	dschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	pschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/defaults"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/monotask/flareops/reconciler"
	"github.com/monotask/flareops/reconciler/config"
)

// The agreement tests: for every kind the engine registers, the provider's schema and the
// CLI's language agree on names, types, required/optional, defaults, validation ranges,
// enums, replace-only attributes and descriptions. Ranges and enums are compared by
// behaviour: boundary values go through the provider's validators and through the CLI's
// HCL loader, and both must accept or reject each of them.

func providerResources(t *testing.T) map[string]resource.Resource {
	ctx := context.Background()
	out := map[string]resource.Resource{}
	for _, f := range New("test")().Resources(ctx) {
		r := f()
		var md resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: "flareops"}, &md)
		out[md.TypeName] = r
	}
	return out
}

// cliOnly are the kinds the provider does not offer yet, each with the reason. Every
// entry is a known gap (reported as such), not a passing check.
var cliOnly = map[string]string{}

func TestEveryKindHasAResource(t *testing.T) {
	var kinds, types []string
	for _, k := range reconciler.Kinds(nil).Kinds() {
		if _, skip := cliOnly[k.Name()]; skip {
			t.Logf("kind %s has no resource: %s", k.Name(), cliOnly[k.Name()])
			continue
		}
		kinds = append(kinds, "flareops_"+k.Name())
	}
	for name := range providerResources(t) {
		types = append(types, name)
	}
	sort.Strings(kinds)
	sort.Strings(types)
	if diff := cmp.Diff(kinds, types); diff != "" {
		t.Errorf("resources differ from the engine's kinds (-kinds +resources):\n%s", diff)
	}
}

// TestSchemaAgreement compares every kind's resource, and the test-only typetest kind's
// (typetest_resource_test.go), which has every setting of the types no kind uses yet.
func TestSchemaAgreement(t *testing.T) {
	resources := providerResources(t)
	for _, k := range reconciler.Kinds(nil).Kinds() {
		if _, skip := cliOnly[k.Name()]; skip {
			continue
		}
		t.Run(k.Name(), func(t *testing.T) {
			r, ok := resources["flareops_"+k.Name()]
			if !ok {
				t.Fatalf("no flareops_%s resource", k.Name())
			}
			checkAgreement(t, k, r)
		})
	}
	t.Run(typetestKind{}.Name(), func(t *testing.T) {
		checkAgreement(t, typetestKind{}, newTypetestResource(nil)())
	})
}

// checkAgreement compares the schema of r with its kind's.
func checkAgreement(t *testing.T, k reconciler.Kind, r resource.Resource) {
	t.Helper()
	ctx := context.Background()
	var sr resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &sr)
	if sr.Diagnostics.HasError() {
		t.Fatal(sr.Diagnostics)
	}
	if diags := sr.Schema.ValidateImplementation(ctx); diags.HasError() {
		t.Fatalf("invalid framework schema: %v", diags)
	}
	if sr.Schema.MarkdownDescription == "" {
		t.Error("the resource has no MarkdownDescription")
	}
	id, ok := sr.Schema.Attributes[idAttr].(schema.StringAttribute)
	if !ok || !id.Computed || id.Optional || id.MarkdownDescription == "" {
		t.Errorf("id is %#v, want a described computed string", sr.Schema.Attributes[idAttr])
	}
	attrs := map[string]schema.Attribute{}
	for name, a := range sr.Schema.Attributes {
		if name != idAttr {
			attrs[name] = a
		}
	}
	kr := asKindResource(r)
	compareBlock(t, k, "", k.Schema(), attrs, sr.Schema.Blocks, kr.filled, kr.texts)
	for p := range kr.texts {
		if _, ok := attrAt(k.Schema(), p); !ok && p != idAttr {
			t.Errorf("texts describes %q, which the kind does not have", p)
		}
	}
}

func compareBlock(t *testing.T, k reconciler.Kind, prefix string, bs reconciler.BlockSchema, attrs map[string]schema.Attribute, blocks map[string]schema.Block, filled map[string]bool, texts map[string]string) {
	t.Helper()
	var want, got []string
	for _, a := range bs.Attrs {
		want = append(want, a.Name)
	}
	for _, nb := range bs.Blocks {
		want = append(want, nb.Name+" {}")
	}
	for name := range attrs {
		got = append(got, name)
	}
	for name := range blocks {
		got = append(got, name+" {}")
	}
	sort.Strings(want)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%snames differ (-engine +provider):\n%s", prefix, diff)
	}
	for _, a := range bs.Attrs {
		if fa, ok := attrs[a.Name]; ok {
			compareAttr(t, k, prefix, a, fa, filled[prefix+a.Name], texts[prefix+a.Name])
		}
	}
	for _, nb := range bs.Blocks {
		fb, ok := blocks[nb.Name].(schema.ListNestedBlock)
		if !ok {
			t.Errorf("%s%s is %T, want a list block", prefix, nb.Name, blocks[nb.Name])
			continue
		}
		if fb.MarkdownDescription != nb.Description {
			t.Errorf("%s%s: description %q, want the engine's %q", prefix, nb.Name, fb.MarkdownDescription, nb.Description)
		}
		compareMaxItems(t, k, prefix, nb, fb)
		compareBlock(t, k, prefix+nb.Name+".", nb.Schema, fb.NestedObject.Attributes, fb.NestedObject.Blocks, filled, texts)
	}
}

func compareAttr(t *testing.T, k reconciler.Kind, prefix string, a reconciler.Attr, fa schema.Attribute, filled bool, text string) {
	t.Helper()
	name := prefix + a.Name
	wantType := map[reconciler.AttrType]attr.Type{
		reconciler.String: types.StringType, reconciler.Duration: types.StringType, reconciler.Ref: types.StringType,
		reconciler.Int: types.Int64Type, reconciler.Bool: types.BoolType, reconciler.Float: types.Float64Type,
		reconciler.StringList:    types.ListType{ElemType: types.StringType},
		reconciler.RefList:       types.ListType{ElemType: types.StringType},
		reconciler.StringListMap: types.MapType{ElemType: types.ListType{ElemType: types.StringType}},
	}[a.Type]
	if wantType == nil {
		t.Fatalf("%s: the test knows no Terraform type for an engine %s", name, a.Type)
	}
	if !fa.GetType().Equal(wantType) {
		t.Errorf("%s: type %s, want %s for an engine %s", name, fa.GetType(), wantType, a.Type)
	}
	// LabelDefault: the CLI's language takes the label; Terraform has none and requires it.
	if req := a.Required || a.LabelDefault; fa.IsRequired() != req || fa.IsOptional() == req {
		t.Errorf("%s: required=%v optional=%v, engine required=%v", name, fa.IsRequired(), fa.IsOptional(), a.Required)
	}
	if want := a.Default != nil || filled; fa.IsComputed() != want {
		t.Errorf("%s: computed=%v, want %v (default %v, engine-filled %v)", name, fa.IsComputed(), want, a.Default, filled)
	}
	if fa.IsSensitive() != a.Sensitive {
		t.Errorf("%s: sensitive=%v, engine %v", name, fa.IsSensitive(), a.Sensitive)
	}
	checkDescription(t, name, a, fa.GetMarkdownDescription(), text)
	if got, want := frameworkDefault(t, fa), engineDefault(a); got != want {
		t.Errorf("%s: default %s, engine %s", name, got, want)
	}
	if got := requiresReplace(t, fa); got != a.ForceNew {
		t.Errorf("%s: requires replace %v, engine ForceNew %v", name, got, a.ForceNew)
	}
	for _, p := range probes(a) {
		prov, provMsg := providerAccepts(t, fa, p)
		cli, cliMsg := cliAccepts(t, k, prefix, a, p)
		if prov != cli {
			t.Errorf("%s = %s: provider accepts=%v (%s), CLI accepts=%v (%s)", name, p, prov, provMsg, cli, cliMsg)
		}
	}
}

// checkDescription: an attribute says what the engine says (or its Terraform text), and
// its default once, as "Defaults to `X`." with the value Terraform plans.
func checkDescription(t *testing.T, name string, a reconciler.Attr, got, text string) {
	t.Helper()
	want := text
	if want == "" {
		want = a.Description
	}
	if want == "" {
		t.Errorf("%s has no description", name)
	}
	def := engineDefault(a)
	if def == "" {
		if !strings.HasPrefix(got, want) {
			t.Errorf("%s: description %q does not carry %q", name, got, want)
		}
		if strings.Contains(got, "Defaults to") {
			t.Errorf("%s has no static default but its description says %q", name, got)
		}
		return
	}
	if !strings.HasSuffix(got, " Defaults to `"+def+"`.") {
		t.Errorf("%s: description %q does not end with its default: Defaults to `%s`.", name, got, def)
	}
	if n := strings.Count(strings.ToLower(got), "default"); n != 1 {
		t.Errorf("%s: description %q mentions the default %d times", name, got, n)
	}
}

// attrAt finds an attribute or nested block by path ("consumer.worker").
func attrAt(bs reconciler.BlockSchema, p string) (string, bool) {
	head, rest, nested := strings.Cut(p, ".")
	for _, nb := range bs.Blocks {
		if nb.Name == head {
			if !nested {
				return nb.Description, true
			}
			return attrAt(nb.Schema, rest)
		}
	}
	if a, ok := bs.Attr(head); ok && !nested {
		return a.Description, true
	}
	return "", false
}

// engineDefault renders an engine default as Terraform holds it; "" for none.
func engineDefault(a reconciler.Attr) string {
	switch d := a.DefaultValue().(type) {
	case nil:
		return ""
	case int64:
		if a.Type == reconciler.Duration {
			return strconv.Quote(reconciler.FormatDuration(time.Duration(d) * a.Unit))
		}
	case string:
		return strconv.Quote(d)
	case float64:
		return reconciler.FormatFloat(d)
	case []string:
		q := make([]string, len(d))
		for i, s := range d {
			q[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	return fmt.Sprint(a.DefaultValue())
}

func frameworkDefault(t *testing.T, fa schema.Attribute) string {
	ctx := context.Background()
	switch x := fa.(type) {
	case schema.StringAttribute:
		if x.Default == nil {
			return ""
		}
		var resp defaults.StringResponse
		x.Default.DefaultString(ctx, defaults.StringRequest{}, &resp)
		return resp.PlanValue.String()
	case schema.Int64Attribute:
		if x.Default == nil {
			return ""
		}
		var resp defaults.Int64Response
		x.Default.DefaultInt64(ctx, defaults.Int64Request{}, &resp)
		return resp.PlanValue.String()
	case schema.BoolAttribute:
		if x.Default == nil {
			return ""
		}
		var resp defaults.BoolResponse
		x.Default.DefaultBool(ctx, defaults.BoolRequest{}, &resp)
		return resp.PlanValue.String()
	case schema.Float64Attribute:
		if x.Default == nil {
			return ""
		}
		var resp defaults.Float64Response
		x.Default.DefaultFloat64(ctx, defaults.Float64Request{}, &resp)
		return reconciler.FormatFloat(resp.PlanValue.ValueFloat64())
	case schema.ListAttribute:
		if x.Default == nil {
			return ""
		}
		var resp defaults.ListResponse
		x.Default.DefaultList(ctx, defaults.ListRequest{}, &resp)
		var q []string
		for _, e := range resp.PlanValue.Elements() {
			q = append(q, e.String())
		}
		return "[" + strings.Join(q, ", ") + "]"
	case schema.MapAttribute:
		if x.Default != nil {
			t.Fatalf("a map attribute with a default: the test cannot render it")
		}
		return ""
	}
	t.Fatalf("unexpected attribute %T", fa)
	return ""
}

// requiresReplace runs the attribute's plan modifiers on an update from one value to
// another (a resource that exists and is not being destroyed).
func requiresReplace(t *testing.T, fa schema.Attribute) bool {
	ctx := context.Background()
	obj := tftypes.NewValue(tftypes.Object{}, map[string]tftypes.Value{})
	state, plan := tfsdk.State{Raw: obj}, tfsdk.Plan{Raw: obj}
	switch x := fa.(type) {
	case schema.StringAttribute:
		for _, m := range x.PlanModifiers {
			resp := planmodifier.StringResponse{PlanValue: types.StringValue("2s")}
			m.PlanModifyString(ctx, planmodifier.StringRequest{State: state, Plan: plan, StateValue: types.StringValue("1s"), PlanValue: types.StringValue("2s"), ConfigValue: types.StringValue("2s")}, &resp)
			if resp.RequiresReplace {
				return true
			}
		}
	case schema.Int64Attribute:
		for _, m := range x.PlanModifiers {
			resp := planmodifier.Int64Response{PlanValue: types.Int64Value(2)}
			m.PlanModifyInt64(ctx, planmodifier.Int64Request{State: state, Plan: plan, StateValue: types.Int64Value(1), PlanValue: types.Int64Value(2), ConfigValue: types.Int64Value(2)}, &resp)
			if resp.RequiresReplace {
				return true
			}
		}
	case schema.BoolAttribute:
		for _, m := range x.PlanModifiers {
			resp := planmodifier.BoolResponse{PlanValue: types.BoolValue(true)}
			m.PlanModifyBool(ctx, planmodifier.BoolRequest{State: state, Plan: plan, StateValue: types.BoolValue(false), PlanValue: types.BoolValue(true), ConfigValue: types.BoolValue(true)}, &resp)
			if resp.RequiresReplace {
				return true
			}
		}
	case schema.Float64Attribute:
		for _, m := range x.PlanModifiers {
			resp := planmodifier.Float64Response{PlanValue: types.Float64Value(0.2)}
			m.PlanModifyFloat64(ctx, planmodifier.Float64Request{State: state, Plan: plan, StateValue: types.Float64Value(0.1), PlanValue: types.Float64Value(0.2), ConfigValue: types.Float64Value(0.2)}, &resp)
			if resp.RequiresReplace {
				return true
			}
		}
	case schema.ListAttribute:
		from, to := stringList([]string{"a"}), stringList([]string{"a", "b"})
		for _, m := range x.PlanModifiers {
			resp := planmodifier.ListResponse{PlanValue: to}
			m.PlanModifyList(ctx, planmodifier.ListRequest{State: state, Plan: plan, StateValue: from, PlanValue: to, ConfigValue: to}, &resp)
			if resp.RequiresReplace {
				return true
			}
		}
	}
	return false
}

// probes are values at and beyond an attribute's limits, as HCL literals.
func probes(a reconciler.Attr) []string {
	switch a.Type {
	case reconciler.Int:
		out := []string{fmt.Sprint(a.Min - 1), fmt.Sprint(a.Min), fmt.Sprint(a.Min + 1)}
		if a.Max > 0 {
			out = append(out, fmt.Sprint(a.Max), fmt.Sprint(a.Max+1))
		}
		return out
	case reconciler.Duration:
		d := func(n int64) string {
			return strconv.Quote(reconciler.FormatDuration(time.Duration(n) * a.Unit))
		}
		out := []string{d(a.Min), d(a.Min + 1), `"abc"`, `"30"`, `"1x"`, `""`}
		if a.Min > 0 {
			out = append(out, d(a.Min-1))
		}
		if a.Max > 0 {
			out = append(out, d(a.Max), d(a.Max+1))
		}
		if a.Unit > time.Millisecond {
			out = append(out, strconv.Quote(reconciler.FormatDuration(time.Duration(a.Min)*a.Unit+a.Unit/2)))
		}
		return out
	case reconciler.Bool:
		return []string{"true", "false"}
	case reconciler.Ref:
		return []string{`"some-name"`, `""`}
	case reconciler.Float:
		return floatProbes(a)
	case reconciler.StringList:
		return listProbes(a)
	case reconciler.RefList:
		return []string{`[]`, `["email:a@example.com"]`, `["email:a@example.com", "webhook:b"]`, `["email:a@example.com", "email:a@example.com"]`}
	case reconciler.StringListMap:
		return nil // a map literal is no list or string: checked by the CLI and provider tests of the kinds
	}
	out := []string{`"x"`}
	for _, e := range a.Enum {
		out = append(out, strconv.Quote(e))
	}
	if len(a.Enum) > 0 {
		out = append(out, `"not-`+a.Enum[0]+`"`, strings.ToUpper(strconv.Quote(a.Enum[0])))
	}
	return out
}

// providerAccepts runs the attribute's validators on a probe.
func providerAccepts(t *testing.T, fa schema.Attribute, lit string) (bool, string) {
	ctx := context.Background()
	p := path.Root("probe")
	switch x := fa.(type) {
	case schema.StringAttribute:
		s, err := strconv.Unquote(lit)
		if err != nil {
			t.Fatalf("probe %s: %v", lit, err)
		}
		for _, v := range x.Validators {
			var resp validator.StringResponse
			v.ValidateString(ctx, validator.StringRequest{Path: p, ConfigValue: types.StringValue(s)}, &resp)
			if resp.Diagnostics.HasError() {
				return false, resp.Diagnostics.Errors()[0].Detail()
			}
		}
	case schema.Int64Attribute:
		n, err := strconv.ParseInt(lit, 10, 64)
		if err != nil {
			t.Fatalf("probe %s: %v", lit, err)
		}
		for _, v := range x.Validators {
			var resp validator.Int64Response
			v.ValidateInt64(ctx, validator.Int64Request{Path: p, ConfigValue: types.Int64Value(n)}, &resp)
			if resp.Diagnostics.HasError() {
				return false, resp.Diagnostics.Errors()[0].Detail()
			}
		}
	case schema.Float64Attribute:
		f, err := strconv.ParseFloat(lit, 64)
		if err != nil {
			t.Fatalf("probe %s: %v", lit, err)
		}
		for _, v := range x.Validators {
			var resp validator.Float64Response
			v.ValidateFloat64(ctx, validator.Float64Request{Path: p, ConfigValue: types.Float64Value(f)}, &resp)
			if resp.Diagnostics.HasError() {
				return false, resp.Diagnostics.Errors()[0].Detail()
			}
		}
	case schema.ListAttribute:
		list := listLiteral(t, lit)
		for _, v := range x.Validators {
			var resp validator.ListResponse
			v.ValidateList(ctx, validator.ListRequest{Path: p, ConfigValue: list}, &resp)
			if resp.Diagnostics.HasError() {
				return false, resp.Diagnostics.Errors()[0].Detail()
			}
		}
	}
	return true, ""
}

// cliAccepts loads a block with the probe through the CLI's HCL loader.
func cliAccepts(t *testing.T, k reconciler.Kind, prefix string, a reconciler.Attr, lit string) (bool, string) {
	t.Helper()
	var body strings.Builder
	fmt.Fprintf(&body, "%s \"probe\" {\n", k.Name())
	writeRequired(&body, k.Schema(), a.Name)
	// One block per step of prefix ("observability.logs."), each with its required
	// attributes, the attribute in the innermost.
	var path []string
	if prefix != "" {
		path = strings.Split(strings.TrimSuffix(prefix, "."), ".")
	}
	bs := k.Schema()
	for _, nb := range path {
		bs = nestedSchema(bs, nb)
		fmt.Fprintf(&body, "  %s {\n", nb)
		skip := ""
		if nb == path[len(path)-1] {
			skip = a.Name
		}
		writeRequired(&body, bs, skip)
	}
	fmt.Fprintf(&body, "  %s = %s\n", a.Name, lit)
	body.WriteString(strings.Repeat("  }\n", len(path)) + "}\n")
	return cliLoads(k, body.String())
}

func cliLoads(k reconciler.Kind, src string) (bool, string) {
	_, diags := config.LoadFiles(map[string][]byte{"probe" + config.FileSuffix: []byte(src)}, config.Options{
		Kinds: []config.KindSchema{{Name: k.Name(), Schema: k.Schema(), KeyAttr: k.KeyAttr()}},
	})
	if diags.HasErrors() {
		return false, diags.Error()
	}
	return true, ""
}

func nestedSchema(bs reconciler.BlockSchema, name string) reconciler.BlockSchema {
	for _, nb := range bs.Blocks {
		if nb.Name == name {
			return nb.Schema
		}
	}
	return reconciler.BlockSchema{}
}

// writeRequired writes an example value for every required attribute but skip.
func writeRequired(b *strings.Builder, bs reconciler.BlockSchema, skip string) {
	for _, a := range bs.Attrs {
		if !a.Required || a.Name == skip {
			continue
		}
		switch a.Type {
		case reconciler.Int:
			fmt.Fprintf(b, "  %s = %d\n", a.Name, a.Min)
		case reconciler.Bool:
			fmt.Fprintf(b, "  %s = true\n", a.Name)
		case reconciler.Duration:
			fmt.Fprintf(b, "  %s = %q\n", a.Name, reconciler.FormatDuration(time.Duration(a.Min)*a.Unit))
		case reconciler.Float:
			fmt.Fprintf(b, "  %s = %s\n", a.Name, floatProbes(a)[0])
		case reconciler.StringList:
			fmt.Fprintf(b, "  %s = []\n", a.Name)
		case reconciler.RefList:
			fmt.Fprintf(b, "  %s = [%q]\n", a.Name, "email:probe@example.com")
		default:
			v := "example"
			if len(a.Enum) > 0 {
				v = a.Enum[0]
			}
			fmt.Fprintf(b, "  %s = %q\n", a.Name, v)
		}
	}
}

// compareMaxItems checks the block count limit the same way: MaxItems and MaxItems+1
// blocks through the provider's list validator and through the CLI's loader.
func compareMaxItems(t *testing.T, k reconciler.Kind, prefix string, nb reconciler.NestedBlock, fb schema.ListNestedBlock) {
	t.Helper()
	for _, n := range []int{1, nb.MaxItems, nb.MaxItems + 1} {
		if n < 1 || (nb.MaxItems == 0 && n > 1) {
			continue
		}
		elems := make([]attr.Value, n)
		for i := range elems {
			elems[i] = types.ObjectNull(map[string]attr.Type{})
		}
		list := types.ListValueMust(types.ObjectType{AttrTypes: map[string]attr.Type{}}, elems)
		prov := true
		for _, v := range fb.Validators {
			var resp validator.ListResponse
			v.ValidateList(context.Background(), validator.ListRequest{Path: path.Root(nb.Name), ConfigValue: list}, &resp)
			prov = prov && !resp.Diagnostics.HasError()
		}
		var body strings.Builder
		fmt.Fprintf(&body, "%s \"probe\" {\n", k.Name())
		writeRequired(&body, k.Schema(), "")
		// The enclosing blocks of a nested one ("observability." for logs), once each.
		var outer []string
		if prefix != "" {
			outer = strings.Split(strings.TrimSuffix(prefix, "."), ".")
		}
		bs := k.Schema()
		for _, name := range outer {
			bs = nestedSchema(bs, name)
			fmt.Fprintf(&body, "  %s {\n", name)
			writeRequired(&body, bs, "")
		}
		for i := 0; i < n; i++ {
			fmt.Fprintf(&body, "  %s {\n", nb.Name)
			writeRequired(&body, nb.Schema, "")
			body.WriteString("  }\n")
		}
		body.WriteString(strings.Repeat("  }\n", len(outer)) + "}\n")
		cli, msg := cliLoads(k, body.String())
		if prov != cli {
			t.Errorf("%s%s with %d blocks: provider accepts=%v, CLI accepts=%v (%s)", prefix, nb.Name, n, prov, cli, msg)
		}
	}
}

// dataSourcesWithoutKind look up what flareops refers to but does not manage; their
// schemas are written by hand and tested beside them.
var dataSourcesWithoutKind = map[string]bool{"flareops_worker": true}

// TestDataSourceSchemaAgreement: a data source has every attribute of its kind, computed,
// but the key it is looked up by.
func TestDataSourceSchemaAgreement(t *testing.T) {
	ctx := context.Background()
	for _, f := range New("test")().DataSources(ctx) {
		ds := f()
		var md datasource.MetadataResponse
		ds.Metadata(ctx, datasource.MetadataRequest{ProviderTypeName: "flareops"}, &md)
		k, ok := reconciler.Kinds(nil).Kind(strings.TrimPrefix(md.TypeName, "flareops_"))
		if !ok {
			if !dataSourcesWithoutKind[md.TypeName] {
				t.Errorf("data source %s has no engine kind", md.TypeName)
			}
			continue
		}
		var sr datasource.SchemaResponse
		ds.Schema(ctx, datasource.SchemaRequest{}, &sr)
		if diags := sr.Schema.ValidateImplementation(ctx); diags.HasError() {
			t.Fatalf("%s: %v", md.TypeName, diags)
		}
		checkDataSourceAttrs(t, md.TypeName+".", k.Schema(), k.KeyAttr(), sr.Schema.Attributes)
	}
}

// TestDataSourceDescriptions: every attribute of a kind's data source is described as
// what is read, in words of its own (the engine's say what a declaration does), and
// without the resource's defaults.
func TestDataSourceDescriptions(t *testing.T) {
	for _, f := range New("test")().DataSources(context.Background()) {
		kd, ok := f().(*kindDataSource)
		if !ok {
			continue // written by hand, not from a kind
		}
		bs := kd.schemaKind.Schema()
		var walk func(prefix string, bs reconciler.BlockSchema)
		walk = func(prefix string, bs reconciler.BlockSchema) {
			var names []string
			for _, a := range bs.Attrs {
				names = append(names, a.Name)
			}
			for _, nb := range bs.Blocks {
				names = append(names, nb.Name)
				walk(prefix+nb.Name+".", nb.Schema)
			}
			for _, n := range names {
				text, ok := kd.texts[prefix+n]
				engine, _ := attrAt(kd.schemaKind.Schema(), prefix+n)
				switch {
				case !ok || text == "":
					t.Errorf("flareops_%s data source: %s%s has no description of its own", kd.name(), prefix, n)
				case text == engine:
					t.Errorf("flareops_%s data source: %s%s copies the engine's description", kd.name(), prefix, n)
				case strings.Contains(text, "Defaults to"):
					t.Errorf("flareops_%s data source: %s%s speaks of a default: %q", kd.name(), prefix, n, text)
				}
			}
		}
		walk("", bs)
		for p := range kd.texts {
			if _, ok := attrAt(bs, p); !ok {
				t.Errorf("flareops_%s data source describes %q, which the kind does not have", kd.name(), p)
			}
		}
	}
}

func checkDataSourceAttrs(t *testing.T, prefix string, bs reconciler.BlockSchema, key string, attrs map[string]dschema.Attribute) {
	t.Helper()
	for _, a := range bs.Attrs {
		da, ok := attrs[a.Name]
		if !ok {
			t.Errorf("%s%s is missing", prefix, a.Name)
			continue
		}
		if a.Name == key {
			if !da.IsRequired() {
				t.Errorf("%s%s: the lookup key must be required", prefix, a.Name)
			}
		} else if !da.IsComputed() || da.IsOptional() || da.IsRequired() {
			t.Errorf("%s%s: want computed only", prefix, a.Name)
		}
	}
	for _, nb := range bs.Blocks {
		dl, ok := attrs[nb.Name].(dschema.ListNestedAttribute)
		if !ok || !dl.Computed {
			t.Errorf("%s%s: want a computed list of objects, got %T", prefix, nb.Name, attrs[nb.Name])
			continue
		}
		checkDataSourceAttrs(t, prefix+nb.Name+".", nb.Schema, "", dl.NestedObject.Attributes)
	}
}

// filledSamples are minimal valid declarations of each kind, one per variant whose
// engine-filled defaults differ.
var filledSamples = map[string][]reconciler.Values{
	"analytics_dataset": {
		{"dataset": "d"},
		{"dataset": "d", "columns": []reconciler.Values{{"index": "i", "blobs": []string{"a"}}}, "binding": []reconciler.Values{{"worker": "w", "name": "D"}}},
	},
	"backup": {
		{"kv_namespace": "ops", "schedule": "0 * * * *", "bucket": "backups", "prefix": "kv/ops", "rpo": int64(3600), "rto": int64(1800),
			"retention": []reconciler.Values{{"daily": int64(86400), "weekly": int64(86400), "monthly": int64(86400)}}},
	},
	"queue": {
		{"name": "q", "consumer": []reconciler.Values{{"type": "worker", "worker": "w"}}},
		{"name": "q", "consumer": []reconciler.Values{{"type": "http_pull"}}},
	},
	"sandbox": {
		{"worker": "w", "execution_timeout": int64(60)},
		{"worker": "w", "execution_timeout": int64(60), "container": []reconciler.Values{{"application": "a", "max_instances": int64(2)}}},
	},
	"alert_destination": {
		{"name": "d", "email": "ops@example.com"},
		{"name": "d", "webhook": []reconciler.Values{{"url": "https://hooks.example.com/x", "secret": "s"}}},
	},
	"alert_rule": {
		{"name": "r", "enabled": true, "native": []reconciler.Values{{"alert_type": "incident_alert"}}, "to": []reconciler.RefValue{{Name: "email:ops@example.com"}}},
	},
	"slo": {
		{"name": "s", "objective": 99.9, "worker_availability": []reconciler.Values{{"script": "w"}}, "page_to": []reconciler.RefValue{{Name: "email:a@example.com"}}},
		{"name": "s", "objective": 95.0, "dataset_latency": []reconciler.Values{{"dataset": reconciler.RefValue{Name: "d"}, "latency": "latency_ms", "threshold": 200.0,
			"columns": []reconciler.Values{{"doubles": []string{"latency_ms"}}}}}, "ticket_to": []reconciler.RefValue{{Name: "email:a@example.com"}}},
	},
	"worker_settings": {
		{"script": "w", "cpu_ms": int64(50)},
		{"script": "w", "observability": []reconciler.Values{{"logs": []reconciler.Values{{}}}},
			"logpush": []reconciler.Values{{"bucket": "logs", "access_key_id": "k", "secret_access_key": "s"}}},
	},
}

// TestEngineFilled checks each resource's list of engine-filled attributes against the
// engine: exactly the optional attributes without a default that Build sets when they are
// left out. A missing one would be a perpetual diff; an extra one could never be unset.
func TestEngineFilled(t *testing.T) {
	resources := providerResources(t)
	// With the settings a sandbox needs: Build checks them.
	for _, k := range reconciler.KindsWith(nil, reconciler.Settings{OpsKVNamespace: "ops"}).Kinds() {
		if _, skip := cliOnly[k.Name()]; skip {
			continue
		}
		samples, ok := filledSamples[k.Name()]
		if !ok {
			t.Errorf("no filledSamples for kind %s: add minimal declarations of it", k.Name())
			continue
		}
		got := map[string]bool{}
		for _, v := range samples {
			withDefaults(k.Schema(), v)
			obj, err := k.Build(v)
			if err != nil {
				t.Fatalf("%s sample %v: %v", k.Name(), v, err)
			}
			collectFilled(k.Schema(), "", v, k.Flatten(obj.Spec), got)
		}
		declared := resources["flareops_"+k.Name()].(*kindResource).filled
		if declared == nil {
			declared = map[string]bool{} // a kind whose Build fills nothing
		}
		if diff := cmp.Diff(declared, got); diff != "" {
			t.Errorf("flareops_%s engine-filled attributes differ from the engine's (-declared +engine):\n%s", k.Name(), diff)
		}
	}
}

func collectFilled(bs reconciler.BlockSchema, prefix string, in, out reconciler.Values, got map[string]bool) {
	for _, a := range bs.Attrs {
		if _, given := in[a.Name]; !given && a.Default == nil && !a.Required {
			if _, set := out[a.Name]; set {
				got[prefix+a.Name] = true
			}
		}
	}
	for _, nb := range bs.Blocks {
		ins, _ := in[nb.Name].([]reconciler.Values)
		outs, _ := out[nb.Name].([]reconciler.Values)
		for i := range ins {
			if i < len(outs) {
				collectFilled(nb.Schema, prefix+nb.Name+".", ins[i], outs[i], got)
			}
		}
	}
}

// TestForceNewRequiresReplace: an engine attribute that cannot change in place makes
// Terraform plan a replacement, whatever its type. (No queue attribute is ForceNew.)
func TestForceNewRequiresReplace(t *testing.T) {
	for _, a := range []reconciler.Attr{
		{Name: "s", Type: reconciler.String, ForceNew: true},
		{Name: "d", Type: reconciler.Duration, Unit: time.Second, ForceNew: true},
		{Name: "r", Type: reconciler.Ref, RefKind: "queue", ForceNew: true},
		{Name: "i", Type: reconciler.Int, ForceNew: true},
		{Name: "b", Type: reconciler.Bool, ForceNew: true},
		{Name: "f", Type: reconciler.Float, ForceNew: true},
		{Name: "l", Type: reconciler.StringList, ForceNew: true},
	} {
		if !requiresReplace(t, resourceAttr(a, false, "")) {
			t.Errorf("ForceNew %s attribute %s does not require replacement", a.Type, a.Name)
		}
		a.ForceNew = false
		if requiresReplace(t, resourceAttr(a, false, "")) {
			t.Errorf("%s attribute %s requires replacement without ForceNew", a.Type, a.Name)
		}
	}
}

// TestSettingsAgreement: the provider block takes the settings of the CLI's flareops block
// under the same names and descriptions, and accepts exactly the values the CLI accepts.
func TestSettingsAgreement(t *testing.T) {
	ctx := context.Background()
	var sr provider.SchemaResponse
	New("test")().Schema(ctx, provider.SchemaRequest{}, &sr)
	for _, a := range reconciler.SettingsSchema().Attrs {
		pa, ok := sr.Schema.Attributes[a.Name].(pschema.StringAttribute)
		if !ok {
			t.Errorf("the provider block has no string attribute %s (%T)", a.Name, sr.Schema.Attributes[a.Name])
			continue
		}
		if pa.Required || !pa.Optional || pa.Sensitive != a.Sensitive {
			t.Errorf("%s: required=%v optional=%v sensitive=%v, want an optional setting like the CLI's", a.Name, pa.Required, pa.Optional, pa.Sensitive)
		}
		if !strings.HasPrefix(pa.MarkdownDescription, a.Description) {
			t.Errorf("%s: description %q does not carry the engine's %q", a.Name, pa.MarkdownDescription, a.Description)
		}
		probes := []string{`"monotask-ops"`, `"a"`, `""`, `" ops"`, `"ops "`, `"ops\tns"`, `"Ops / prod (ü)"`,
			strconv.Quote(strings.Repeat("x", a.MaxLen)), strconv.Quote(strings.Repeat("x", a.MaxLen+1))}
		for _, p := range probes {
			s, _ := strconv.Unquote(p)
			prov, provMsg := true, ""
			for _, v := range pa.Validators {
				var resp validator.StringResponse
				v.ValidateString(ctx, validator.StringRequest{Path: path.Root(a.Name), ConfigValue: types.StringValue(s)}, &resp)
				if resp.Diagnostics.HasError() {
					prov, provMsg = false, resp.Diagnostics.Errors()[0].Detail()
				}
			}
			src := fmt.Sprintf("%s {\n  %s = %s\n}\n", reconciler.SettingsBlock, a.Name, p)
			_, diags := config.LoadFiles(map[string][]byte{"probe" + config.FileSuffix: []byte(src)}, config.Options{})
			if cli := !diags.HasErrors(); cli != prov {
				t.Errorf("%s = %.40s: provider accepts=%v (%s), CLI accepts=%v (%s)", a.Name, p, prov, provMsg, cli, diags.Error())
			}
		}
	}
}

// asKindResource is the kindResource of a flareops_* resource, also when a test wraps it.
func asKindResource(r resource.Resource) *kindResource {
	if tr, ok := r.(typetestResource); ok {
		return tr.kindResource
	}
	return r.(*kindResource)
}

// floatProbes are numbers at and just beyond a Float's range; the first is valid.
func floatProbes(a reconciler.Attr) []string {
	f := reconciler.FormatFloat
	if !a.FloatBounded {
		return []string{"0.5", "0", "-1.5", "0.1", "1e+300"}
	}
	lo, hi := a.FloatMin, a.FloatMax
	var out []string
	switch {
	case !math.IsInf(lo, 0) && !math.IsInf(hi, 0):
		out = []string{f(lo + (hi-lo)/2)}
	case !math.IsInf(lo, 0):
		out = []string{f(lo + 1)}
	default:
		out = []string{f(hi - 1)}
	}
	if !math.IsInf(lo, 0) {
		out = append(out, f(lo), f(math.Nextafter(lo, math.Inf(-1))), f(lo-1))
	}
	if !math.IsInf(hi, 0) {
		out = append(out, f(hi), f(math.Nextafter(hi, math.Inf(1))), f(hi+1))
	}
	return out
}

// listProbes are lists at and beyond a StringList's limits, as HCL literals: the empty
// list, as many distinct valid elements as allowed and one more, a repeat, elements
// breaking the pattern, the length or the enum, a null element, a number.
func listProbes(a reconciler.Attr) []string {
	valid := func(i int) string {
		if i < len(a.Enum) {
			return strconv.Quote(a.Enum[i])
		}
		return strconv.Quote(string(rune('a'+i%26)) + strings.Repeat("x", i/26))
	}
	list := func(n int) string {
		elems := make([]string, n)
		for i := range elems {
			elems[i] = valid(i)
		}
		return "[" + strings.Join(elems, ", ") + "]"
	}
	out := []string{"[]", list(1), list(2), `[` + valid(0) + `, ` + valid(0) + `]`, `["A B"]`, `[` + valid(0) + `, null]`, `[1]`}
	if a.MaxItems > 0 {
		out = append(out, list(a.MaxItems), list(a.MaxItems+1))
	}
	if a.MaxLen > 0 {
		out = append(out, `["`+strings.Repeat("a", a.MaxLen)+`"]`, `["`+strings.Repeat("a", a.MaxLen+1)+`"]`)
	}
	if len(a.Enum) > 0 {
		out = append(out, `["not-`+a.Enum[0]+`"]`)
	}
	return out
}

// listLiteral evaluates an HCL list literal as Terraform hands it to a list(string)
// attribute: converted to a list of strings (1 becomes "1"), null elements kept.
func listLiteral(t *testing.T, lit string) types.List {
	t.Helper()
	expr, diags := hclsyntax.ParseExpression([]byte(lit), "probe", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("probe %s: %v", lit, diags)
	}
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		t.Fatalf("probe %s: %v", lit, diags)
	}
	v, err := convert.Convert(v, cty.List(cty.String))
	if err != nil {
		t.Fatalf("probe %s: %v", lit, err)
	}
	var elems []attr.Value
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() {
			elems = append(elems, types.StringNull())
		} else {
			elems = append(elems, types.StringValue(e.AsString()))
		}
	}
	return types.ListValueMust(types.StringType, elems)
}
