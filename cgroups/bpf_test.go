package cgroups

import (
	"errors"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The attr structs must match the kernel's union bpf_attr prefixes byte for byte.
func TestBpfAttrLayout(t *testing.T) {
	var l progLoadAttr
	var q progQueryAttr
	cases := []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof bpfPtr", unsafe.Sizeof(bpfPtr{}), 8},
		{"load.insns", unsafe.Offsetof(l.insns), 8},
		{"load.license", unsafe.Offsetof(l.license), 16},
		{"load.logLevel", unsafe.Offsetof(l.logLevel), 24},
		{"load.logSize", unsafe.Offsetof(l.logSize), 28},
		{"load.logBuf", unsafe.Offsetof(l.logBuf), 32},
		{"load.kernVersion", unsafe.Offsetof(l.kernVersion), 40},
		{"load.progFlags", unsafe.Offsetof(l.progFlags), 44},
		{"sizeof load", unsafe.Sizeof(l), 48},
		{"query.progIDs", unsafe.Offsetof(q.progIDs), 16},
		{"query.progCnt", unsafe.Offsetof(q.progCnt), 24},
		{"sizeof query", unsafe.Sizeof(q), 32},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("%s = %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}

// A program the verifier rejects comes back with the verifier's reason in the error.
func TestLoadDeviceProgramRejected(t *testing.T) {
	requireRoot(t)
	ok, err := loadDeviceProgram([]insn{mov32(0, 1), exit()})
	if err != nil {
		t.Skipf("this kernel does not load device programs: %v", err)
	}
	unix.Close(ok)
	// No exit instruction: the verifier refuses to run off the end.
	fd, err := loadDeviceProgram([]insn{mov32(0, 1)})
	if err == nil {
		unix.Close(fd)
		t.Fatal("program without exit was loaded")
	}
	if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.EACCES) {
		t.Errorf("error %v does not wrap the bpf(2) errno", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "insn") {
		t.Errorf("error %q lacks the verifier log", msg)
	}
}
