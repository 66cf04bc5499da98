package cgroups

import (
	"errors"
	"fmt"

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

// Registers of the program.
const (
	r0, r1, r2, r3, r4, r5 uint8 = 0, 1, 2, 3, 4, 5
)

// deviceFilter compiles the rules into a BPF_PROG_TYPE_CGROUP_DEVICE program with v1's
// semantics: everything is denied, then each rule in order adds or removes permissions, so
// the last rule that matches a request decides. The program therefore tests the rules
// from last to first and returns at the first match: an allow rule matches when it grants
// every requested access bit, a deny rule when it covers any of them. A rule's failed test
// jumps to the next rule's first instruction.
func deviceFilter(rules []deviceRule) []insn {
	prog := []insn{
		ldxW(r2, r1, 0), // access_type
		mov32Reg(r3, r2),
		and32(r2, 0xFFFF), // R2: type
		rsh32(r3, 16),     // R3: access
		ldxW(r4, r1, 4),   // major
		ldxW(r5, r1, 8),   // minor
	}
	for i := len(rules) - 1; i >= 0; i-- {
		r := rules[i]
		var block []insn
		var jumps []int // indexes in block of the jumps to the next rule
		test := func(in insn) {
			jumps = append(jumps, len(block))
			block = append(block, in)
		}
		switch r.Type {
		case 'b':
			test(jmp(opJneImm, r2, bpfDevBlock))
		case 'c':
			test(jmp(opJneImm, r2, bpfDevChar))
		}
		if r.Major >= 0 {
			test(jmp(opJneImm, r4, int32(r.Major)))
		}
		if r.Minor >= 0 {
			test(jmp(opJneImm, r5, int32(r.Minor)))
		}
		bits := accessBits(r.Access)
		block = append(block, mov32Reg(r1, r3))
		if r.Allow {
			block = append(block, and32(r1, ^bits&7))
			test(jmp(opJneImm, r1, 0))
			block = append(block, mov32(r0, 1), exit())
		} else {
			block = append(block, and32(r1, bits))
			test(jmp(opJeqImm, r1, 0))
			block = append(block, mov32(r0, 0), exit())
		}
		for _, j := range jumps {
			block[j].off = int16(len(block) - j - 1) // to the first instruction after the block
		}
		prog = append(prog, block...)
	}
	return append(prog, mov32(r0, 0), exit())
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
	prog, err := loadDeviceProgram(deviceFilter(rules))
	if err != nil {
		return resourceError("devices", fmt.Errorf("load device filter: %w", err))
	}
	defer unix.Close(prog)
	fd, err := unix.Open(m.dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return resourceError("devices", fmt.Errorf("open %s: %w", m.dir, err))
	}
	defer unix.Close(fd)
	old, err := attachedDevicePrograms(fd)
	if err != nil {
		return resourceError("devices", fmt.Errorf("query device programs of %s: %w", m.dir, err))
	}
	if err := attachDeviceProgram(fd, prog); err != nil {
		return resourceError("devices", fmt.Errorf("attach device filter to %s: %w", m.dir, err))
	}
	var errs []error
	for _, id := range old {
		op, err := programFdByID(id)
		if err != nil {
			errs = append(errs, fmt.Errorf("open old device program %d: %w", id, err))
			continue
		}
		err = detachDeviceProgram(fd, op)
		unix.Close(op)
		if err != nil {
			errs = append(errs, fmt.Errorf("detach old device program %d: %w", id, err))
		}
	}
	if len(errs) > 0 {
		return resourceError("devices", errors.Join(errs...))
	}
	return nil
}
