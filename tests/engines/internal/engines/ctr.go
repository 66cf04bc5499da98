package engines

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/runo-dev/runo/tests/engines/internal/harness"
)

// Ctr is containerd 1.6 driven by ctr, the runtime given to the runc v2
// shim with --runc-binary.
var Ctr = harness.Engine{Name: "ctr", New: newCtr}

type ctrEngine struct {
	env harness.Env
	cd  *containerd
	cmd harness.Cmd
}

func newCtr(env harness.Env) harness.Instance {
	e := &ctrEngine{env: env}
	e.cmd = harness.Cmd{
		Bin:     "ctr",
		Args:    []string{"--address", filepath.Join(env.Dir, "c.sock"), "--namespace", "runo-engines"},
		Timeout: 60 * time.Second,
	}
	return e
}

func (e *ctrEngine) Setup(ctx context.Context, log io.Writer) error {
	cd, err := startContainerd(e.env.Dir, true, "")
	if err != nil {
		return err
	}
	e.cd = cd
	if err := e.cmd.With(log).Run(ctx, "images", "import", e.env.Images.Archive).Check(); err != nil {
		return fmt.Errorf("ctr images import: %w", err)
	}
	return harness.ExpectContains(e.cmd.With(log).Run(ctx, "images", "ls", "-q"), e.env.Images.Busybox)
}

func (e *ctrEngine) Scenarios() []harness.Scenario {
	return []harness.Scenario{
		harness.S("run-print", e.runPrint),
		harness.S("exit-code", e.exitCode),
		harness.S("detached-exec-stop-rm", e.detachedExecStopRm),
		harness.S("exec-user-env-workdir", e.execUserWorkdir),
		harness.S("kill-signal", e.killSignal),
		harness.S("tty-run", e.ttyRun),
		harness.S("tty-exec", e.ttyExec),
		harness.S("network-none", e.networkNone),
		harness.S("network-container", e.networkContainer),
		harness.S("cgroup-parent", e.cgroupParent),
		harness.S("limits", e.limits),
		harness.S("cap-drop", e.capDrop),
		harness.S("read-only", e.readOnly),
		harness.S("user", e.user),
		harness.S("env", e.envVars),
		harness.S("bind-tmpfs", e.bindTmpfs),
		harness.S("device", e.device),
		harness.S("seccomp-default", e.seccomp),
		harness.S("pause-unpause", e.pauseUnpause),
		harness.S("top", e.top),
		harness.S("stats", e.stats),
		harness.S("restart", e.restart),
	}
}

func (e *ctrEngine) x(t *harness.T, args ...string) harness.Result {
	return e.cmd.With(t.Log).Run(t.Ctx, args...)
}

// runArgs are the flags every `ctr run` gets: the runtime by path and a
// cgroup below this engine's parent.
func (e *ctrEngine) runArgs(id string) []string {
	return []string{"--runc-binary", e.env.Runtime.Path, "--cgroup", e.env.CgroupParent + "/" + id}
}

func (e *ctrEngine) run(t *harness.T, id string, extra []string, argv ...string) harness.Result {
	args := append([]string{"run", "--rm"}, e.runArgs(id)...)
	args = append(args, extra...)
	args = append(args, e.env.Images.Busybox, id)
	return e.x(t, append(args, argv...)...)
}

func (e *ctrEngine) detach(t *harness.T, id string, extra []string, argv ...string) error {
	if len(argv) == 0 {
		argv = sleeper
	}
	args := append([]string{"run", "-d"}, e.runArgs(id)...)
	args = append(args, extra...)
	args = append(args, e.env.Images.Busybox, id)
	return e.x(t, append(args, argv...)...).Check()
}

// task returns the pid and status columns of `ctr task ls` for id.
func (e *ctrEngine) task(t *harness.T, id string) (pid, status string, err error) {
	r := e.x(t, "task", "ls")
	if err := r.Check(); err != nil {
		return "", "", err
	}
	for _, l := range strings.Split(r.Out(), "\n") {
		f := strings.Fields(l)
		if len(f) == 3 && f[0] == id {
			return f[1], f[2], nil
		}
	}
	return "", "", fmt.Errorf("task %s not listed: %q", id, r.Out())
}

func (e *ctrEngine) waitStatus(t *harness.T, id, want string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last string
	for time.Now().Before(deadline) && t.Ctx.Err() == nil {
		_, st, err := e.task(t, id)
		if err == nil && st == want {
			return nil
		}
		last = st
		waitMS(t, 100)
	}
	return fmt.Errorf("task %s: status %q after %s, want %s", id, last, limit, want)
}

