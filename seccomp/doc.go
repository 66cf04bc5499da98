// Package seccomp turns the runtime-spec "linux.seccomp" section into a
// seccomp BPF program and loads it.
//
// The work is split so that the container init process does as little as
// possible between loading the filter and execve(2):
//
//   - Validate checks a configuration without building anything; runo create
//     calls it so that mistakes are reported before any process exists.
//   - Build resolves syscall names with libseccomp, exports libseccomp's BPF
//     program, prepends the ENOSYS prologue described below, probes kernel
//     support for the requested flags and precomputes the seccomp(2) flags.
//   - Filter.Load is a single seccomp(SECCOMP_SET_MODE_FILTER) call.
//
// # ENOSYS for syscalls newer than the profile
//
// A profile written before a syscall existed cannot mention it, so with a
// deny-by-default profile (SCMP_ACT_ERRNO with EPERM, SCMP_ACT_KILL*, ...) a
// program that probes for the new syscall gets EPERM or dies, where it would
// have fallen back cleanly on ENOSYS (glibc and clone3 are the classic case).
//
// The rule applied here: for every architecture in the filter (the native
// one plus spec "architectures"), let N be the highest syscall number, on
// that architecture, of any name listed in the profile, whatever its action.
// A syscall on that architecture whose number is greater than N returns
// ENOSYS; every syscall numbered N or lower takes the profile's rules and
// default action unchanged. Syscall numbers only grow, so "greater than
// anything the profile names" is the best available meaning of "newer than
// the profile".
//
// The prologue is added only when the default action refuses the syscall
// (SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD,
// SCMP_ACT_TRAP). With SCMP_ACT_ALLOW or SCMP_ACT_LOG the new syscall is
// allowed anyway, and with SCMP_ACT_TRACE or SCMP_ACT_NOTIFY the profile asks
// for a tracer/agent to decide about everything it did not list, so it is not
// second-guessed. An architecture for which the profile names no syscall at
// all gets no prologue (there is no notion of "known" to compare with).
//
// On x86-64 the x32 ABI shares the audit architecture and marks its syscalls
// with bit 30 (0x40000000); those numbers are compared only with the x32
// maximum, and only when SCMP_ARCH_X32 is in the filter. Other x32 syscalls
// are left to libseccomp's program (bad-architecture action).
//
// Names that the linked libseccomp cannot resolve are skipped, as runc does;
// they therefore do not raise N. A profile allowing a syscall newer than
// libseccomp thus sees it answered with ENOSYS, which is the fallback the
// prologue exists for.
//
// # Notify
//
// When a rule uses SCMP_ACT_NOTIFY, Load returns the listener fd, and the
// runtime must pass it to the agent at listenerPath (SendNotifyFd with a
// payload from NotifyState). Syscalls made by the container process after
// Load and before the agent has the fd would block forever if they were
// notified, so Validate refuses SCMP_ACT_NOTIFY as the default action and on
// write(2) and sendmsg(2), the calls used to hand the fd over.
package seccomp
