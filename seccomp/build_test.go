package seccomp

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// runBPF interprets a classic seccomp BPF program for one seccomp_data, so
// the built program (prologue plus libseccomp's part) can be checked for
// architectures and ABIs this machine cannot execute.
func runBPF(prog []unix.SockFilter, arch uint32, nr int32, args [6]uint64) (uint32, error) {
	data := make([]byte, 64)
	binary.NativeEndian.PutUint32(data[0:], uint32(nr))
	binary.NativeEndian.PutUint32(data[4:], arch)
	for i, a := range args {
		binary.NativeEndian.PutUint64(data[16+8*i:], a)
	}
	var A, X uint32
	var mem [16]uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			if int(in.K)+4 > len(data) {
				return 0, fmt.Errorf("pc %d: load beyond seccomp_data", pc)
			}
			A = binary.NativeEndian.Uint32(data[in.K:])
		case unix.BPF_LD | unix.BPF_IMM:
			A = in.K
		case unix.BPF_LDX | unix.BPF_IMM:
			X = in.K
		case unix.BPF_LD | unix.BPF_MEM:
			A = mem[in.K]
		case unix.BPF_LDX | unix.BPF_MEM:
			X = mem[in.K]
		case unix.BPF_ST:
			mem[in.K] = A
		case unix.BPF_STX:
			mem[in.K] = X
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			A &= in.K
		case unix.BPF_MISC | unix.BPF_TAX:
			X = A
		case unix.BPF_MISC | unix.BPF_TXA:
			A = X
		case unix.BPF_RET | unix.BPF_K:
			return in.K, nil
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K,
			unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K, unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			var cond bool
			switch in.Code &^ (unix.BPF_JMP | unix.BPF_K) {
			case unix.BPF_JEQ:
				cond = A == in.K
			case unix.BPF_JGT:
				cond = A > in.K
			case unix.BPF_JGE:
				cond = A >= in.K
			case unix.BPF_JSET:
				cond = A&in.K != 0
			}
			if cond {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		default:
			return 0, fmt.Errorf("pc %d: opcode %#x not handled by the test interpreter", pc, in.Code)
		}
	}
	return 0, fmt.Errorf("fell off the end of the program")
}

func sysNr(t *testing.T, name string, arch libseccomp.ScmpArch) int32 {
	t.Helper()
	nr, err := libseccomp.GetSyscallFromNameByArch(name, arch)
	if err != nil || nr < 0 {
		t.Fatalf("resolve %s on %s: %v", name, arch, err)
	}
	return int32(nr)
}

