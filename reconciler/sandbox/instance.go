package sandbox

import (
	"fmt"
	"strconv"
)

// Size is the resources of one container instance.
type Size struct {
	VCPU      float64
	MemoryMiB int64
	DiskMB    int64 // 0 when not known (a custom size's disk is the application's own)
}

// InstanceTypeNames are the predefined instance types, smallest first (DOCS
// containers/platform/limits).
var InstanceTypeNames = []string{"lite", "basic", "standard-1", "standard-2", "standard-3", "standard-4"}

// InstanceTypes are the sizes of the predefined instance types.
var InstanceTypes = map[string]Size{
	"lite":       {VCPU: 0.0625, MemoryMiB: 256, DiskMB: 2000},
	"basic":      {VCPU: 0.25, MemoryMiB: 1024, DiskMB: 4000},
	"standard-1": {VCPU: 0.5, MemoryMiB: 4096, DiskMB: 8000},
	"standard-2": {VCPU: 1, MemoryMiB: 6144, DiskMB: 12000},
	"standard-3": {VCPU: 2, MemoryMiB: 8192, DiskMB: 16000},
	"standard-4": {VCPU: 4, MemoryMiB: 12288, DiskMB: 20000},
}

// Limits of a custom instance size (DOCS containers/platform/limits: 1–4 vCPU, at most
// 12 GiB of memory, at least 3 GiB of memory per vCPU).
const (
	MinCustomVCPU      = 1.0
	MaxCustomVCPU      = 4.0
	MaxCustomMemoryMiB = 12288
	MinMemoryMiBPerCPU = 3072
)

// CheckCustom reports whether vcpu and memoryMiB make a custom instance size Cloudflare
// accepts, with a message that says what is allowed.
func CheckCustom(vcpu float64, memoryMiB int64) error {
	switch {
	case vcpu < MinCustomVCPU || vcpu > MaxCustomVCPU:
		return fmt.Errorf("vcpu must be between %s and %s for a custom instance size; got %s (smaller sizes: instance_type \"lite\" or \"basic\")",
			num(MinCustomVCPU), num(MaxCustomVCPU), num(vcpu))
	case memoryMiB < 1 || memoryMiB > MaxCustomMemoryMiB:
		return fmt.Errorf("memory_mib must be between 1 and %d (12 GiB); got %d", MaxCustomMemoryMiB, memoryMiB)
	case float64(memoryMiB) < MinMemoryMiBPerCPU*vcpu:
		return fmt.Errorf("memory_mib must be at least 3 GiB per vCPU: %s MiB or more for %s vCPU; got %d",
			num(MinMemoryMiBPerCPU*vcpu), num(vcpu), memoryMiB)
	}
	return nil
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Describe says what an instance size is, for people: "standard-1 (0.5 vCPU, 4096 MiB)",
// "2 vCPU, 8192 MiB".
func Describe(instanceType string, vcpu float64, memoryMiB int64) string {
	if s, ok := InstanceTypes[instanceType]; ok {
		return fmt.Sprintf("%s (%s vCPU, %d MiB)", instanceType, num(s.VCPU), s.MemoryMiB)
	}
	if instanceType != "" {
		return instanceType
	}
	return fmt.Sprintf("%s vCPU, %d MiB", num(vcpu), memoryMiB)
}
