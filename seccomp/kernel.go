package seccomp

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// seccompSyscall is the raw seccomp(2) call; x/sys has no wrapper.
func seccompSyscall(op, flags uintptr, arg unsafe.Pointer) (uintptr, error) {
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, op, flags, uintptr(arg))
	if errno != 0 {
		return r, errno
	}
	return r, nil
}

// kernelSupportsFlags asks the kernel whether it understands the given
// seccomp(SECCOMP_SET_MODE_FILTER) flag bits. With a NULL program the
// kernel checks the flags first (EINVAL when unknown) and only then faults
// on the program pointer, so EFAULT means "flags accepted" and nothing is
// installed.
func kernelSupportsFlags(bits uint) bool {
	// WAIT_KILLABLE_RECV is rejected unless combined with NEW_LISTENER.
	if bits&unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV != 0 {
		bits |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	}
	_, err := seccompSyscall(unix.SECCOMP_SET_MODE_FILTER, uintptr(bits), nil)
	return errors.Is(err, unix.EFAULT)
}

// kernelSupportsAction asks the kernel whether it implements a filter
// return action; the kernel does not validate return values at load time
// and treats unknown ones as SECCOMP_RET_KILL_PROCESS, so this must be
// checked beforehand.
func kernelSupportsAction(ret uint32) bool {
	_, err := seccompSyscall(unix.SECCOMP_GET_ACTION_AVAIL, 0, unsafe.Pointer(&ret))
	return err == nil
}

// kernelHasSeccompFilter reports whether seccomp filter mode exists at all.
func kernelHasSeccompFilter() bool {
	return kernelSupportsFlags(0)
}
