package suite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/runo-dev/runo/tests/conformance/internal/tap"
)

// Config describes one suite run.
type Config struct {
	Runtime     string   // runtime binary (absolute path or name in $PATH)
	RuntimeArgs []string // global flags put before every runtime sub-command
	// PrivateRoot gives the runtime a --root of its own under WorkDir, so
	// that containers a program leaks can be found and deleted without
	// touching anybody else's containers.
	PrivateRoot bool
	BinDir      string        // the validation programs, one executable each
	Runtimetest string        // the runtimetest binary
	Rootfs      string        // rootfs-<arch>.tar.gz
	Timeout     time.Duration // per program
	// NSSetup is a shell snippet run inside the program's private mount
	// namespace before it starts (e.g. to hide a cgroup mount from crun).
	NSSetup string
	WorkDir string // scratch space; bundles and runtime state live here
	LogDir  string // if set, every program's output is kept here
}

// Result is the outcome of one program.
type Result struct {
	Run
	TAP      tap.Result
	Verdict  Verdict
	Note     string
	Duration time.Duration
}

// Programs lists the executables in dir, sorted by name.
func Programs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list validation programs: %w", err)
	}
	var names []string
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("stat %s: %w", e.Name(), err)
		}
		if info.Mode().IsRegular() && info.Mode()&0o111 != 0 {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("no validation programs in %s", dir)
	}
	return names, nil
}

// Runner runs programs one at a time.
type Runner struct {
	cfg      Config
	runtime  string // what RUNTIME is set to for the programs
	stateDir string
	cgroups  *cgroupLeftovers
}

// NewRunner checks the configuration and prepares the runtime command.
func NewRunner(cfg Config) (*Runner, error) {
	for _, p := range []string{cfg.BinDir, cfg.Runtimetest, cfg.Rootfs, cfg.WorkDir} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("suite input: %w", err)
		}
	}
	rt, err := exec.LookPath(cfg.Runtime)
	if err != nil {
		return nil, fmt.Errorf("runtime %q: %w", cfg.Runtime, err)
	}
	if rt, err = filepath.Abs(rt); err != nil {
		return nil, fmt.Errorf("runtime path: %w", err)
	}
	cg, err := newCgroupLeftovers()
	if err != nil {
		return nil, err
	}
	r := &Runner{cfg: cfg, runtime: rt, cgroups: cg}
	args := append([]string(nil), cfg.RuntimeArgs...)
	if cfg.PrivateRoot {
		r.stateDir = filepath.Join(cfg.WorkDir, "state")
		if err := os.Mkdir(r.stateDir, 0o700); err != nil {
			return nil, fmt.Errorf("runtime state dir: %w", err)
		}
		args = append(args, "--root", r.stateDir)
	}
	if len(args) > 0 {
		// The programs take the runtime as a single path in $RUNTIME and
		// call it with sub-command arguments only, so global flags need a
		// wrapper.
		wrapper := filepath.Join(cfg.WorkDir, "runtime")
		if err := os.WriteFile(wrapper, []byte(wrapperScript(rt, args)), 0o755); err != nil {
			return nil, fmt.Errorf("write runtime wrapper: %w", err)
		}
		r.runtime = wrapper
	}
	return r, nil
}

// RuntimeCommand is the value given to the programs as $RUNTIME.
func (r *Runner) RuntimeCommand() string { return r.runtime }

func wrapperScript(runtime string, args []string) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\nexec ")
	b.WriteString(shellQuote(runtime))
	for _, a := range args {
		b.WriteByte(' ')
		b.WriteString(shellQuote(a))
	}
	b.WriteString(" \"$@\"\n")
	return b.String()
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// RunProgram runs one validation program and cleans up after it.
func (r *Runner) RunProgram(ctx context.Context, name string) Result {
	start := time.Now()
	res := Result{Run: Run{Name: name, ExitCode: -1}}
	dir := filepath.Join(r.cfg.WorkDir, "run", name)
	defer os.RemoveAll(dir)

	stdout, stderr, err := r.execute(ctx, name, dir, &res.Run)
	res.Stdout = stdout
	if err != nil {
		res.Verdict, res.Note = VerdictFail, "runner: "+err.Error()
	} else {
		parsed, perr := tap.Parse(strings.NewReader(stdout))
		res.TAP = parsed
		res.Verdict, res.Note = Judge(res.Run, parsed, perr)
	}
	if leaked := r.cleanContainers(ctx); leaked != "" {
		res.Note = strings.TrimPrefix(res.Note+"; "+leaked, "; ")
	}
	if stuck := r.cgroups.clean(); len(stuck) > 0 {
		res.Note = strings.TrimPrefix(res.Note+"; cannot remove test cgroups: "+strings.Join(stuck, " "), "; ")
	}
	res.Duration = time.Since(start)
	if r.cfg.LogDir != "" {
		if err := r.writeLog(res, stderr); err != nil && res.Note == "" {
			res.Note = err.Error()
		}
	}
	return res
}

