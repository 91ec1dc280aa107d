package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// ctrInstanceTypes are the predefined types (DOCS containers/platform/limits), plus the
// older WSDK enum values dev and standard. The table gives vCPU, memory MiB and disk MB.
var ctrInstanceTypes = map[string][3]float64{
	"lite":       {0.0625, 256, 2000},
	"dev":        {0.0625, 256, 2000},
	"basic":      {0.25, 1024, 4000},
	"standard":   {0.5, 4096, 4000},
	"standard-1": {0.5, 4096, 8000},
	"standard-2": {1, 6144, 12000},
	"standard-3": {2, 8192, 16000},
	"standard-4": {4, 12288, 20000},
}

var ctrNamespaceRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

func ctrValidateCreate(b *containerAppBody) string {
	switch {
	case b.Name == nil || strings.TrimSpace(*b.Name) == "":
		return "name is required"
	case b.SchedulingPolicy == nil:
		return "scheduling_policy is required: default or durable_object"
	case *b.SchedulingPolicy != "default" && *b.SchedulingPolicy != "durable_object":
		return fmt.Sprintf("scheduling_policy %q is invalid: use default or durable_object", *b.SchedulingPolicy)
	case b.Instances == nil:
		return "instances is required"
	case b.Configuration == nil:
		return "configuration is required"
	}
	if *b.SchedulingPolicy == "durable_object" {
		if b.DurableObjects == nil || !ctrNamespaceRe.MatchString(b.DurableObjects.NamespaceID) {
			return "durable_objects.namespace_id (32 hex characters) is required with scheduling_policy durable_object"
		}
	} else if b.DurableObjects != nil {
		return "durable_objects is only valid with scheduling_policy durable_object"
	}
	if msg := ctrValidateCounts(*b.Instances, b.MaxInstances); msg != "" {
		return msg
	}
	return ctrValidateConfig(b.Configuration)
}

func ctrValidateCounts(instances int, max *int) string {
	if instances < 0 {
		return fmt.Sprintf("instances must be >= 0, got %d", instances)
	}
	if max == nil {
		return ""
	}
	if *max < 1 || *max > ctrMaxInstances {
		return fmt.Sprintf("max_instances must be between 1 and %d, got %d", ctrMaxInstances, *max)
	}
	if instances > *max {
		return fmt.Sprintf("instances (%d) cannot exceed max_instances (%d)", instances, *max)
	}
	return ""
}

// ctrValidateConfig checks the fields the limits page documents: a required image, a
// known instance_type, or a custom size (vcpu 0.0625–4, memory_mib ≤ 12288 and ≥ 3 GiB
// per vCPU, disk ≤ 2 GB per GiB of memory). Unknown upstream: whether instance_type may
// be combined with vcpu/memory_mib; we refuse it (strictest).
func ctrValidateConfig(cfg map[string]json.RawMessage) string {
	raw, _ := json.Marshal(cfg) // re-encoding decoded JSON cannot fail
	var c struct {
		Image        *string  `json:"image"`
		InstanceType *string  `json:"instance_type"`
		VCPU         *float64 `json:"vcpu"`
		MemoryMiB    *float64 `json:"memory_mib"`
		Disk         *struct {
			SizeMB *float64 `json:"size_mb"`
		} `json:"disk"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&c); err != nil {
		return "configuration is invalid: " + err.Error()
	}
	if c.Image == nil || strings.TrimSpace(*c.Image) == "" {
		return "configuration.image is required"
	}
	maxDisk := 2000.0 // the default type (lite/dev)
	switch {
	case c.InstanceType != nil && (c.VCPU != nil || c.MemoryMiB != nil):
		return "configuration.instance_type cannot be combined with vcpu or memory_mib"
	case c.InstanceType != nil:
		t, ok := ctrInstanceTypes[*c.InstanceType]
		if !ok {
			return fmt.Sprintf("configuration.instance_type %q is invalid: use lite, basic, standard-1, standard-2, standard-3 or standard-4", *c.InstanceType)
		}
		maxDisk = t[2]
	case c.VCPU != nil || c.MemoryMiB != nil:
		if msg := ctrValidateCustom(c.VCPU, c.MemoryMiB); msg != "" {
			return msg
		}
		maxDisk = 2000 * *c.MemoryMiB / 1024
	}
	if c.Disk != nil && c.Disk.SizeMB != nil && (*c.Disk.SizeMB <= 0 || *c.Disk.SizeMB > maxDisk) {
		return fmt.Sprintf("configuration.disk.size_mb must be between 1 and %s for this instance size, got %s", ctrNum(maxDisk), ctrNum(*c.Disk.SizeMB))
	}
	return ""
}

func ctrValidateCustom(vcpu, mem *float64) string {
	switch {
	case vcpu == nil || mem == nil:
		return "a custom instance size needs both configuration.vcpu and configuration.memory_mib"
	case *vcpu < 0.0625 || *vcpu > 4:
		return fmt.Sprintf("configuration.vcpu must be between 0.0625 and 4, got %s", ctrNum(*vcpu))
	case *mem <= 0 || *mem > 12288:
		return fmt.Sprintf("configuration.memory_mib must be between 1 and 12288, got %s", ctrNum(*mem))
	case *mem < 3072**vcpu:
		return fmt.Sprintf("configuration.memory_mib must be at least 3 GiB per vCPU (%s MiB for %s vCPU), got %s", ctrNum(3072**vcpu), ctrNum(*vcpu), ctrNum(*mem))
	}
	return ""
}

// ctrRaw treats an explicit JSON null as absent.
func ctrRaw(v json.RawMessage) json.RawMessage {
	if string(v) == "null" {
		return nil
	}
	return v
}

func ctrDropNulls(cfg map[string]json.RawMessage) map[string]json.RawMessage {
	for k, v := range cfg {
		if string(v) == "null" {
			delete(cfg, k)
		}
	}
	return cfg
}

func ctrNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func ctrApplyPatch(app *containerApp, b *containerAppBody) (containerApp, int, string) {
	next := *app
	if b.SchedulingPolicy != nil && *b.SchedulingPolicy != app.SchedulingPolicy {
		return next, http.StatusBadRequest, "scheduling_policy cannot be changed: delete and recreate the application"
	}
	if b.DurableObjects != nil && (app.DurableObjects == nil || *b.DurableObjects != *app.DurableObjects) {
		return next, http.StatusBadRequest, "durable_objects cannot be changed"
	}
	if b.Name != nil {
		if strings.TrimSpace(*b.Name) == "" {
			return next, http.StatusBadRequest, "name cannot be empty"
		}
		next.Name = *b.Name
	}
	if b.Instances != nil {
		next.Instances = *b.Instances
	}
	if b.MaxInstances != nil {
		next.MaxInstances = b.MaxInstances
	}
	if msg := ctrValidateCounts(next.Instances, next.MaxInstances); msg != "" {
		return next, http.StatusBadRequest, msg
	}
	if b.Configuration != nil {
		merged := map[string]json.RawMessage{}
		for k, v := range app.Configuration {
			merged[k] = v
		}
		for k, v := range b.Configuration {
			merged[k] = v
		}
		merged = ctrDropNulls(merged)
		if msg := ctrValidateConfig(merged); msg != "" {
			return next, http.StatusBadRequest, msg
		}
		next.Configuration = merged
	}
	for _, f := range []struct{ dst, src *json.RawMessage }{{&next.Constraints, &b.Constraints}, {&next.Affinities, &b.Affinities}, {&next.Priorities, &b.Priorities}} {
		if *f.src != nil {
			*f.dst = ctrRaw(*f.src)
		}
	}
	return next, http.StatusOK, ""
}