func TestBuildProgramSemantics(t *testing.T) {
	if native, _ := libseccomp.GetNativeArch(); native != libseccomp.ArchAMD64 {
		t.Skip("expectations are written for an x86-64 host")
	}
	errno := func(e unix.Errno) uint32 { return unix.SECCOMP_RET_ERRNO | uint32(e) }
	const allowRet = unix.SECCOMP_RET_ALLOW
	x86, x64 := uint32(unix.AUDIT_ARCH_I386), uint32(unix.AUDIT_ARCH_X86_64)

	cfg := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read", "getpid", "pidfd_open"}, Action: specs.ActAllow},
			{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0xffffffff, Op: specs.OpEqualTo}}},
		},
	}
	f, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if f.prog[0].Code != unix.BPF_LD|unix.BPF_W|unix.BPF_ABS || f.prog[0].K != dataArch {
		t.Fatalf("program does not start with the prologue: %+v", f.prog[0])
	}
	highest := func(a libseccomp.ScmpArch) int32 { return sysNr(t, "pidfd_open", a) }
	cases := []struct {
		name string
		arch uint32
		nr   int32
		arg0 uint64
		want uint32
	}{
		{"x86_64 read allowed", x64, sysNr(t, "read", libseccomp.ArchAMD64), 0, allowRet},
		{"x86_64 unlisted below max gets default", x64, sysNr(t, "mkdir", libseccomp.ArchAMD64), 0, errno(unix.EPERM)},
		{"x86_64 highest listed allowed", x64, highest(libseccomp.ArchAMD64), 0, allowRet},
		{"x86_64 above max ENOSYS", x64, highest(libseccomp.ArchAMD64) + 1, 0, errno(unix.ENOSYS)},
		{"x86_64 clone3 above max ENOSYS", x64, sysNr(t, "clone3", libseccomp.ArchAMD64), 0, errno(unix.ENOSYS)},
		{"x86_64 personality query", x64, sysNr(t, "personality", libseccomp.ArchAMD64), 0xffffffff, allowRet},
		{"x86_64 personality change", x64, sysNr(t, "personality", libseccomp.ArchAMD64), 0, errno(unix.EPERM)},
		{"i386 read allowed", x86, sysNr(t, "read", libseccomp.ArchX86), 0, allowRet},
		{"i386 above max ENOSYS", x86, highest(libseccomp.ArchX86) + 1, 0, errno(unix.ENOSYS)},
		{"i386 unlisted below max gets default", x86, sysNr(t, "mkdir", libseccomp.ArchX86), 0, errno(unix.EPERM)},
		{"x32 read allowed", x64, sysNr(t, "read", libseccomp.ArchX32), 0, allowRet},
		{"x32 above x32 max ENOSYS", x64, highest(libseccomp.ArchX32) + 1, 0, errno(unix.ENOSYS)},
		{"x32 unlisted below max gets default", x64, sysNr(t, "mkdir", libseccomp.ArchX32), 0, errno(unix.EPERM)},
		{"foreign arch takes bad-arch action", unix.AUDIT_ARCH_AARCH64, 63, 0, unix.SECCOMP_RET_KILL_THREAD},
	}
	for _, tc := range cases {
		got, err := runBPF(f.prog, tc.arch, tc.nr, [6]uint64{tc.arg0})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got != tc.want {
			t.Errorf("%s (nr %d): got %#x, want %#x", tc.name, tc.nr, got, tc.want)
		}
	}
}

func TestBuildPrologueOnlyForDenyingDefaults(t *testing.T) {
	rules := []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActKillProcess}, {Names: []string{"write"}, Action: specs.ActErrno}}
	above := sysNr(t, "clone3", libseccomp.ArchNative)
	native, _ := libseccomp.GetNativeArch()
	ai, _ := lookupScmpArch(native)
	for _, tc := range []struct {
		def    specs.LinuxSeccompAction
		enosys bool
	}{
		{specs.ActErrno, true}, {specs.ActKill, true}, {specs.ActKillThread, true}, {specs.ActKillProcess, true}, {specs.ActTrap, true},
		{specs.ActAllow, false}, {specs.ActLog, false}, {specs.ActTrace, false},
	} {
		rs := slices.Clone(rules)
		if tc.def == specs.ActKillProcess {
			rs[0].Action = specs.ActAllow
		}
		f, err := Build(&specs.LinuxSeccomp{DefaultAction: tc.def, Syscalls: rs})
		if err != nil {
			t.Fatalf("%s: %v", tc.def, err)
		}
		got, err := runBPF(f.prog, ai.audit, above, [6]uint64{})
		if err != nil {
			t.Fatalf("%s: %v", tc.def, err)
		}
		isENOSYS := got == unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS)
		if isENOSYS != tc.enosys {
			t.Errorf("default %s: clone3 -> %#x, ENOSYS expected: %v", tc.def, got, tc.enosys)
		}
	}
}

