package seccomp

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// archInfo ties a spec architecture name to libseccomp's token and to the
// AUDIT_ARCH value the kernel puts in seccomp_data.arch.
type archInfo struct {
	spec  specs.Arch
	scmp  libseccomp.ScmpArch
	audit uint32
}

// archTable lists every architecture of runtime-spec v1.3.0, in spec order.
func archTable() []archInfo {
	return []archInfo{
		{specs.ArchX86, libseccomp.ArchX86, unix.AUDIT_ARCH_I386},
		{specs.ArchX86_64, libseccomp.ArchAMD64, unix.AUDIT_ARCH_X86_64},
		{specs.ArchX32, libseccomp.ArchX32, unix.AUDIT_ARCH_X86_64},
		{specs.ArchARM, libseccomp.ArchARM, unix.AUDIT_ARCH_ARM},
		{specs.ArchAARCH64, libseccomp.ArchARM64, unix.AUDIT_ARCH_AARCH64},
		{specs.ArchMIPS, libseccomp.ArchMIPS, unix.AUDIT_ARCH_MIPS},
		{specs.ArchMIPS64, libseccomp.ArchMIPS64, unix.AUDIT_ARCH_MIPS64},
		{specs.ArchMIPS64N32, libseccomp.ArchMIPS64N32, unix.AUDIT_ARCH_MIPS64N32},
		{specs.ArchMIPSEL, libseccomp.ArchMIPSEL, unix.AUDIT_ARCH_MIPSEL},
		{specs.ArchMIPSEL64, libseccomp.ArchMIPSEL64, unix.AUDIT_ARCH_MIPSEL64},
		{specs.ArchMIPSEL64N32, libseccomp.ArchMIPSEL64N32, unix.AUDIT_ARCH_MIPSEL64N32},
		{specs.ArchPPC, libseccomp.ArchPPC, unix.AUDIT_ARCH_PPC},
		{specs.ArchPPC64, libseccomp.ArchPPC64, unix.AUDIT_ARCH_PPC64},
		{specs.ArchPPC64LE, libseccomp.ArchPPC64LE, unix.AUDIT_ARCH_PPC64LE},
		{specs.ArchS390, libseccomp.ArchS390, unix.AUDIT_ARCH_S390},
		{specs.ArchS390X, libseccomp.ArchS390X, unix.AUDIT_ARCH_S390X},
		{specs.ArchPARISC, libseccomp.ArchPARISC, unix.AUDIT_ARCH_PARISC},
		{specs.ArchPARISC64, libseccomp.ArchPARISC64, unix.AUDIT_ARCH_PARISC64},
		{specs.ArchRISCV64, libseccomp.ArchRISCV64, unix.AUDIT_ARCH_RISCV64},
		{specs.ArchLOONGARCH64, libseccomp.ArchLOONGARCH64, unix.AUDIT_ARCH_LOONGARCH64},
		{specs.ArchM68K, libseccomp.ArchM68K, unix.AUDIT_ARCH_M68K},
		// libseccomp's "sh" is little-endian SuperH, "sheb" big-endian.
		{specs.ArchSH, libseccomp.ArchSH, unix.AUDIT_ARCH_SHEL},
		{specs.ArchSHEB, libseccomp.ArchSHEB, unix.AUDIT_ARCH_SH},
	}
}

func lookupArch(a specs.Arch) (archInfo, bool) {
	for _, ai := range archTable() {
		if ai.spec == a {
			return ai, true
		}
	}
	return archInfo{}, false
}

func lookupScmpArch(a libseccomp.ScmpArch) (archInfo, bool) {
	for _, ai := range archTable() {
		if ai.scmp == a {
			return ai, true
		}
	}
	return archInfo{}, false
}

// allActions lists the spec actions in spec order with their kernel return
// value (used to ask the kernel whether it implements them).
type actionInfo struct {
	spec   specs.LinuxSeccompAction
	scmp   libseccomp.ScmpAction
	kernel uint32
}

func actionTable() []actionInfo {
	return []actionInfo{
		{specs.ActKill, libseccomp.ActKillThread, unix.SECCOMP_RET_KILL_THREAD},
		{specs.ActKillProcess, libseccomp.ActKillProcess, unix.SECCOMP_RET_KILL_PROCESS},
		{specs.ActKillThread, libseccomp.ActKillThread, unix.SECCOMP_RET_KILL_THREAD},
		{specs.ActTrap, libseccomp.ActTrap, unix.SECCOMP_RET_TRAP},
		{specs.ActErrno, libseccomp.ActErrno, unix.SECCOMP_RET_ERRNO},
		{specs.ActTrace, libseccomp.ActTrace, unix.SECCOMP_RET_TRACE},
		{specs.ActAllow, libseccomp.ActAllow, unix.SECCOMP_RET_ALLOW},
		{specs.ActLog, libseccomp.ActLog, unix.SECCOMP_RET_LOG},
		{specs.ActNotify, libseccomp.ActNotify, unix.SECCOMP_RET_USER_NOTIF},
	}
}

func lookupAction(a specs.LinuxSeccompAction) (actionInfo, bool) {
	for _, ai := range actionTable() {
		if ai.spec == a {
			return ai, true
		}
	}
	return actionInfo{}, false
}

// takesErrno reports whether the action carries the 16-bit data that
// errnoRet/defaultErrnoRet set (the spec names ERRNO and TRACE).
func takesErrno(a specs.LinuxSeccompAction) bool {
	return a == specs.ActErrno || a == specs.ActTrace
}

type operatorInfo struct {
	spec specs.LinuxSeccompOperator
	scmp libseccomp.ScmpCompareOp
}

func operatorTable() []operatorInfo {
	return []operatorInfo{
		{specs.OpNotEqual, libseccomp.CompareNotEqual},
		{specs.OpLessThan, libseccomp.CompareLess},
		{specs.OpLessEqual, libseccomp.CompareLessOrEqual},
		{specs.OpEqualTo, libseccomp.CompareEqual},
		{specs.OpGreaterEqual, libseccomp.CompareGreaterEqual},
		{specs.OpGreaterThan, libseccomp.CompareGreater},
		{specs.OpMaskedEqual, libseccomp.CompareMaskedEqual},
	}
}

func lookupOperator(o specs.LinuxSeccompOperator) (libseccomp.ScmpCompareOp, bool) {
	for _, oi := range operatorTable() {
		if oi.spec == o {
			return oi.scmp, true
		}
	}
	return libseccomp.CompareInvalid, false
}

// The spec defines SECCOMP_FILTER_FLAG_TSYNC without a Go constant.
const flagTSYNC specs.LinuxSeccompFlag = "SECCOMP_FILTER_FLAG_TSYNC"

type flagInfo struct {
	spec specs.LinuxSeccompFlag
	bits uint
}

func flagTable() []flagInfo {
	return []flagInfo{
		{flagTSYNC, unix.SECCOMP_FILTER_FLAG_TSYNC},
		{specs.LinuxSeccompFlagLog, unix.SECCOMP_FILTER_FLAG_LOG},
		{specs.LinuxSeccompFlagSpecAllow, unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW},
		{specs.LinuxSeccompFlagWaitKillableRecv, unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
	}
}

func lookupFlag(f specs.LinuxSeccompFlag) (uint, bool) {
	for _, fi := range flagTable() {
		if fi.spec == f {
			return fi.bits, true
		}
	}
	return 0, false
}