func (e *ctrEngine) runPrint(t *harness.T) error {
	return harness.Expect(e.run(t, "rp", nil, "echo", "hello from runo"), "hello from runo")
}

func (e *ctrEngine) exitCode(t *harness.T) error {
	r := e.run(t, "ec", nil, "sh", "-c", "exit 42")
	if r.Err != nil || r.Code != 42 {
		return fmt.Errorf("%s: exit %d (err %v), want 42; stderr: %s", r.Line, r.Code, r.Err, r.Stderr)
	}
	return nil
}

func (e *ctrEngine) detachedExecStopRm(t *harness.T) error {
	if err := e.detach(t, "des", nil); err != nil {
		return err
	}
	if err := harness.Expect(e.x(t, "task", "exec", "--exec-id", "e1", "des", "echo", "inside"), "inside"); err != nil {
		return err
	}
	if err := e.x(t, "task", "kill", "--signal", "SIGTERM", "des").Check(); err != nil {
		return err
	}
	// The sleeper exits on SIGTERM at once; STOPPED within seconds shows
	// the signal reached the container's init.
	if err := e.waitStatus(t, "des", "STOPPED", 10*time.Second); err != nil {
		return err
	}
	if err := e.x(t, "task", "rm", "des").Check(); err != nil {
		return err
	}
	if err := e.x(t, "containers", "rm", "des").Check(); err != nil {
		return err
	}
	if r := e.x(t, "containers", "info", "des"); r.Code == 0 {
		return errors.New("container still exists after rm")
	}
	return nil
}

func (e *ctrEngine) execUserWorkdir(t *harness.T) error {
	if err := e.detach(t, "exu", []string{"--env", "FOO=bar"}); err != nil {
		return err
	}
	r := e.x(t, "task", "exec", "--exec-id", "e1", "--user", "1000", "--cwd", "/tmp", "exu",
		"sh", "-c", `echo "$(id -u):$FOO:$(pwd)"`)
	return harness.Expect(r, "1000:bar:/tmp")
}

func (e *ctrEngine) killSignal(t *harness.T) error {
	done := make(chan harness.Result, 1)
	go func() { done <- e.run(t, "kil", nil, "sh", "-c", "trap 'exit 7' USR1; sleep 600 & wait") }()
	if err := e.waitStatus(t, "kil", "RUNNING", 20*time.Second); err != nil {
		return err
	}
	if err := e.x(t, "task", "kill", "--signal", "SIGUSR1", "kil").Check(); err != nil {
		return err
	}
	r := <-done
	if r.Code != 7 {
		return fmt.Errorf("%s: exit %d (err %v), want 7", r.Line, r.Code, r.Err)
	}
	return nil
}

// viaScript runs a ctr command under script(1): ctr's -t wants its own
// stdin to be a terminal.
func (e *ctrEngine) viaScript(t *harness.T, args ...string) harness.Result {
	line := shellQuote(append([]string{e.cmd.Bin}, append(append([]string{}, e.cmd.Args...), args...)...))
	sc := harness.Cmd{Bin: "script", Args: []string{"-qec", line, "/dev/null"}, Log: t.Log, Timeout: 60 * time.Second}
	return sc.Run(t.Ctx)
}

func (e *ctrEngine) ttyRun(t *harness.T) error {
	args := append([]string{"run", "--rm", "-t"}, e.runArgs("ttr")...)
	args = append(args, e.env.Images.Busybox, "ttr", "sh", "-c", "test -t 0 && test -t 1 && tty")
	return harness.ExpectContains(e.viaScript(t, args...), "/dev/pts/")
}

func (e *ctrEngine) ttyExec(t *harness.T) error {
	if err := e.detach(t, "tte", nil); err != nil {
		return err
	}
	return harness.ExpectContains(e.viaScript(t, "task", "exec", "-t", "--exec-id", "e1", "tte", "sh", "-c", "test -t 1 && tty"), "/dev/pts/")
}

func (e *ctrEngine) networkNone(t *harness.T) error {
	// ctr without --net-host gives the container a new, empty net ns.
	return harness.Expect(e.run(t, "nn", nil, "ls", "/sys/class/net"), "lo")
}

func (e *ctrEngine) networkContainer(t *harness.T) error {
	if err := e.detach(t, "netA", nil); err != nil {
		return err
	}
	pid, _, err := e.task(t, "netA")
	if err != nil {
		return err
	}
	nsPath := "/proc/" + pid + "/ns/net"
	want, err := os.Readlink(nsPath)
	if err != nil {
		return err
	}
	return harness.Expect(e.run(t, "netB", []string{"--with-ns", "network:" + nsPath}, "readlink", "/proc/self/ns/net"), want)
}

