package provider

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	dschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/float64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/float64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/monotask/flareops/reconciler"
)

// Every flareops_* schema is built here from the engine's reconciler.BlockSchema, the same
// declaration the CLI's HCL loader validates against: names, types, defaults, ranges,
// enums and descriptions are written once, in the engine.
//
//	String, Ref, Duration → string (Duration validated by Attr.DecodeDuration)
//	Int → number (int64), Float → number (float64), Bool → bool
//	StringList → list of strings (validated by Attr.CheckList)
//	Default → Optional + Computed with that default
//	ForceNew → RequiresReplace
//	nested block → list block with at most MaxItems elements

// idAttr is the computed id every resource and data source has: the live object's id.
const idAttr = "id"

// resourceSchema builds a resource's schema from its kind. filled names the attributes
// (as "block.attr" paths for nested ones) that have no static default because the engine
// fills them from other attributes in Build; they are Optional + Computed, and the
// resource's ModifyPlan plans them as Build will set them. texts replaces the engine's
// description of the attributes (same paths) where it speaks of the CLI's language.
func resourceSchema(k reconciler.Kind, description string, filled map[string]bool, texts map[string]string) schema.Schema {
	attrs := resourceAttrs(k.Schema(), "", filled, texts)
	idText := idDescription(k)
	if t, ok := texts[idAttr]; ok {
		idText = t
	}
	attrs[idAttr] = schema.StringAttribute{
		Computed:            true,
		MarkdownDescription: idText,
		PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
	}
	return schema.Schema{
		MarkdownDescription: description,
		Attributes:          attrs,
		Blocks:              resourceBlocks(k.Schema(), "", filled, texts),
	}
}

// idDescription says what a resource's id is: Cloudflare's id of the object, or, for a kind
// that lives inside Workers (its objects have no id of their own), its key.
func idDescription(k reconciler.Kind) string {
	if _, scoped := k.(reconciler.ScopedObserver); scoped {
		return fmt.Sprintf("The %s's id: its `%s`. Import an existing %s by it.", k.Name(), k.KeyAttr(), k.Name())
	}
	return fmt.Sprintf("The %s's id in the account, assigned by Cloudflare. Import an existing %s by this id, or by its name.", k.Name(), k.Name())
}

func resourceAttrs(bs reconciler.BlockSchema, prefix string, filled map[string]bool, texts map[string]string) map[string]schema.Attribute {
	out := map[string]schema.Attribute{}
	for _, a := range bs.Attrs {
		out[a.Name] = resourceAttr(a, filled[prefix+a.Name], texts[prefix+a.Name])
	}
	return out
}

func resourceBlocks(bs reconciler.BlockSchema, prefix string, filled map[string]bool, texts map[string]string) map[string]schema.Block {
	out := map[string]schema.Block{}
	for _, nb := range bs.Blocks {
		b := schema.ListNestedBlock{
			MarkdownDescription: nb.Description,
			NestedObject: schema.NestedBlockObject{
				Attributes: resourceAttrs(nb.Schema, prefix+nb.Name+".", filled, texts),
				Blocks:     resourceBlocks(nb.Schema, prefix+nb.Name+".", filled, texts),
			},
		}
		if nb.MaxItems > 0 {
			b.Validators = []validator.List{maxItemsValidator{block: nb.Name, parent: "resource", max: nb.MaxItems}}
		}
		out[nb.Name] = b
	}
	return out
}

