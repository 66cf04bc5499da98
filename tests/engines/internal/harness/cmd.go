// Package harness runs engine scenarios: commands with time limits and a
// per-scenario log, daemons stopped by pid, the sweep that removes whatever
// the engines left (processes, mounts, cgroups, files) and the result table.
package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Result is what one command did.
type Result struct {
	Line   string // the command line, for messages
	Stdout string
	Stderr string
	Code   int   // exit code; -1 when it did not run to an exit
	Err    error // start failure or time limit; nil for any exit code
}

// Out is stdout with surrounding white space (and a tty's \r) removed.
func (r Result) Out() string {
	return strings.TrimSpace(strings.ReplaceAll(r.Stdout, "\r", ""))
}

// Check turns anything but a clean exit 0 into an error that shows the
// command and its output.
func (r Result) Check() error {
	if r.Err != nil {
		return fmt.Errorf("%s: %w (stderr: %s)", r.Line, r.Err, tail(r.Stderr))
	}
	if r.Code != 0 {
		return fmt.Errorf("%s: exit %d (stdout: %s; stderr: %s)", r.Line, r.Code, tail(r.Stdout), tail(r.Stderr))
	}
	return nil
}

// tail keeps error messages readable when an engine prints a lot.
func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 1200 {
		return "..." + s[len(s)-1200:]
	}
	return s
}

// Cmd is a program with fixed leading arguments and environment, e.g. podman
// with its --root/--runroot flags.
type Cmd struct {
	Bin  string
	Args []string
	Env  []string // added to the inherited environment
	Log  io.Writer
	// Timeout bounds each command; engines hang rather than fail when a
	// runtime misbehaves, and a hang must cost one scenario, not the run.
	Timeout time.Duration
}

// With returns a copy logging to w.
func (c Cmd) With(w io.Writer) Cmd { c.Log = w; return c }

// Run runs the command with extra arguments and waits for it.
func (c Cmd) Run(ctx context.Context, args ...string) Result {
	return c.RunInput(ctx, "", args...)
}

// RunInput is Run with a string on stdin.
func (c Cmd) RunInput(ctx context.Context, stdin string, args ...string) Result {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	full := append(append([]string{}, c.Args...), args...)
	cmd := exec.CommandContext(ctx, c.Bin, full...)
	cmd.Env = append(cmd.Environ(), c.Env...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Own process group so a timed-out command's children go with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	// Messages name the command without the engine's fixed state flags;
	// the log has the full line.
	res := Result{Line: filepath.Base(c.Bin) + " " + strings.Join(args, " "), Stdout: stdout.String(), Stderr: stderr.String(), Code: -1}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		res.Err = fmt.Errorf("timed out after %s", timeout)
	case errors.As(err, &ee):
		res.Code = ee.ExitCode()
	case err != nil:
		res.Err = err
	default:
		res.Code = 0
	}
	if c.Log != nil {
		fmt.Fprintf(c.Log, "$ %s %s\n", c.Bin, strings.Join(full, " "))
		if res.Stdout != "" {
			fmt.Fprintf(c.Log, "%s\n", strings.TrimRight(res.Stdout, "\n"))
		}
		if res.Stderr != "" {
			fmt.Fprintf(c.Log, "[stderr] %s\n", strings.TrimRight(res.Stderr, "\n"))
		}
		fmt.Fprintf(c.Log, "[exit %d, %s%s]\n", res.Code, time.Since(start).Round(time.Millisecond), errSuffix(res.Err))
	}
	return res
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return ", " + err.Error()
}

// Expect checks that a command exited 0 and that its trimmed stdout equals want.
func Expect(r Result, want string) error {
	if err := r.Check(); err != nil {
		return err
	}
	if got := r.Out(); got != want {
		return fmt.Errorf("%s: stdout %q, want %q (stderr: %s)", r.Line, got, want, tail(r.Stderr))
	}
	return nil
}

// ExpectContains checks exit 0 and that stdout contains every want.
func ExpectContains(r Result, wants ...string) error {
	if err := r.Check(); err != nil {
		return err
	}
	for _, w := range wants {
		if !strings.Contains(r.Out(), w) {
			return fmt.Errorf("%s: stdout %q lacks %q (stderr: %s)", r.Line, r.Out(), w, tail(r.Stderr))
		}
	}
	return nil
}
