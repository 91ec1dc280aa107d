package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/monotask/flareops/reconciler"
)

// The validators and plan modifiers of attributes built from the engine schema. Each one
// asks the engine's own check (CheckEnum, CheckRange, DecodeDuration, CheckFloat,
// CheckList), so Terraform and the CLI accept the same values and reject the others with
// the same words. Unknown and null values are left alone: Terraform validates again once
// they are known.

// enumValidator accepts only the attribute's Enum values.
type enumValidator struct{ attr reconciler.Attr }

func (v enumValidator) Description(context.Context) string {
	return "one of " + strings.Join(v.attr.Enum, ", ")
}

func (v enumValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v enumValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := v.attr.CheckEnum(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid value", err.Error()+".")
	}
}

// textValidator accepts only strings within the attribute's MaxLen and Pattern (a queue's
// name rule). A name computed from values not known until apply is checked then, by the API.
type textValidator struct{ attr reconciler.Attr }

func (v textValidator) Description(context.Context) string { return v.attr.TextRule() }

func (v textValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v textValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := v.attr.CheckText(req.ConfigValue.ValueString()); err != nil {
		detail := err.Error() + "."
		if v.attr.Sensitive {
			detail = fmt.Sprintf("%s must be %s; the value (sensitive, not shown) is not.", v.attr.Name, v.attr.TextRule())
		}
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid value", detail)
	}
}

// durationValidator accepts a duration in the attribute's unit and range.
type durationValidator struct{ attr reconciler.Attr }

func (v durationValidator) Description(context.Context) string {
	a := v.attr
	lo := reconciler.FormatDuration(time.Duration(a.Min) * a.Unit)
	if a.Max == 0 {
		return fmt.Sprintf("a duration of at least %s, e.g. \"30s\"", lo)
	}
	return fmt.Sprintf("a duration from %s to %s, e.g. \"30s\"", lo, reconciler.FormatDuration(time.Duration(a.Max)*a.Unit))
}

func (v durationValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v durationValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	a, s := v.attr, req.ConfigValue.ValueString()
	suffix := "s"
	if a.Unit == time.Millisecond {
		suffix = "ms"
	}
	hint := fmt.Sprintf(`Write a whole number and a unit (ms, s, m, h, d), e.g. %s = "30%s".`, a.Name, suffix)
	d, err := reconciler.ParseDuration(s)
	if err != nil && !errors.Is(err, reconciler.ErrDurationTooLong) {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration", err.Error()+". "+hint)
		return
	}
	if _, err := a.DecodeDuration(s); err != nil {
		summary := "Value out of range"
		if d%a.Unit != 0 {
			summary = "Invalid duration"
		}
		resp.Diagnostics.AddAttributeError(req.Path, summary, err.Error()+".")
	}
}

// refValidator accepts the name of an object of the referenced kind (never empty).
type refValidator struct{ attr reconciler.Attr }

func (v refValidator) Description(context.Context) string {
	return "the name of a " + v.attr.RefKind
}

func (v refValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v refValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if req.ConfigValue.ValueString() == "" {
		a := v.attr
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid value", fmt.Sprintf(
			"%s must name a %s; got an empty string. Refer to one (flareops_%s.<name>.name) or write the name of an existing %s, or leave %s out.",
			a.Name, a.RefKind, a.RefKind, a.RefKind, a.Name))
	}
}

// int64RangeValidator accepts whole numbers within the attribute's Min and Max.
type int64RangeValidator struct{ attr reconciler.Attr }

func (v int64RangeValidator) Description(context.Context) string {
	if v.attr.Max == 0 {
		return fmt.Sprintf("at least %d", v.attr.Min)
	}
	return fmt.Sprintf("between %d and %d", v.attr.Min, v.attr.Max)
}

func (v int64RangeValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v int64RangeValidator) ValidateInt64(_ context.Context, req validator.Int64Request, resp *validator.Int64Response) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := v.attr.CheckRange(req.ConfigValue.ValueInt64()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Value out of range", err.Error()+".")
	}
}

// maxItemsValidator bounds the number of nested blocks.
type maxItemsValidator struct {
	block  string
	parent string
	max    int
}

func (v maxItemsValidator) Description(context.Context) string {
	return fmt.Sprintf("at most %d %s block(s)", v.max, v.block)
}

func (v maxItemsValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v maxItemsValidator) ValidateList(_ context.Context, req validator.ListRequest, resp *validator.ListResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if n := len(req.ConfigValue.Elements()); n > v.max {
		blocks := "blocks"
		if v.max == 1 {
			blocks = "block"
		}
		resp.Diagnostics.AddAttributeError(req.Path, fmt.Sprintf("Too many %s blocks", v.block), fmt.Sprintf(
			"A %s accepts at most %d %s %s; this one has %d: remove the extra ones or merge them into the first.",
			v.parent, v.max, v.block, blocks, n))
	}
}

// durationEquivalent keeps the prior spelling of a duration that denotes the same value
// ("60s" after "1m"), so that a respelling is not a change. Terraform allows a planned
// value that differs from the configuration only when it is exactly the prior state's.
type durationEquivalent struct{}

func (durationEquivalent) Description(context.Context) string {
	return "an equal duration spelled differently (\"60s\", \"1m\") is not a change"
}

