package seccomp

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Filter is a fully built seccomp program ready for Load. It holds no
// libseccomp state, so it needs no release and can be built well before
// it is loaded.
type Filter struct {
	prog    []unix.SockFilter
	fprog   unix.SockFprog
	flags   uint
	notify  bool
	skipped []string
}

// Build validates c and translates it into a BPF program. A nil c gives a
// nil *Filter, whose Load does nothing.
func Build(c *specs.LinuxSeccomp) (*Filter, error) {
	if c == nil {
		return nil, nil
	}
	if err := Validate(c); err != nil {
		return nil, err
	}
	defAct, err := scmpAction(c.DefaultAction, c.DefaultErrnoRet)
	if err != nil {
		return nil, fmt.Errorf("seccomp.defaultAction: %w", err)
	}
	lf, err := libseccomp.NewFilter(defAct)
	if err != nil {
		return nil, fmt.Errorf("seccomp: create libseccomp filter: %w", err)
	}
	defer lf.Release()

	archs, err := filterArchs(lf, c.Architectures)
	if err != nil {
		return nil, err
	}
	f := &Filter{}
	for i := range c.Syscalls {
		added, skipped, err := addSyscallRules(lf, defAct, &c.Syscalls[i])
		if err != nil {
			return nil, fmt.Errorf("seccomp.syscalls[%d]: %w", i, err)
		}
		f.skipped = append(f.skipped, skipped...)
		if added && c.Syscalls[i].Action == specs.ActNotify {
			f.notify = true
		}
	}

	body, err := exportProgram(lf)
	if err != nil {
		return nil, err
	}
	var prologue []unix.SockFilter
	if deniesByDefault(c.DefaultAction) {
		prologue, err = enosysPrologue(archMaxima(archs, c.Syscalls))
		if err != nil {
			return nil, fmt.Errorf("seccomp: build ENOSYS prologue: %w", err)
		}
	}
	f.prog = append(prologue, body...)
	if len(f.prog) > unix.BPF_MAXINSNS {
		return nil, fmt.Errorf("seccomp: program has %d instructions, the kernel accepts at most %d", len(f.prog), unix.BPF_MAXINSNS)
	}
	f.fprog = unix.SockFprog{Len: uint16(len(f.prog)), Filter: &f.prog[0]}

	if f.flags, err = loadFlags(c.Flags, f.notify); err != nil {
		return nil, err
	}
	return f, nil
}

// SkippedSyscalls returns the syscall names of the profile that the linked
// libseccomp does not know and that were therefore left out.
func (f *Filter) SkippedSyscalls() []string {
	if f == nil {
		return nil
	}
	return append([]string(nil), f.skipped...)
}

// HasNotify reports whether the loaded filter will hand out a listener fd.
func (f *Filter) HasNotify() bool {
	return f != nil && f.notify
}

func scmpAction(a specs.LinuxSeccompAction, errnoRet *uint) (libseccomp.ScmpAction, error) {
	ai, ok := lookupAction(a)
	if !ok {
		return libseccomp.ActInvalid, fmt.Errorf("unknown action %q", a)
	}
	if !takesErrno(a) {
		return ai.scmp, nil
	}
	code := uint(unix.EPERM)
	if errnoRet != nil {
		code = *errnoRet
	}
	// SetReturnCode keeps the low 16 bits; Validate bounded code to 0xffff.
	return ai.scmp.SetReturnCode(int16(uint16(code))), nil
}

// deniesByDefault tells whether unlisted syscalls are refused, the only
// case where answering ENOSYS for newer syscalls changes the outcome in the
// caller's favour (see the package documentation).
func deniesByDefault(a specs.LinuxSeccompAction) bool {
	switch a {
	case specs.ActErrno, specs.ActKill, specs.ActKillProcess, specs.ActKillThread, specs.ActTrap:
		return true
	}
	return false
}

// filterArchs adds the spec architectures and returns every architecture
// the filter covers, native first.
func filterArchs(lf *libseccomp.ScmpFilter, specArchs []specs.Arch) ([]libseccomp.ScmpArch, error) {
	native, err := libseccomp.GetNativeArch()
	if err != nil {
		return nil, fmt.Errorf("seccomp: native architecture: %w", err)
	}
	archs := []libseccomp.ScmpArch{native}
	for i, a := range specArchs {
		ai, _ := lookupArch(a)
		if err := lf.AddArch(ai.scmp); err != nil {
			return nil, fmt.Errorf("seccomp.architectures[%d]: add %s: %w", i, a, err)
		}
		dup := false
		for _, have := range archs {
			dup = dup || have == ai.scmp
		}
		if !dup {
			archs = append(archs, ai.scmp)
		}
	}
	return archs, nil
}

