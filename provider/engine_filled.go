package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/monotask/flareops/reconciler"
)

// Some attributes have no static default because the engine derives it from other
// attributes in Build (a consumer's batch_size is 10 for a Worker, 5 for an HTTP pull
// consumer). In Terraform they are Optional + Computed, and planFilled plans them: where
// the configuration leaves one out, its planned value is what Build will set. That keeps
// Terraform and the CLI in step (leaving an attribute out means the engine's default in
// both, never "whatever was there before"), and the plan shows real values rather than
// "known after apply".

// planFilled returns plan with every engine-filled attribute that config leaves out set as
// Build sets it. If an input is not known yet, the plan is returned as it is (the framework
// has already marked those attributes unknown). A Build error is returned: it is the
// configuration's, reported at plan time.
func planFilled(k reconciler.Kind, filled map[string]bool, typ tftypes.Object, config, plan, state tftypes.Value) (tftypes.Value, error) {
	bs := k.Schema()
	unknown, err := hasUnknownInput(bs, filled, "", config, plan)
	if err != nil || unknown {
		return plan, err
	}
	vals, err := valuesFrom(bs, plan)
	if err != nil {
		return plan, err
	}
	if err := dropUnconfigured(bs, filled, "", config, vals); err != nil {
		return plan, err
	}
	obj, err := k.Build(vals)
	if err != nil {
		return plan, err
	}
	return fillPlan(bs, filled, "", typ, config, plan, state, k.Flatten(obj.Spec))
}

// isUnset reports whether a configuration value is absent or null (not unknown).
func isUnset(v tftypes.Value) bool {
	return v.Type() == nil || (v.IsKnown() && v.IsNull())
}

// hasUnknownInput reports whether the plan holds an unknown value that Build would read:
// any attribute but an engine-filled one that the configuration leaves out.
func hasUnknownInput(bs reconciler.BlockSchema, filled map[string]bool, prefix string, config, plan tftypes.Value) (bool, error) {
	if !plan.IsKnown() {
		return true, nil
	}
	pm, err := objectMap(plan)
	if err != nil || pm == nil {
		return false, err
	}
	cm, err := objectMap(config)
	if err != nil {
		return false, err
	}
	for _, a := range bs.Attrs {
		if filled[prefix+a.Name] && isUnset(cm[a.Name]) {
			continue
		}
		if v, ok := pm[a.Name]; ok && !v.IsFullyKnown() {
			return true, nil
		}
	}
	for _, nb := range bs.Blocks {
		if v, ok := pm[nb.Name]; ok && !v.IsKnown() {
			return true, nil
		}
		pe, err := listElems(pm[nb.Name])
		if err != nil {
			return false, err
		}
		ce, err := listElems(cm[nb.Name])
		if err != nil {
			return false, err
		}
		for i := range pe {
			var c tftypes.Value
			if i < len(ce) {
				c = ce[i]
			}
			if u, err := hasUnknownInput(nb.Schema, filled, prefix+nb.Name+".", c, pe[i]); err != nil || u {
				return u, err
			}
		}
	}
	return false, nil
}

// dropUnconfigured removes from vals (decoded from the plan) the engine-filled attributes
// that the configuration leaves out: the plan may still carry their earlier values.
func dropUnconfigured(bs reconciler.BlockSchema, filled map[string]bool, prefix string, config tftypes.Value, vals reconciler.Values) error {
	cm, err := objectMap(config)
	if err != nil {
		return err
	}
	for _, a := range bs.Attrs {
		if filled[prefix+a.Name] && isUnset(cm[a.Name]) {
			delete(vals, a.Name)
		}
	}
	for _, nb := range bs.Blocks {
		list, _ := vals[nb.Name].([]reconciler.Values)
		ce, err := listElems(cm[nb.Name])
		if err != nil {
			return err
		}
		for i, ev := range list {
			var c tftypes.Value
			if i < len(ce) {
				c = ce[i]
			}
			if err := dropUnconfigured(nb.Schema, filled, prefix+nb.Name+".", c, ev); err != nil {
				return err
			}
		}
	}
	return nil
}

// fillPlan sets the unconfigured engine-filled attributes of plan from flat (the Flatten of
// the built object), keeping the state's spelling of an equal duration.
func fillPlan(bs reconciler.BlockSchema, filled map[string]bool, prefix string, typ tftypes.Object, config, plan, state tftypes.Value, flat reconciler.Values) (tftypes.Value, error) {
	pm, err := objectMap(plan)
	if err != nil || pm == nil {
		return plan, err
	}
	cm, err := objectMap(config)
	if err != nil {
		return plan, err
	}
	sm, _ := objectMap(state)
	out := make(map[string]tftypes.Value, len(pm))
	for k, v := range pm {
		out[k] = v
	}
	for _, a := range bs.Attrs {
		if !filled[prefix+a.Name] || !isUnset(cm[a.Name]) {
			continue
		}
		v, err := encodeAttr(a, typ.AttributeTypes[a.Name], flat[a.Name], []tftypes.Value{sm[a.Name]})
		if err != nil {
			return plan, err
		}
		out[a.Name] = v
	}
	for _, nb := range bs.Blocks {
		lt, ok := typ.AttributeTypes[nb.Name].(tftypes.List)
		if !ok {
			return plan, fmt.Errorf("the schema has no list %q", nb.Name)
		}
		et, _ := lt.ElementType.(tftypes.Object)
		pe, err := listElems(pm[nb.Name])
		if err != nil || len(pe) == 0 {
			continue
		}
		ce, _ := listElems(cm[nb.Name])
		se, _ := listElems(sm[nb.Name])
		fe, _ := flat[nb.Name].([]reconciler.Values)
		ordered, at := align(nb.Schema, pe, fe)
		elems := append([]tftypes.Value(nil), pe...)
		for i, ev := range ordered {
			j := at[i]
			if j < 0 {
				continue
			}
			var c, s tftypes.Value
			if j < len(ce) {
				c = ce[j]
			}
			if j < len(se) {
				s = se[j]
			}
			e, err := fillPlan(nb.Schema, filled, prefix+nb.Name+".", et, c, pe[j], s, ev)
			if err != nil {
				return plan, err
			}
			elems[j] = e
		}
		out[nb.Name] = tftypes.NewValue(lt, elems)
	}
	if err := tftypes.ValidateValue(typ, out); err != nil {
		return plan, err
	}
	return tftypes.NewValue(typ, out), nil
}
