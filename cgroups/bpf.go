package cgroups

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A minimal eBPF toolkit for the cgroup v2 device filter: instruction encoding and the four
// bpf(2) commands the filter needs. Written out rather than taken from a general eBPF library
// because that library's package initialisation (and size) is paid on every container start,
// while the filter needs eight opcodes.

// insn is struct bpf_insn.
type insn struct {
	code uint8
	regs uint8 // dst in the low nibble, src in the high one
	off  int16
	imm  int32
}

// Opcodes (include/uapi/linux/bpf.h, bpf_common.h).
const (
	opLdxMemW  = 0x61 // BPF_LDX | BPF_MEM | BPF_W
	opMov32Imm = 0xb4 // BPF_ALU | BPF_MOV | BPF_K
	opMov32Reg = 0xbc // BPF_ALU | BPF_MOV | BPF_X
	opAnd32Imm = 0x54 // BPF_ALU | BPF_AND | BPF_K
	opRsh32Imm = 0x74 // BPF_ALU | BPF_RSH | BPF_K
	opJeqImm   = 0x15 // BPF_JMP | BPF_JEQ | BPF_K
	opJneImm   = 0x55 // BPF_JMP | BPF_JNE | BPF_K
	opExit     = 0x95 // BPF_JMP | BPF_EXIT
)

func ldxW(dst, src uint8, off int16) insn { return insn{opLdxMemW, dst | src<<4, off, 0} }
func mov32(dst uint8, imm int32) insn     { return insn{opMov32Imm, dst, 0, imm} }
func mov32Reg(dst, src uint8) insn        { return insn{opMov32Reg, dst | src<<4, 0, 0} }
func and32(dst uint8, imm int32) insn     { return insn{opAnd32Imm, dst, 0, imm} }
func rsh32(dst uint8, imm int32) insn     { return insn{opRsh32Imm, dst, 0, imm} }
func exit() insn                          { return insn{code: opExit} }

// jmp is a conditional jump whose offset is filled in once the target is known.
func jmp(op uint8, dst uint8, imm int32) insn { return insn{op, dst, 0, imm} }

// bpf(2) commands and the attr layouts they read (a prefix of union bpf_attr each).
const (
	bpfProgLoad      = 5
	bpfProgAttach    = 8
	bpfProgDetach    = 9
	bpfProgGetFdByID = 13
	bpfProgQuery     = 16
)

// bpfPtr is a user pointer field of bpf_attr (__aligned_u64). It holds a real pointer, not
// an integer, because the buffers it points to may live on the goroutine stack (the 64 KiB
// verifier log does): when the stack grows and moves before the syscall, only typed
// pointers are updated. It is an array so that it is 8 bytes on every word size; on 32-bit
// hosts the pointer fills the low half (little endian) and the second element stays nil.
type bpfPtr [8 / unsafe.Sizeof(uintptr(0))]unsafe.Pointer

func newBpfPtr(p unsafe.Pointer) bpfPtr {
	var b bpfPtr
	b[0] = p
	return b
}

type progLoadAttr struct {
	progType    uint32
	insnCnt     uint32
	insns       bpfPtr
	license     bpfPtr
	logLevel    uint32
	logSize     uint32
	logBuf      bpfPtr
	kernVersion uint32
	progFlags   uint32
}

type progAttachAttr struct {
	targetFd     uint32
	attachBpfFd  uint32
	attachType   uint32
	attachFlags  uint32
	replaceBpfFd uint32
}

type progQueryAttr struct {
	targetFd    uint32
	attachType  uint32
	queryFlags  uint32
	attachFlags uint32
	progIDs     bpfPtr
	progCnt     uint32
	_           uint32
}

type getFdByIDAttr struct {
	id        uint32
	nextID    uint32
	openFlags uint32
}

func bpfCall(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	r, _, e := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// loadDeviceProgram loads insns as a BPF_PROG_TYPE_CGROUP_DEVICE program and returns its fd.
// On a verifier rejection the verifier's log is part of the error.
func loadDeviceProgram(insns []insn) (int, error) {
	license := []byte("Apache-2.0\x00")
	attr := progLoadAttr{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(insns)),
		insns:    newBpfPtr(unsafe.Pointer(&insns[0])),
		license:  newBpfPtr(unsafe.Pointer(&license[0])),
	}
	fd, err := bpfCall(bpfProgLoad, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err == unix.EACCES || err == unix.EINVAL {
		err = fmt.Errorf("%w%s", err, verifierLog(attr))
	}
	return fd, err
}

// verifierLog loads the program of a rejected attr once more with the verifier log on and
// returns ": <log>" to append to the first error, or "" if this time it loaded. The first
// attempt runs without a log because the buffer is large and the load normally succeeds.
func verifierLog(attr progLoadAttr) string {
	logBuf := make([]byte, 64<<10)
	attr.logLevel, attr.logSize, attr.logBuf = 1, uint32(len(logBuf)), newBpfPtr(unsafe.Pointer(&logBuf[0]))
	fd, err := bpfCall(bpfProgLoad, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err == nil {
		// The rejection did not repeat; the first failure is still what gets reported, so
		// this program is unused and its fd must not leak.
		unix.Close(fd)
		return ""
	}
	n := 0
	for n < len(logBuf) && logBuf[n] != 0 {
		n++
	}
	return ": " + string(logBuf[:n])
}

// attachDeviceProgram attaches prog to the cgroup directory fd (BPF_F_ALLOW_MULTI: every
// attached program must allow an access). Such an attachment outlives this process.
func attachDeviceProgram(cgroupFd, prog int) error {
	attr := progAttachAttr{targetFd: uint32(cgroupFd), attachBpfFd: uint32(prog),
		attachType: unix.BPF_CGROUP_DEVICE, attachFlags: unix.BPF_F_ALLOW_MULTI}
	_, err := bpfCall(bpfProgAttach, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return err
}

func detachDeviceProgram(cgroupFd, prog int) error {
	attr := progAttachAttr{targetFd: uint32(cgroupFd), attachBpfFd: uint32(prog), attachType: unix.BPF_CGROUP_DEVICE}
	_, err := bpfCall(bpfProgDetach, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return err
}

// attachedDevicePrograms lists the ids of the device programs attached to the cgroup itself.
func attachedDevicePrograms(cgroupFd int) ([]uint32, error) {
	ids := make([]uint32, 64)
	attr := progQueryAttr{targetFd: uint32(cgroupFd), attachType: unix.BPF_CGROUP_DEVICE,
		progIDs: newBpfPtr(unsafe.Pointer(&ids[0])), progCnt: uint32(len(ids))}
	_, err := bpfCall(bpfProgQuery, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err != nil {
		return nil, err
	}
	return ids[:attr.progCnt], nil
}

func programFdByID(id uint32) (int, error) {
	attr := getFdByIDAttr{id: id}
	return bpfCall(bpfProgGetFdByID, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
}