func (e *ctrEngine) cgroupParent(t *harness.T) error {
	if err := e.detach(t, "cgp", nil); err != nil {
		return err
	}
	pid, _, err := e.task(t, "cgp")
	if err != nil {
		return err
	}
	data, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		return err
	}
	fmt.Fprintf(t.Log, "/proc/%s/cgroup:\n%s", pid, data)
	want := e.env.CgroupParent + "/cgp"
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) == 3 && (strings.Contains(parts[1], "memory") || strings.Contains(parts[1], "pids")) && parts[2] != want {
			return fmt.Errorf("cgroup %s is %s, want %s", parts[1], parts[2], want)
		}
	}
	return nil
}

// limits are read from the host's cgroup files: ctr's default spec mounts
// no cgroupfs inside the container.
func (e *ctrEngine) limits(t *harness.T) error {
	if err := e.detach(t, "lim", []string{"--memory-limit", "67108864", "--cpu-quota", "50000", "--cpu-period", "100000", "--cpu-shares", "512"}); err != nil {
		return err
	}
	pid, _, err := e.task(t, "lim")
	if err != nil {
		return err
	}
	return expectCgroup(t.Log, pid, limitsWant)
}

func (e *ctrEngine) capDrop(t *harness.T) error {
	probe := "touch /tmp/f && chown 1000 /tmp/f 2>/dev/null && echo chowned || echo denied"
	if err := harness.Expect(e.run(t, "cd1", nil, "sh", "-c", probe), "chowned"); err != nil {
		return fmt.Errorf("default caps: %w", err)
	}
	return harness.Expect(e.run(t, "cd2", []string{"--cap-drop", "CAP_CHOWN"}, "sh", "-c", probe), "denied")
}

func (e *ctrEngine) readOnly(t *harness.T) error {
	return harness.ExpectContains(e.run(t, "ro", []string{"--read-only"}, "sh", "-c", "touch /etc/x 2>&1; echo rc=$?"), "Read-only file system", "rc=1")
}

func (e *ctrEngine) user(t *harness.T) error {
	// ctr run has no --user; an exec does, and it resolves names against
	// the image's /etc/passwd.
	if err := e.detach(t, "usr", nil); err != nil {
		return err
	}
	return harness.Expect(e.x(t, "task", "exec", "--exec-id", "u1", "--user", "runo", "usr", "sh", "-c", `echo "$(id -u):$(id -g)"`), "1000:1000")
}

