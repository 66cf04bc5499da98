package seccomp

import (
	"github.com/opencontainers/runtime-spec/specs-go/features"
)

// Features reports what this build of runo can do on the running kernel
// with the linked libseccomp: actions the kernel implements, architectures
// libseccomp accepts, and flags the kernel accepts (SupportedFlags) among
// those runo knows (KnownFlags).
// The result plugs into features.Linux.Seccomp.
func Features() *features.Seccomp {
	enabled := kernelHasSeccompFilter()
	f := &features.Seccomp{Enabled: &enabled}
	for _, ai := range actionTable() {
		if enabled && kernelSupportsAction(ai.kernel) {
			f.Actions = append(f.Actions, string(ai.spec))
		}
	}
	for _, oi := range operatorTable() {
		f.Operators = append(f.Operators, string(oi.spec))
	}
	for _, ai := range archTable() {
		if libseccompSupportsArch(ai.scmp) == nil {
			f.Archs = append(f.Archs, string(ai.spec))
		}
	}
	for _, fi := range flagTable() {
		f.KnownFlags = append(f.KnownFlags, string(fi.spec))
		if enabled && kernelSupportsFlags(fi.bits) {
			f.SupportedFlags = append(f.SupportedFlags, string(fi.spec))
		}
	}
	return f
}
