package seccomp

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// x32SyscallBit marks x32 syscalls, which share AUDIT_ARCH_X86_64.
const x32SyscallBit = 0x40000000

// Offsets in struct seccomp_data.
const (
	dataNr   = 0
	dataArch = 4
)

// auditMax is the highest syscall number the profile names for one audit
// architecture. x86-64 and x32 share an audit architecture, so that entry
// can carry both maxima.
type auditMax struct {
	audit          uint32
	max, x32Max    uint32
	hasMax, hasX32 bool
}

// archMaxima computes, per audit architecture of the filter, the highest
// syscall number of any name listed in the profile (any action).
func archMaxima(archs []libseccomp.ScmpArch, rules []specs.LinuxSyscall) []auditMax {
	var out []auditMax
	for _, arch := range archs {
		ai, ok := lookupScmpArch(arch)
		if !ok {
			continue
		}
		var max uint32
		found := false
		for i := range rules {
			for _, name := range rules[i].Names {
				nr, err := libseccomp.GetSyscallFromNameByArch(name, arch)
				// Negative numbers are libseccomp pseudo-syscalls (the
				// name does not exist on this architecture).
				if err != nil || nr < 0 {
					continue
				}
				if !found || uint32(nr) > max {
					max, found = uint32(nr), true
				}
			}
		}
		if !found {
			continue
		}
		idx := -1
		for i := range out {
			if out[i].audit == ai.audit {
				idx = i
			}
		}
		if idx < 0 {
			out = append(out, auditMax{audit: ai.audit})
			idx = len(out) - 1
		}
		if arch == libseccomp.ArchX32 {
			out[idx].x32Max, out[idx].hasX32 = max, true
		} else {
			out[idx].max, out[idx].hasMax = max, true
		}
	}
	return out
}

// enosysPrologue returns instructions to run before libseccomp's program:
// syscalls above the per-architecture maximum return ENOSYS, everything
// else continues into libseccomp's program with the BPF registers as the
// kernel initialises them (A = 0). See the package documentation.
func enosysPrologue(maxima []auditMax) ([]unix.SockFilter, error) {
	if len(maxima) == 0 {
		return nil, nil
	}
	var a assembler
	a.stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, dataArch)
	for i, m := range maxima {
		next := fmt.Sprintf("arch%d", i+1)
		a.jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, m.audit, "", next)
		a.stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, dataNr)
		if m.audit == unix.AUDIT_ARCH_X86_64 {
			native, x32 := fmt.Sprintf("native%d", i), fmt.Sprintf("x32_%d", i)
			a.jump(unix.BPF_JMP|unix.BPF_JGE|unix.BPF_K, x32SyscallBit, x32, native)
			a.label(native)
			a.compare(m.hasMax, m.max)
			a.label(x32)
			a.compare(m.hasX32, m.x32Max)
		} else {
			a.compare(m.hasMax, m.max)
		}
		a.label(next)
	}
	a.jump(unix.BPF_JMP|unix.BPF_JA, 0, "end", "")
	a.label("enosys")
	a.stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS))
	a.label("end")
	// Classic BPF starts with A = 0; restore it for libseccomp's program.
	a.stmt(unix.BPF_LD|unix.BPF_IMM, 0)
	return a.assemble()
}

// compare emits "nr > max ? ENOSYS : end", or "goto end" when there is no
// maximum for this ABI.
func (a *assembler) compare(has bool, max uint32) {
	if !has {
		a.jump(unix.BPF_JMP|unix.BPF_JA, 0, "end", "")
		return
	}
	a.jump(unix.BPF_JMP|unix.BPF_JGT|unix.BPF_K, max, "enosys", "end")
}

// assembler is a tiny classic-BPF assembler with forward labels.
type assembler struct {
	insns  []asmInsn
	labels map[string]int
}

type asmInsn struct {
	code   uint16
	k      uint32
	jt, jf string // label names; "" is the next instruction
}

func (a *assembler) stmt(code uint16, k uint32) {
	a.insns = append(a.insns, asmInsn{code: code, k: k})
}

// jump adds a jump; for BPF_JA the target is jt.
func (a *assembler) jump(code uint16, k uint32, jt, jf string) {
	a.insns = append(a.insns, asmInsn{code: code, k: k, jt: jt, jf: jf})
}

func (a *assembler) label(name string) {
	if a.labels == nil {
		a.labels = map[string]int{}
	}
	a.labels[name] = len(a.insns)
}

func (a *assembler) offset(from int, label string) (int, error) {
	if label == "" {
		return 0, nil
	}
	to, ok := a.labels[label]
	if !ok {
		return 0, fmt.Errorf("undefined label %q", label)
	}
	off := to - (from + 1)
	if off < 0 {
		return 0, fmt.Errorf("backward jump to %q", label)
	}
	return off, nil
}

func (a *assembler) assemble() ([]unix.SockFilter, error) {
	out := make([]unix.SockFilter, len(a.insns))
	for i, in := range a.insns {
		jt, err := a.offset(i, in.jt)
		if err != nil {
			return nil, err
		}
		jf, err := a.offset(i, in.jf)
		if err != nil {
			return nil, err
		}
		out[i] = unix.SockFilter{Code: in.code, K: in.k}
		if in.code == unix.BPF_JMP|unix.BPF_JA {
			out[i].K = uint32(jt)
			continue
		}
		if in.code&0x07 == unix.BPF_JMP {
			if jt > 255 || jf > 255 {
				return nil, fmt.Errorf("jump at %d too far (%d/%d)", i, jt, jf)
			}
			out[i].Jt, out[i].Jf = uint8(jt), uint8(jf)
		}
	}
	return out, nil
}
