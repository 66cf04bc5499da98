// Package capabilities applies the runtime-spec "process.capabilities"
// sets to the container init thread.
//
// All operations act on the calling OS thread (capabilities, the bounding
// set and ambient set are per-thread in Linux), so the caller must hold
// runtime.LockOSThread from ApplyBounding until execve(2).
//
// Expected order in the init process:
//
//	caps, err := capabilities.New(spec.Process.Capabilities) // report caps.Warnings()
//	caps.ApplyBounding()   // needs CAP_SETPCAP, i.e. before dropping privileges
//	capabilities.KeepCaps()
//	setgroups / setgid / setuid
//	capabilities.ClearKeepCaps()
//	caps.ApplyCaps()       // effective, permitted, inheritable, then ambient
//	execve
//
// Unknown names: a name that is not a capability known to this build is an
// error (the runtime-spec requires it). A capability known to this build but
// absent from the running kernel (above /proc/sys/kernel/cap_last_cap) is
// ignored with a warning, as runc does, so one configuration works across
// kernel versions.
package capabilities

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Caps holds the five sets as bitmasks (bit n = capability n), already
// filtered to what the running kernel supports. A nil *Caps (no
// capabilities section) leaves the process capabilities untouched.
type Caps struct {
	bounding, effective, permitted, inheritable, ambient uint64
	lastCap                                              int
	warnings                                             []string
	// inBounding is the calling thread's bounding set as DropUngrantable read it
	// (bit n = capability n present), so ApplyBounding need not read it again.
	inBounding      uint64
	inBoundingKnown bool
}

// New validates c and resolves it against the running kernel.
func New(c *specs.LinuxCapabilities) (*Caps, error) {
	if c == nil {
		return nil, nil
	}
	last, err := capability.LastCap()
	if err != nil {
		return nil, fmt.Errorf("capabilities: %w", err)
	}
	return newForKernel(c, int(last))
}

// newForKernel is New with the kernel's last capability given, so the
// "unknown to this kernel" path can be tested on any kernel.
func newForKernel(c *specs.LinuxCapabilities, lastCap int) (*Caps, error) {
	caps := &Caps{lastCap: lastCap}
	sets := []struct {
		name  string
		names []string
		mask  *uint64
	}{
		{"bounding", c.Bounding, &caps.bounding},
		{"effective", c.Effective, &caps.effective},
		{"permitted", c.Permitted, &caps.permitted},
		{"inheritable", c.Inheritable, &caps.inheritable},
		{"ambient", c.Ambient, &caps.ambient},
	}
	for _, s := range sets {
		for i, name := range s.names {
			nr, ok := lookup(name)
			if !ok {
				return nil, fmt.Errorf("capabilities.%s[%d]: unknown capability %q", s.name, i, name)
			}
			if nr > lastCap {
				caps.warnings = append(caps.warnings, fmt.Sprintf("capabilities.%s: %s is not supported by the running kernel (last capability %d); ignored", s.name, name, lastCap))
				continue
			}
			*s.mask |= 1 << uint(nr)
		}
	}
	// The kernel refuses to raise an ambient capability that is not both
	// permitted and inheritable; drop those up front with a warning rather
	// than failing half-way through ApplyCaps.
	if extra := caps.ambient &^ (caps.permitted & caps.inheritable); extra != 0 {
		caps.warnings = append(caps.warnings, fmt.Sprintf("capabilities.ambient: %s not in both permitted and inheritable; not raised", strings.Join(maskNames(extra), ", ")))
		caps.ambient &^= extra
	}
	return caps, nil
}

// Warnings returns the non-fatal problems found by New.
func (c *Caps) Warnings() []string {
	if c == nil {
		return nil
	}
	return slices.Clone(c.warnings)
}

// KnownNames returns every capability name this build knows, in
// capability-number order (features.json "linux.capabilities").
func KnownNames() []string {
	known := capability.ListKnown()
	names := make([]string, len(known))
	for i, c := range known {
		names[i] = capName(c)
	}
	return names
}

func capName(c capability.Cap) string {
	return "CAP_" + strings.ToUpper(c.String())
}

// byName maps each known "CAP_…" name to its number, built on first use: a linear search
// over capability.ListKnown() formats every name again for each lookup.
var byName = sync.OnceValue(func() map[string]int {
	known := capability.ListKnown()
	m := make(map[string]int, len(known))
	for _, c := range known {
		m[capName(c)] = int(c)
	}
	return m
})

func lookup(name string) (int, bool) {
	nr, ok := byName()[name]
	return nr, ok
}

func maskNames(mask uint64) []string {
	var names []string
	for _, c := range capability.ListKnown() {
		if mask&(1<<uint(c)) != 0 {
			names = append(names, capName(c))
		}
	}
	return names
}