func (e *ctrEngine) envVars(t *harness.T) error {
	r := e.run(t, "env", []string{"--env", "FOO=bar baz", "--env", "EMPTY="}, "sh", "-c", `echo "$FOO|${EMPTY-unset}|$PATH"`)
	return harness.Expect(r, "bar baz||/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
}

func (e *ctrEngine) bindTmpfs(t *harness.T) error {
	host := filepath.Join(t.Dir, "vol")
	if err := os.MkdirAll(host, 0o755); err != nil {
		return err
	}
	r := e.run(t, "bt", []string{
		"--mount", "type=bind,src=" + host + ",dst=/data,options=rbind:rw",
		"--mount", "type=tmpfs,src=tmpfs,dst=/scratch,options=size=1m",
	}, "sh", "-c", "echo written > /data/f && grep -c ' /scratch tmpfs ' /proc/mounts")
	if err := harness.Expect(r, "1"); err != nil {
		return err
	}
	data, err := os.ReadFile(filepath.Join(host, "f"))
	if err != nil || string(data) != "written\n" {
		return fmt.Errorf("bind mount: host sees %q, %v", data, err)
	}
	return nil
}

func (e *ctrEngine) device(t *harness.T) error {
	r := e.run(t, "dev", []string{"--device", "/dev/zero"}, "sh", "-c", "test -c /dev/zero && head -c 4 /dev/zero | od -An -tx1 | tr -d ' '")
	return harness.Expect(r, "00000000")
}

// seccomp: ctr installs containerd's default profile only with --seccomp;
// it denies swapon even with CAP_SYS_ADMIN (see cli.seccomp).
func (e *ctrEngine) seccomp(t *harness.T) error {
	probe := "grep '^Seccomp:' /proc/self/status | awk '{print $2}'; swapon /dev/null 2>&1; true"
	r := e.run(t, "sc1", []string{"--seccomp", "--cap-add", "CAP_SYS_ADMIN"}, "sh", "-c", probe)
	if err := harness.ExpectContains(r, "2\n", "Operation not permitted"); err != nil {
		return fmt.Errorf("--seccomp: %w", err)
	}
	return harness.ExpectContains(e.run(t, "sc2", []string{"--cap-add", "CAP_SYS_ADMIN"}, "sh", "-c", probe), "0\n", "Invalid argument")
}

func (e *ctrEngine) pauseUnpause(t *harness.T) error {
	if err := e.detach(t, "pau", nil, "sh", "-c", "trap 'exit 0' TERM; i=0; while :; do i=$((i+1)); echo $i > /tmp/tick; usleep 20000; done"); err != nil {
		return err
	}
	if err := harness.ExpectContains(e.x(t, "task", "exec", "--exec-id", "w", "pau", "sh", "-c", "while ! test -s /tmp/tick; do usleep 10000; done; echo ticking"), "ticking"); err != nil {
		return err
	}
	if err := e.x(t, "task", "pause", "pau").Check(); err != nil {
		return err
	}
	pid, st, err := e.task(t, "pau")
	if err != nil {
		return err
	}
	if st != "PAUSED" {
		return fmt.Errorf("status after pause %s, want PAUSED", st)
	}
	tick := filepath.Join("/proc", pid, "root", "tmp", "tick")
	a, _ := os.ReadFile(tick)
	waitMS(t, 200)
	b, _ := os.ReadFile(tick)
	if len(a) == 0 || string(a) != string(b) {
		return fmt.Errorf("paused container still runs: tick %q then %q", a, b)
	}
	if err := e.x(t, "task", "resume", "pau").Check(); err != nil {
		return err
	}
	waitMS(t, 200)
	if c, _ := os.ReadFile(tick); string(c) == string(b) {
		return fmt.Errorf("resumed container does not run: tick stuck at %q", c)
	}
	return harness.Expect(e.x(t, "task", "exec", "--exec-id", "e1", "pau", "echo", "alive"), "alive")
}

func (e *ctrEngine) top(t *harness.T) error {
	if err := e.detach(t, "tp", nil); err != nil {
		return err
	}
	pid, _, err := e.task(t, "tp")
	if err != nil {
		return err
	}
	// ctr task ps lists host pids of the container; the init must be one.
	return harness.ExpectContains(e.x(t, "task", "ps", "tp"), pid)
}

func (e *ctrEngine) stats(t *harness.T) error {
	if err := e.detach(t, "st", []string{"--memory-limit", "67108864"}); err != nil {
		return err
	}
	return harness.ExpectContains(e.x(t, "task", "metrics", "st"), "memory.limit_in_bytes", "67108864", "pids.current")
}

// restart as ctr spells it: kill and delete the task, start a new one in
// the same container.
func (e *ctrEngine) restart(t *harness.T) error {
	if err := e.detach(t, "rs", nil); err != nil {
		return err
	}
	pid1, _, err := e.task(t, "rs")
	if err != nil {
		return err
	}
	if err := e.x(t, "task", "kill", "rs").Check(); err != nil {
		return err
	}
	if err := e.waitStatus(t, "rs", "STOPPED", 10*time.Second); err != nil {
		return err
	}
	if err := e.x(t, "task", "rm", "rs").Check(); err != nil {
		return err
	}
	if err := e.x(t, "task", "start", "-d", "rs").Check(); err != nil {
		return err
	}
	pid2, st, err := e.task(t, "rs")
	if err != nil {
		return err
	}
	if pid2 == pid1 || st != "RUNNING" {
		return fmt.Errorf("after restart pid %s status %s (before: %s)", pid2, st, pid1)
	}
	return harness.Expect(e.x(t, "task", "exec", "--exec-id", "e1", "rs", "echo", "back"), "back")
}

func (e *ctrEngine) Clean(ctx context.Context, log io.Writer) error {
	cmd := e.cmd.With(log)
	r := cmd.Run(ctx, "containers", "ls", "-q")
	if err := r.Check(); err != nil {
		return err
	}
	var errs []error
	for _, id := range strings.Fields(r.Out()) {
		cmd.Run(ctx, "task", "rm", "--force", id)
		if err := cmd.Run(ctx, "containers", "rm", id).Check(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (e *ctrEngine) Teardown(ctx context.Context, log io.Writer) error {
	var err error
	if e.cd != nil {
		err = e.Clean(ctx, log)
	}
	return errors.Join(err, e.cd.stop(ctx, log))
}

// shellQuote quotes words for sh -c.
func shellQuote(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