func (m durationEquivalent) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (durationEquivalent) PlanModifyString(_ context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if req.PlanValue.IsNull() || req.PlanValue.IsUnknown() || req.StateValue.IsNull() || req.StateValue.IsUnknown() {
		return
	}
	if sameDuration(req.PlanValue.ValueString(), req.StateValue.ValueString()) {
		resp.PlanValue = req.StateValue
	}
}

// float64RangeValidator accepts finite numbers within the attribute's FloatMin and FloatMax.
type float64RangeValidator struct{ attr reconciler.Attr }

func (v float64RangeValidator) Description(context.Context) string { return v.attr.FloatRule() }

func (v float64RangeValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v float64RangeValidator) ValidateFloat64(_ context.Context, req validator.Float64Request, resp *validator.Float64Response) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := v.attr.CheckFloat(req.ConfigValue.ValueFloat64()); err != nil {
		detail := err.Error() + "."
		if v.attr.Sensitive {
			detail = fmt.Sprintf("%s must be %s; the value (sensitive, not shown) is not.", v.attr.Name, v.attr.FloatRule())
		}
		resp.Diagnostics.AddAttributeError(req.Path, "Value out of range", detail)
	}
}

// stringListValidator accepts lists of strings within the attribute's MaxItems and Unique,
// each element within its Enum, MaxLen and Pattern (Attr.CheckList), and reports each
// problem at its element. Elements known only at apply are skipped (the API checks them
// then); the known ones are checked, duplicates among them too.
type stringListValidator struct{ attr reconciler.Attr }

func (v stringListValidator) Description(context.Context) string {
	return "a list of strings: " + v.attr.ListRule()
}

func (v stringListValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v stringListValidator) ValidateList(_ context.Context, req validator.ListRequest, resp *validator.ListResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	a, elems := v.attr, req.ConfigValue.Elements()
	ss, known := make([]string, len(elems)), make([]bool, len(elems))
	for i, e := range elems {
		switch {
		case e.IsUnknown():
		case e.IsNull():
			resp.Diagnostics.AddAttributeError(req.Path.AtListIndex(i), "Incorrect attribute value type",
				fmt.Sprintf("%s must be a string; got null. Remove it, or write text in quotes.", reconciler.ItemName(a.Name, i)))
		default:
			if s, ok := e.(types.String); ok {
				ss[i], known[i] = s.ValueString(), true
			}
		}
	}
	problems := a.CheckList(ss, func(i int) bool { return known[i] })
	if len(problems) > 0 && a.Sensitive {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid value",
			fmt.Sprintf("%s must be %s; the value (sensitive, not shown) is not.", a.Name, a.ListRule()))
		return
	}
	for _, p := range problems {
		at, detail := req.Path, p.Error()+"."
		if p.Index >= 0 {
			at = req.Path.AtListIndex(p.Index)
		}
		if p.First >= 0 {
			detail += " Remove one of them."
		}
		resp.Diagnostics.AddAttributeError(at, p.Summary(), detail)
	}
}

// filledRequiresReplace is RequiresReplace for an engine-filled string (a sandbox's name,
// which defaults to its Worker's). Left out of the configuration, its planned value is
// unknown whenever anything changes, which RequiresReplace would take for a change: here
// it keeps the state's value instead, and the resource's ModifyPlan, which plans it as
// Build sets it, asks for the replacement if that differs (replaceFilled).
type filledRequiresReplace struct{}

func (filledRequiresReplace) Description(context.Context) string {
	return "a change replaces the object, also when the value is derived from other attributes"
}

func (m filledRequiresReplace) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (filledRequiresReplace) PlanModifyString(_ context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() {
		return // create or destroy
	}
	if req.PlanValue.IsUnknown() && req.ConfigValue.IsNull() {
		resp.PlanValue = req.StateValue
		return
	}
	if !req.PlanValue.Equal(req.StateValue) {
		resp.RequiresReplace = true
	}
}

// refListValidator checks a RefList: no null element, no name twice, at most MaxItems.
type refListValidator struct{ attr reconciler.Attr }

func (v refListValidator) Description(context.Context) string {
	return fmt.Sprintf("a list of %s ids, each at most once", v.attr.RefKind)
}

func (v refListValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v refListValidator) ValidateList(_ context.Context, req validator.ListRequest, resp *validator.ListResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	a, elems := v.attr, req.ConfigValue.Elements()
	if a.MaxItems > 0 && len(elems) > a.MaxItems {
		resp.Diagnostics.AddAttributeError(req.Path, "Too many elements", fmt.Sprintf("%s must have at most %d elements; got %d.", a.Name, a.MaxItems, len(elems)))
	}
	seen := map[string]int{}
	for i, e := range elems {
		switch {
		case e.IsUnknown():
		case e.IsNull():
			resp.Diagnostics.AddAttributeError(req.Path.AtListIndex(i), "Incorrect attribute value type",
				fmt.Sprintf("%s must be the id of a %s; got null.", reconciler.ItemName(a.Name, i), a.RefKind))
		default:
			s, ok := e.(types.String)
			if !ok {
				continue
			}
			if j, dup := seen[s.ValueString()]; dup {
				resp.Diagnostics.AddAttributeError(req.Path.AtListIndex(i), "Duplicate element",
					fmt.Sprintf("%s and %s name the same %s. Remove one of them.", reconciler.ItemName(a.Name, j), reconciler.ItemName(a.Name, i), a.RefKind))
			}
			seen[s.ValueString()] = i
		}
	}
}
