package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sample is one timed command (or a sequence of commands summed).
type sample struct {
	wall time.Duration
	// cpu is user+sys from wait4's rusage of the command: the process and
	// every descendant it (or its descendants) waited for. Processes that
	// were reparented away (to this harness, the subreaper) are not in it.
	cpu time.Duration
	err error
}

func (s *sample) add(o sample) {
	s.wall += o.wall
	s.cpu += o.cpu
	if s.err == nil {
		s.err = o.err
	}
}

// reaper makes the harness the child subreaper so that container processes
// orphaned by `create`/`run -d` come back to it, and reaps them, while never
// stealing the exit status of a command that exec.Cmd is waiting for.
type reaper struct {
	// gate: starting a tracked command takes it shared, a reaping pass
	// takes it exclusively, so a fresh child is always tracked before the
	// reaper can look at it.
	gate    sync.RWMutex
	mu      sync.Mutex
	tracked map[int]bool
	stop    chan struct{}
	done    chan struct{}
}

func startReaper() (*reaper, error) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("become child subreaper: %w", err)
	}
	r := &reaper{tracked: map[int]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	go r.loop()
	return r, nil
}

func (r *reaper) loop() {
	defer close(r.done)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			r.pass()
			return
		case <-tick.C:
			r.pass()
		}
	}
}

// pass reaps zombie children that nobody else waits for. waitid with WNOWAIT
// only peeks; a tracked zombie is left for its exec.Cmd (which reaps it at
// once), and hides the others until the next pass.
func (r *reaper) pass() {
	r.gate.Lock()
	defer r.gate.Unlock()
	for {
		pid, err := peekZombie()
		if err != nil || pid <= 0 {
			return
		}
		r.mu.Lock()
		mine := r.tracked[pid]
		r.mu.Unlock()
		if mine {
			return
		}
		var ws unix.WaitStatus
		if _, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil); err != nil {
			return
		}
	}
}

// start starts cmd and tracks its pid before any reaping pass can see it.
// It returns the time just before the fork. A nil reaper (before setup is
// done, or during cleanup of a failed setup) only starts the command.
func (r *reaper) start(cmd *exec.Cmd) (time.Time, error) {
	if r == nil {
		t := time.Now()
		return t, cmd.Start()
	}
	r.gate.RLock()
	defer r.gate.RUnlock()
	t := time.Now()
	if err := cmd.Start(); err != nil {
		return t, err
	}
	r.mu.Lock()
	r.tracked[cmd.Process.Pid] = true
	r.mu.Unlock()
	return t, nil
}

func (r *reaper) untrack(pid int) {
	if r == nil {
		return
	}
	r.mu.Lock()
	delete(r.tracked, pid)
	r.mu.Unlock()
}

func (r *reaper) isTracked(pid int) bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tracked[pid]
}

func (r *reaper) close() {
	close(r.stop)
	<-r.done
}

// childInfo is the head of Linux's siginfo_t as filled by waitid for
// SIGCHLD; the rest of the 128 bytes is padding here.
type childInfo struct {
	signo, errno, code, _ int32
	pid                   int32
	uid                   uint32
	status                int32
	_                     [100]byte
}

// peekZombie returns the pid of an exited child without reaping it (0 if
// none). x/sys's Siginfo hides si_pid, hence the raw call.
func peekZombie() (int, error) {
	var info childInfo
	_, _, errno := unix.Syscall6(unix.SYS_WAITID, unix.P_ALL, 0, uintptr(unsafe.Pointer(&info)),
		unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(info.pid), nil
}

// runner starts commands with timing and rusage. Each command's output goes
// to a log file (never a pipe: a detached container inherits its stdio, and
// a pipe would keep Wait from returning).
type runner struct {
	reaper  *reaper
	logDir  string
	timeout time.Duration
	seq     atomic.Int64
}

func (x *runner) run(ctx context.Context, argv ...string) sample {
	logPath := filepath.Join(x.logDir, fmt.Sprintf("cmd-%06d.log", x.seq.Add(1)))
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o644)
	if err != nil {
		return sample{err: fmt.Errorf("open log %s: %w", logPath, err)}
	}
	defer os.Remove(logPath)
	defer logf.Close()
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		return sample{err: fmt.Errorf("open %s: %w", os.DevNull, err)}
	}
	defer devNull.Close()

	ctx, cancel := context.WithTimeout(ctx, x.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devNull, logf, logf

	start, err := x.reaper.start(cmd)
	if err != nil {
		return sample{err: fmt.Errorf("start %s: %w", strings.Join(argv, " "), err)}
	}
	err = cmd.Wait()
	wall := time.Since(start)
	x.reaper.untrack(cmd.Process.Pid)

	s := sample{wall: wall}
	if ps := cmd.ProcessState; ps != nil {
		s.cpu = ps.UserTime() + ps.SystemTime()
	}
	if err != nil {
		s.err = fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, tailOf(logf, 400))
	}
	return s
}

// tailOf returns the last n bytes of the command's log, on one line.
func tailOf(f *os.File, n int64) string {
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := st.Size() - n
	if off < 0 {
		off = 0
	}
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && len(buf) == 0 {
		return ""
	}
	return strings.Join(strings.Fields(string(buf)), " ")
}
