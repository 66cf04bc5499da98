package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The runner and reaper are process-wide (subreaper), so one test covers
// them in sequence.
func TestRunnerAndReaper(t *testing.T) {
	rp, err := startReaper()
	if err != nil {
		t.Fatal(err)
	}
	defer rp.close()
	x := &runner{reaper: rp, logDir: t.TempDir(), timeout: 10 * time.Second}
	ctx := context.Background()

	t.Run("exit status and log tail in error", func(t *testing.T) {
		s := x.run(ctx, "/bin/sh", "-c", "echo nope >&2; exit 3")
		if s.err == nil || !strings.Contains(s.err.Error(), "exit status 3") || !strings.Contains(s.err.Error(), "nope") {
			t.Fatalf("err = %v", s.err)
		}
	})
	t.Run("cpu of waited-for children is counted", func(t *testing.T) {
		// The busy loop runs in a child that sh waits for.
		s := x.run(ctx, "/bin/sh", "-c", "(i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done); true")
		if s.err != nil {
			t.Fatal(s.err)
		}
		if s.cpu < 20*time.Millisecond || s.wall <= 0 {
			t.Fatalf("cpu %v wall %v: child CPU not counted", s.cpu, s.wall)
		}
	})
	t.Run("detached child holding stdio does not block, orphan is reaped", func(t *testing.T) {
		pidFile := filepath.Join(t.TempDir(), "pid")
		start := time.Now()
		s := x.run(ctx, "/bin/sh", "-c", "sleep 30 & echo $! > "+pidFile)
		if s.err != nil {
			t.Fatal(s.err)
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("run waited for the detached child")
		}
		pid, err := readPidFile(pidFile)
		if err != nil {
			t.Fatal(err)
		}
		ppid, _, ok := procStat(pid)
		if !ok || ppid != os.Getpid() {
			t.Fatalf("orphan %d has ppid %d, want the subreaper %d", pid, ppid, os.Getpid())
		}
		syscall.Kill(pid, syscall.SIGKILL)
		deadline := time.Now().Add(5 * time.Second)
		for {
			if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err != nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("orphan %d not reaped", pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