// addSyscallRules adds one spec syscall entry. Arguments with distinct
// indexes form one rule (all must match); when an index repeats, each
// argument becomes its own rule (any may match), as runc does, since one
// libseccomp rule cannot compare the same argument twice.
func addSyscallRules(lf *libseccomp.ScmpFilter, defAct libseccomp.ScmpAction, s *specs.LinuxSyscall) (added bool, skipped []string, err error) {
	act, err := scmpAction(s.Action, s.ErrnoRet)
	if err != nil {
		return false, nil, err
	}
	conds, err := conditions(s.Args)
	if err != nil {
		return false, nil, err
	}
	for _, name := range s.Names {
		nr, err := libseccomp.GetSyscallFromName(name)
		if err != nil {
			skipped = append(skipped, name)
			continue
		}
		// libseccomp refuses rules equal to the default action; they
		// change nothing.
		if act == defAct {
			continue
		}
		if len(conds) == 0 {
			if err := lf.AddRule(nr, act); err != nil {
				return added, skipped, fmt.Errorf("add rule for %q: %w", name, err)
			}
			added = true
			continue
		}
		for _, cs := range conds {
			if err := lf.AddRuleConditional(nr, act, cs); err != nil {
				return added, skipped, fmt.Errorf("add conditional rule for %q: %w", name, err)
			}
		}
		added = true
	}
	return added, skipped, nil
}

// conditions returns the condition sets, one per rule to add.
func conditions(args []specs.LinuxSeccompArg) ([][]libseccomp.ScmpCondition, error) {
	if len(args) == 0 {
		return nil, nil
	}
	all := make([]libseccomp.ScmpCondition, 0, len(args))
	seen := map[uint]bool{}
	repeated := false
	for j, a := range args {
		op, ok := lookupOperator(a.Op)
		if !ok {
			return nil, fmt.Errorf("args[%d].op: unknown operator %q", j, a.Op)
		}
		values := []uint64{a.Value}
		if op == libseccomp.CompareMaskedEqual {
			// Value is the mask, ValueTwo the expected masked value.
			values = append(values, a.ValueTwo)
		}
		cond, err := libseccomp.MakeCondition(a.Index, op, values...)
		if err != nil {
			return nil, fmt.Errorf("args[%d]: %w", j, err)
		}
		repeated = repeated || seen[a.Index]
		seen[a.Index] = true
		all = append(all, cond)
	}
	if !repeated {
		return [][]libseccomp.ScmpCondition{all}, nil
	}
	sets := make([][]libseccomp.ScmpCondition, len(all))
	for i, c := range all {
		sets[i] = []libseccomp.ScmpCondition{c}
	}
	return sets, nil
}

// exportProgram gets libseccomp's BPF program. seccomp_export_bpf_mem only
// exists from libseccomp 2.6, so older libraries write into a memfd.
func exportProgram(lf *libseccomp.ScmpFilter) ([]unix.SockFilter, error) {
	raw, err := lf.ExportBPFMem()
	if err != nil {
		raw, err = exportViaMemfd(lf)
		if err != nil {
			return nil, err
		}
	}
	prog, err := decodeProgram(raw)
	if err != nil {
		return nil, fmt.Errorf("seccomp: exported BPF: %w", err)
	}
	return prog, nil
}

func exportViaMemfd(lf *libseccomp.ScmpFilter) ([]byte, error) {
	fd, err := unix.MemfdCreate("runo-seccomp-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("seccomp: memfd for BPF export: %w", err)
	}
	file := os.NewFile(uintptr(fd), "runo-seccomp-bpf")
	defer file.Close()
	if err := lf.ExportBPF(file); err != nil {
		return nil, fmt.Errorf("seccomp: export BPF: %w", err)
	}
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seccomp: rewind BPF export: %w", err)
	}
	raw, err := io.ReadAll(file)
	if err != nil {
		return nil, fmt.Errorf("seccomp: read BPF export: %w", err)
	}
	return raw, nil
}

// decodeProgram parses struct sock_filter records (u16 code, u8 jt, u8 jf,
// u32 k) in host byte order, as libseccomp writes them and MarshalBinary
// does. Callers add what the bytes were.
func decodeProgram(raw []byte) ([]unix.SockFilter, error) {
	const size = 8
	if len(raw) == 0 || len(raw)%size != 0 {
		return nil, fmt.Errorf("%d bytes is not a whole, non-zero number of instructions", len(raw))
	}
	prog := make([]unix.SockFilter, len(raw)/size)
	for i := range prog {
		b := raw[i*size:]
		prog[i] = unix.SockFilter{
			Code: binary.NativeEndian.Uint16(b[0:2]),
			Jt:   b[2],
			Jf:   b[3],
			K:    binary.NativeEndian.Uint32(b[4:8]),
		}
	}
	return prog, nil
}

// loadFlags turns spec flags into seccomp(2) flag bits and checks that the
// kernel accepts the exact combination Load will use.
func loadFlags(specFlags []specs.LinuxSeccompFlag, notify bool) (uint, error) {
	var bits uint
	for i, fl := range specFlags {
		b, ok := lookupFlag(fl)
		if !ok {
			return 0, fmt.Errorf("seccomp.flags[%d]: unknown flag %q", i, fl)
		}
		bits |= b
	}
	if notify {
		bits |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
		// TSYNC normally reports a failing thread id in the return value,
		// which is where the listener fd goes; the kernel requires
		// TSYNC_ESRCH to combine them.
		if bits&unix.SECCOMP_FILTER_FLAG_TSYNC != 0 {
			bits |= unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
		}
	} else {
		// Without a listener there is no receive to make killable, and the
		// kernel rejects the flag on its own.
		bits &^= unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
	}
	if !kernelSupportsFlags(bits) {
		return 0, fmt.Errorf("seccomp.flags: the running kernel rejects the flag combination %#x", bits)
	}
	return bits, nil
}
