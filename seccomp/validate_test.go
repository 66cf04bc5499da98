package seccomp

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestValidate(t *testing.T) {
	allow := specs.ActAllow
	rule := func(mod func(*specs.LinuxSyscall)) []specs.LinuxSyscall {
		s := specs.LinuxSyscall{Names: []string{"getcwd"}, Action: specs.ActErrno}
		mod(&s)
		return []specs.LinuxSyscall{s}
	}
	cases := []struct {
		name    string
		cfg     *specs.LinuxSeccomp
		wantErr string // substring; "" means valid
	}{
		{"nil", nil, ""},
		{"minimal", &specs.LinuxSeccomp{DefaultAction: allow}, ""},
		{"full valid", &specs.LinuxSeccomp{
			DefaultAction: specs.ActErrno, DefaultErrnoRet: uptr(38),
			Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
			Flags:         []specs.LinuxSeccompFlag{flagTSYNC, specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow},
			Syscalls: []specs.LinuxSyscall{
				{Names: []string{"read", "write"}, Action: specs.ActAllow},
				{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0xffffffff, Op: specs.OpEqualTo}}},
				{Names: []string{"ptrace"}, Action: specs.ActTrace, ErrnoRet: uptr(1)},
				{Names: []string{"no_such_syscall_xyz"}, Action: specs.ActAllow},
			},
		}, ""},
		{"missing default action", &specs.LinuxSeccomp{}, "seccomp.defaultAction: required"},
		{"unknown default action", &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_FOO"}, `seccomp.defaultAction: unknown action "SCMP_ACT_FOO"`},
		{"notify as default", &specs.LinuxSeccomp{DefaultAction: specs.ActNotify, ListenerPath: "/x"}, "seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default"},
		{"defaultErrnoRet with allow", &specs.LinuxSeccomp{DefaultAction: allow, DefaultErrnoRet: uptr(1)}, "seccomp.defaultErrnoRet: set to 1 but action SCMP_ACT_ALLOW"},
		{"defaultErrnoRet with kill", &specs.LinuxSeccomp{DefaultAction: specs.ActKillProcess, DefaultErrnoRet: uptr(1)}, "seccomp.defaultErrnoRet"},
		{"defaultErrnoRet too large", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: uptr(0x10000)}, "does not fit"},
		{"unknown arch", &specs.LinuxSeccomp{DefaultAction: allow, Architectures: []specs.Arch{specs.ArchX86_64, "SCMP_ARCH_VAX"}}, `seccomp.architectures[1]: unknown architecture "SCMP_ARCH_VAX"`},
		{"lowercase arch is not a spec name", &specs.LinuxSeccomp{DefaultAction: allow, Architectures: []specs.Arch{"x86_64"}}, "seccomp.architectures[0]: unknown architecture"},
		{"unknown flag", &specs.LinuxSeccomp{DefaultAction: allow, Flags: []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_BOGUS"}}, `seccomp.flags[0]: unknown flag "SECCOMP_FILTER_FLAG_BOGUS"`},
		{"metadata without path", &specs.LinuxSeccomp{DefaultAction: allow, ListenerMetadata: "m"}, "seccomp.listenerMetadata"},
		{"empty names", &specs.LinuxSeccomp{DefaultAction: allow, Syscalls: rule(func(s *specs.LinuxSyscall) { s.Names = nil })}, "seccomp.syscalls[0].names: must contain at least one entry"},
		{"empty name", &specs.LinuxSeccomp{DefaultAction: allow, Syscalls: rule(func(s *specs.LinuxSyscall) { s.Names = []string{"read", ""} })}, "seccomp.syscalls[0].names[1]: empty"},
		{"missing action", &specs.LinuxSeccomp{DefaultAction: allow, Syscalls: rule(func(s *specs.LinuxSyscall) { s.Action = "" })}, "seccomp.syscalls[0].action: required"},
		{"unknown action", &specs.LinuxSeccomp{DefaultAction: allow, Syscalls: rule(func(s *specs.LinuxSyscall) { s.Action = "SCMP_ACT_NOPE" })}, `seccomp.syscalls[0].action: unknown action "SCMP_ACT_NOPE"`},
		{"errnoRet with allow", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: rule(func(s *specs.LinuxSyscall) { s.Action = allow; s.ErrnoRet = uptr(5) })}, "seccomp.syscalls[0].errnoRet: set to 5 but action SCMP_ACT_ALLOW"},
		{"errnoRet with log", &specs.LinuxSeccomp{DefaultAction: allow, Syscalls: rule(func(s *specs.LinuxSyscall) { s.Action = specs.ActLog; s.ErrnoRet = uptr(5) })}, "seccomp.syscalls[0].errnoRet"},
		{"unknown operator", &specs.LinuxSeccomp{DefaultAction: allow, Syscalls: rule(func(s *specs.LinuxSyscall) {
			s.Args = []specs.LinuxSeccompArg{{Index: 0, Op: specs.OpEqualTo}, {Index: 1, Op: "SCMP_CMP_FOO"}}
		})}, `seccomp.syscalls[0].args[1].op: unknown operator "SCMP_CMP_FOO"`},
		{"missing operator", &specs.LinuxSeccomp{DefaultAction: allow, Syscalls: rule(func(s *specs.LinuxSyscall) { s.Args = []specs.LinuxSeccompArg{{Index: 0}} })}, "seccomp.syscalls[0].args[0].op: required"},
		{"arg index out of range", &specs.LinuxSeccomp{DefaultAction: allow, Syscalls: rule(func(s *specs.LinuxSyscall) {
			s.Args = []specs.LinuxSeccompArg{{Index: 6, Op: specs.OpEqualTo}}
		})}, "seccomp.syscalls[0].args[0].index: 6 is out of range"},
		{"notify without listenerPath", &specs.LinuxSeccomp{DefaultAction: allow, Syscalls: rule(func(s *specs.LinuxSyscall) { s.Action = specs.ActNotify })}, "seccomp.listenerPath: required"},
		{"notify with listenerPath", &specs.LinuxSeccomp{DefaultAction: allow, ListenerPath: "/run/agent.sock", ListenerMetadata: "x", Syscalls: rule(func(s *specs.LinuxSyscall) { s.Action = specs.ActNotify })}, ""},
		{"notify listenerPath too long", &specs.LinuxSeccomp{DefaultAction: allow, ListenerPath: "/" + strings.Repeat("a", 200), Syscalls: rule(func(s *specs.LinuxSyscall) { s.Action = specs.ActNotify })}, "seccomp.listenerPath"},
		{"listenerPath ignored without notify", &specs.LinuxSeccomp{DefaultAction: allow, ListenerPath: "/" + strings.Repeat("a", 200)}, ""},
		{"notify on write", &specs.LinuxSeccomp{DefaultAction: allow, ListenerPath: "/a", Syscalls: rule(func(s *specs.LinuxSyscall) { s.Action = specs.ActNotify; s.Names = []string{"mkdir", "write"} })}, `seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for "write"`},
		{"second rule named", &specs.LinuxSeccomp{DefaultAction: allow, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: allow}, {Names: []string{"read"}, Action: "bad"}}}, "seccomp.syscalls[1].action"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.cfg)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("no error, want %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q does not contain %q", err, tc.wantErr)
			}
			// Build validates first: it must refuse exactly the same configs.
			_, berr := Build(tc.cfg)
			if (berr == nil) != (err == nil) {
				t.Fatalf("Build error %v disagrees with Validate error %v", berr, err)
			}
		})
	}
}
