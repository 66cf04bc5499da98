package cgroups

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Values of struct bpf_cgroup_dev_ctx (include/uapi/linux/bpf.h): access_type holds the
// device type in its low 16 bits and the access bits in the high 16.
const (
	bpfDevBlock = 1
	bpfDevChar  = 2
	bpfAccMknod = 1
	bpfAccRead  = 2
	bpfAccWrite = 4
)

func accessBits(a string) int32 {
	var bits int32
	for _, c := range a {
		switch c {
		case 'm':
			bits |= bpfAccMknod
		case 'r':
			bits |= bpfAccRead
		case 'w':
			bits |= bpfAccWrite
		}
	}
	return bits
}

// deviceFilter compiles the rules into a BPF_PROG_TYPE_CGROUP_DEVICE program with v1's
// semantics: everything is denied, then each rule in order adds or removes permissions, so
// the last rule that matches a request decides. The program therefore tests the rules
// from last to first and returns at the first match: an allow rule matches when it grants
// every requested access bit, a deny rule when it covers any of them.
func deviceFilter(rules []deviceRule) asm.Instructions {
	insns := asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word), // access_type
		asm.Mov.Reg32(asm.R3, asm.R2),
		asm.And.Imm32(asm.R2, 0xFFFF),            // R2: type
		asm.RSh.Imm32(asm.R3, 16),                // R3: access
		asm.LoadMem(asm.R4, asm.R1, 4, asm.Word), // major
		asm.LoadMem(asm.R5, asm.R1, 8, asm.Word), // minor
	}
	for i := len(rules) - 1; i >= 0; i-- {
		r := rules[i]
		next := fmt.Sprintf("rule%d", i)
		var block asm.Instructions
		switch r.Type {
		case 'b':
			block = append(block, asm.JNE.Imm32(asm.R2, bpfDevBlock, next))
		case 'c':
			block = append(block, asm.JNE.Imm32(asm.R2, bpfDevChar, next))
		}
		if r.Major >= 0 {
			block = append(block, asm.JNE.Imm32(asm.R4, int32(r.Major), next))
		}
		if r.Minor >= 0 {
			block = append(block, asm.JNE.Imm32(asm.R5, int32(r.Minor), next))
		}
		bits := accessBits(r.Access)
		block = append(block, asm.Mov.Reg32(asm.R1, asm.R3))
		if r.Allow {
			block = append(block,
				asm.And.Imm32(asm.R1, ^bits&7),
				asm.JNE.Imm32(asm.R1, 0, next),
				asm.Mov.Imm32(asm.R0, 1),
				asm.Return(),
			)
		} else {
			block = append(block,
				asm.And.Imm32(asm.R1, bits),
				asm.JEq.Imm32(asm.R1, 0, next),
				asm.Mov.Imm32(asm.R0, 0),
				asm.Return(),
			)
		}
		insns = append(insns, block...)
		// The jump target is the first instruction after the block.
		insns = append(insns, asm.Mov.Imm32(asm.R0, 0).WithSymbol(next))
	}
	insns = append(insns, asm.Mov.Imm32(asm.R0, 0), asm.Return())
	return insns
}

// setDevices replaces the container's device program. The new program is attached before
// the old ones are detached, so there is no window in which the container has no filter
// (attached programs all have to allow an access).
func (m *v2Manager) setDevices(r *specs.LinuxResources) error {
	if r.Devices == nil {
		return nil
	}
	rules, err := parseDeviceRules(r.Devices)
	if err != nil {
		return err
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.CGroupDevice,
		Instructions: deviceFilter(rules),
		License:      "Apache-2.0",
	})
	if err != nil {
		return resourceError("devices", fmt.Errorf("load device filter: %w", err))
	}
	defer prog.Close()
	fd, err := unix.Open(m.dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return resourceError("devices", fmt.Errorf("open %s: %w", m.dir, err))
	}
	defer unix.Close(fd)
	old, err := link.QueryPrograms(link.QueryOptions{Target: fd, Attach: ebpf.AttachCGroupDevice})
	if err != nil {
		return resourceError("devices", fmt.Errorf("query device programs of %s: %w", m.dir, err))
	}
	// Legacy (non-link) attachment outlives this process, which exits right after create.
	if err := link.RawAttachProgram(link.RawAttachProgramOptions{
		Target: fd, Program: prog, Attach: ebpf.AttachCGroupDevice, Flags: unix.BPF_F_ALLOW_MULTI,
	}); err != nil {
		return resourceError("devices", fmt.Errorf("attach device filter to %s: %w", m.dir, err))
	}
	var errs []error
	for _, p := range old.Programs {
		op, err := ebpf.NewProgramFromID(p.ID)
		if err != nil {
			errs = append(errs, fmt.Errorf("open old device program %d: %w", p.ID, err))
			continue
		}
		err = link.RawDetachProgram(link.RawDetachProgramOptions{Target: fd, Program: op, Attach: ebpf.AttachCGroupDevice, Flags: unix.BPF_F_ALLOW_MULTI})
		op.Close()
		if err != nil {
			errs = append(errs, fmt.Errorf("detach old device program %d: %w", p.ID, err))
		}
	}
	if len(errs) > 0 {
		return resourceError("devices", errors.Join(errs...))
	}
	return nil
}
