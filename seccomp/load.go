package seccomp

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Load installs the filter with one seccomp(2) call. The caller must have
// set no_new_privs (or hold CAP_SYS_ADMIN). Without SECCOMP_FILTER_FLAG_TSYNC
// the filter applies to the calling OS thread only, so the caller must run
// with runtime.LockOSThread and execve from that same thread.
//
// notifyFd is the listener fd (close-on-exec, owned by the caller) when a
// rule uses SCMP_ACT_NOTIFY, and -1 otherwise. A nil Filter loads nothing.
func (f *Filter) Load() (notifyFd int, err error) {
	if f == nil {
		return -1, nil
	}
	r, err := seccompSyscall(unix.SECCOMP_SET_MODE_FILTER, uintptr(f.flags), unsafe.Pointer(&f.fprog))
	if err != nil {
		if errors.Is(err, unix.EACCES) {
			return -1, fmt.Errorf("load seccomp filter: %w (no_new_privs is not set and CAP_SYS_ADMIN is missing)", err)
		}
		if errors.Is(err, unix.ESRCH) {
			return -1, fmt.Errorf("load seccomp filter: %w (another thread cannot be synchronized)", err)
		}
		return -1, fmt.Errorf("load seccomp filter: %w", err)
	}
	if f.notify {
		return int(r), nil
	}
	// Plain TSYNC reports the first thread it could not synchronise as a
	// positive return value instead of an errno.
	if f.flags&unix.SECCOMP_FILTER_FLAG_TSYNC != 0 && r != 0 {
		return -1, fmt.Errorf("load seccomp filter: thread %d cannot be synchronized", r)
	}
	return -1, nil
}
