package reconciler

import (
	"encoding/json"
	"reflect"
)

// The state keeps the last applied spec of every object so that a plan can tell a change
// made outside flareops (live moved away from what was applied) from a change in the
// configuration (desired moved away from what was applied). Sensitive fields (tagged
// `diff:",sensitive"`) are emptied before the spec is written: secrets never reach the
// state, and a sensitive field's changes always count as configuration changes.

// appliedJSON encodes spec for the state, without its sensitive fields.
func appliedJSON(spec any) json.RawMessage {
	if spec == nil {
		return nil
	}
	b, err := json.Marshal(redact(reflect.ValueOf(spec)).Interface())
	if err != nil {
		return nil // not recorded: the next plan counts every difference as configuration
	}
	return b
}

// decodeApplied decodes a recorded spec into the type of like (a spec of the same kind).
// ok is false when nothing usable was recorded.
func decodeApplied(raw json.RawMessage, like any) (any, bool) {
	if len(raw) == 0 || like == nil {
		return nil, false
	}
	v := reflect.New(reflect.TypeOf(like))
	if err := json.Unmarshal(raw, v.Interface()); err != nil {
		return nil, false
	}
	return v.Elem().Interface(), true
}

// redact returns a copy of v with every field tagged sensitive set to its zero value.
func redact(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			if _, o := parseTag(f); o.sensitive {
				continue
			}
			out.Field(i).Set(redact(v.Field(i)))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		it := v.MapRange()
		for it.Next() {
			out.SetMapIndex(it.Key(), redact(it.Value()))
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(redact(v.Index(i)))
		}
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(redact(v.Elem()))
		return out
	}
	return v
}

// classify sets the Origin (and Applied) of every field change between live and desired,
// given the spec last applied. Without a recorded spec every change is a configuration
// change. It returns the change's overall origin.
func classify(fields []FieldChange, applied, live, desired any, hasApplied bool) string {
	if len(fields) == 0 {
		return ""
	}
	if !hasApplied {
		for i := range fields {
			fields[i].Origin = OriginConfig
		}
		return OriginConfig
	}
	inConfig := map[string]bool{}
	for _, f := range Diff(applied, desired) {
		inConfig[f.Path] = true
	}
	outside := map[string]FieldChange{}
	for _, f := range Diff(applied, live) {
		outside[f.Path] = f
	}
	seen := map[string]bool{}
	for i := range fields {
		f := &fields[i]
		o, movedLive := outside[f.Path]
		switch {
		case f.Sensitive || !movedLive:
			f.Origin = OriginConfig
		case inConfig[f.Path]:
			f.Origin = OriginBoth
		default:
			f.Origin = OriginOutside
		}
		if f.Origin != OriginConfig {
			f.Applied, f.AppliedSet, f.AppliedRaw = o.Old, o.OldSet, o.OldRaw
		}
		seen[f.Origin] = true
	}
	switch {
	case seen[OriginBoth] || (seen[OriginOutside] && seen[OriginConfig]):
		return OriginBoth
	case seen[OriginOutside]:
		return OriginOutside
	}
	return OriginConfig
}

// ManagedEntry is the state entry of an object managed elsewhere (a Terraform resource's
// state), for a ScopedObserver's Scope: its id, key and spec as last applied.
func ManagedEntry(kind, id, key string, spec any) StateEntry {
	return StateEntry{Kind: kind, ID: id, Key: key, Applied: appliedJSON(spec)}
}