// resourceAttr converts one engine attribute. filled marks an engine-filled attribute;
// text, if set, replaces the engine's description.
func resourceAttr(a reconciler.Attr, filled bool, text string) schema.Attribute {
	required := a.Required || a.LabelDefault
	optional := !required
	computed := a.Default != nil || filled
	desc := resourceDescription(a, text)
	switch a.Type {
	case reconciler.Int:
		at := schema.Int64Attribute{
			Required: required, Optional: optional, Computed: computed, Sensitive: a.Sensitive,
			MarkdownDescription: desc,
			Validators:          []validator.Int64{int64RangeValidator{a}},
		}
		if n, ok := a.DefaultValue().(int64); ok {
			at.Default = int64default.StaticInt64(n)
		}
		if a.ForceNew {
			at.PlanModifiers = []planmodifier.Int64{int64planmodifier.RequiresReplace()}
		}
		return at
	case reconciler.Bool:
		at := schema.BoolAttribute{
			Required: required, Optional: optional, Computed: computed, Sensitive: a.Sensitive,
			MarkdownDescription: desc,
		}
		if b, ok := a.Default.(bool); ok {
			at.Default = booldefault.StaticBool(b)
		}
		if a.ForceNew {
			at.PlanModifiers = []planmodifier.Bool{boolplanmodifier.RequiresReplace()}
		}
		return at
	case reconciler.Float:
		at := schema.Float64Attribute{
			Required: required, Optional: optional, Computed: computed, Sensitive: a.Sensitive,
			MarkdownDescription: desc,
			Validators:          []validator.Float64{float64RangeValidator{a}},
		}
		if f, ok := a.DefaultValue().(float64); ok {
			at.Default = float64default.StaticFloat64(f)
		}
		if a.ForceNew {
			at.PlanModifiers = []planmodifier.Float64{float64planmodifier.RequiresReplace()}
		}
		return at
	case reconciler.RefList:
		at := schema.ListAttribute{
			ElementType: types.StringType,
			Required:    required, Optional: optional, Computed: computed, Sensitive: a.Sensitive,
			MarkdownDescription: desc,
			Validators:          []validator.List{refListValidator{a}},
		}
		if a.ForceNew {
			at.PlanModifiers = []planmodifier.List{listplanmodifier.RequiresReplace()}
		}
		return at
	case reconciler.StringListMap:
		at := schema.MapAttribute{
			ElementType: types.ListType{ElemType: types.StringType},
			Required:    required, Optional: optional, Computed: computed, Sensitive: a.Sensitive,
			MarkdownDescription: desc,
		}
		if a.ForceNew {
			at.PlanModifiers = []planmodifier.Map{mapplanmodifier.RequiresReplace()}
		}
		return at
	case reconciler.StringList:
		at := schema.ListAttribute{
			ElementType: types.StringType,
			Required:    required, Optional: optional, Computed: computed, Sensitive: a.Sensitive,
			MarkdownDescription: desc,
			Validators:          []validator.List{stringListValidator{a}},
		}
		if ss, ok := a.DefaultValue().([]string); ok {
			at.Default = listdefault.StaticValue(stringList(ss))
		}
		if a.ForceNew {
			at.PlanModifiers = []planmodifier.List{listplanmodifier.RequiresReplace()}
		}
		return at
	}
	at := schema.StringAttribute{
		Required: required, Optional: optional, Computed: computed, Sensitive: a.Sensitive,
		MarkdownDescription: desc,
	}
	switch a.Type {
	case reconciler.Duration:
		at.Validators = []validator.String{durationValidator{a}}
		at.PlanModifiers = []planmodifier.String{durationEquivalent{}}
		if n, ok := a.DefaultValue().(int64); ok {
			at.Default = stringdefault.StaticString(reconciler.FormatDuration(time.Duration(n) * a.Unit))
		}
	case reconciler.Ref:
		at.Validators = []validator.String{refValidator{a}}
	default:
		if len(a.Enum) > 0 {
			at.Validators = []validator.String{enumValidator{a}}
		}
		if a.Pattern != nil || a.MaxLen > 0 {
			at.Validators = append(at.Validators, textValidator{a})
		}
		if s, ok := a.Default.(string); ok {
			at.Default = stringdefault.StaticString(s)
		}
	}
	if a.ForceNew {
		at.PlanModifiers = append(at.PlanModifiers, stringplanmodifier.RequiresReplace())
	}
	return at
}

// resourceDescription is the engine's description of a (or text, where the resource says
// it its own way), and its default as Terraform documentation says it: "Defaults to
// `"4d"`." The engine's own mention of the default ("; default 4d") gives way to it.
func resourceDescription(a reconciler.Attr, text string) string {
	d := text
	if d == "" {
		d = a.Description
		if a.Type == reconciler.Ref {
			d += fmt.Sprintf(" In Terraform, write the %s's name, usually as `flareops_%s.<name>.name`.", a.RefKind, a.RefKind)
		}
		if a.Type == reconciler.RefList {
			d += fmt.Sprintf(" In Terraform, write the %ss' ids, e.g. `[flareops_%s.<name>.id]`.", a.RefKind, a.RefKind)
		}
	}
	def, ok := defaultText(a)
	if !ok {
		return d
	}
	plain := strings.Trim(def, `"`)
	d = strings.Replace(d, "; default "+plain+")", ")", 1)
	d = strings.Replace(d, " (default "+plain+")", "", 1)
	return d + " Defaults to `" + def + "`."
}

