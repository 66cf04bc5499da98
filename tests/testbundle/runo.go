package testbundle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// DefaultTimeout bounds every runtime invocation so a hung runtime fails the
// test instead of stalling the whole suite.
const DefaultTimeout = 60 * time.Second

// Binary returns the absolute path of the runtime under test: $RUNO_BINARY, or
// bin/runo at the module root.
func Binary() string {
	if p := os.Getenv("RUNO_BINARY"); p != "" {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
		return p
	}
	return filepath.Join(ModuleRoot(), "bin", "runo")
}

// ModuleRoot finds the directory holding go.mod above the working directory;
// go test runs each package in its own directory, so this is stable.
func ModuleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// Result is the outcome of one runtime invocation.
type Result struct {
	Stdout, Stderr string
	// ExitCode is -1 when the runtime itself was killed by a signal.
	ExitCode int
	Duration time.Duration
}

// Cmd is a runtime invocation whose stdout/stderr go to files rather than
// pipes: a detached container inherits the runtime's stdio, and with pipes
// Wait would block until the container exits.
type Cmd struct {
	*exec.Cmd
	t       testing.TB
	outF    *os.File
	errF    *os.File
	cancel  context.CancelFunc
	started time.Time
}

// Command prepares `<binary> args...` with a DefaultTimeout deadline. Callers
// may set Env, ExtraFiles, Stdin or SysProcAttr before Start/Run.
func Command(t testing.TB, args ...string) *Cmd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	c := &Cmd{Cmd: exec.CommandContext(ctx, Binary(), args...), t: t, cancel: cancel}
	var err error
	if c.outF, err = os.CreateTemp("", "runo-stdout-*"); err != nil {
		t.Fatalf("stdout file: %v", err)
	}
	if c.errF, err = os.CreateTemp("", "runo-stderr-*"); err != nil {
		t.Fatalf("stderr file: %v", err)
	}
	c.Stdout, c.Stderr = c.outF, c.errF
	t.Cleanup(c.release)
	return c
}

func (c *Cmd) release() {
	c.cancel()
	for _, f := range []*os.File{c.outF, c.errF} {
		if f.Close() == nil {
			os.Remove(f.Name())
		}
	}
}

// Start starts the command, failing the test if it cannot be executed.
func (c *Cmd) Start() {
	c.t.Helper()
	c.started = time.Now()
	if err := c.Cmd.Start(); err != nil {
		c.t.Fatalf("start %s: %v", c.Path, err)
	}
}

// Wait waits for the command and collects its result.
func (c *Cmd) Wait() Result {
	c.t.Helper()
	err := c.Cmd.Wait()
	res := Result{ExitCode: 0, Duration: time.Since(c.started)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.ExitCode = ee.ExitCode()
	default:
		c.t.Fatalf("wait %s: %v", c.Path, err)
	}
	res.Stdout = readAll(c.outF)
	res.Stderr = readAll(c.errF)
	// Close now rather than at cleanup so host-snapshot fd comparisons in
	// the same test see no extra descriptors.
	c.release()
	return res
}

// Run starts and waits.
func (c *Cmd) Run() Result {
	c.t.Helper()
	c.Start()
	return c.Wait()
}

func readAll(f *os.File) string {
	b, err := os.ReadFile(f.Name())
	if err != nil {
		return fmt.Sprintf("<read %s: %v>", f.Name(), err)
	}
	return string(b)
}

// Runo runs the runtime with args and returns its output and exit code.
func Runo(t testing.TB, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	r := Command(t, args...).Run()
	return r.Stdout, r.Stderr, r.ExitCode
}
