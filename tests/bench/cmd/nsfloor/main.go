// Command nsfloor is the "kernel floor" of the runo benchmark: the least work
// the kernel must do to start a process the way an OCI runtime does, without
// any runtime logic. It clones a child into new pid, mount, network, ipc, uts
// and cgroup namespaces, chroots it into the given rootfs and execs the
// command there, then waits for it and exits with its status.
//
// Usage: nsfloor <rootfs> <command> [args...]
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

const nsFlags = syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWNET |
	syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS | syscall.CLONE_NEWCGROUP

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: nsfloor <rootfs> <command> [args...]")
		os.Exit(2)
	}
	os.Exit(run(os.Args[1], os.Args[2:]))
}

func run(rootfs string, argv []string) int {
	// exec.Cmd resolves a relative Path against the host's PATH; the command
	// must name a file inside the rootfs, so pass it as-is.
	cmd := &exec.Cmd{
		Path:   argv[0],
		Args:   argv,
		Dir:    "/",
		Env:    []string{"PATH=/bin:/usr/bin:/sbin:/usr/sbin"},
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		// Clone flags rather than Unshareflags: a new pid namespace only
		// applies to children of the unsharing process, so the namespaces
		// must be created by the clone that makes the child.
		SysProcAttr: &syscall.SysProcAttr{Cloneflags: nsFlags, Chroot: rootfs},
	}
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exitErr):
		return exitErr.ExitCode()
	default:
		fmt.Fprintf(os.Stderr, "nsfloor: run %s in %s: %v\n", argv[0], rootfs, err)
		return 1
	}
}