// execute runs the program in a private mount namespace, so that whatever
// it or the runtime mounts on the host side disappears with it.
func (r *Runner) execute(ctx context.Context, name, dir string, run *Run) (string, string, error) {
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", "", fmt.Errorf("work dir: %w", err)
	}
	// util.PrepareBundle and util.RuntimeInsideValidate open these two by
	// relative name from the working directory.
	if err := placeFile(r.cfg.Runtimetest, filepath.Join(dir, "runtimetest")); err != nil {
		return "", "", err
	}
	if err := placeFile(r.cfg.Rootfs, filepath.Join(dir, filepath.Base(r.cfg.Rootfs))); err != nil {
		return "", "", err
	}

	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	script := "set -e\n" + r.cfg.NSSetup + "\nexec \"$@\"\n"
	cmd := exec.CommandContext(ctx, "unshare", "-m", "--propagation", "private", "--",
		"/bin/sh", "-c", script, "sh", filepath.Join(r.cfg.BinDir, name))
	cmd.Dir = dir
	cmd.Env = append(filteredEnv("RUNTIME", "TMPDIR"), "RUNTIME="+r.runtime, "TMPDIR="+tmp)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The program's runtime calls share its process group; container
		// processes do not and are handled by cleanContainers.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 5 * time.Second

	err := cmd.Run()
	run.TimedOut = errors.Is(ctx.Err(), context.DeadlineExceeded)
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		run.ExitCode = 0
	case errors.As(err, &exitErr):
		run.ExitCode = exitErr.ExitCode()
	case run.TimedOut:
	default:
		return stdout.String(), stderr.String(), fmt.Errorf("run %s: %w", name, err)
	}
	return stdout.String(), stderr.String(), nil
}

// cleanContainers force-deletes whatever containers the program left in the
// private state dir, from a namespace prepared like the program's own.
func (r *Runner) cleanContainers(ctx context.Context) string {
	if r.stateDir == "" {
		return ""
	}
	entries, err := os.ReadDir(r.stateDir)
	if err != nil {
		return fmt.Sprintf("cannot list runtime state: %v", err)
	}
	var leaked, stuck []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		leaked = append(leaked, e.Name())
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		script := r.cfg.NSSetup + "\nexec \"$@\"\n"
		out, err := exec.CommandContext(cctx, "unshare", "-m", "--propagation", "private", "--",
			"/bin/sh", "-c", script, "sh", r.runtime, "delete", "--force", e.Name()).CombinedOutput()
		cancel()
		if err != nil {
			stuck = append(stuck, fmt.Sprintf("%s (%v: %s)", e.Name(), err, oneLine(string(out))))
		}
	}
	switch {
	case len(stuck) > 0:
		return fmt.Sprintf("left %d container(s), could not delete: %s", len(leaked), strings.Join(stuck, ", "))
	case len(leaked) > 0:
		return fmt.Sprintf("left %d container(s) behind (force-deleted)", len(leaked))
	}
	return ""
}

func (r *Runner) writeLog(res Result, stderr string) error {
	if err := os.MkdirAll(r.cfg.LogDir, 0o755); err != nil {
		return fmt.Errorf("log dir: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "program: %s\nruntime: %s\nverdict: %s (%s)\nexit: %d timed-out: %v duration: %s\n",
		res.Name, r.runtime, res.Verdict, res.Note, res.ExitCode, res.TimedOut, res.Duration.Round(time.Millisecond))
	fmt.Fprintf(&b, "\n===== stdout =====\n%s\n===== stderr =====\n%s", res.Stdout, stderr)
	p := filepath.Join(r.cfg.LogDir, res.Name+".log")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write log %s: %w", p, err)
	}
	return nil
}

// placeFile hard-links src to dst, copying when the two are on different
// file systems. A symlink would not do: fileutils.CopyFile, which the
// programs use for runtimetest, recreates symlinks instead of copying.
func placeFile(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("open %s: %w", src, err)
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", src, err)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
	if err != nil {
		return fmt.Errorf("create %s: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("close %s: %w", dst, err)
	}
	return nil
}

func filteredEnv(drop ...string) []string {
	var env []string
outer:
	for _, kv := range os.Environ() {
		for _, d := range drop {
			if strings.HasPrefix(kv, d+"=") {
				continue outer
			}
		}
		env = append(env, kv)
	}
	return env
}
