package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// The runtime builds the filter in its parent process, while the container's init starts, and
// hands init the finished program: init then needs no libseccomp work at all, only the one
// seccomp(2) call of Load. The wire form is
//
//	u32 flags, u8 notify, then 8-byte struct sock_filter entries (host byte order).

// MarshalBinary encodes the filter for init.
func (f *Filter) MarshalBinary() ([]byte, error) {
	if f == nil {
		return nil, nil
	}
	buf := make([]byte, 5, 5+8*len(f.prog))
	binary.NativeEndian.PutUint32(buf, uint32(f.flags))
	if f.notify {
		buf[4] = 1
	}
	for _, in := range f.prog {
		buf = binary.NativeEndian.AppendUint16(buf, in.Code)
		buf = append(buf, in.Jt, in.Jf)
		buf = binary.NativeEndian.AppendUint32(buf, in.K)
	}
	return buf, nil
}

// UnmarshalFilter decodes what MarshalBinary produced. Empty input is no filter (nil).
func UnmarshalFilter(b []byte) (*Filter, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if len(b) < 5 {
		return nil, errors.New("seccomp: malformed filter program: no header")
	}
	// Checked before decoding so that oversized input is never copied.
	if n := (len(b) - 5) / 8; n > unix.BPF_MAXINSNS {
		return nil, fmt.Errorf("seccomp: filter program of %d instructions, the kernel accepts at most %d", n, unix.BPF_MAXINSNS)
	}
	prog, err := decodeProgram(b[5:])
	if err != nil {
		return nil, fmt.Errorf("seccomp: malformed filter program: %w", err)
	}
	f := &Filter{flags: uint(binary.NativeEndian.Uint32(b)), notify: b[4] == 1, prog: prog}
	f.fprog = unix.SockFprog{Len: uint16(len(prog)), Filter: &f.prog[0]}
	return f, nil
}
