package libcontainer

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/runo-dev/runo/libcontainer/rootfs"
)

// setupConsole (in init, after the pivot) opens a pty in the container's devpts, hands the
// master to the parent, and makes the slave the process's controlling terminal and stdio. The
// slave is opened from the master (TIOCGPTPEER), never by its /dev/pts/N name, which the
// container could have swapped for a symlink (CVE-2025-52565).
func (in *initProc) setupConsole(mountConsole bool) error {
	master, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("process.terminal: open /dev/ptmx: %w", err)
	}
	defer unix.Close(master)
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		return fmt.Errorf("process.terminal: unlock pty: %w", err)
	}
	slave, err := ptyPeer(master)
	if err != nil {
		return err
	}
	slaveFile := os.NewFile(uintptr(slave), "pty-slave")
	defer slaveFile.Close()
	if cs := in.spec.Process.ConsoleSize; cs != nil {
		unix.IoctlSetWinsize(slave, unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(cs.Height), Col: uint16(cs.Width)})
	}
	if err := in.conn.send(msgConsole, nil, master); err != nil {
		return err
	}
	if _, files, err := in.conn.expect(msgConsoleAck); err != nil {
		return err
	} else {
		closeFiles(files)
	}
	if mountConsole {
		if err := rootfs.MountConsole(slaveFile); err != nil {
			return err
		}
	}
	if _, err := unix.Setsid(); err != nil {
		return fmt.Errorf("process.terminal: setsid: %w", err)
	}
	if err := unix.IoctlSetInt(slave, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("process.terminal: set controlling terminal: %w", err)
	}
	for fd := 0; fd < 3; fd++ {
		if err := unix.Dup3(slave, fd, 0); err != nil {
			return fmt.Errorf("process.terminal: dup pty to fd %d: %w", fd, err)
		}
	}
	return nil
}

func ptyPeer(master int) (int, error) {
	fd, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(master), unix.TIOCGPTPEER, uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if e != 0 {
		return -1, fmt.Errorf("process.terminal: open pty peer: %w", e)
	}
	return int(fd), nil
}

// sendConsole hands the pty master to the engine listening on the --console-socket, as runc
// does: one message whose SCM_RIGHTS carries the fd; the payload is a name receivers ignore.
func sendConsole(path string, master *os.File) error {
	return sendFd("--console-socket", path, master.Name(), int(master.Fd()))
}

// sendPidfd hands a pidfd of the container's process to the engine at --pidfd-socket.
func sendPidfd(path string, pid int) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("--pidfd-socket: pidfd_open: %w", err)
	}
	defer unix.Close(fd)
	return sendFd("--pidfd-socket", path, "pidfd", fd)
}

// sendFd connects to the AF_UNIX stream socket at path and sends fd with a name payload.
// (Plain system calls: package net would be linked, and initialised at every start, for this
// alone.)
func sendFd(flag, path, name string, fd int) error {
	sock, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s %s: socket: %w", flag, path, err)
	}
	defer unix.Close(sock)
	if err := unix.Connect(sock, &unix.SockaddrUnix{Name: path}); err != nil {
		return fmt.Errorf("%s %s: %w", flag, path, err)
	}
	if err := unix.Sendmsg(sock, []byte(name), unix.UnixRights(fd), nil, 0); err != nil {
		return fmt.Errorf("%s %s: send fd: %w", flag, path, err)
	}
	return nil
}

// prepareForegroundPty copies the caller's window size to the container's pty and clears
// ONLCR on it, as runc does for a foreground terminal.
func prepareForegroundPty(master *os.File) {
	fd := int(master.Fd())
	if ws, err := unix.IoctlGetWinsize(int(os.Stdin.Fd()), unix.TIOCGWINSZ); err == nil {
		unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, ws)
	}
	if t, err := unix.IoctlGetTermios(fd, unix.TCGETS); err == nil {
		t.Oflag &^= unix.ONLCR
		unix.IoctlSetTermios(fd, unix.TCSETS, t)
	}
}