// defaultText is a's static default as Terraform writes it: `"4d"`, `"worker"`, `3`, `0.1`,
// `false`, `["a", "b"]`.
func defaultText(a reconciler.Attr) (string, bool) {
	switch d := a.DefaultValue().(type) {
	case nil:
		return "", false
	case []string:
		elems := make([]string, len(d))
		for i, s := range d {
			elems[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(elems, ", ") + "]", true
	case float64:
		return reconciler.FormatFloat(d), true
	case int64:
		if a.Type == reconciler.Duration {
			return strconv.Quote(reconciler.FormatDuration(time.Duration(d) * a.Unit)), true
		}
	}
	if a.Type == reconciler.String || a.Type == reconciler.Ref {
		return strconv.Quote(fmt.Sprint(a.Default)), true
	}
	return fmt.Sprint(a.DefaultValue()), true
}

// stringList is ss as a framework list value.
func stringList(ss []string) types.List {
	elems := make([]attr.Value, len(ss))
	for i, s := range ss {
		elems[i] = types.StringValue(s)
	}
	return types.ListValueMust(types.StringType, elems)
}

// dataSourceSchema builds the schema of a data source that looks an object up by its key
// attribute: the key is required, everything else is read from the account. texts
// describes every attribute ("consumer.worker" for nested ones) as what is read: the
// engine's descriptions speak of what a declaration does ("renames the queue in place"),
// which is wrong for a lookup. An attribute without a text falls back to the engine's
// description; TestDataSourceDescriptions allows none.
func dataSourceSchema(k reconciler.Kind, description string, texts map[string]string) dschema.Schema {
	attrs := dataSourceAttrs(k.Schema(), k.KeyAttr(), "", texts)
	attrs[idAttr] = dschema.StringAttribute{
		Computed:            true,
		MarkdownDescription: fmt.Sprintf("The %s's id in the account.", k.Name()),
	}
	return dschema.Schema{MarkdownDescription: description, Attributes: attrs}
}

func dataSourceAttrs(bs reconciler.BlockSchema, key, prefix string, texts map[string]string) map[string]dschema.Attribute {
	out := map[string]dschema.Attribute{}
	text := func(name, engine string) string {
		if t, ok := texts[prefix+name]; ok {
			return t
		}
		return engine
	}
	for _, a := range bs.Attrs {
		required := a.Name == key && key != ""
		computed := !required
		desc := text(a.Name, a.Description)
		switch a.Type {
		case reconciler.Int:
			out[a.Name] = dschema.Int64Attribute{Required: required, Computed: computed, Sensitive: a.Sensitive, MarkdownDescription: desc}
		case reconciler.Bool:
			out[a.Name] = dschema.BoolAttribute{Required: required, Computed: computed, Sensitive: a.Sensitive, MarkdownDescription: desc}
		case reconciler.Float:
			out[a.Name] = dschema.Float64Attribute{Required: required, Computed: computed, Sensitive: a.Sensitive, MarkdownDescription: desc}
		case reconciler.StringList, reconciler.RefList:
			out[a.Name] = dschema.ListAttribute{ElementType: types.StringType, Required: required, Computed: computed, Sensitive: a.Sensitive, MarkdownDescription: desc}
		case reconciler.StringListMap:
			out[a.Name] = dschema.MapAttribute{ElementType: types.ListType{ElemType: types.StringType}, Required: required, Computed: computed, Sensitive: a.Sensitive, MarkdownDescription: desc}
		default:
			out[a.Name] = dschema.StringAttribute{Required: required, Computed: computed, Sensitive: a.Sensitive, MarkdownDescription: desc}
		}
	}
	for _, nb := range bs.Blocks {
		out[nb.Name] = dschema.ListNestedAttribute{
			Computed:            true,
			MarkdownDescription: text(nb.Name, nb.Description),
			NestedObject:        dschema.NestedAttributeObject{Attributes: dataSourceAttrs(nb.Schema, "", prefix+nb.Name+".", texts)},
		}
	}
	return out
}
