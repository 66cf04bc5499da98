package seccomp

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
)

// maxSyscallArgs is the number of argument slots in struct seccomp_data.
const maxSyscallArgs = 6

// maxSunPath is the usable length of sockaddr_un.sun_path (NUL included in 108).
const maxSunPath = 107

// Validate checks a seccomp configuration without building a filter. Errors
// name the offending field, e.g. "seccomp.syscalls[2].args[0].op". Syscall
// names unknown to libseccomp are not errors: Build skips them.
func Validate(c *specs.LinuxSeccomp) error {
	if c == nil {
		return nil
	}
	if !kernelHasSeccompFilter() {
		return fmt.Errorf("seccomp: the kernel does not support seccomp filters")
	}
	if err := validateAction("seccomp.defaultAction", c.DefaultAction); err != nil {
		return err
	}
	if c.DefaultAction == specs.ActNotify {
		return fmt.Errorf("seccomp.defaultAction: %s cannot be the default action: the container process would block on its own syscalls before the agent has the listener fd", specs.ActNotify)
	}
	if err := validateErrnoRet("seccomp.defaultErrnoRet", c.DefaultAction, c.DefaultErrnoRet); err != nil {
		return err
	}
	for i, a := range c.Architectures {
		if err := validateArch(a); err != nil {
			return fmt.Errorf("seccomp.architectures[%d]: %w", i, err)
		}
	}
	for i, f := range c.Flags {
		bits, ok := lookupFlag(f)
		if !ok {
			return fmt.Errorf("seccomp.flags[%d]: unknown flag %q", i, f)
		}
		if !kernelSupportsFlags(bits) {
			return fmt.Errorf("seccomp.flags[%d]: %s is not supported by the running kernel", i, f)
		}
	}
	if c.ListenerMetadata != "" && c.ListenerPath == "" {
		return fmt.Errorf("seccomp.listenerMetadata: must not be set without seccomp.listenerPath")
	}
	usesNotify := false
	for i := range c.Syscalls {
		notify, err := validateSyscall(&c.Syscalls[i])
		if err != nil {
			return fmt.Errorf("seccomp.syscalls[%d]%w", i, err)
		}
		usesNotify = usesNotify || notify
	}
	if usesNotify {
		if c.ListenerPath == "" {
			return fmt.Errorf("seccomp.listenerPath: required when a rule uses %s", specs.ActNotify)
		}
		if len(c.ListenerPath) > maxSunPath {
			return fmt.Errorf("seccomp.listenerPath: %q is longer than the %d bytes a unix socket address can hold", c.ListenerPath, maxSunPath)
		}
	}
	return nil
}

func validateAction(field string, a specs.LinuxSeccompAction) error {
	if a == "" {
		return fmt.Errorf("%s: required", field)
	}
	ai, ok := lookupAction(a)
	if !ok {
		return fmt.Errorf("%s: unknown action %q", field, a)
	}
	if !kernelSupportsAction(ai.kernel) {
		return fmt.Errorf("%s: %s is not supported by the running kernel", field, a)
	}
	return nil
}

func validateErrnoRet(field string, a specs.LinuxSeccompAction, ret *uint) error {
	if ret == nil {
		return nil
	}
	if !takesErrno(a) {
		return fmt.Errorf("%s: set to %d but action %s does not take an errno (only %s and %s do)", field, *ret, a, specs.ActErrno, specs.ActTrace)
	}
	if *ret > 0xffff {
		return fmt.Errorf("%s: %d does not fit the 16-bit seccomp return data", field, *ret)
	}
	return nil
}

func validateArch(a specs.Arch) error {
	ai, ok := lookupArch(a)
	if !ok {
		return fmt.Errorf("unknown architecture %q", a)
	}
	if err := libseccompSupportsArch(ai.scmp); err != nil {
		return fmt.Errorf("%s: %w", a, err)
	}
	return nil
}

// libseccompSupportsArch asks the linked libseccomp (not only the Go
// binding, which knows more architectures than older C libraries).
func libseccompSupportsArch(a libseccomp.ScmpArch) error {
	f, err := libseccomp.NewFilter(libseccomp.ActAllow)
	if err != nil {
		return fmt.Errorf("create probe filter: %w", err)
	}
	defer f.Release()
	if err := f.AddArch(a); err != nil {
		major, minor, micro := libseccomp.GetLibraryVersion()
		return fmt.Errorf("not supported by libseccomp %d.%d.%d: %w", major, minor, micro, err)
	}
	return nil
}

// validateSyscall returns errors prefixed with the sub-field (".names" ...)
// so the caller can prepend the rule index, and reports whether the rule
// uses SCMP_ACT_NOTIFY.
func validateSyscall(s *specs.LinuxSyscall) (bool, error) {
	if len(s.Names) == 0 {
		return false, fmt.Errorf(".names: must contain at least one entry")
	}
	for j, n := range s.Names {
		if n == "" {
			return false, fmt.Errorf(".names[%d]: empty syscall name", j)
		}
	}
	if err := validateAction(".action", s.Action); err != nil {
		return false, err
	}
	if err := validateErrnoRet(".errnoRet", s.Action, s.ErrnoRet); err != nil {
		return false, err
	}
	for j, a := range s.Args {
		if a.Index >= maxSyscallArgs {
			return false, fmt.Errorf(".args[%d].index: %d is out of range (syscalls have %d arguments)", j, a.Index, maxSyscallArgs)
		}
		if a.Op == "" {
			return false, fmt.Errorf(".args[%d].op: required", j)
		}
		if _, ok := lookupOperator(a.Op); !ok {
			return false, fmt.Errorf(".args[%d].op: unknown operator %q", j, a.Op)
		}
	}
	if s.Action != specs.ActNotify {
		return false, nil
	}
	for j, n := range s.Names {
		if notifyForbidden(n) {
			return false, fmt.Errorf(".names[%d]: %s cannot be used for %q: the runtime needs it to hand the listener fd over", j, specs.ActNotify, n)
		}
	}
	return true, nil
}

// notifyForbidden lists the syscalls the container process uses to pass the
// notify fd on; notifying them would deadlock the hand-over.
func notifyForbidden(name string) bool {
	switch name {
	case "write", "sendmsg":
		return true
	}
	return false
}