func TestBuildFlagsAndBookkeeping(t *testing.T) {
	notifyRule := specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActNotify}
	cases := []struct {
		name      string
		cfg       *specs.LinuxSeccomp
		wantFlags uint
		notify    bool
		skipped   []string
	}{
		{"no flags", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}, 0, false, nil},
		{"tsync log spec_allow", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Flags: []specs.LinuxSeccompFlag{flagTSYNC, specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow}},
			unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_LOG | unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW, false, nil},
		{"wait killable without notify is dropped", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}}, 0, false, nil},
		{"notify adds listener", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/a",
			Syscalls: []specs.LinuxSyscall{notifyRule}}, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, true, nil},
		{"notify with tsync and wait killable", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/a",
			Flags:    []specs.LinuxSeccompFlag{flagTSYNC, specs.LinuxSeccompFlagWaitKillableRecv},
			Syscalls: []specs.LinuxSyscall{notifyRule}},
			unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH | unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, true, nil},
		{"notify rule with only unknown names adds no listener", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/a",
			Syscalls: []specs.LinuxSyscall{{Names: []string{"not_a_syscall_1"}, Action: specs.ActNotify}}}, 0, false, []string{"not_a_syscall_1"}},
		{"unknown names skipped", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"read", "not_a_syscall_2", "write"}, Action: specs.ActAllow}}}, 0, false, []string{"not_a_syscall_2"}},
		{"rule equal to default is accepted", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: uptr(1),
			Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActErrno}}}, 0, false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Build(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if f.flags != tc.wantFlags {
				t.Errorf("flags %#x, want %#x", f.flags, tc.wantFlags)
			}
			if f.HasNotify() != tc.notify {
				t.Errorf("HasNotify %v, want %v", f.HasNotify(), tc.notify)
			}
			if !slices.Equal(f.SkippedSyscalls(), tc.skipped) {
				t.Errorf("skipped %v, want %v", f.SkippedSyscalls(), tc.skipped)
			}
			if int(f.fprog.Len) != len(f.prog) || f.fprog.Filter != &f.prog[0] {
				t.Errorf("sock_fprog does not describe the program")
			}
		})
	}
}

func TestBuildNil(t *testing.T) {
	f, err := Build(nil)
	if err != nil || f != nil {
		t.Fatalf("Build(nil) = %v, %v", f, err)
	}
	fd, err := f.Load()
	if fd != -1 || err != nil {
		t.Fatalf("nil Load = %d, %v", fd, err)
	}
}

func TestArchUnsupportedByLibseccomp(t *testing.T) {
	major, minor, _ := libseccomp.GetLibraryVersion()
	if major > 2 || minor >= 6 {
		t.Skip("libseccomp >= 2.6 supports every spec architecture")
	}
	err := Validate(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchLOONGARCH64}})
	if err == nil || !strings.Contains(err.Error(), "seccomp.architectures[0]: SCMP_ARCH_LOONGARCH64: not supported by libseccomp") {
		t.Fatalf("got %v", err)
	}
}

func TestFeatures(t *testing.T) {
	f := Features()
	if f.Enabled == nil || !*f.Enabled {
		t.Fatal("seccomp reported disabled on a kernel with seccomp filters")
	}
	for _, a := range []string{"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_NOTIFY", "SCMP_ACT_LOG"} {
		if !slices.Contains(f.Actions, a) {
			t.Errorf("action %s missing from %v", a, f.Actions)
		}
	}
	if len(f.Operators) != 7 {
		t.Errorf("operators %v", f.Operators)
	}
	native, _ := libseccomp.GetNativeArch()
	nai, _ := lookupScmpArch(native)
	if !slices.Contains(f.Archs, string(nai.spec)) {
		t.Errorf("native arch %s missing from %v", nai.spec, f.Archs)
	}
	if major, minor, _ := libseccomp.GetLibraryVersion(); major == 2 && minor < 6 && slices.Contains(f.Archs, string(specs.ArchLOONGARCH64)) {
		t.Errorf("loongarch64 listed with libseccomp 2.%d", minor)
	}
	if len(f.KnownFlags) != 4 {
		t.Errorf("known flags %v", f.KnownFlags)
	}
	for _, fl := range f.SupportedFlags {
		if !slices.Contains(f.KnownFlags, fl) {
			t.Errorf("supported flag %s is not known", fl)
		}
		bits, _ := lookupFlag(specs.LinuxSeccompFlag(fl))
		if !kernelSupportsFlags(bits) {
			t.Errorf("flag %s listed but rejected by the kernel", fl)
		}
	}
	// A 6.x kernel implements all four.
	if len(f.SupportedFlags) != 4 {
		t.Logf("supported flags on this kernel: %v", f.SupportedFlags)
	}
}
